"""Lost work is found within a minute: a relayed job that Redis lost, or whose worker died, is relayed
again under a new job id; finished and failed jobs are marked done and never run again; queued,
scheduled and running ones are left alone. Real Redis, a real RQ worker, a frozen clock."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import time_machine
from rq.job import Job
from sqlalchemy.exc import OperationalError

from dispatch.models import Message, MessageStatus, OutboxEvent
from dispatch.queue import defer, get_queue, task
from dispatch.recovery import recover_lost_jobs
from dispatch.sms.services import queue_sms
from dispatch.tasks import sweep_outbox
from tests.helpers import run_jobs

PHONE = "+8613800138000"
NOON = datetime(2026, 3, 10, 4, 0, tzinfo=UTC)
LOST_AFTER = timedelta(seconds=30)  # the default LOST_JOB_SECONDS


def queue_help(runtime) -> tuple[int, int]:
    """A text and its send job's outbox row (relayed to Redis on commit)."""
    with runtime.db.transaction() as session:
        message = queue_sms(session, runtime.settings, phone=PHONE, template="help", kind="help")
        send_job = session.info["outbox_events"][-1]
    return message.id, send_job.id


def defer_now(runtime, function: Callable[..., Any], **kwargs) -> int:
    with runtime.db.transaction() as session:
        row = defer(session, function, **kwargs)
    return row.id


def event(session, event_id: int) -> OutboxEvent:
    session.expire_all()
    found = session.get(OutboxEvent, event_id)
    assert found is not None
    return found


def lose(runtime, job_id: str) -> None:
    """What a Redis restart does to a queued job: its hash and its place in the queue are gone."""
    runtime.redis.delete(f"rq:job:{job_id}")
    runtime.redis.lrem("rq:queue:sms", 0, job_id)


def test_a_job_redis_lost_is_relayed_again_and_runs(runtime, session):
    with time_machine.travel(NOON, tick=False) as traveller:
        message_id, event_id = queue_help(runtime)
        assert event(session, event_id).rq_job_id == f"outbox-{event_id}"
        lose(runtime, f"outbox-{event_id}")

        traveller.shift(LOST_AFTER - timedelta(seconds=1))
        assert recover_lost_jobs(runtime) == {"lost": 0, "done": 0}  # too young to call lost
        traveller.shift(timedelta(seconds=2))
        assert recover_lost_jobs(runtime) == {"lost": 1, "done": 0}
        assert event(session, event_id).rq_job_id == f"outbox-{event_id}-1"
        assert recover_lost_jobs(runtime) == {"lost": 0, "done": 0}  # relayed just now: alive again
        run_jobs(runtime)

        traveller.shift(LOST_AFTER + timedelta(seconds=1))
        assert recover_lost_jobs(runtime) == {"lost": 0, "done": 1}  # the new job finished
    session.expire_all()
    assert session.get(Message, message_id).status == MessageStatus.SENT
    assert [sent.to for sent in runtime.transport.sent] == [PHONE]


@task()
def fails_like_a_bug() -> None:
    """A job with a bug in it (a task for the test below)."""
    raise ZeroDivisionError("a bug")


def test_finished_and_failed_jobs_are_done_and_never_run_again(runtime, session):
    with time_machine.travel(NOON, tick=False) as traveller:
        _, sent_event = queue_help(runtime)
        failing = defer_now(runtime, fails_like_a_bug)  # the job fails
        run_jobs(runtime)
        assert Job.fetch(f"outbox-{failing}", connection=runtime.redis).get_status() == "failed"

        traveller.shift(LOST_AFTER + timedelta(seconds=1))
        assert recover_lost_jobs(runtime) == {"lost": 0, "done": 2}
        assert recover_lost_jobs(runtime) == {"lost": 0, "done": 0}
    assert event(session, sent_event).completed_at == NOON + LOST_AFTER + timedelta(seconds=1)
    assert event(session, failing).relay_attempts == 0


def test_a_job_whose_worker_died_while_running_it_is_relayed_after_its_timeout(runtime, session):
    with time_machine.travel(NOON, tick=False) as traveller:
        message_id, event_id = queue_help(runtime)
        # What a worker killed mid-job leaves in Redis: the job marked started, never finished.
        job = Job.fetch(f"outbox-{event_id}", connection=runtime.redis)
        runtime.redis.lrem("rq:queue:sms", 0, job.id)
        runtime.redis.hset(
            job.key, mapping={"status": "started", "started_at": "2026-03-10T04:00:00.000000Z"}
        )

        timeout = get_queue("sms", runtime.redis).DEFAULT_TIMEOUT if job.timeout is None else job.timeout
        traveller.shift(timedelta(seconds=timeout) + LOST_AFTER)
        assert recover_lost_jobs(runtime) == {"lost": 0, "done": 0}  # a slow job may still finish
        traveller.shift(timedelta(seconds=2))
        assert recover_lost_jobs(runtime) == {"lost": 1, "done": 0}
        run_jobs(runtime)
    session.expire_all()
    assert session.get(Message, message_id).status == MessageStatus.SENT


def test_queued_and_scheduled_jobs_are_left_alone_until_they_are_lost(runtime, session):
    with time_machine.travel(NOON, tick=False) as traveller:
        _, queued = queue_help(runtime)  # waits behind a backlog: no worker runs here
        later = defer_now(runtime, sweep_outbox, run_at=NOON + timedelta(hours=8))
        traveller.shift(timedelta(minutes=10))
        assert recover_lost_jobs(runtime) == {"lost": 0, "done": 0}

        runtime.redis.flushdb()  # Redis restarted: both are gone
        assert recover_lost_jobs(runtime) == {"lost": 1, "done": 0}  # the due one, at once
        assert event(session, queued).rq_job_id == f"outbox-{queued}-1"
        traveller.move_to(NOON + timedelta(hours=8))  # the held one is found once its time has passed
        assert recover_lost_jobs(runtime) == {"lost": 0, "done": 0}
        traveller.shift(LOST_AFTER + timedelta(seconds=1))
        assert recover_lost_jobs(runtime) == {"lost": 1, "done": 0}
        assert event(session, later).rq_job_id == f"outbox-{later}-1"


@task()
def fails_like_a_database_outage() -> None:
    """A job whose database went away under it (a task for the test below)."""
    raise OperationalError("SELECT 1", {}, Exception("connection refused"))


def test_a_job_stopped_by_a_database_outage_is_not_left_failed_but_runs_again(runtime, session):
    with time_machine.travel(NOON, tick=False) as traveller:
        event_id = defer_now(runtime, fails_like_a_database_outage)
        run_jobs(runtime)
        # Not a bug: nothing waits in RQ's failed registry for somebody to retry by hand.
        assert get_queue("default", runtime.redis).failed_job_registry.get_job_ids() == []
        traveller.shift(LOST_AFTER + timedelta(seconds=1))
        assert recover_lost_jobs(runtime) == {"lost": 1, "done": 0}
        assert event(session, event_id).rq_job_id == f"outbox-{event_id}-1"


def test_a_job_rq_failed_because_its_worker_died_is_relayed_again(runtime, session):
    from rq.results import Result

    with time_machine.travel(NOON, tick=False) as traveller:
        message_id, event_id = queue_help(runtime)
        # What RQ's own clean-up leaves when it finds the job of a dead worker: failed, as abandoned.
        job = Job.fetch(f"outbox-{event_id}", connection=runtime.redis)
        runtime.redis.lrem("rq:queue:sms", 0, job.id)
        job.set_status("failed")
        Result.create_failure(
            job, ttl=3600, exc_string="Moved to FailedJobRegistry, due to AbandonedJobError"
        )
        traveller.shift(LOST_AFTER + timedelta(seconds=1))
        assert recover_lost_jobs(runtime) == {"lost": 1, "done": 0}
        run_jobs(runtime)
    session.expire_all()
    assert session.get(Message, message_id).status == MessageStatus.SENT


def test_a_job_lost_again_and_again_is_given_up(runtime, session):
    from dispatch.recovery import MAX_RELAYS

    with time_machine.travel(NOON, tick=False) as traveller:
        _, event_id = queue_help(runtime)
        with runtime.db.transaction() as work:
            work.get(OutboxEvent, event_id).relay_attempts = MAX_RELAYS
        runtime.redis.flushdb()
        traveller.shift(LOST_AFTER + timedelta(seconds=1))
        assert recover_lost_jobs(runtime) == {"lost": 0, "done": 1}  # logged as given up
    assert event(session, event_id).rq_job_id == f"outbox-{event_id}"
