"""Sending through Alibaba Cloud SMS: the official SDK against a fake of the carrier's API (which checks
the SDK's ACS3-HMAC-SHA256 signature), each error code's outcome, and never sending a message twice."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
import time_machine
from sqlalchemy import select

from dispatch.models import Contact, Message, MessageStatus
from dispatch.runtime import Runtime
from dispatch.sms.aliyun import CONTENT_REFUSED, FREQUENCY_LIMIT, LOOKUP_SID_PREFIX, parse_endpoint
from dispatch.sms.services import queue_sms
from tests.fakes.aliyun_api import FakeAliyunSms
from tests.helpers import run_jobs
from tests.sms.aliyun_support import SIGN_NAME, carrier_settings, fake_carrier

PHONE = "+8613912345678"
NOON = datetime(2026, 3, 10, 4, 0, tzinfo=UTC)  # 12:00 in Beijing
NIGHT = datetime(2026, 3, 10, 15, 59, 50, tzinfo=UTC)  # 23:59:50 in Beijing: the lookup spans two days
CLIENT_TIMEOUT = 0.5
RECONCILE_AFTER = 15
OFFER = {
    "reopened": True,
    "trade": "水电工",
    "date": date(2026, 3, 11),
    "day_word": "tomorrow",
    "hour": 7,
    "minute": 30,
    "days": 2,
    "pay": 300,
    "area": "东街",
    "code": "123",
    "reply_by": "13:00",
}


@pytest.fixture
def fake() -> Iterator[FakeAliyunSms]:
    with fake_carrier() as running:
        yield running


@pytest.fixture
def extra_settings() -> dict[str, Any]:
    return {}


@pytest.fixture
def settings_overrides(fake: FakeAliyunSms, extra_settings: dict[str, Any]) -> dict[str, Any]:
    return carrier_settings(fake, TWILIO_HTTP_TIMEOUT=CLIENT_TIMEOUT, QUIET_HOURS="off", **extra_settings)


def queue(runtime: Runtime, template: str = "help", phone: str = PHONE, **context: Any) -> int:
    with runtime.db.transaction() as session:
        return queue_sms(
            session, runtime.settings, phone=phone, template=template, kind=template, **context
        ).id


def fresh(session, message_id: int) -> Message:
    session.expire_all()
    message = session.get(Message, message_id)
    assert message is not None
    return message


def sends(fake: FakeAliyunSms) -> int:
    return sum(request["action"] == "SendSms" for request in fake.requests)


def lookups(fake: FakeAliyunSms) -> int:
    return sum(request["action"] == "QuerySendDetails" for request in fake.requests)


def test_the_endpoint_setting_names_a_host_or_a_test_server() -> None:
    assert parse_endpoint("dysmsapi.aliyuncs.com") == parse_endpoint("https://dysmsapi.aliyuncs.com/")
    assert parse_endpoint("http://127.0.0.1:8080").host == "127.0.0.1:8080"
    assert parse_endpoint("http://127.0.0.1:8080").protocol == "http"


def test_a_template_is_sent_with_its_variables_and_our_id_and_reads_as_our_text(
    runtime, session, fake
) -> None:
    with time_machine.travel(NOON, tick=False):
        message_id = queue(runtime, "offer", **OFFER)
        run_jobs(runtime)

    message = fresh(session, message_id)
    [sms] = fake.sent
    assert (message.status, message.provider_sid, message.attempts) == (MessageStatus.SENT, sms.biz_id, 1)
    [request] = fake.requests
    assert request["query"]["PhoneNumbers"] == "13912345678"
    assert request["query"]["SignName"] == SIGN_NAME
    assert request["query"]["TemplateCode"] == "SMS_OFFER_ZH_4"  # a reopened offer, with its deadline
    assert request["query"]["OutId"] == str(message_id)
    assert json.loads(request["query"]["TemplateParam"]) == {
        "trade": "水电工",
        "when": "明天7点30分",
        "days": "2",
        "pay": "300",
        "area": "东街",
        "reply_by": "13:00",
        "code": "123",
    }
    # What the worker's phone shows is what the Twilio path would have sent.
    assert (
        sms.content
        == message.body
        == "【潞州零工】有空位了！水电工 明天7点30分 2天 300元/天 东街。13:00前回复 1 123 接单，2 123 不接"
    )


def test_a_template_without_variables_sends_none(runtime, session, fake) -> None:
    with time_machine.travel(NOON, tick=False):
        message_id = queue(runtime, "help")
        run_jobs(runtime)
    [sms] = fake.sent
    assert "TemplateParam" not in fake.requests[0]["query"]
    assert sms.content == fresh(session, message_id).body


@pytest.mark.parametrize("when", [NOON, NIGHT], ids=["noon", "just-before-midnight"])
def test_an_answer_lost_after_the_carrier_took_it_is_looked_up_and_adopted_not_resent(
    runtime, session, fake, when
) -> None:
    fake.drop_next(create=True)
    with time_machine.travel(when, tick=False) as traveller:
        message_id = queue(runtime)
        run_jobs(runtime)
        message = fresh(session, message_id)
        assert (message.status, message.provider_sid) == (MessageStatus.SENDING, None)
        traveller.shift(timedelta(seconds=RECONCILE_AFTER))
        run_jobs(runtime, with_scheduler=True)

    message = fresh(session, message_id)
    assert (message.status, message.provider_sid, message.attempts) == (
        MessageStatus.SENT,
        f"{LOOKUP_SID_PREFIX}{message_id}",
        1,
    )
    assert (sends(fake), len(fake.sent)) == (1, 1)
    assert lookups(fake) == (2 if when == NIGHT else 1)  # both Beijing days the attempt may carry


def test_a_message_the_carrier_never_took_is_sent_again_after_the_lookup(runtime, session, fake) -> None:
    fake.drop_next(create=False)
    with time_machine.travel(NOON, tick=False) as traveller:
        message_id = queue(runtime)
        run_jobs(runtime)
        traveller.shift(timedelta(seconds=RECONCILE_AFTER))
        run_jobs(runtime, with_scheduler=True)

    message = fresh(session, message_id)
    [sms] = fake.sent
    assert (message.status, message.provider_sid, message.attempts) == (MessageStatus.SENT, sms.biz_id, 2)
    assert (sends(fake), lookups(fake)) == (2, 1)


def test_an_invalid_number_is_marked_undeliverable_and_not_retried(runtime, session, fake) -> None:
    fake.fail_next("isv.MOBILE_NUMBER_ILLEGAL", "非法手机号")
    with time_machine.travel(NOON, tick=False) as traveller:
        message_id = queue(runtime)
        run_jobs(runtime)
        traveller.shift(timedelta(hours=1))
        run_jobs(runtime, with_scheduler=True)
    message = fresh(session, message_id)
    assert (message.status, message.error_code) == (MessageStatus.FAILED, 21211)
    assert "isv.MOBILE_NUMBER_ILLEGAL" in message.error_message
    contact = session.scalars(select(Contact).where(Contact.phone == PHONE)).one()
    assert contact.undeliverable_at is not None
    assert sends(fake) == 1


@pytest.mark.parametrize(
    ("message_text", "wait"),
    [
        ("触发分钟级流控Permits:1", 60),
        ("触发小时级流控Permits:5", 3600),
        ("触发天级流控Permits:10", 6 * 3600),
    ],
    ids=["minute", "hour", "day"],
)
def test_a_frequency_limit_waits_it_out_and_is_never_failed(
    runtime, session, fake, message_text, wait
) -> None:
    fake.fail_next("isv.BUSINESS_LIMIT_CONTROL", message_text, times=8)
    with time_machine.travel(NOON, tick=False) as traveller:
        message_id = queue(runtime)
        run_jobs(runtime)
        message = fresh(session, message_id)
        assert (message.status, message.error_code) == (MessageStatus.PENDING, FREQUENCY_LIMIT)
        assert message.send_after == NOON + timedelta(seconds=wait)
        for _ in range(8):  # more refusals than SMS_MAX_ATTEMPTS: still not failed
            traveller.shift(timedelta(seconds=wait))
            run_jobs(runtime, with_scheduler=True)
        traveller.shift(timedelta(seconds=wait))
        run_jobs(runtime, with_scheduler=True)

    message = fresh(session, message_id)
    assert message.status == MessageStatus.SENT and len(fake.sent) == 1
    assert sends(fake) == 9
    contact = session.scalars(select(Contact).where(Contact.phone == PHONE)).one()
    assert contact.undeliverable_at is None and contact.opted_out_at is None


@pytest.mark.parametrize(
    "code",
    [
        "isv.TEMPLATE_MISSING_PARAMETERS",
        "isv.SMS_TEMPLATE_ILLEGAL",
        "isv.BLACK_KEY_CONTROL_LIMIT",
        "isv.PARAM_LENGTH_LIMIT",
        "isv.DENY_IP_RANGE",
        "isv.OUT_OF_SERVICE",
    ],
)
def test_a_refused_template_or_account_fails_the_message_not_the_number(runtime, session, fake, code) -> None:
    fake.fail_next(code)
    with time_machine.travel(NOON, tick=False) as traveller:
        message_id = queue(runtime)
        run_jobs(runtime)
        traveller.shift(timedelta(hours=1))
        run_jobs(runtime, with_scheduler=True)
    message = fresh(session, message_id)
    assert message.status == MessageStatus.FAILED and code in message.error_message
    contact = session.scalars(select(Contact).where(Contact.phone == PHONE)).one()
    assert contact.undeliverable_at is None and contact.opted_out_at is None
    assert sends(fake) == 1


def test_a_text_with_no_carrier_template_is_failed_without_calling_the_carrier(
    runtime, session, fake
) -> None:
    with time_machine.travel(NOON, tick=False):
        message_id = queue(runtime, "agent_text", text="请明天早上7点到市场大厅。")  # free text: excluded
        run_jobs(runtime)
    message = fresh(session, message_id)
    assert (message.status, message.error_code, message.template_params) == (
        MessageStatus.FAILED,
        CONTENT_REFUSED,
        None,
    )
    assert fake.requests == []


def test_a_number_outside_mainland_china_is_not_sent_nor_marked(runtime, session, fake) -> None:
    with time_machine.travel(NOON, tick=False):
        message_id = queue(runtime, phone="+14155550100")
        run_jobs(runtime)
    assert fresh(session, message_id).status == MessageStatus.FAILED
    contact = session.scalars(select(Contact).where(Contact.phone == "+14155550100")).one()
    assert contact.undeliverable_at is None
    assert fake.requests == []


@pytest.mark.parametrize("extra_settings", [{"ALIYUN_ACCESS_KEY_SECRET": "not-the-secret-0123456789"}])
def test_a_wrong_secret_is_refused_by_the_carriers_signature_check(runtime, session, fake) -> None:
    with time_machine.travel(NOON, tick=False):
        message_id = queue(runtime)
        run_jobs(runtime)
    message = fresh(session, message_id)
    assert message.status == MessageStatus.FAILED and "SignatureDoesNotMatch" in message.error_message
    assert fake.sent == [] and fake.requests[0]["status"] == 400
