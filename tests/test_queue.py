"""The transactional outbox: enqueue only after commit, survive a Redis outage, periodic jobs once."""

from datetime import timedelta

import pytest
import time_machine
from redis import Redis
from rq.registry import ScheduledJobRegistry
from sqlalchemy import func, select

from dispatch.clock import utcnow
from dispatch.models import Message, MessageStatus, OutboxEvent
from dispatch.periodic import enqueue_due_periodic_tasks
from dispatch.queue import defer, get_queue, relay
from dispatch.tasks import sweep_outbox
from tests.helpers import last_reply, run_jobs, text_in

PHONE = "+8613800138000"
UNREACHABLE_REDIS = "redis://127.0.0.1:1/0"  # nothing listens on port 1


@pytest.fixture
def settings_overrides():
    return {"OUTBOX_SWEEP_GRACE_SECONDS": 0}


def test_a_deferred_job_reaches_rq_only_after_commit(runtime):
    queue = get_queue("default", runtime.redis)
    with runtime.db.transaction() as session:
        event = defer(session, sweep_outbox)
        session.flush()
        assert queue.count == 0  # not visible to a worker while the transaction is open
    assert queue.job_ids == [f"outbox-{event.id}"]
    with runtime.db.transaction() as session:
        assert session.get(OutboxEvent, event.id).relayed_at is not None


def test_a_row_written_in_a_rolled_back_savepoint_is_neither_stored_nor_enqueued(runtime, session):
    """Rows are written marked relayed and enqueued from memory after the commit: one a savepoint took
    back (a high-risk claim undone) must not reach Redis."""
    with runtime.db.transaction() as work:
        kept = defer(work, sweep_outbox)
        nested = work.begin_nested()
        defer(work, sweep_outbox, run_at=utcnow() + timedelta(hours=1))
        work.flush()
        nested.rollback()
    queue = get_queue("default", runtime.redis)
    assert queue.job_ids == [f"outbox-{kept.id}"]
    assert ScheduledJobRegistry(queue=queue).get_job_ids() == []
    assert session.scalars(select(OutboxEvent.id)).all() == [kept.id]


def test_a_long_transaction_marks_its_rows_relayed_when_it_commits(runtime, session, monkeypatch):
    """Marked relayed when written, rows of a transaction that ran long would look lost to the lost-job
    sweep (relayed, not in Redis, LOST_JOB_SECONDS old) before its enqueue: the commit stamps them."""
    monkeypatch.setattr("dispatch.db.LONG_TRANSACTION_SECONDS", 0.0)
    with time_machine.travel(utcnow(), tick=False) as clock, runtime.db.transaction() as work:
        event = defer(work, sweep_outbox)
        written = event.relayed_at
        clock.shift(timedelta(minutes=2))
    session.expire_all()
    assert session.get(OutboxEvent, event.id).relayed_at == written + timedelta(minutes=2)


def test_a_rolled_back_transaction_enqueues_nothing(runtime, session):
    with pytest.raises(RuntimeError), runtime.db.transaction() as work:
        defer(work, sweep_outbox)
        work.flush()
        raise RuntimeError("the request failed")
    assert get_queue("default", runtime.redis).count == 0
    assert session.scalar(select(func.count()).select_from(OutboxEvent)) == 0


def test_a_job_for_later_waits_in_the_scheduled_registry(runtime):
    run_at = utcnow() + timedelta(hours=2)
    with runtime.db.transaction() as session:
        event = defer(session, sweep_outbox, run_at=run_at)
    queue = get_queue("default", runtime.redis)
    registry = ScheduledJobRegistry(queue=queue)
    assert queue.count == 0
    assert registry.get_job_ids() == [f"outbox-{event.id}"]
    scheduled = registry.get_scheduled_time(f"outbox-{event.id}")
    assert abs((scheduled - run_at).total_seconds()) < 1


def test_an_sms_written_while_redis_is_down_is_sent_after_it_returns(runtime, client, seeded, session, redis):
    runtime.redis = Redis.from_url(UNREACHABLE_REDIS, socket_connect_timeout=0.2)
    text_in(client, "帮助", PHONE)  # the webhook still succeeds: PostgreSQL holds the truth
    reply = last_reply(session, PHONE)
    assert reply.status == MessageStatus.PENDING
    event = session.scalar(select(OutboxEvent))
    assert event.relayed_at is None and event.relay_attempts == 1

    runtime.redis = redis  # Redis is back: the periodic sweeper relays what was left behind
    assert "sweep-outbox" in enqueue_due_periodic_tasks(runtime)
    run_jobs(runtime)
    session.expire_all()
    assert session.get(OutboxEvent, event.id).relayed_at is not None
    assert session.get(Message, reply.id).status == MessageStatus.SENT
    assert [sent.to for sent in runtime.transport.sent] == [PHONE]


def test_the_sweeper_leaves_young_rows_to_the_after_commit_relay(runtime, session):
    runtime.redis = Redis.from_url(UNREACHABLE_REDIS, socket_connect_timeout=0.2)
    with runtime.db.transaction() as work:
        defer(work, sweep_outbox)
    assert relay(runtime, older_than=timedelta(minutes=5)) == 0


def test_a_periodic_task_is_enqueued_once_per_interval_however_many_workers_tick(runtime):
    everything = [
        "sweep-outbox",
        "recover-lost-jobs",
        "requeue-stuck-sms",
        "sweep-offers",
        "expire-held-jobs",
        "finish-stale-calls",
        "send-reminders",
        "run-follow-ups",
        "set-idle-agents-away",
        "release-stuck-calls",
        "close-over-tickets",
    ]
    assert enqueue_due_periodic_tasks(runtime) == everything
    assert enqueue_due_periodic_tasks(runtime) == []  # a second worker's tick in the same interval
    assert get_queue("default", runtime.redis).job_ids == [
        "periodic-sweep-outbox",
        "periodic-recover-lost-jobs",
        "periodic-expire-held-jobs",
        "periodic-finish-stale-calls",
        "periodic-run-follow-ups",
        "periodic-set-idle-agents-away",
        "periodic-release-stuck-calls",
        "periodic-close-over-tickets",
    ]
    assert get_queue("sms", runtime.redis).job_ids == ["periodic-requeue-stuck-sms"]
    assert get_queue("matching", runtime.redis).job_ids == [
        "periodic-sweep-offers",
        "periodic-send-reminders",
    ]


def test_relaying_twice_does_not_enqueue_twice(runtime):
    with runtime.db.transaction() as session:
        defer(session, sweep_outbox)
    assert relay(runtime) == 0  # the after-commit relay already took it
    assert get_queue("default", runtime.redis).count == 1


def test_dispatch_worker_runs_due_scheduled_jobs_with_its_scheduler(runtime, session):
    from dispatch.worker import run_worker

    with runtime.db.transaction() as work:
        due = defer(work, sweep_outbox, run_at=utcnow() + timedelta(seconds=1))
        later = defer(work, sweep_outbox, run_at=utcnow() + timedelta(hours=1))
    queue = get_queue("default", runtime.redis)
    registry = ScheduledJobRegistry(queue=queue)
    assert set(registry.get_job_ids()) == {f"outbox-{due.id}", f"outbox-{later.id}"}
    with time_machine.travel(utcnow() + timedelta(seconds=5)):
        run_worker(runtime, burst=True)
    assert queue.fetch_job(f"outbox-{due.id}").get_status() == "finished"
    assert registry.get_job_ids() == [f"outbox-{later.id}"]


def test_after_redis_fails_requests_leave_relaying_to_the_sweeper_for_a_while(runtime, session):
    runtime.redis = Redis.from_url(UNREACHABLE_REDIS, socket_connect_timeout=0.2)
    with runtime.db.transaction() as work:
        first = defer(work, sweep_outbox)
    with runtime.db.transaction() as work:
        second = defer(work, sweep_outbox)
    session.expire_all()
    # The first request tried Redis and failed; the second did not even try (no connect timeout).
    assert session.get(OutboxEvent, first.id).relay_attempts == 1
    assert session.get(OutboxEvent, second.id).relay_attempts == 0


def test_the_sweeper_relays_batch_after_batch(runtime, session, redis, monkeypatch):
    import dispatch.queue

    monkeypatch.setattr(dispatch.queue, "RELAY_BATCH", 3)
    runtime.redis = Redis.from_url(UNREACHABLE_REDIS, socket_connect_timeout=0.2)
    with runtime.db.transaction() as work:
        for _ in range(7):
            defer(work, sweep_outbox)
    runtime.redis = redis
    assert dispatch.queue.relay_all(runtime) == 7
    assert get_queue("default", runtime.redis).count == 7
