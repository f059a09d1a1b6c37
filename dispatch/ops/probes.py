"""Cheap looks at the service's state, shared by `/readyz`, `/metrics` and `dispatch check`.

Each probe reads; none writes, none calls Twilio, and each is bounded in time: the database by a
short statement timeout, Redis by the client's own connect and socket timeouts.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from redis import Redis
from redis.exceptions import RedisError
from sqlalchemy import and_, func, or_, select, text
from sqlalchemy.orm import Session

from dispatch.clock import utcnow
from dispatch.models import Direction, Message, MessageStatus
from dispatch.ops.errors import first_line, mask_url
from dispatch.queue import QUEUE_NAMES, get_queue
from dispatch.runtime import Runtime
from dispatch.spool.store import Spool

log = logging.getLogger(__name__)

# A probe's statements give up after this (PostgreSQL); a monitor asks again soon enough.
PROBE_STATEMENT_TIMEOUT_MS = 2000


@contextmanager
def probe_session(runtime: Runtime) -> Iterator[Session]:
    """A read-only look at the database under a short statement timeout; always rolled back."""
    session = runtime.db.sessionmaker()
    try:
        if session.get_bind().dialect.name == "postgresql":
            session.execute(text(f"SET LOCAL statement_timeout = {PROBE_STATEMENT_TIMEOUT_MS}"))
        yield session
    finally:
        session.rollback()
        session.close()


@dataclass(frozen=True)
class Unsent:
    """Outbound texts that are due and not yet handed to the provider, or whose hand-over is unsettled."""

    count: int
    oldest_seconds: float | None


def unsent(session: Session, now: datetime | None = None) -> Unsent:
    """Pending texts that are due (no send_after, or one past), and `sending` ones without a provider
    Sid; a text's age counts from when it became due (a text held for quiet hours is not late)."""
    now = now or utcnow()
    due_pending = and_(
        Message.status == MessageStatus.PENDING,
        or_(Message.send_after.is_(None), Message.send_after <= now),
    )
    unsettled = and_(Message.status == MessageStatus.SENDING, Message.provider_sid.is_(None))
    since = func.coalesce(Message.send_after, Message.created_at)
    row = session.execute(
        select(func.count(), func.min(since)).where(
            Message.direction == Direction.OUTBOUND, or_(due_pending, unsettled)
        )
    ).one()
    oldest = None if row[1] is None else max(0.0, (now - aware(row[1])).total_seconds())
    return Unsent(count=int(row[0]), oldest_seconds=oldest)


def aware(value: datetime) -> datetime:
    # Aggregates bypass the column type: SQLite hands back a naive (UTC) value, or even a string.
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    return value if value.tzinfo else value.replace(tzinfo=UTC)


@dataclass(frozen=True)
class SpoolState:
    pending: int
    oldest_seconds: float | None
    failed: int


def spool_state(spool: Spool) -> SpoolState:
    """What waits in the spool (dispatch/spool/): a directory read, no file opened."""
    pending = spool.pending()
    oldest = max(0.0, time.time() - spool.arrived(pending[0])) if pending else None
    return SpoolState(pending=len(pending), oldest_seconds=oldest, failed=_count_json(spool.failed_dir))


def _count_json(directory: Path) -> int:
    try:
        return sum(1 for path in directory.iterdir() if path.suffix == ".json")
    except FileNotFoundError:
        return 0


@dataclass(frozen=True)
class Workers:
    count: int
    heartbeat_seconds: float | None  # since the newest heartbeat of any registered RQ worker


def workers(redis: Redis) -> Workers:
    """RQ's worker registry: how many workers, and how long since the liveliest one last beat."""
    from rq import Worker

    registered = Worker.all(connection=redis)
    beats = [worker.last_heartbeat for worker in registered if worker.last_heartbeat is not None]
    newest = max(beats) if beats else None
    age = None if newest is None else max(0.0, (utcnow() - newest).total_seconds())
    return Workers(count=len(registered), heartbeat_seconds=age)


def queue_depths(redis: Redis) -> dict[str, tuple[int, int]]:
    """Per RQ queue: (jobs waiting, jobs in the failed registry)."""
    depths = {}
    for name in QUEUE_NAMES:
        queue = get_queue(name, redis)
        depths[name] = (queue.count, queue.failed_job_registry.count)
    return depths


def redis_error(runtime: Runtime) -> str | None:
    """None when Redis answers a PING, else why not (one line)."""
    try:
        runtime.redis.ping()
    except RedisError as exc:
        return first_line(exc)
    return None


def warn_if_redis_down(runtime: Runtime, role: str) -> bool:
    """At start-up: one loud log line when Redis does not answer (nothing would be sent). True if up."""
    if runtime.settings.embedded_redis:
        return True
    error = redis_error(runtime)
    if error is None:
        return True
    where = mask_url(runtime.settings.REDIS_URL)
    if role == "worker":
        consequence = "no job runs until it is back; this worker waits for it and then starts at once"
    else:
        consequence = (
            "webhooks are still answered and stored, but no SMS is sent and no job runs until it is back"
        )
    log.error("REDIS UNAVAILABLE at %s (REDIS_URL): %s; %s", where, error, consequence)
    return False


def age(seconds: float | None) -> float | None:
    return None if seconds is None else round(seconds, 1)
