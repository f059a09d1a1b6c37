"""At most once to the provider: an attempt whose outcome is unknown (no answer in time, a connection
dropped after the request went out, a 5xx, a worker that died during the call) is looked up in
Twilio's message list and its Sid adopted; it is sent again only when the list does not have it.

The real Twilio client talks to the fake Twilio API (tests/fakes/twilio_api.py); jobs run in a real
RQ worker; the clock is frozen and moved by hand, since the lookup waits SEND_RECONCILE_AFTER."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import time_machine
from sqlalchemy import select

from dispatch.clock import utcnow
from dispatch.models import Direction, Message, MessageStatus
from dispatch.runtime import Runtime
from dispatch.sms.gateway import OutboxTransport, TwilioTransport
from dispatch.sms.services import queue_sms
from dispatch.sms.tasks import requeue_stuck_messages
from tests.fakes.twilio_api import FakeTwilioApi
from tests.helpers import TEST_AUTH_TOKEN, inbound_params, run_jobs, sign

ACCOUNT_SID = "AC" + "7" * 32
FROM_NUMBER = "+15017122661"
PHONE = "+8613912345678"
PUBLIC_BASE_URL = "https://dispatch.example.org"
NOON = datetime(2026, 3, 10, 4, 0, tzinfo=UTC)  # 12:00 in Shanghai
CLIENT_TIMEOUT = 0.3  # seconds the client waits for Twilio's answer in these tests
RECONCILE_AFTER = 15  # the default SEND_RECONCILE_AFTER


@pytest.fixture
def fake_twilio() -> Iterator[FakeTwilioApi]:
    with FakeTwilioApi(ACCOUNT_SID, TEST_AUTH_TOKEN) as fake:
        yield fake


@pytest.fixture
def settings_overrides(fake_twilio: FakeTwilioApi) -> dict[str, Any]:
    return {
        "SMS_TRANSPORT": "twilio",
        "TWILIO_API_BASE_URL": fake_twilio.base_url,
        "TWILIO_ACCOUNT_SID": ACCOUNT_SID,
        "TWILIO_AUTH_TOKEN": TEST_AUTH_TOKEN,
        "TWILIO_FROM_NUMBER": FROM_NUMBER,
        "PUBLIC_BASE_URL": PUBLIC_BASE_URL,
        "TWILIO_HTTP_TIMEOUT": CLIENT_TIMEOUT,
    }


def queue_help(runtime: Runtime, phone: str = PHONE) -> int:
    with runtime.db.transaction() as session:
        return queue_sms(session, runtime.settings, phone=phone, template="help", kind="help").id


def fresh(session, message_id: int) -> Message:
    session.expire_all()
    message = session.get(Message, message_id)
    assert message is not None
    return message


def posts(fake: FakeTwilioApi) -> int:
    return sum(request.method == "POST" for request in fake.requests)


def lookups(fake: FakeTwilioApi) -> int:
    return sum(request.method == "GET" for request in fake.requests)


def send_unanswered(runtime, session, fake_twilio, traveller) -> int:
    """Queue a text and run its send job; the fake has been told how to (not) answer."""
    message_id = queue_help(runtime)
    run_jobs(runtime)
    message = fresh(session, message_id)
    # Handed over, outcome unknown: nothing is sent again until Twilio's list has been read.
    assert (message.status, message.provider_sid, message.attempts) == (MessageStatus.SENDING, None, 1)
    assert message.send_started_at == NOON
    traveller.shift(timedelta(seconds=RECONCILE_AFTER - 1))
    run_jobs(runtime, with_scheduler=True)
    assert (posts(fake_twilio), lookups(fake_twilio)) == (1, 0)  # not yet: Twilio may still list it late
    traveller.shift(timedelta(seconds=1))
    run_jobs(runtime, with_scheduler=True)
    return message_id


@pytest.mark.parametrize("fault", ["slow-answer", "answer-lost"])
def test_a_message_twilio_took_without_our_hearing_so_is_adopted_not_sent_again(
    runtime, session, fake_twilio, fault
):
    if fault == "slow-answer":
        fake_twilio.delay_next(CLIENT_TIMEOUT + 0.5)  # made, but answered after the client gave up
    else:
        fake_twilio.drop_next(create=True)  # made, then the connection reset without an answer
    with time_machine.travel(NOON, tick=False) as traveller:
        message_id = send_unanswered(runtime, session, fake_twilio, traveller)
        run_jobs(runtime, with_scheduler=True)

    [made] = fake_twilio.messages
    message = fresh(session, message_id)
    assert (message.status, message.provider_sid, message.attempts) == (MessageStatus.QUEUED, made["sid"], 1)
    assert (message.error_code, message.error_message) == (None, "")
    assert (posts(fake_twilio), lookups(fake_twilio)) == (1, 1)


@pytest.mark.parametrize("fault", ["connection-reset-before-twilio", "http-500"])
def test_a_message_twilio_does_not_have_is_sent_again_after_the_lookup(runtime, session, fake_twilio, fault):
    if fault == "http-500":
        fake_twilio.fail_next(500, 20500)  # a 5xx may come from a proxy after Twilio took it: look first
    else:
        fake_twilio.drop_next(create=False)
    with time_machine.travel(NOON, tick=False) as traveller:
        message_id = send_unanswered(runtime, session, fake_twilio, traveller)
        run_jobs(runtime, with_scheduler=True)

    [made] = fake_twilio.messages
    message = fresh(session, message_id)
    assert (message.status, message.provider_sid, message.attempts) == (MessageStatus.QUEUED, made["sid"], 2)
    assert (posts(fake_twilio), lookups(fake_twilio)) == (2, 1)


def test_two_identical_texts_whose_answers_were_lost_each_adopt_their_own_sid(runtime, session, fake_twilio):
    fake_twilio.drop_next(create=True, times=2)
    with time_machine.travel(NOON, tick=False) as traveller:
        first, second = queue_help(runtime), queue_help(runtime)
        run_jobs(runtime)
        traveller.shift(timedelta(seconds=RECONCILE_AFTER))
        run_jobs(runtime, with_scheduler=True)

    sids = {made["sid"] for made in fake_twilio.messages}
    adopted = {fresh(session, first).provider_sid, fresh(session, second).provider_sid}
    assert len(sids) == 2 and adopted == sids
    assert posts(fake_twilio) == 2


def test_an_opt_out_confirmation_whose_answer_was_lost_goes_exactly_once(
    runtime, session, client, fake_twilio
):
    fake_twilio.drop_next(create=True)
    with time_machine.travel(NOON, tick=False) as traveller:
        form = inbound_params("退订", PHONE)
        signature = sign(f"{PUBLIC_BASE_URL}/sms/inbound", form)
        assert (
            client.post("/sms/inbound", data=form, headers={"X-Twilio-Signature": signature}).status_code
            == 200
        )
        run_jobs(runtime)
        traveller.shift(timedelta(seconds=RECONCILE_AFTER))
        run_jobs(runtime, with_scheduler=True)
        traveller.shift(timedelta(minutes=30))
        assert requeue_stuck_messages() == {"requeued": 0}
        run_jobs(runtime, with_scheduler=True)

    [made] = fake_twilio.messages
    assert made["to"] == PHONE
    [confirmation] = session.scalars(
        select(Message).where(Message.direction == Direction.OUTBOUND, Message.phone == PHONE)
    )
    assert (confirmation.kind, confirmation.provider_sid) == ("opt_out.confirm", made["sid"])


def test_a_worker_that_died_during_the_call_is_found_after_its_lease_and_nothing_is_sent_twice(
    runtime, session, fake_twilio
):
    with time_machine.travel(NOON, tick=False) as traveller:
        message_id = queue_help(runtime)
        # What a worker killed during the call leaves behind: the attempt committed as sending, the
        # message at Twilio, no Sid here, and no job anywhere.
        with runtime.db.transaction() as work:
            message = work.get(Message, message_id)
            message.status, message.attempts, message.send_started_at = MessageStatus.SENDING, 1, utcnow()
        runtime.redis.flushdb()
        TwilioTransport(runtime.settings).send_sms(PHONE, message.body)

        traveller.shift(timedelta(seconds=runtime.settings.SEND_LEASE_SECONDS - 1))
        assert requeue_stuck_messages() == {"requeued": 0}  # its worker may still be waiting for Twilio
        traveller.shift(timedelta(seconds=2))
        assert requeue_stuck_messages() == {"requeued": 0, "reconciling": 1}
        assert requeue_stuck_messages() == {"requeued": 0}  # the next sweep waits a lease again
        run_jobs(runtime, with_scheduler=True)

    [made] = fake_twilio.messages
    message = fresh(session, message_id)
    assert (message.status, message.provider_sid, message.attempts) == (MessageStatus.QUEUED, made["sid"], 1)
    assert posts(fake_twilio) == 1


def test_a_send_job_run_again_for_a_message_in_flight_reconciles_instead_of_sending(
    runtime, session, fake_twilio
):
    fake_twilio.drop_next(create=True)
    with time_machine.travel(NOON, tick=False) as traveller:
        message_id = queue_help(runtime)
        run_jobs(runtime)
        traveller.shift(timedelta(seconds=RECONCILE_AFTER))
        from dispatch.sms.tasks import send_message

        assert send_message(message_id) == {"adopted": 1}  # e.g. a lost job relayed again
    assert posts(fake_twilio) == 1
    assert fresh(session, message_id).provider_sid == fake_twilio.messages[0]["sid"]


def test_a_lookup_that_cannot_reach_twilio_tries_again_and_sends_nothing(runtime, session, fake_twilio):
    fake_twilio.drop_next(create=True)
    with time_machine.travel(NOON, tick=False) as traveller:
        message_id = queue_help(runtime)
        run_jobs(runtime)
        working = runtime.transport
        unreachable = {**runtime.settings.__dict__, "TWILIO_API_BASE_URL": "http://127.0.0.1:9"}
        runtime.transport = TwilioTransport(type(runtime.settings)(**unreachable))
        traveller.shift(timedelta(seconds=RECONCILE_AFTER))
        run_jobs(runtime, with_scheduler=True)
        assert fresh(session, message_id).status == MessageStatus.SENDING  # still unknown: no resend

        runtime.transport = working
        traveller.shift(timedelta(seconds=10))
        run_jobs(runtime, with_scheduler=True)
    assert posts(fake_twilio) == 1
    assert fresh(session, message_id).provider_sid == fake_twilio.messages[0]["sid"]


def test_the_outbox_transport_finds_what_it_recorded():
    transport = OutboxTransport()
    before = datetime.now(UTC)
    sent = transport.send_sms(PHONE, "你好")
    transport.send_sms(PHONE, "别的")
    [found] = transport.find_sent(PHONE, "你好", since=before)
    assert found.provider_sid == sent.provider_sid
    assert transport.find_sent(PHONE, "你好", since=before + timedelta(minutes=1)) == []
