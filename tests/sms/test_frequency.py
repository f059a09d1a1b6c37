"""Per-number frequency limits kept before sending (dispatch/sms/frequency.py): a text over the provider's
limit waits for the moment it may go, in order, and its delay is recorded; an offer that would go after
its deadline is not sent at all. The carrier and Twilio are their fakes; the clock is moved by hand."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import time_machine

from dispatch.models import Message, MessageStatus
from dispatch.runtime import Runtime
from dispatch.settings import Settings
from dispatch.sms.frequency import MARGIN, SPACING, WINDOW
from dispatch.sms.services import TOO_LATE, queue_sms
from tests.fakes.aliyun_api import FakeAliyunSms
from tests.fakes.twilio_api import FakeTwilioApi
from tests.helpers import TEST_AUTH_TOKEN, run_jobs
from tests.sms.aliyun_support import fake_carrier
from tests.sms.test_routing import ACCOUNT_SID, routed_settings

PHONE = "+8613912345678"
MASKED = "139****5678"
NOON = datetime(2026, 3, 10, 4, 0, tzinfo=UTC)  # 12:00 in Beijing
LATE_EVENING = datetime(2026, 3, 10, 15, 0, tzinfo=UTC)  # 23:00 in Beijing: quiet hours


@pytest.fixture
def fake() -> Iterator[FakeAliyunSms]:
    with fake_carrier() as running:
        yield running


@pytest.fixture
def fake_twilio() -> Iterator[FakeTwilioApi]:
    with FakeTwilioApi(ACCOUNT_SID, TEST_AUTH_TOKEN) as running:
        yield running


@pytest.fixture
def extra_settings() -> dict[str, Any]:
    return {"SMS_LIMIT_ALIYUN_PER_TEMPLATE": 5}


@pytest.fixture
def settings_overrides(fake, fake_twilio, extra_settings) -> dict[str, Any]:
    return routed_settings(fake, fake_twilio, **extra_settings)


def queue(runtime: Runtime, template: str = "help", **options: Any) -> int:
    with runtime.db.transaction() as session:
        return queue_sms(
            session, runtime.settings, phone=PHONE, template=template, kind=template, **options
        ).id


def text(runtime: Runtime, words: str, **options: Any) -> int:
    """An agent's own text: no carrier template, so it goes through Twilio."""
    return queue(runtime, "agent_text", text=words, **options)


def fresh(session, message_id: int) -> Message:
    session.expire_all()
    message = session.get(Message, message_id)
    assert message is not None
    return message


@pytest.mark.parametrize("extra_settings", [{"SMS_TRANSPORT": "twilio", "SMS_ROUTES": "cn=twilio;*=twilio"}])
def test_a_twilio_only_service_sends_as_it_always_did(runtime, session, fake_twilio) -> None:
    with time_machine.travel(NOON, tick=False):
        ids = [text(runtime, "请明天早上7点到市场大厅。") for _ in range(6)]
        run_jobs(runtime)
    assert [fresh(session, i).frequency_delays for i in ids] == [0] * 6
    assert len(fake_twilio.messages) == 6


def test_the_documented_limits_are_the_defaults() -> None:
    settings = Settings.load({}, environ={})
    assert settings.SMS_LIMIT_ALIYUN_PER_TEMPLATE == 50  # notifications, one signature and template
    assert (settings.SMS_LIMIT_TWILIO_CN, settings.SMS_LIMIT_TWILIO_CN_IDENTICAL) == (4, 2)


def test_the_sixth_text_of_a_day_waits_for_its_place_and_is_recorded(runtime, session, fake, caplog) -> None:
    caplog.set_level(logging.WARNING, logger="dispatch.sms.frequency")
    with time_machine.travel(NOON, tick=False) as traveller:
        first = queue(runtime)
        run_jobs(runtime)
        traveller.shift(timedelta(hours=3))
        for _ in range(4):
            queue(runtime)
        sixth = queue(runtime)
        run_jobs(runtime)

        held = fresh(session, sixth)
        assert (held.status, held.frequency_delays, held.provider) == (MessageStatus.PENDING, 1, "aliyun")
        # Its place: 24 hours after the first of the five, when that one leaves the window.
        assert held.send_after == fresh(session, first).sent_at + WINDOW + MARGIN
        assert len(fake.sent) == 5
        [line] = [r.getMessage() for r in caplog.records if "held until" in r.getMessage()]
        assert MASKED in line and PHONE not in line and PHONE[3:] not in line

        traveller.move_to(held.send_after - timedelta(seconds=1))
        run_jobs(runtime, with_scheduler=True)
        assert len(fake.sent) == 5
        traveller.move_to(held.send_after)
        run_jobs(runtime, with_scheduler=True)

    sent = fresh(session, sixth)
    assert (sent.status, sent.frequency_delays, sent.attempts) == (MessageStatus.SENT, 1, 1)
    assert len(fake.sent) == 6


def test_the_limit_is_per_template_at_the_carrier(runtime, session, fake) -> None:
    with time_machine.travel(NOON, tick=False):
        for _ in range(5):
            queue(runtime)
        other = queue(runtime, "opt_out_confirm")
        run_jobs(runtime)
    assert fresh(session, other).frequency_delays == 0
    assert len(fake.sent) == 6


def test_twilio_to_china_takes_four_different_texts_a_day(runtime, session, fake_twilio) -> None:
    with time_machine.travel(NOON, tick=False):
        ids = [text(runtime, f"第{n}个通知") for n in range(5)]
        run_jobs(runtime)
    assert [fresh(session, i).frequency_delays for i in ids] == [0, 0, 0, 0, 1]
    assert len(fake_twilio.messages) == 4  # a fifth would be held a day for review


def test_twilio_to_china_takes_two_identical_texts_a_day(runtime, session, fake_twilio) -> None:
    with time_machine.travel(NOON, tick=False):
        same = [text(runtime, "请明天早上7点到市场大厅。") for _ in range(3)]
        other = text(runtime, "明天不用来了。")
        run_jobs(runtime)
    assert [fresh(session, i).frequency_delays for i in same] == [0, 0, 1]  # a third would be rejected
    assert fresh(session, other).frequency_delays == 0  # room for a different one: not held behind it
    assert len(fake_twilio.messages) == 3


@pytest.mark.parametrize("extra_settings", [{"SMS_LIMIT_TWILIO_CN": 2}])
def test_held_texts_keep_their_order(runtime, session, fake_twilio) -> None:
    with time_machine.travel(NOON, tick=False) as traveller:
        ids = [text(runtime, f"第{n}个通知") for n in range(5)]
        run_jobs(runtime)
        held = [fresh(session, i) for i in ids[2:]]
        first_place = NOON + WINDOW + MARGIN
        # Two places free a day after the first two went; the fifth waits for the third and fourth.
        second_day = first_place + WINDOW + MARGIN
        assert [m.send_after for m in held] == [first_place, first_place + SPACING, second_day]
        traveller.move_to(first_place + SPACING)
        run_jobs(runtime, with_scheduler=True)
    bodies = [message["body"] for message in fake_twilio.messages]
    assert [body[-5:] for body in bodies] == [f"第{n}个通知"[-5:] for n in range(4)]
    assert fresh(session, ids[4]).status == MessageStatus.PENDING


@pytest.mark.parametrize("extra_settings", [{"SMS_LIMIT_TWILIO_CN": 1}])
def test_an_offer_held_past_its_deadline_is_not_sent_late(runtime, session, fake_twilio) -> None:
    with time_machine.travel(NOON, tick=False):
        text(runtime, "第一个通知")
        offer = text(runtime, "第二个通知", not_after=NOON + timedelta(hours=2))
        run_jobs(runtime)
    message = fresh(session, offer)
    assert (message.status, message.error_message, message.frequency_delays) == (
        MessageStatus.SUPPRESSED,
        TOO_LATE,
        1,
    )
    assert len(fake_twilio.messages) == 1


NIGHTS = {"SMS_LIMIT_ALIYUN_PER_TEMPLATE": 5, "QUIET_HOURS": "21:00-08:00"}


@pytest.mark.parametrize("extra_settings", [NIGHTS])
def test_at_night_a_held_text_waits_for_its_place_and_then_for_the_morning(runtime, session, fake) -> None:
    with time_machine.travel(LATE_EVENING, tick=False) as traveller:
        for _ in range(5):  # answers to somebody who just wrote: not held for the night
            queue(runtime, at_once=True)
        sixth = queue(runtime)
        run_jobs(runtime)
        morning = datetime(2026, 3, 11, 0, 0, tzinfo=UTC)  # 08:00 in Beijing
        assert fresh(session, sixth).send_after == morning  # quiet hours first: no place taken yet
        traveller.move_to(morning)
        run_jobs(runtime, with_scheduler=True)
        held = fresh(session, sixth)
        # Its place comes at 23:01 the next night, inside quiet hours again.
        assert (held.frequency_delays, held.send_after) == (1, LATE_EVENING + WINDOW + MARGIN)
        traveller.move_to(held.send_after)
        run_jobs(runtime, with_scheduler=True)
        assert fresh(session, sixth).send_after == morning + timedelta(days=1)
        traveller.move_to(morning + timedelta(days=1))
        run_jobs(runtime, with_scheduler=True)
    assert fresh(session, sixth).status == MessageStatus.SENT
    assert len(fake.sent) == 6
