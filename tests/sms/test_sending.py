"""Sending SMS: the real Twilio client against a fake Twilio API, error codes, retries with backoff,
idempotency, the send rate, the outbox transport and quiet hours. Jobs run in a real RQ worker."""

from __future__ import annotations

import itertools
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import time_machine
from rq.registry import ScheduledJobRegistry
from sqlalchemy import select
from sqlalchemy.orm import Session

from dispatch.clock import utcnow
from dispatch.models import (
    Contact,
    Message,
    MessageStatus,
    OutboxEvent,
    RegisteredVia,
    Worker,
    WorkerStatus,
)
from dispatch.queue import get_queue
from dispatch.runtime import Runtime, connect_redis
from dispatch.sms.gateway import OutboxTransport
from dispatch.sms.rate_limit import SendRateLimiter
from dispatch.sms.services import queue_sms, store_inbound
from dispatch.sms.tasks import send_message
from tests.fakes.twilio_api import FakeTwilioApi, RecordedRequest
from tests.helpers import TEST_AUTH_TOKEN, inbound_params, run_jobs

ACCOUNT_SID = "AC" + "5" * 32
FROM_NUMBER = "+15017122661"
SERVICE_SID = "MG" + "6" * 32
PUBLIC_BASE_URL = "https://dispatch.example.org"
PHONE = "+8613912345678"
SEND_TASK = "dispatch.sms.tasks.send_message"
MESSAGES_PATH = f"/2010-04-01/Accounts/{ACCOUNT_SID}/Messages.json"
SHANGHAI = ZoneInfo("Asia/Shanghai")
NOON = datetime(2026, 3, 10, 4, 0, tzinfo=UTC)  # 12:00 in Shanghai
ARRIVAL_JITTER = 0.012  # seconds: how much later one request may reach the fake than the next
# templates/zh/help.txt with the default signature, as the worker's phone shows it.
HELP_ZH = (
    "【潞州零工】回复：注册=登记找活；忙=暂停派活；空=恢复派活；我的=查看资料；退订=不再收短信；"
    "EN=English。接单回复 1 加岗位号，如 1 123；没拿到工钱回复 欠薪 加岗位号。"
)


@pytest.fixture
def fake_twilio() -> Iterator[FakeTwilioApi]:
    with FakeTwilioApi(ACCOUNT_SID, TEST_AUTH_TOKEN) as fake:
        yield fake


@pytest.fixture
def extra_settings() -> dict[str, Any]:
    """A test's own settings: `@pytest.mark.parametrize("extra_settings", [{...}])`; None drops one."""
    return {}


@pytest.fixture
def settings_overrides(fake_twilio: FakeTwilioApi, extra_settings: dict[str, Any]) -> dict[str, Any]:
    """The twilio transport pointed at the fake, which is running before the runtime is built."""
    values = {
        "SMS_TRANSPORT": "twilio",
        "TWILIO_API_BASE_URL": fake_twilio.base_url,
        "TWILIO_ACCOUNT_SID": ACCOUNT_SID,
        "TWILIO_AUTH_TOKEN": TEST_AUTH_TOKEN,
        "TWILIO_FROM_NUMBER": FROM_NUMBER,
        "PUBLIC_BASE_URL": PUBLIC_BASE_URL,
        **extra_settings,
    }
    return {name: value for name, value in values.items() if value is not None}


# -- helpers ------------------------------------------------------------------------------------


def queue_help(runtime: Runtime, phone: str = PHONE, **kwargs: Any) -> int:
    """Queue the help text to `phone` in a transaction of its own; the outbox relays it on commit."""
    with runtime.db.transaction() as session:
        return queue_sms(session, runtime.settings, phone=phone, template="help", kind="help", **kwargs).id


def add_worker(runtime: Runtime, phone: str = PHONE) -> int:
    with runtime.db.transaction() as session:
        worker = Worker(
            phone=phone,
            name="张三",
            status=WorkerStatus.ACTIVE,
            registered_via=RegisteredVia.SMS,
            consent_at=utcnow(),
        )
        session.add(worker)
        session.flush()
        return worker.id


def add_inbound(runtime: Runtime, phone: str = PHONE) -> Message:
    with runtime.db.transaction() as session:
        inbound = store_inbound(session, runtime.settings, inbound_params("帮助", phone))
    assert inbound is not None
    return inbound


def fresh(session: Session, message_id: int) -> Message:
    session.expire_all()
    message = session.get(Message, message_id)
    assert message is not None
    return message


def send_jobs(session: Session, message_id: int) -> list[OutboxEvent]:
    """The outbox rows of send_message jobs for one message, oldest first."""
    session.expire_all()
    events = session.scalars(
        select(OutboxEvent).where(OutboxEvent.task == SEND_TASK).order_by(OutboxEvent.id)
    )
    return [event for event in events if event.args == [message_id]]


def contact(session: Session, phone: str = PHONE) -> Contact:
    session.expire_all()
    found = session.scalar(select(Contact).where(Contact.phone == phone))
    assert found is not None
    return found


def scheduled_sms_jobs(runtime: Runtime) -> ScheduledJobRegistry:
    return ScheduledJobRegistry(queue=get_queue("sms", runtime.redis))


def sent_to(requests: list[RecordedRequest]) -> list[str]:
    return [request.form["To"][0] for request in requests]


# -- the twilio transport -----------------------------------------------------------------------


def test_twilio_transport_sends_the_exact_request_and_keeps_the_sid(runtime, session, fake_twilio):
    message_id = queue_help(runtime)
    run_jobs(runtime)

    [request] = fake_twilio.requests
    assert (request.method, request.path, request.auth) == (
        "POST",
        MESSAGES_PATH,
        (ACCOUNT_SID, TEST_AUTH_TOKEN),
    )
    assert request.form == {
        "To": [PHONE],
        "From": [FROM_NUMBER],
        "Body": [HELP_ZH],
        "StatusCallback": [f"https://dispatch.example.org/sms/status?m={message_id}"],
    }
    [created] = fake_twilio.messages
    message = fresh(session, message_id)
    assert (message.status, message.provider_sid, message.attempts) == (
        MessageStatus.QUEUED,
        created["sid"],
        1,
    )
    assert (message.body, message.error_code, message.error_message) == (HELP_ZH, None, "")
    assert message.sent_at is not None


@pytest.mark.parametrize(
    "extra_settings",
    [{"TWILIO_FROM_NUMBER": None, "TWILIO_MESSAGING_SERVICE_SID": SERVICE_SID}],
    ids=["messaging-service"],
)
def test_twilio_transport_sends_through_a_messaging_service(runtime, session, fake_twilio):
    message_id = queue_help(runtime)
    run_jobs(runtime)

    [request] = fake_twilio.requests
    assert (request.method, request.path) == ("POST", MESSAGES_PATH)
    assert request.form == {
        "To": [PHONE],
        "MessagingServiceSid": [SERVICE_SID],
        "Body": [HELP_ZH],
        "StatusCallback": [f"https://dispatch.example.org/sms/status?m={message_id}"],
    }
    [created] = fake_twilio.messages
    assert created["status"] == "accepted"  # Twilio's first status for a messaging service
    message = fresh(session, message_id)
    assert (message.status, message.provider_sid, message.attempts) == (
        MessageStatus.QUEUED,
        created["sid"],
        1,
    )


# -- errors that say something about the number ---------------------------------------------------


def test_error_21610_opts_the_number_out_and_nothing_more_is_sent(runtime, session, fake_twilio):
    worker_id = add_worker(runtime)
    fake_twilio.fail_for_number(PHONE, 400, 21610)
    first = queue_help(runtime)
    second = queue_help(runtime)  # already queued when the carrier tells us the number said STOP
    run_jobs(runtime)

    assert len(fake_twilio.requests) == 1
    failed = fresh(session, first)
    assert (failed.status, failed.error_code, failed.attempts, failed.provider_sid) == (
        MessageStatus.FAILED,
        21610,
        1,
        None,
    )
    assert failed.error_message == "Unable to create record: Attempt to send to unsubscribed recipient"
    suppressed = fresh(session, second)
    assert (suppressed.status, suppressed.attempts) == (MessageStatus.SUPPRESSED, 0)
    assert contact(session).opted_out_at is not None
    assert contact(session).undeliverable_at is None
    assert session.get(Worker, worker_id).status == WorkerStatus.OPTED_OUT

    later = queue_help(runtime)
    assert fresh(session, later).status == MessageStatus.SUPPRESSED
    assert send_jobs(session, later) == []
    run_jobs(runtime, with_scheduler=True)
    assert len(fake_twilio.requests) == 1


@pytest.mark.parametrize("code", [21211, 21614, 30006])
def test_an_undeliverable_number_is_marked_and_not_retried(runtime, session, fake_twilio, code):
    worker_id = add_worker(runtime)
    fake_twilio.fail_for_number(PHONE, 400, code)
    message_id = queue_help(runtime)
    run_jobs(runtime)

    message = fresh(session, message_id)
    assert (message.status, message.error_code, message.attempts) == (MessageStatus.FAILED, code, 1)
    number = contact(session)
    assert number.undeliverable_at is not None
    assert (number.undeliverable_error, number.opted_out_at) == (code, None)
    worker = session.get(Worker, worker_id)
    if code == 21211:  # an invalid number: nothing reaches it
        assert (worker.status, worker.prefers_voice) == (WorkerStatus.UNDELIVERABLE, False)
    else:  # a landline takes calls: offers and follow-ups by phone from now on (tests/voice)
        assert (worker.status, worker.prefers_voice) == (WorkerStatus.ACTIVE, True)
    assert len(send_jobs(session, message_id)) == 1  # no retry was written
    assert scheduled_sms_jobs(runtime).get_job_ids() == []

    with time_machine.travel(utcnow() + timedelta(hours=1), tick=True):
        run_jobs(runtime, with_scheduler=True)
        later = queue_help(runtime)
    assert len(fake_twilio.requests) == 1
    assert fresh(session, later).status == MessageStatus.SUPPRESSED


# -- transient errors -----------------------------------------------------------------------------


# A 5xx is not a refusal: Twilio (or a proxy in front of it) may have taken the message, so it is
# looked up before it is sent again (tests/sms/test_delivery.py).
@pytest.mark.parametrize(("http_status", "code"), [(429, 20429)], ids=["20429"])
def test_a_transient_error_is_retried_after_a_backoff(runtime, session, fake_twilio, http_status, code):
    fake_twilio.fail_next(http_status, code)
    # The clock stands still until shifted: RQ's scheduler works in whole seconds, and a retry due
    # at 12.9 s is already enqueued at 12.0 s, so a ticking clock would make "not yet" a race.
    with time_machine.travel(NOON, tick=False) as traveller:
        message_id = queue_help(runtime)
        run_jobs(runtime)

        message = fresh(session, message_id)
        assert (message.status, message.attempts, message.error_code) == (MessageStatus.PENDING, 1, code)
        first, retry = send_jobs(session, message_id)
        assert first.run_at is None
        assert (retry.queue, retry.args, retry.run_at) == ("sms", [message_id], NOON + timedelta(seconds=2))
        registry = scheduled_sms_jobs(runtime)
        assert registry.get_job_ids() == [f"outbox-{retry.id}"]
        assert registry.get_scheduled_time(f"outbox-{retry.id}") == NOON + timedelta(seconds=2)

        traveller.shift(timedelta(seconds=1))
        run_jobs(runtime, with_scheduler=True)  # not due yet
        assert len(fake_twilio.requests) == 1

        traveller.shift(timedelta(seconds=1))
        run_jobs(runtime, with_scheduler=True)

    assert len(fake_twilio.requests) == 2
    [created] = fake_twilio.messages
    message = fresh(session, message_id)
    assert (message.status, message.attempts, message.provider_sid) == (
        MessageStatus.QUEUED,
        2,
        created["sid"],
    )
    assert (message.error_code, message.error_message) == (None, "")
    assert (contact(session).opted_out_at, contact(session).undeliverable_at) == (None, None)


@pytest.mark.parametrize("extra_settings", [{"SMS_MAX_ATTEMPTS": 4}], ids=["4-attempts"])
def test_a_message_fails_after_the_last_attempt(runtime, session, fake_twilio):
    fake_twilio.fail_next(429, 20429, times=4)
    with time_machine.travel(NOON, tick=False) as traveller:
        message_id = queue_help(runtime)
        run_jobs(runtime)
        for backoff in (2, 4, 8):
            assert fresh(session, message_id).status == MessageStatus.PENDING
            traveller.shift(timedelta(seconds=backoff))
            run_jobs(runtime, with_scheduler=True)

        message = fresh(session, message_id)
        assert (message.status, message.attempts, message.error_code) == (MessageStatus.FAILED, 4, 20429)
        retries = [(event.run_at - NOON).total_seconds() for event in send_jobs(session, message_id)[1:]]
        assert retries == [2, 2 + 4, 2 + 4 + 8]
        assert scheduled_sms_jobs(runtime).get_job_ids() == []

        traveller.shift(timedelta(hours=1))
        run_jobs(runtime, with_scheduler=True)
    assert len(fake_twilio.requests) == 4
    assert fake_twilio.messages == []
    assert (contact(session).opted_out_at, contact(session).undeliverable_at) == (None, None)


# -- idempotency ----------------------------------------------------------------------------------


def test_running_the_send_job_twice_sends_once(runtime, session, fake_twilio):
    message_id = queue_help(runtime)
    [event] = send_jobs(session, message_id)
    queue = get_queue("sms", runtime.redis)
    queue.enqueue(SEND_TASK, message_id, job_id="send-again")  # e.g. a relay that ran twice
    run_jobs(runtime)

    assert len(fake_twilio.requests) == 1
    assert queue.fetch_job(f"outbox-{event.id}").return_value() == {"sent": 1}
    assert queue.fetch_job("send-again").return_value() == {"skipped": 1}
    assert send_message(message_id) == {"skipped": 1}
    assert len(fake_twilio.requests) == 1
    message = fresh(session, message_id)
    assert (message.status, message.attempts) == (MessageStatus.QUEUED, 1)


# -- the send rate --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "extra_settings", [{"SMS_SEND_RATE": 20.0, "SMS_MAX_RATE_WAIT": 60.0}], ids=["20-per-second"]
)
def test_the_send_rate_is_never_exceeded(runtime, session, fake_twilio):
    phones = [f"+86139000000{n:02d}" for n in range(10)]
    message_ids = [queue_help(runtime, phone) for phone in phones]
    run_jobs(runtime)

    requests = fake_twilio.requests
    assert sent_to(requests) == phones
    arrivals = [request.received_at for request in requests]
    gaps = [later - earlier for earlier, later in itertools.pairwise(arrivals)]
    # The limiter spaces departures exactly; arrivals add the local HTTP latency, whose jitter on a
    # busy 2-core machine reaches several ms. Without the limiter the gaps are ~5 ms and the whole
    # takes ~50 ms; too fast a rate shows in the total, which is exact to within the same jitter.
    assert min(gaps) >= 1 / 20 - ARRIVAL_JITTER, gaps
    assert arrivals[-1] - arrivals[0] >= 9 / 20 - ARRIVAL_JITTER, arrivals
    assert {fresh(session, message_id).status for message_id in message_ids} == {MessageStatus.QUEUED}


@pytest.mark.parametrize(
    "extra_settings", [{"SMS_SEND_RATE": 2.0, "SMS_MAX_RATE_WAIT": 0.1}], ids=["2-per-second"]
)
def test_a_send_that_would_wait_too_long_is_rescheduled_not_sent_early(runtime, session, fake_twilio):
    first, second = queue_help(runtime, "+8613900000001"), queue_help(runtime, "+8613900000002")
    run_jobs(runtime)

    assert sent_to(fake_twilio.requests) == ["+8613900000001"]
    waiting = fresh(session, second)
    assert (waiting.status, waiting.attempts) == (MessageStatus.PENDING, 0)
    _, later = send_jobs(session, second)
    # The first message took one slot per segment (a carrier counts segments); the next slot follows.
    slots_taken = fresh(session, first).segments
    assert slots_taken == 2
    assert timedelta(0) < later.run_at - later.created_at <= timedelta(seconds=0.5 * slots_taken)
    assert scheduled_sms_jobs(runtime).get_job_ids() == [f"outbox-{later.id}"]

    time.sleep(max(0.0, (later.run_at - utcnow()).total_seconds()) + 0.05)
    run_jobs(runtime, with_scheduler=True)
    requests = fake_twilio.requests
    assert sent_to(requests) == ["+8613900000001", "+8613900000002"]
    assert requests[1].received_at - requests[0].received_at >= slots_taken / 2 - ARRIVAL_JITTER
    assert (fresh(session, first).status, fresh(session, second).status) == (MessageStatus.QUEUED,) * 2


def test_rate_limiters_in_two_processes_share_one_senders_slots(redis, service_urls):
    one = SendRateLimiter(redis, per_second=10)
    two = SendRateLimiter(connect_redis(service_urls["redis"]), per_second=10)  # another connection
    started = time.monotonic()
    reservations = [limiter.reserve(FROM_NUMBER, 5.0) for limiter in (one, two, one, two)]
    elapsed = time.monotonic() - started + 0.001

    assert [reserved for reserved, _ in reservations] == [True] * 4
    for slot, (_, wait) in enumerate(reservations):
        # Slots are 0.1 s apart from the first; each wait is measured from the moment it was asked.
        assert slot * 0.1 - elapsed <= wait <= slot * 0.1, reservations

    reserved, wait = one.reserve(FROM_NUMBER, max_wait_seconds=0.1)
    assert not reserved
    assert 0.4 - (time.monotonic() - started + 0.001) <= wait <= 0.4
    reserved, wait = two.reserve(FROM_NUMBER, max_wait_seconds=5.0)
    assert reserved  # the refused call reserved nothing: this is still the fifth slot, not the sixth
    assert 0.4 - (time.monotonic() - started + 0.001) <= wait <= 0.4
    assert one.reserve(SERVICE_SID, max_wait_seconds=0.0) == (True, 0.0)  # another sender is not held up


# -- the outbox transport -------------------------------------------------------------------------


@pytest.mark.parametrize("extra_settings", [{"SMS_TRANSPORT": None}], ids=["default-transport"])
def test_the_outbox_transport_records_the_message_and_sends_nothing(runtime, session, fake_twilio):
    assert runtime.settings.SMS_TRANSPORT == "outbox"
    message_id = queue_help(runtime)
    run_jobs(runtime)

    assert isinstance(runtime.transport, OutboxTransport)
    [recorded] = runtime.transport.sent
    assert (recorded.to, recorded.body, recorded.status_callback) == (
        PHONE,
        HELP_ZH,
        f"https://dispatch.example.org/sms/status?m={message_id}",
    )
    message = fresh(session, message_id)
    assert (message.status, message.provider_sid, message.attempts) == (
        MessageStatus.SENT,
        recorded.provider_sid,
        1,
    )
    assert fake_twilio.requests == []


# -- quiet hours ----------------------------------------------------------------------------------

QUIET_HOURS = {"QUIET_HOURS": "21:00-08:00", "MARKET_TIMEZONE": "Asia/Shanghai"}
EVENING = datetime(2026, 3, 10, 22, 30, tzinfo=SHANGHAI)
MORNING = datetime(2026, 3, 11, 8, 0, tzinfo=SHANGHAI)


@pytest.mark.parametrize("extra_settings", [QUIET_HOURS], ids=["21-08-shanghai"])
def test_quiet_hours_hold_a_message_until_morning_but_not_a_reply(runtime, session, fake_twilio):
    with time_machine.travel(EVENING, tick=True) as traveller:
        held_id = queue_help(runtime)
        assert fresh(session, held_id).send_after == datetime(2026, 3, 11, 0, 0, tzinfo=UTC)
        [event] = send_jobs(session, held_id)
        registry = scheduled_sms_jobs(runtime)
        assert registry.get_job_ids() == [f"outbox-{event.id}"]
        assert registry.get_scheduled_time(f"outbox-{event.id}") == datetime(2026, 3, 11, 0, 0, tzinfo=UTC)

        inbound = add_inbound(runtime, "+8613900000009")
        reply_id = queue_help(runtime, "+8613900000009", reply_to=inbound)
        assert fresh(session, reply_id).send_after is None
        run_jobs(runtime, with_scheduler=True)

        assert sent_to(fake_twilio.requests) == ["+8613900000009"]
        assert fresh(session, reply_id).status == MessageStatus.QUEUED
        assert fresh(session, held_id).status == MessageStatus.PENDING

        traveller.move_to(MORNING)
        run_jobs(runtime, with_scheduler=True)

    assert sent_to(fake_twilio.requests) == ["+8613900000009", PHONE]
    held = fresh(session, held_id)
    assert held.status == MessageStatus.QUEUED
    assert held.sent_at >= MORNING
    assert registry.get_job_ids() == []


@pytest.mark.parametrize("extra_settings", [QUIET_HOURS], ids=["21-08-shanghai"])
def test_a_message_whose_turn_comes_after_21_00_waits_for_morning(runtime, session, fake_twilio):
    with time_machine.travel(datetime(2026, 3, 10, 20, 59, 50, tzinfo=SHANGHAI), tick=True) as traveller:
        late_id = queue_help(runtime)  # queued before quiet hours: not held when written
        inbound = add_inbound(runtime, "+8613900000009")
        reply_id = queue_help(runtime, "+8613900000009", reply_to=inbound)
        assert fresh(session, late_id).send_after is None

        traveller.move_to(datetime(2026, 3, 10, 21, 0, 30, tzinfo=SHANGHAI))  # a backlog held them up
        run_jobs(runtime, with_scheduler=True)

        assert sent_to(fake_twilio.requests) == ["+8613900000009"]
        assert fresh(session, reply_id).status == MessageStatus.QUEUED
        late = fresh(session, late_id)
        assert (late.status, late.attempts) == (MessageStatus.PENDING, 0)
        assert late.send_after == datetime(2026, 3, 11, 0, 0, tzinfo=UTC)
        _, held = send_jobs(session, late_id)
        assert held.run_at == datetime(2026, 3, 11, 0, 0, tzinfo=UTC)
        assert scheduled_sms_jobs(runtime).get_job_ids() == [f"outbox-{held.id}"]

        traveller.move_to(MORNING)
        run_jobs(runtime, with_scheduler=True)

    assert sent_to(fake_twilio.requests) == ["+8613900000009", PHONE]
    assert fresh(session, late_id).status == MessageStatus.QUEUED
