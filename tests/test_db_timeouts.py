"""The database's timeouts (dispatch/db.py, dispatch/db_deadline.py) against a real PostgreSQL.

Proved here: a connection carries the statement and lock timeouts it was made with; a statement or a
row lock that takes longer fails with an error `is_database_contention` recognises (worth trying again,
but not an outage; a constraint error is neither); a server that stops answering (a TCP proxy frozen
in the middle, the way a hung or SIGSTOPped PostgreSQL looks) fails a query on an open connection a
second after the statement timeout, the connection leaves the pool and the same engine works again once
the server answers; a new connection to it fails within the connect timeout; SQLite ignores the
timeouts.
"""

from __future__ import annotations

import contextlib
import socket
import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import IntegrityError, OperationalError

from dispatch.db import (
    Timeouts,
    can_wait,
    is_database_contention,
    is_database_unavailable,
    make_engine,
    normalise_database_url,
)

FAST = Timeouts(connect=2, statement=0.2, lock=0.2)


class FreezableProxy:
    """A TCP relay to the real server that can be frozen: it then keeps every connection open and
    passes nothing on, in either direction, until it is thawed (what a hung server looks like)."""

    def __init__(self, upstream: tuple[str, int]) -> None:
        self.upstream = upstream
        self.flowing = threading.Event()
        self.flowing.set()
        self.stopped = threading.Event()
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.listener.settimeout(0.05)
        self.port = self.listener.getsockname()[1]
        self.sockets: list[socket.socket] = []
        self.lock = threading.Lock()
        self.threads = [threading.Thread(target=self._accept, daemon=True)]
        self.threads[0].start()

    @classmethod
    def to(cls, url: str) -> FreezableProxy:
        """A proxy to the server of database `url`."""
        parsed = make_url(normalise_database_url(url))
        return cls((parsed.host or "127.0.0.1", parsed.port or 5432))

    def url_for(self, url: str) -> str:
        """`url` with its host and port replaced by the proxy's."""
        parsed = make_url(normalise_database_url(url)).set(host="127.0.0.1", port=self.port)
        return parsed.render_as_string(hide_password=False)

    def freeze(self) -> None:
        self.flowing.clear()

    def thaw(self) -> None:
        self.flowing.set()

    def settle(self, timeout: float = 1.0) -> None:
        """Wait for every relayed connection one side has closed to be closed on the other too."""
        for thread in self.threads[1:]:
            thread.join(timeout)

    def _accept(self) -> None:
        while not self.stopped.is_set():
            try:
                client, _ = self.listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            server = socket.create_connection(self.upstream)
            with self.lock:
                self.sockets += [client, server]
            for source, target in ((client, server), (server, client)):
                thread = threading.Thread(target=self._pump, args=(source, target), daemon=True)
                self.threads.append(thread)
                thread.start()

    def _pump(self, source: socket.socket, target: socket.socket) -> None:
        try:
            while data := source.recv(65536):
                self.flowing.wait()  # frozen: hold what came, answer nothing
                if self.stopped.is_set():
                    break
                target.sendall(data)
        except OSError:
            pass  # the other side went away: close both ends
        for end in (source, target):
            _shut(end)

    def close(self) -> None:
        self.stopped.set()
        self.flowing.set()
        self.listener.close()
        with self.lock:
            for end in self.sockets:
                _shut(end)
        for thread in self.threads:
            thread.join(timeout=1)


def _shut(end: socket.socket) -> None:
    with contextlib.suppress(OSError):
        end.shutdown(socket.SHUT_RDWR)
    end.close()


def postgres_url(service_urls: dict[str, str]) -> str:
    url = service_urls["database"]
    if make_url(normalise_database_url(url)).get_backend_name() == "sqlite":
        pytest.skip("timeouts are PostgreSQL's: the suite is running on SQLite")
    return url


@pytest.fixture
def pg_url(service_urls: dict[str, str]) -> str:
    return postgres_url(service_urls)


@pytest.fixture
def proxy(pg_url: str) -> Iterator[FreezableProxy]:
    relay = FreezableProxy.to(pg_url)
    yield relay
    relay.close()


@pytest.fixture
def scratch_table(pg_url: str) -> Iterator[str]:
    """A committed one-row table of this test's own, dropped afterwards."""
    name = f"timeouts_scratch_{uuid.uuid4().hex[:12]}"
    engine = make_engine(pg_url)
    with engine.begin() as connection:
        connection.execute(text(f"CREATE TABLE {name} (id integer PRIMARY KEY)"))
        connection.execute(text(f"INSERT INTO {name} VALUES (1)"))
    yield name
    with engine.begin() as connection:
        connection.execute(text(f"DROP TABLE IF EXISTS {name}"))
    engine.dispose()


def test_a_connection_carries_the_statement_and_lock_timeouts(pg_url: str) -> None:
    engine = make_engine(pg_url, Timeouts(connect=2, statement=0.3, lock=0.2))
    try:
        with engine.connect() as connection:
            assert connection.execute(text("SHOW statement_timeout")).scalar_one() == "300ms"
            assert connection.execute(text("SHOW lock_timeout")).scalar_one() == "200ms"
    finally:
        engine.dispose()


def test_a_statement_longer_than_the_timeout_fails_as_contention_not_an_outage(pg_url: str) -> None:
    engine = make_engine(pg_url, Timeouts(connect=2, statement=0.3, lock=0.2))
    try:
        with engine.connect() as connection:
            started = time.monotonic()
            with pytest.raises(OperationalError) as raised:
                connection.execute(text("SELECT pg_sleep(5)"))
            elapsed = time.monotonic() - started
        assert is_database_contention(raised.value) and can_wait(raised.value)
        assert not is_database_unavailable(raised.value)  # the server answered: not an outage
        assert "statement timeout" in str(raised.value.orig)
        assert 0.25 < elapsed < 1.0, elapsed
    finally:
        engine.dispose()


def test_a_row_lock_held_elsewhere_fails_after_the_lock_timeout(pg_url: str, scratch_table: str) -> None:
    # A statement timeout longer than the lock timeout, so that it is the lock timeout that ends the wait.
    waiter_engine = make_engine(pg_url, Timeouts(connect=2, statement=1.0, lock=0.2))
    holder_engine = make_engine(pg_url)
    try:
        with holder_engine.connect() as holder, holder.begin():
            holder.execute(text(f"SELECT id FROM {scratch_table} WHERE id = 1 FOR UPDATE"))
            with waiter_engine.connect() as waiter:
                started = time.monotonic()
                with pytest.raises(OperationalError) as raised:
                    waiter.execute(text(f"SELECT id FROM {scratch_table} WHERE id = 1 FOR UPDATE"))
                elapsed = time.monotonic() - started
            assert is_database_contention(raised.value) and can_wait(raised.value)
            assert not is_database_unavailable(raised.value)  # the server answered: not an outage
            assert "lock timeout" in str(raised.value.orig)
            assert 0.15 < elapsed < 0.9, elapsed
    finally:
        holder_engine.dispose()
        waiter_engine.dispose()


def test_a_hung_server_fails_a_query_on_an_open_connection_which_leaves_the_pool(
    pg_url: str, proxy: FreezableProxy
) -> None:
    engine = make_engine(proxy.url_for(pg_url), FAST)
    try:
        with engine.connect() as connection:
            assert connection.execute(text("SELECT 1")).scalar_one() == 1
            hung = connection.connection.dbapi_connection
            proxy.freeze()
            started = time.monotonic()
            with pytest.raises(OperationalError) as raised:
                connection.execute(text("SELECT 2"))
            elapsed = time.monotonic() - started
            assert connection.invalidated
        # statement timeout + 1 s: the server never saw the statement, so only the client can stop.
        assert FAST.answer - 0.1 < elapsed < FAST.answer + 0.6, elapsed
        assert is_database_unavailable(raised.value)
        assert raised.value.connection_invalidated
        assert hung is not None and hung.closed

        proxy.thaw()
        with engine.connect() as connection:
            assert connection.execute(text("SELECT 3")).scalar_one() == 3
            assert connection.connection.dbapi_connection is not hung
    finally:
        proxy.thaw()
        engine.dispose()


def test_a_new_connection_to_a_hung_server_fails_within_the_connect_timeout(
    pg_url: str, proxy: FreezableProxy
) -> None:
    # libpq (and psycopg) wait at least 2 s for a connection, whatever is asked: the shortest there is.
    engine = make_engine(proxy.url_for(pg_url), Timeouts(connect=1, statement=0.2, lock=0.2))
    proxy.freeze()
    try:
        started = time.monotonic()
        with pytest.raises(OperationalError) as raised, engine.connect():
            pass
        elapsed = time.monotonic() - started
        assert is_database_unavailable(raised.value)
        assert 1.5 < elapsed < 3.0, elapsed
    finally:
        proxy.thaw()
        engine.dispose()


def test_a_refused_connection_is_unavailable() -> None:
    engine = make_engine("postgresql://postgres@127.0.0.1:1/none", FAST)
    try:
        with pytest.raises(OperationalError) as raised, engine.connect():
            pass
        assert is_database_unavailable(raised.value)
    finally:
        engine.dispose()


def test_a_constraint_error_is_not_unavailable(service_urls: dict[str, str]) -> None:
    engine = make_engine(service_urls["database"], FAST)
    try:
        with engine.connect() as connection:
            connection.execute(text("CREATE TEMPORARY TABLE unique_once (id integer PRIMARY KEY)"))
            connection.execute(text("INSERT INTO unique_once VALUES (1)"))
            with pytest.raises(IntegrityError) as raised:
                connection.execute(text("INSERT INTO unique_once VALUES (1)"))
            connection.rollback()
        assert not is_database_unavailable(raised.value)
    finally:
        engine.dispose()


def test_sqlite_ignores_the_timeouts(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'timeouts.sqlite3'}", Timeouts(connect=0.1, statement=0.1))
    try:
        assert engine.dialect.name == "sqlite"
        with engine.connect() as connection:
            assert connection.execute(text("SELECT 1")).scalar_one() == 1
    finally:
        engine.dispose()


def test_on_sqlite_only_a_locked_or_unopenable_file_is_an_outage(tmp_path) -> None:
    """SQLite has no SQLSTATE: a bug such as a missing column must not be taken for an outage (the spool
    would keep it for ever, the worker rerun it), while a locked file is one to wait out."""
    import sqlite3

    from sqlalchemy.exc import OperationalError

    def error(text: str) -> OperationalError:
        return OperationalError("SELECT 1", {}, sqlite3.OperationalError(text))

    assert not is_database_unavailable(error("no such column: worker.nickname"))
    assert is_database_unavailable(error("database is locked"))
    assert is_database_unavailable(error("unable to open database file"))
