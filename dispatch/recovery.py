"""Finding the jobs Redis lost, within a minute, and relaying them again.

An outbox row marked relayed may still never run: Redis restarted (it keeps nothing on disk), a job
was deleted, or the worker running it was killed. Each relayed row not yet known to be done is
checked against its RQ job once it is due and LOST_JOB_SECONDS old:

- the job is gone, or it started longer ago than its timeout allows (its worker died): relayed
  again under a new job id (jobs are idempotent, so one that was merely slow does no harm);
- RQ itself marked it failed because its worker died (abandoned, or stuck between queue and start):
  relayed again too;
- the job finished, or failed for good (a bug: it waits in RQ's failed registry): the row is done;
- otherwise (queued, scheduled, running) it is left alone.

A job relayed MAX_RELAYS times is given up (logged): one that dies every time must not run for ever.
"""

from __future__ import annotations

import enum
import logging
from datetime import datetime, timedelta

from redis import Redis
from rq.exceptions import NoSuchJobError
from rq.job import Job
from rq.utils import utcparse
from sqlalchemy import or_, select

from dispatch.clock import utcnow
from dispatch.models import OutboxEvent
from dispatch.queue import QUEUE_TIMEOUTS, UnknownTask, enqueue_event, resolve
from dispatch.runtime import Runtime

log = logging.getLogger(__name__)
BATCH = 500
MAX_RELAYS = 5
DONE_STATUSES = frozenset({"finished", "failed", "stopped", "canceled"})
# What RQ writes on a job it failed because its worker died, not because the job raised.
DIED_WITH_ITS_WORKER = ("AbandonedJobError", "stuck in intermediate queue")


class Verdict(enum.Enum):
    ALIVE = "alive"
    DONE = "done"
    LOST = "lost"


def judge(fields: list[bytes | None], now: datetime, timeout: int, grace: timedelta) -> Verdict:
    """What became of a job, from its hash's status, started_at and timeout fields."""
    raw_status, raw_started, raw_timeout = (value.decode() if value else "" for value in fields)
    if not raw_status:
        return Verdict.LOST
    if raw_status in DONE_STATUSES:
        return Verdict.DONE
    if raw_status == "started" and raw_started:
        limit = int(float(raw_timeout)) if raw_timeout else timeout
        if now - utcparse(raw_started).replace(tzinfo=now.tzinfo) > timedelta(seconds=limit) + grace:
            return Verdict.LOST
    return Verdict.ALIVE


def _died_with_its_worker(redis: Redis, job_id: str) -> bool:
    try:
        result = Job.fetch(job_id, connection=redis).latest_result()
    except NoSuchJobError:
        return True
    reason = (result.exc_string or "") if result is not None else ""
    return any(mark in reason for mark in DIED_WITH_ITS_WORKER)


def _job_fields(redis: Redis, job_ids: list[str]) -> list[list[bytes | None]]:
    pipeline = redis.pipeline(transaction=False)
    for job_id in job_ids:
        pipeline.hmget(f"rq:job:{job_id}", ["status", "started_at", "timeout"])
    return pipeline.execute()


def _verdict(
    redis: Redis, event: OutboxEvent, job_id: str, fields: list[bytes | None], now: datetime, grace: timedelta
) -> Verdict:
    verdict = judge(fields, now, QUEUE_TIMEOUTS.get(event.queue, 300), grace)
    if verdict is Verdict.DONE and fields[0] == b"failed" and _died_with_its_worker(redis, job_id):
        verdict = Verdict.LOST
    if verdict is Verdict.LOST and event.relay_attempts >= MAX_RELAYS:
        log.error("job %s (%s) lost %d times; given up", job_id, event.task, event.relay_attempts)
        return Verdict.DONE
    return verdict


def recover_lost_jobs(runtime: Runtime) -> dict[str, int]:
    now = utcnow()
    grace = timedelta(seconds=runtime.settings.LOST_JOB_SECONDS)
    cutoff = now - grace
    counts = {"lost": 0, "done": 0}
    with runtime.db.transaction() as session:
        events = session.scalars(
            select(OutboxEvent)
            .where(
                OutboxEvent.relayed_at.is_not(None),
                OutboxEvent.completed_at.is_(None),
                OutboxEvent.relayed_at < cutoff,
                or_(OutboxEvent.run_at.is_(None), OutboxEvent.run_at < cutoff),
            )
            .order_by(OutboxEvent.id)
            .limit(BATCH)
            .with_for_update(skip_locked=True)
        ).all()
        if not events:
            return counts
        job_ids = [event.rq_job_id for event in events]
        for event, job_id, fields in zip(events, job_ids, _job_fields(runtime.redis, job_ids), strict=True):
            verdict = _verdict(runtime.redis, event, job_id, fields, now, grace)
            if verdict is Verdict.DONE:
                event.completed_at = now
                counts["done"] += 1
            elif verdict is Verdict.LOST:
                try:
                    resolve(event.task)
                except UnknownTask as exc:  # left as it is: a newer deploy's sweep relays it
                    log.error("job %s was lost and is not relayed again: %s", job_id, exc)
                    continue
                event.relay_attempts += 1
                event.job_id = f"outbox-{event.id}-{event.relay_attempts}"
                enqueue_event(event, runtime.redis)
                event.relayed_at = now
                counts["lost"] += 1
                log.warning("job %s (%s) was lost; relayed again as %s", job_id, event.task, event.job_id)
    return counts
