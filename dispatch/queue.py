"""The job queue: the transactional outbox, its relay to RQ, named queues and periodic jobs.

A job that must happen is first an `OutboxEvent` row written in the caller's transaction (`defer`).
After the commit the relay enqueues it to RQ; if Redis was down, the periodic sweeper relays it later.
Jobs are idempotent, so the rare double relay (a crash between enqueue and marking) does no harm.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from redis import Redis
from redis.exceptions import RedisError
from rq import Queue
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from dispatch.clock import utcnow
from dispatch.db import CLAIM_OUTBOX
from dispatch.models import OutboxEvent

if TYPE_CHECKING:
    from dispatch.runtime import Runtime

log = logging.getLogger(__name__)

# Named queues by latency: a worker listens to them in this order.
QUEUE_TIMEOUTS = {"sms": 30, "matching": 120, "default": 300}
QUEUE_NAMES = tuple(QUEUE_TIMEOUTS)
RELAY_BATCH = 500
# How long RQ keeps a finished job: the lost-job sweep must see it done well within this.
RESULT_TTL = 3600


def task_path(task: Callable[..., Any] | str) -> str:
    return task if isinstance(task, str) else f"{task.__module__}.{task.__qualname__}"


def defer(
    session: Session,
    task: Callable[..., Any] | str,
    *args: Any,
    queue: str = "default",
    run_at: datetime | None = None,
) -> OutboxEvent:
    """Write a job into the outbox inside the caller's transaction; it is enqueued after commit."""
    if queue not in QUEUE_TIMEOUTS:
        raise ValueError(f"unknown queue {queue!r}")
    # Marked relayed now when the transaction relays its own rows after the commit (Database.transaction).
    relayed_at = utcnow() if session.info.get(CLAIM_OUTBOX) else None
    event = OutboxEvent(
        task=task_path(task), args=list(args), queue=queue, run_at=run_at, relayed_at=relayed_at
    )
    session.add(event)
    session.info.setdefault("outbox_events", []).append(event)
    return event


def get_queue(name: str, connection: Redis) -> Queue:
    return Queue(name, connection=connection, default_timeout=QUEUE_TIMEOUTS[name])


def enqueue_event(event: OutboxEvent, connection: Redis) -> None:
    """Enqueue the outbox row's job, under the RQ job id it records (`outbox-<id>` the first time)."""
    if event.job_id is None:
        event.job_id = f"outbox-{event.id}"
    queue = get_queue(event.queue, connection)
    options = {"job_id": event.job_id, "result_ttl": RESULT_TTL, "failure_ttl": 7 * 24 * 3600}
    if event.run_at is not None and event.run_at > utcnow():
        queue.enqueue_at(event.run_at, event.task, *event.args, **options)
    else:
        queue.enqueue(event.task, *event.args, **options)


def relay(runtime: Runtime, ids: list[int] | None = None, older_than: timedelta | None = None) -> int:
    """Enqueue unrelayed outbox rows (these ids, or all older than `older_than`); returns how many.

    Rows are claimed with SKIP LOCKED so that two relays never enqueue the same row at once.
    Stops at the first Redis error and keeps what it relayed so far.
    """
    relayed = 0
    with runtime.db.transaction() as session:
        query = select(OutboxEvent).where(OutboxEvent.relayed_at.is_(None)).order_by(OutboxEvent.id)
        if ids is not None:
            query = query.where(OutboxEvent.id.in_(ids))
        if older_than is not None:
            query = query.where(OutboxEvent.created_at < utcnow() - older_than)
        query = query.limit(RELAY_BATCH).with_for_update(skip_locked=True)
        for event in session.scalars(query):
            try:
                enqueue_event(event, runtime.redis)
            except RedisError as exc:
                event.relay_attempts += 1
                runtime.relay_paused_until = time.monotonic() + REDIS_BACKOFF_SECONDS
                log.warning("outbox relay stopped, Redis unavailable: %s", exc)
                break
            event.relayed_at = utcnow()
            relayed += 1
    return relayed


# After Redis failed, requests skip their after-commit relay for this long and leave the rows to the
# sweeper: otherwise every webhook would wait out Redis's connect timeout during an outage.
REDIS_BACKOFF_SECONDS = 10.0


def relay_outbox_after_commit(runtime: Runtime, ids: list[int]) -> None:
    if time.monotonic() < runtime.relay_paused_until:
        return
    relay(runtime, ids=ids)


def relays_in_transaction(runtime: Runtime) -> bool:
    """Whether transactions now mark their outbox rows relayed as they write them: not for a while
    after Redis refused (the rows are then left to the sweeper, as every request would otherwise wait
    out Redis's connect timeout)."""
    return time.monotonic() >= runtime.relay_paused_until


def enqueue_claimed(runtime: Runtime, events: list[OutboxEvent]) -> None:
    """Enqueue the rows a committed transaction wrote already marked relayed (from memory: no read).

    Rows Redis would not take are marked unrelayed again, for the sweeper. Should even that fail (the
    process dies, the database goes), the lost-job sweep (dispatch/recovery.py) finds them relayed
    and not in Redis, and relays them within LOST_JOB_SECONDS plus a sweep.
    """
    for index, event in enumerate(events):
        try:
            enqueue_event(event, runtime.redis)
        except RedisError as exc:
            runtime.relay_paused_until = time.monotonic() + REDIS_BACKOFF_SECONDS
            log.warning("outbox relay stopped, Redis unavailable: %s", exc)
            _unclaim(runtime, [left.id for left in events[index:]])
            return


def _unclaim(runtime: Runtime, ids: list[int]) -> None:
    try:
        with runtime.db.transaction() as session:
            session.execute(
                update(OutboxEvent)
                .where(OutboxEvent.id.in_(ids), OutboxEvent.completed_at.is_(None))
                .values(relayed_at=None, job_id=None, relay_attempts=OutboxEvent.relay_attempts + 1)
            )
    except Exception:
        log.exception("outbox rows %s left marked relayed; the lost-job sweep relays them", ids)


def relay_all(runtime: Runtime, older_than: timedelta | None = None, max_batches: int = 20) -> int:
    """Relay batch after batch until one comes back short (a long outage leaves many rows)."""
    total = 0
    for _ in range(max_batches):
        relayed = relay(runtime, older_than=older_than)
        total += relayed
        if relayed < RELAY_BATCH:
            break
    return total


# The recovery sweeps run this often: lost work is found within a lease plus this.
RECOVERY_SWEEP_SECONDS = 15


@dataclass(frozen=True)
class PeriodicTask:
    id: str
    task: str
    every_seconds: Callable[[Runtime], int]
    queue: str = "default"


PERIODIC_TASKS: tuple[PeriodicTask, ...] = (
    PeriodicTask(
        id="sweep-outbox",
        task="dispatch.tasks.sweep_outbox",
        every_seconds=lambda runtime: runtime.settings.OUTBOX_SWEEP_SECONDS,
    ),
    PeriodicTask(
        # Relayed jobs that Redis lost (a restart, a flush) or whose worker died: relayed again.
        id="recover-lost-jobs",
        task="dispatch.tasks.recover_lost_jobs",
        every_seconds=lambda runtime: RECOVERY_SWEEP_SECONDS,
    ),
    PeriodicTask(
        # Sends whose worker died during the provider call (reconciled), or whose job vanished.
        id="requeue-stuck-sms",
        task="dispatch.sms.tasks.requeue_stuck_messages",
        every_seconds=lambda runtime: RECOVERY_SWEEP_SECONDS,
        queue="sms",
    ),
    PeriodicTask(
        id="sweep-offers",
        task="dispatch.matching.tasks.sweep_offers",
        every_seconds=lambda runtime: 60,
        queue="matching",
    ),
    PeriodicTask(
        # Hang-ups whose status callback never came still leave a call-back ticket.
        id="finish-stale-calls",
        task="dispatch.ivr.tasks.finish_stale_calls",
        every_seconds=lambda runtime: 600,
    ),
    PeriodicTask(
        # Follow-ups of placements that ended, reminders, and tickets for the silent.
        id="run-follow-ups",
        task="dispatch.followup.tasks.run_follow_ups",
        every_seconds=lambda runtime: 300,
    ),
)


def enqueue_due_periodic_tasks(runtime: Runtime) -> list[str]:
    """Enqueue each periodic task whose interval has passed; a non-blocking Redis lock per task
    (SET NX EX) means that however many workers tick, each task runs once per interval."""
    started = []
    for periodic in PERIODIC_TASKS:
        interval = max(1, periodic.every_seconds(runtime))
        try:
            if not runtime.redis.set(f"dispatch:periodic:{periodic.id}", "1", nx=True, ex=interval):
                continue
            get_queue(periodic.queue, runtime.redis).enqueue(
                periodic.task, job_id=f"periodic-{periodic.id}", result_ttl=interval * 2
            )
        except RedisError as exc:
            log.warning("periodic task %s not enqueued: %s", periodic.id, exc)
            continue
        started.append(periodic.id)
    return started
