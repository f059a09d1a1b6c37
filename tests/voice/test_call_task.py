"""The follow-up call task: the exact Twilio request (real client, fake API), one call per round, quiet
hours, retries, and the outbox transport. Jobs run in a real RQ SimpleWorker."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from rq.registry import ScheduledJobRegistry
from sqlalchemy import select
from sqlalchemy.orm import Session

from dispatch.clock import utcnow
from dispatch.models import (
    Call,
    CallOutcome,
    FollowUpChannel,
    FollowUpStatus,
    OutboxEvent,
    WorkerStatus,
)
from dispatch.queue import defer, get_queue
from dispatch.runtime import Runtime
from dispatch.voice.gateway import OutboxCallTransport, TwilioCallTransport, make_call_transport
from dispatch.voice.tasks import call_follow_up
from tests.conftest import make_settings
from tests.factories import SHANGHAI
from tests.fakes.twilio_api import FakeTwilioApi
from tests.helpers import TEST_AUTH_TOKEN, run_jobs
from tests.ivr.conftest import PUBLIC_BASE
from tests.voice.conftest import (
    ACCOUNT_SID,
    CALL_TASK,
    CALLS_PATH,
    FROM_NUMBER,
    WORKER_PHONE,
    Placement,
    fresh_follow_up,
    place,
    the_call,
    worker_of,
)

QUIET_HOURS = {"QUIET_HOURS": "21:00-08:00", "MARKET_TIMEZONE": "Asia/Shanghai"}
EVENING = datetime(2026, 3, 10, 22, 30, tzinfo=SHANGHAI)
MORNING = datetime(2026, 3, 11, 8, 0, tzinfo=SHANGHAI)
NOON = datetime(2026, 3, 10, 4, 0, tzinfo=UTC)


def ask_by_phone(runtime: Runtime, placement: Placement) -> None:
    """What helper F's follow-up run writes when it asks (or reminds) a worker who prefers voice."""
    with runtime.db.transaction() as session:
        defer(session, call_follow_up, placement.follow_up_id, queue="sms")


def call_events(session: Session, placement: Placement) -> list[OutboxEvent]:
    session.expire_all()
    events = session.scalars(
        select(OutboxEvent).where(OutboxEvent.task == CALL_TASK).order_by(OutboxEvent.id)
    )
    return [event for event in events if event.args[0] == placement.follow_up_id]


def calls_placed(fake_twilio: FakeTwilioApi) -> list[str]:
    return [request.form["To"][0] for request in fake_twilio.requests if request.path == CALLS_PATH]


def remind(runtime: Runtime, placement: Placement) -> None:
    with runtime.db.transaction() as session:
        follow_up = fresh_follow_up(session, placement)
        follow_up.status, follow_up.reminded_at = FollowUpStatus.REMINDED, utcnow()
        defer(session, call_follow_up, placement.follow_up_id, queue="sms")


# -- the twilio transport -------------------------------------------------------------------------


def test_the_call_is_placed_with_the_exact_request_and_its_sid_kept(runtime, session, seeded, fake_twilio):
    placement = place(runtime)
    ask_by_phone(runtime, placement)
    run_jobs(runtime)

    [request] = fake_twilio.requests
    assert (request.method, request.path, request.auth) == (
        "POST",
        CALLS_PATH,
        (ACCOUNT_SID, TEST_AUTH_TOKEN),
    )
    assert request.form == {
        "To": [WORKER_PHONE],
        "From": [FROM_NUMBER],
        "Url": [f"{PUBLIC_BASE}/ivr/followup?f={placement.follow_up_id}"],
        "Method": ["POST"],
        "StatusCallback": [f"{PUBLIC_BASE}/ivr/followup/status?f={placement.follow_up_id}"],
        "StatusCallbackEvent": ["completed"],
    }
    [created] = fake_twilio.calls
    assert created["sid"].startswith("CA") and created["status"] == "queued"
    follow_up = fresh_follow_up(session, placement)
    assert follow_up.call_sid == created["sid"]
    assert follow_up.status == FollowUpStatus.ASKED  # only an answer moves it on
    call = the_call(session, created["sid"])
    assert (call.flow, call.step, call.phone, call.status, call.outcome) == (
        "followup",
        "answer",
        WORKER_PHONE,
        "queued",
        CallOutcome.FOLLOW_UP,
    )
    assert call.answers == {"follow_up": placement.follow_up_id, "round": "asked"}
    assert (call.worker_id, call.job_id, call.ended_at) == (placement.worker_id, placement.job_id, None)


def test_the_call_transport_is_chosen_by_sms_transport(runtime, service_urls, fake_twilio):
    assert isinstance(runtime.call_transport, TwilioCallTransport)
    assert isinstance(make_call_transport(make_settings(service_urls)), OutboxCallTransport)


def test_the_outbox_transport_records_the_call_and_places_none(runtime, session, seeded, fake_twilio):
    runtime.call_transport = outbox = OutboxCallTransport()
    placement = place(runtime)
    ask_by_phone(runtime, placement)
    run_jobs(runtime)

    assert fake_twilio.requests == []
    [recorded] = outbox.placed
    assert (recorded.to, recorded.url, recorded.status_callback) == (
        WORKER_PHONE,
        f"{PUBLIC_BASE}/ivr/followup?f={placement.follow_up_id}",
        f"{PUBLIC_BASE}/ivr/followup/status?f={placement.follow_up_id}",
    )
    assert fresh_follow_up(session, placement).call_sid == recorded.call_sid
    assert the_call(session, recorded.call_sid).flow == "followup"


# -- once per round -------------------------------------------------------------------------------


def test_running_the_task_twice_calls_once(runtime, session, seeded, fake_twilio):
    placement = place(runtime)
    ask_by_phone(runtime, placement)
    [event] = call_events(session, placement)
    queue = get_queue("sms", runtime.redis)
    queue.enqueue(CALL_TASK, placement.follow_up_id, job_id="call-again")  # e.g. a relay that ran twice
    run_jobs(runtime)

    assert calls_placed(fake_twilio) == [WORKER_PHONE]
    assert queue.fetch_job(f"outbox-{event.id}").return_value() == {"called": 1}
    assert queue.fetch_job("call-again").return_value() == {"skipped": 1}
    ask_by_phone(runtime, placement)  # the same round asked again later
    run_jobs(runtime)
    assert calls_placed(fake_twilio) == [WORKER_PHONE]
    assert len(session.scalars(select(Call)).all()) == 1


def test_the_reminder_rings_once_more_and_only_once(runtime, session, seeded, fake_twilio):
    placement = place(runtime)
    ask_by_phone(runtime, placement)
    run_jobs(runtime)
    first = fresh_follow_up(session, placement).call_sid

    remind(runtime, placement)
    ask_by_phone(runtime, placement)  # the reminder's job delivered twice
    run_jobs(runtime)

    assert calls_placed(fake_twilio) == [WORKER_PHONE, WORKER_PHONE]
    follow_up = fresh_follow_up(session, placement)
    assert follow_up.call_sid != first
    assert the_call(session, follow_up.call_sid).answers["round"] == "reminded"
    assert the_call(session, first).answers["round"] == "asked"


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        ("answered", {"skipped": 1}),
        ("agent", {"skipped": 1}),
        ("sms", {"skipped": 1}),
        ("opted_out", {"skipped": 1}),
    ],
)
def test_nobody_is_rung_for_a_follow_up_that_is_not_a_waiting_voice_one(
    runtime, session, seeded, fake_twilio, change, expected
):
    placement = place(runtime)
    with runtime.db.transaction() as tx:
        follow_up = fresh_follow_up(tx, placement)
        if change == "answered":
            follow_up.status = FollowUpStatus.ANSWERED
        elif change == "agent":
            follow_up.status = FollowUpStatus.AGENT
        elif change == "sms":
            follow_up.channel = FollowUpChannel.SMS
        else:
            worker_of(tx, placement).status = WorkerStatus.OPTED_OUT
    ask_by_phone(runtime, placement)
    [event] = call_events(session, placement)
    run_jobs(runtime)

    assert fake_twilio.requests == []
    assert get_queue("sms", runtime.redis).fetch_job(f"outbox-{event.id}").return_value() == expected
    assert fresh_follow_up(session, placement).call_sid is None


# -- quiet hours ----------------------------------------------------------------------------------


@pytest.mark.parametrize("extra_settings", [QUIET_HOURS], ids=["21-08-shanghai"])
def test_quiet_hours_put_the_call_off_until_morning(runtime, session, seeded, fake_twilio):
    with time_machine.travel(EVENING, tick=True) as traveller:
        placement = place(runtime)
        ask_by_phone(runtime, placement)
        run_jobs(runtime, with_scheduler=True)

        assert fake_twilio.requests == []
        _, later = call_events(session, placement)
        morning_utc = datetime(2026, 3, 11, 0, 0, tzinfo=UTC)
        assert (later.queue, later.args, later.run_at) == ("sms", [placement.follow_up_id, 1], morning_utc)
        registry = ScheduledJobRegistry(queue=get_queue("sms", runtime.redis))
        assert registry.get_job_ids() == [f"outbox-{later.id}"]
        assert registry.get_scheduled_time(f"outbox-{later.id}") == morning_utc

        traveller.move_to(MORNING - timedelta(minutes=1))
        run_jobs(runtime, with_scheduler=True)
        assert fake_twilio.requests == []

        traveller.move_to(MORNING)
        run_jobs(runtime, with_scheduler=True)

    assert calls_placed(fake_twilio) == [WORKER_PHONE]
    assert fresh_follow_up(session, placement).call_sid == fake_twilio.calls[0]["sid"]
    assert registry.get_job_ids() == []


# -- errors ---------------------------------------------------------------------------------------


def test_too_many_requests_is_retried_after_a_backoff(runtime, session, seeded, fake_twilio):
    fake_twilio.fail_next(429, 20429)  # refused before anything was created
    # A clock that stands still until shifted: RQ's scheduler works in whole seconds.
    with time_machine.travel(NOON, tick=False) as traveller:
        placement = place(runtime)
        ask_by_phone(runtime, placement)
        run_jobs(runtime)

        assert fake_twilio.calls == [] and len(fake_twilio.requests) == 1
        _, retry = call_events(session, placement)
        assert (retry.args, retry.run_at) == ([placement.follow_up_id, 2], NOON + timedelta(seconds=2))

        traveller.shift(timedelta(seconds=1))
        run_jobs(runtime, with_scheduler=True)
        assert len(fake_twilio.requests) == 1  # not due yet

        traveller.shift(timedelta(seconds=1))
        run_jobs(runtime, with_scheduler=True)

    assert calls_placed(fake_twilio) == [WORKER_PHONE, WORKER_PHONE]
    [created] = fake_twilio.calls
    assert fresh_follow_up(session, placement).call_sid == created["sid"]


def test_a_number_twilio_refuses_is_not_retried_and_the_follow_up_stays_open(
    runtime, session, seeded, fake_twilio
):
    fake_twilio.fail_for_number(WORKER_PHONE, 400, 21211)
    placement = place(runtime)
    ask_by_phone(runtime, placement)
    run_jobs(runtime, with_scheduler=True)

    assert len(fake_twilio.requests) == 1 and fake_twilio.calls == []
    [event] = call_events(session, placement)
    assert get_queue("sms", runtime.redis).fetch_job(f"outbox-{event.id}").return_value() == {"failed": 1}
    follow_up = fresh_follow_up(session, placement)
    assert (follow_up.status, follow_up.call_sid) == (FollowUpStatus.ASKED, None)


def test_a_retryable_error_gives_up_after_the_last_attempt(runtime, session, seeded, fake_twilio):
    fake_twilio.fail_next(429, 20429, times=4)
    with time_machine.travel(NOON, tick=False) as traveller:
        placement = place(runtime)
        ask_by_phone(runtime, placement)
        run_jobs(runtime)
        for backoff in (2, 4, 8):
            traveller.shift(timedelta(seconds=backoff))
            run_jobs(runtime, with_scheduler=True)
        traveller.shift(timedelta(hours=1))
        run_jobs(runtime, with_scheduler=True)

    assert len(fake_twilio.requests) == 4 and fake_twilio.calls == []
    assert [event.args[1:] for event in call_events(session, placement)] == [[], [2], [3], [4]]
    assert fresh_follow_up(session, placement).call_sid is None
