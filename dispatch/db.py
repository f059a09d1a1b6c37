"""Engine, sessions and the unit of work: one transaction per request or job, outbox relayed after commit."""

from __future__ import annotations

import logging
import math
import select
import sqlite3
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, TypeVar

from sqlalchemy import DateTime, Engine, MetaData, create_engine, event
from sqlalchemy import exc as sa_exc
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import DeclarativeBase, Session, sessionmaker
from sqlalchemy.types import TypeDecorator

from dispatch.clock import utcnow

log = logging.getLogger(__name__)
T = TypeVar("T")

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

# Called with the ids of outbox rows a session wrote, once its transaction has committed.
AfterCommitHook = Callable[[list[int]], None]


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


class UTCDateTime(TypeDecorator[datetime]):
    """Timestamps are stored in UTC and always come back timezone-aware (SQLite forgets the zone)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetimes are not stored; use dispatch.clock.utcnow()")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def normalise_database_url(url: str) -> str:
    """`postgresql://` and `postgres://` (what operators paste) mean the psycopg 3 driver."""
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url


@dataclass(frozen=True)
class Timeouts:
    """How long a connection may take to open, a statement to run and a row lock to be granted (s).

    A server that stops answering altogether (hung, not down) honours none of the server-side limits,
    so the client also stops waiting a second after the statement timeout (see DeadlineConnection).
    """

    connect: float = 2.0
    statement: float = 5.0
    lock: float = 3.0

    @property
    def answer(self) -> float:
        return self.statement + 1.0

    @classmethod
    def from_settings(cls, settings: Any) -> Timeouts:
        return cls(
            connect=settings.DATABASE_CONNECT_TIMEOUT,
            statement=settings.DATABASE_STATEMENT_TIMEOUT,
            lock=settings.DATABASE_LOCK_TIMEOUT,
        )


def make_engine(url: str, timeouts: Timeouts | None = None, **kwargs: Any) -> Engine:
    """The engine for `url`; with `timeouts`, no PostgreSQL call waits longer than they allow."""
    url = normalise_database_url(url)
    if url.startswith("sqlite"):
        _ensure_sqlite_dir(url)
        engine = create_engine(
            url, connect_args={"check_same_thread": False, "timeout": 30}, hide_parameters=True, **kwargs
        )
        event.listen(engine, "connect", _sqlite_pragmas)
        event.listen(engine, "begin", _sqlite_begin)
        return engine
    # hide_parameters: an error's message (and so a log line) must not carry a phone number or a text.
    if timeouts is None:
        engine = create_engine(url, hide_parameters=True, **kwargs)
        event.listen(engine, "checkout", _drop_if_closed_by_server)
        return engine
    connect_args = {
        # libpq counts whole seconds (and psycopg at least 2).
        "connect_timeout": max(2, math.ceil(timeouts.connect)),
        "options": f"-c statement_timeout={_ms(timeouts.statement)} -c lock_timeout={_ms(timeouts.lock)}",
    }
    engine = create_engine(url, hide_parameters=True, connect_args=connect_args, **kwargs)
    event.listen(engine, "checkout", _drop_if_closed_by_server)
    if engine.dialect.driver == "psycopg":
        event.listen(engine, "do_connect", _deadline_connector(timeouts.answer))
    return engine


def _drop_if_closed_by_server(dbapi_connection: Any, _record: Any, _proxy: Any) -> None:
    """A pooled connection the server has closed (a restart, an idle timeout) is thrown away before use.

    Instead of a ping (a round trip on every checkout: 2 of a webhook's 7), look at the socket: an idle
    connection has nothing to read unless the server sent its goodbye (an error, then EOF). Nothing
    is read, so a live connection is untouched. A connection cut without a word (a cable) passes, and
    its first statement fails: the webhooks try once more (dispatch/spool/guard.py)."""
    try:
        fileno = dbapi_connection.fileno()
    except Exception:  # closed already, or a driver without a socket: let the first statement tell
        return
    poller = select.poll()  # not select.select: it refuses descriptors above 1023
    poller.register(fileno, select.POLLIN)
    try:
        readable = poller.poll(0)
    except OSError:
        readable = [(fileno, select.POLLERR)]
    if readable:
        raise sa_exc.DisconnectionError("the server closed this pooled connection")


def _ms(seconds: float) -> int:
    return max(1, round(seconds * 1000))


def _deadline_connector(answer_timeout: float) -> Callable[..., Any]:
    from dispatch.db_deadline import DeadlineConnection

    def connect(_dialect: Any, _record: Any, cargs: tuple[Any, ...], cparams: dict[str, Any]) -> Any:
        connection = DeadlineConnection.connect(*cargs, **cparams)
        connection.answer_timeout = answer_timeout
        return connection

    return connect


# SQLSTATEs of a database that is away: connection exceptions, and the server shutting down or starting.
_OUTAGE_STATES = ("08", "57P01", "57P02", "57P03")
# SQLSTATEs of a database that answered but could not do it now: a lock or statement timeout, a deadlock,
# a serialization failure. Worth trying again later, but not an outage (and not forever).
_CONTENTION_STATES = frozenset({"55P03", "57014", "40P01", "40001"})
_SQLITE_OUTAGES = ("database is locked", "unable to open database file", "disk I/O error")


def is_database_unavailable(error: BaseException) -> bool:
    """The database cannot be reached or does not answer (refused, connect or answer timeout, a dropped
    connection, no connection free in the pool): the work can be kept and done again once it is back.
    A statement that failed on a server that answered is not an outage (see is_database_contention)."""
    if isinstance(error, sa_exc.TimeoutError):  # the pool's: every connection is stuck
        return True
    if isinstance(error, sa_exc.DBAPIError) and error.connection_invalidated:
        return True
    if not isinstance(error, sa_exc.OperationalError | sa_exc.InterfaceError):
        return False
    if isinstance(error.orig, sqlite3.Error):
        # SQLite has no SQLSTATE: only these words mean the file cannot be used now; "no such column"
        # and its like are bugs, never an outage to wait out.
        return any(words in str(error.orig) for words in _SQLITE_OUTAGES)
    state = getattr(error.orig, "sqlstate", None)
    if state is None:  # raised by the client: no connection, no answer (DatabaseNotAnswering)
        return True
    return state.startswith(_OUTAGE_STATES)


def is_database_contention(error: BaseException) -> bool:
    """A lock or statement timeout, a deadlock or a serialization failure: try again a little later."""
    return (
        isinstance(error, sa_exc.DBAPIError) and getattr(error.orig, "sqlstate", None) in _CONTENTION_STATES
    )


def is_dropped_connection(error: BaseException) -> bool:
    """The connection was lost under the statement (a database restart, an idle connection cut): the
    pool has thrown it away, and the same work on a fresh connection may well succeed. Engines do not
    ping before each use (a round trip on every checkout); the webhooks try once more instead."""
    return isinstance(error, sa_exc.DBAPIError) and bool(error.connection_invalidated)


def can_wait(error: BaseException) -> bool:
    """The work failed for a reason that passes by itself: keep it and do it again later."""
    return is_database_unavailable(error) or is_database_contention(error)


def _ensure_sqlite_dir(url: str) -> None:
    from pathlib import Path

    path = url.split("///", 1)[-1]
    if path and path != ":memory:":
        Path(path).parent.mkdir(parents=True, exist_ok=True)


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    # pysqlite opens transactions lazily and never for SAVEPOINT, so a released savepoint would commit
    # for real; we issue BEGIN ourselves (the SQLAlchemy pysqlite recipe).
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.close()


def _sqlite_begin(connection: Any) -> None:
    # IMMEDIATE takes the write lock up front: two deferred transactions that both later write would
    # fail with "database is locked" instead of waiting (SQLite is the single-machine first run).
    connection.exec_driver_sql("BEGIN IMMEDIATE")


# session.info: outbox rows written in this transaction are marked relayed as they are written.
CLAIM_OUTBOX = "dispatch.claim_outbox"
# A transaction that ran longer stamps its claimed rows again at the commit (one UPDATE): well under
# LOST_JOB_SECONDS (30, at most 40), after which the lost-job sweep would relay them a second time.
LONG_TRANSACTION_SECONDS = 5.0


class Database:
    """The engine and the session factory; tests rebind the factory to a rolled-back connection."""

    def __init__(
        self,
        url: str = "",
        engine: Engine | None = None,
        timeouts: Timeouts | None = None,
        **engine_kwargs: Any,
    ) -> None:
        self.engine = engine if engine is not None else make_engine(url, timeouts, **engine_kwargs)
        self.sessionmaker: sessionmaker[Session] = sessionmaker(self.engine, expire_on_commit=False)
        self.after_commit_hooks: list[AfterCommitHook] = []
        # The relay in the request's own transaction (dispatch/queue.py): while `relay_in_transaction()`
        # says so, outbox rows are written already marked relayed, and after the commit handed to
        # `enqueue_claimed`, which enqueues them (no second transaction to read and mark them).
        self.relay_in_transaction: Callable[[], bool] | None = None
        self.enqueue_claimed: Callable[[list[Any]], None] | None = None

    @contextmanager
    def transaction(self) -> Iterator[Session]:
        """One unit of work: commit at the end, roll back on any exception, then relay the outbox."""
        session = self.sessionmaker()
        if self.relay_in_transaction is not None and self.enqueue_claimed is not None:
            session.info[CLAIM_OUTBOX] = self.relay_in_transaction()
        started = time.monotonic()
        try:
            yield session
            outbox_ids = pending_outbox_ids(session)
            # Rows written marked relayed, and still in the session (a rolled-back savepoint drops its own).
            claimed = [
                event
                for event in session.info.get("outbox_events", [])
                if event.relayed_at is not None and event in session
            ]
            if claimed and time.monotonic() - started > LONG_TRANSACTION_SECONDS:
                # Marked long ago: stamp them now, or the lost-job sweep could take them for lost
                # (relayed, not in Redis) before this transaction's enqueue.
                for event in claimed:
                    event.relayed_at = utcnow()
                session.flush()
            session.commit()
        except BaseException:
            session.rollback()
            raise
        finally:
            session.close()
        if claimed and self.enqueue_claimed is not None:
            self.enqueue_claimed(claimed)
        claimed_ids = {event.id for event in claimed}
        self.run_after_commit([event_id for event_id in outbox_ids if event_id not in claimed_ids])

    def run_after_commit(self, outbox_ids: list[int]) -> None:
        if not outbox_ids:
            return
        for hook in self.after_commit_hooks:
            try:
                hook(outbox_ids)
            except Exception:  # the sweeper relays whatever a failed hook left behind
                log.exception("after-commit hook failed for outbox rows %s", outbox_ids)


@contextmanager
def savepoint(session: Session) -> Iterator[None]:
    """A savepoint whose rollback also forgets the outbox rows written inside it (else their ids
    would still be relayed after the outer commit)."""
    events = session.info.setdefault("outbox_events", [])
    before = len(events)
    try:
        with session.begin_nested():
            yield
    except BaseException:
        del events[before:]
        raise


def pending_outbox_ids(session: Session) -> list[int]:
    """Ids of outbox rows this session wrote; flushes so that new rows have ids."""
    session.flush()
    return [event.id for event in session.info.get("outbox_events", [])]


def insert_ignoring_conflicts(session: Session, table: Any, values: dict[str, Any], conflict_column: str):
    """INSERT ... ON CONFLICT DO NOTHING RETURNING id: None when a row with that key already exists."""
    dialect = session.get_bind().dialect.name
    module = postgresql if dialect == "postgresql" else sqlite
    statement = (
        module.insert(table)
        .values(**values)
        .on_conflict_do_nothing(index_elements=[conflict_column])
        .returning(table.c.id)
    )
    return session.execute(statement).scalar_one_or_none()


def insert_returning(
    session: Session, entity: type[T], values: dict[str, Any], conflict_column: str | None
) -> T | None:
    """INSERT the row and get it back as an ORM object in the same statement (no SELECT after it);
    with `conflict_column`, ON CONFLICT DO NOTHING, and None when a row with that key exists."""
    module = postgresql if session.get_bind().dialect.name == "postgresql" else sqlite
    statement = module.insert(entity).values(**values)
    if conflict_column is not None:
        statement = statement.on_conflict_do_nothing(index_elements=[conflict_column])
    return session.scalars(statement.returning(entity)).one_or_none()
