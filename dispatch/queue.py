"""The job queue: the task registry, the transactional outbox, its relay to RQ, the named queues.

A job that must happen is first an `OutboxEvent` row written in the caller's transaction (`defer`).
After the commit the relay enqueues it to RQ; if Redis was down, the periodic sweeper relays it later.
Jobs are idempotent, so the rare double relay (a crash between enqueue and marking) does no harm.
The periodic jobs are in dispatch/periodic.py.

The task registry: every job is a module-level function in one of TASK_MODULES marked `@task(queue)`,
and callers name it by the function (`defer(session, send_message, message.id)`). The outbox row keeps
the function's dotted name (what RQ imports too), so a task is never renamed or moved while rows may
name it. The tasks modules import their services inside the tasks: that keeps them leaves of the import
graph, so any service can import the task functions it defers (tests/test_task_registry.py checks it).
"""

from __future__ import annotations

import importlib
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any, TypeVar

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


# Where the tasks live: read when an outbox row names a task no code of this process imported yet.
TASK_MODULES = (
    "dispatch.tasks",
    "dispatch.callcenter.tasks",
    "dispatch.followup.tasks",
    "dispatch.ivr.tasks",
    "dispatch.matching.tasks",
    "dispatch.outreach.tasks",
    "dispatch.sms.tasks",
    "dispatch.tickets.tasks",
    "dispatch.voice.tasks",
    "dispatch.wages.tasks",
)


class UnknownTask(LookupError):
    """A function that is not a registered task, or an outbox row naming no task of this code."""


@dataclass(frozen=True)
class Task:
    name: str  # module and function name: stored in the outbox row and in the RQ job
    function: Callable[..., Any]
    queue: str


_registry: dict[str, Task] = {}
TaskFunction = TypeVar("TaskFunction", bound=Callable[..., Any])


def task(queue: str = "default") -> Callable[[TaskFunction], TaskFunction]:
    """Registers a module-level function as an RQ job that runs on `queue`; the function is unchanged."""
    if queue not in QUEUE_TIMEOUTS:
        raise ValueError(f"unknown queue {queue!r}")

    def register(function: TaskFunction) -> TaskFunction:
        if "." in function.__qualname__:  # nested or a method: RQ could not import it by name
            raise TypeError(f"a task must be a module-level function, not {function.__qualname__}")
        name = f"{function.__module__}.{function.__qualname__}"
        _registry[name] = Task(name, function, queue)
        return function

    return register


def task_of(function: Callable[..., Any]) -> Task:
    """The registered task of a function (a function without `@task` is refused: RQ would run it,
    but nothing would say on which queue, and a rename would strand its outbox rows unnoticed)."""
    name = f"{getattr(function, '__module__', '?')}.{getattr(function, '__qualname__', repr(function))}"
    found = _registry.get(name)
    if found is None or found.function is not function:
        raise UnknownTask(f"{name} is not a task: mark it @task(queue) in its <area>/tasks.py")
    return found


def resolve(name: str) -> Task:
    """The task an outbox row names. The tasks modules are imported on the first miss (not at this
    module's import: they import it)."""
    found = _registry.get(name)
    if found is None:
        for module in TASK_MODULES:
            importlib.import_module(module)
        found = _registry.get(name)
    if found is None:
        raise UnknownTask(
            f"no task is named {name!r}: renamed or removed while outbox rows still name it "
            f"(keep the old name, or delete the rows)"
        )
    return found


def defer(
    session: Session,
    function: Callable[..., Any],
    *args: Any,
    queue: str | None = None,
    run_at: datetime | None = None,
) -> OutboxEvent:
    """Write a job into the outbox inside the caller's transaction; it is enqueued after commit. It runs
    on the task's own queue unless `queue` says otherwise."""
    registered = task_of(function)
    queue = queue or registered.queue
    if queue not in QUEUE_TIMEOUTS:
        raise ValueError(f"unknown queue {queue!r}")
    # Marked relayed now when the transaction relays its own rows after the commit (Database.transaction).
    relayed_at = utcnow() if session.info.get(CLAIM_OUTBOX) else None
    event = OutboxEvent(
        task=registered.name, args=list(args), queue=queue, run_at=run_at, relayed_at=relayed_at
    )
    session.add(event)
    session.info.setdefault("outbox_events", []).append(event)
    return event


def get_queue(name: str, connection: Redis) -> Queue:
    return Queue(name, connection=connection, default_timeout=QUEUE_TIMEOUTS[name])


def enqueue_event(event: OutboxEvent, connection: Redis) -> None:
    """Enqueue the outbox row's job, under the RQ job id it records (`outbox-<id>` the first time).
    Raises UnknownTask, before touching the row or Redis, if the row names no task of this code."""
    function = resolve(event.task).function
    if event.job_id is None:
        event.job_id = f"outbox-{event.id}"
    queue = get_queue(event.queue, connection)
    options = {"job_id": event.job_id, "result_ttl": RESULT_TTL, "failure_ttl": 7 * 24 * 3600}
    if event.run_at is not None and event.run_at > utcnow():
        queue.enqueue_at(event.run_at, function, *event.args, **options)
    else:
        queue.enqueue(function, *event.args, **options)


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
            except UnknownTask as exc:
                # Left unrelayed, not dropped: in a rolling deploy, the newer code's relay runs it.
                log.error("outbox row %s not relayed: %s", event.id, exc)
                continue
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
