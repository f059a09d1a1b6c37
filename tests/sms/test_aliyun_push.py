"""The carrier's pushes: replies (上行) go the way a Twilio SMS goes, delivery reports move a message on;
the secret in the path and the address allow-list guard them; duplicates change nothing; odd input is a
4xx, never a 5xx; while the database is down they wait in the spool."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import time_machine
from sqlalchemy import select

from dispatch.models import Contact, Direction, Message, MessageStatus
from dispatch.sms.aliyun_push import LOOKUP_SID_PREFIX
from dispatch.sms.services import queue_sms
from dispatch.spool.replay import replay_pending
from tests.fakes.aliyun_api import FakeAliyunSms
from tests.helpers import outbound_to, run_jobs
from tests.sms.aliyun_support import PUSH_SECRET, carrier_settings, fake_carrier
from tests.spool import database_down, settled, waiting

PHONE = "+8613912345678"
NOON = datetime(2026, 3, 10, 4, 0, tzinfo=UTC)
EARLY = datetime(2026, 3, 9, 22, 30, tzinfo=UTC)  # 06:30 in Beijing: quiet hours, a reply goes at once
UPLINK = f"/sms/aliyun/{PUSH_SECRET}/uplink"
REPORT = f"/sms/aliyun/{PUSH_SECRET}/report"
OK = {"code": 0, "msg": "成功"}
_sequence = iter(range(100_000, 10**9))


@pytest.fixture
def fake() -> Iterator[FakeAliyunSms]:
    with fake_carrier() as running:
        yield running


@pytest.fixture
def settings_overrides(fake: FakeAliyunSms) -> dict[str, Any]:
    return carrier_settings(fake)


def uplink(content: str, phone: str = "13912345678", sequence_id: int | None = None) -> dict[str, Any]:
    """One reply as the carrier's SmsUp message carries it."""
    return {
        "phone_number": phone,
        "content": content,
        "send_time": "2026-03-10 12:00:00",
        "sign_name": "潞州零工",
        "dest_code": "1234",
        "sequence_id": sequence_id if sequence_id is not None else next(_sequence),
    }


def report(
    biz_id: str, out_id: int | str, success: bool = True, err_code: str = "DELIVERED"
) -> dict[str, Any]:
    return {
        "phone_number": "13912345678",
        "send_time": "2026-03-10 12:00:00",
        "report_time": "2026-03-10 12:00:05",
        "success": success,
        "err_code": err_code,
        "err_msg": "用户接收成功" if success else "失败",
        "sms_size": "1",
        "biz_id": biz_id,
        "out_id": str(out_id),
    }


def push(client, path: str, items: Any, address: str = "127.0.0.1", **kwargs: Any):
    data = items if isinstance(items, str | bytes) else json.dumps(items, ensure_ascii=False)
    return client.post(
        path, data=data, content_type="application/json", environ_base={"REMOTE_ADDR": address}, **kwargs
    )


def inbound(session, phone: str = PHONE) -> list[Message]:
    session.expire_all()
    return list(
        session.scalars(
            select(Message)
            .where(Message.direction == Direction.INBOUND, Message.phone == phone)
            .order_by(Message.id)
        )
    )


@pytest.mark.parametrize("when", [NOON, EARLY], ids=["noon", "early-morning"])
def test_a_reply_is_routed_like_a_twilio_sms_and_answered_through_the_carrier(
    runtime, session, seeded, client, fake, when
) -> None:
    with time_machine.travel(when, tick=False):
        response = push(client, UPLINK, [uplink("帮助", sequence_id=424242)])
        assert (response.status_code, response.get_json()) == (200, OK)
        run_jobs(runtime)

    [stored] = inbound(session)
    assert (stored.provider_sid, stored.body, stored.status, stored.kind) == (
        "ALI424242",
        "帮助",
        MessageStatus.HANDLED,
        "help",
    )
    assert stored.raw["AliyunSequenceId"] == "424242"
    [answer] = outbound_to(session, PHONE)
    [sms] = fake.sent
    assert (answer.is_reply, answer.status, answer.provider_sid) == (True, MessageStatus.SENT, sms.biz_id)
    assert sms.content == answer.body and sms.phone == "13912345678"


def test_an_opt_out_pushed_twice_is_stored_and_confirmed_exactly_once(
    runtime, session, seeded, client, fake
) -> None:
    item = uplink("退订")
    with time_machine.travel(NOON, tick=False):
        assert push(client, UPLINK, [item]).get_json() == OK
        assert push(client, UPLINK, [item, item]).get_json() == OK  # the carrier pushed it again
        run_jobs(runtime)
        # and a text after the opt-out gets nothing
        assert push(client, UPLINK, [uplink("帮助")]).get_json() == OK
        run_jobs(runtime)

    assert len(inbound(session)) == 2
    contact = session.scalars(select(Contact).where(Contact.phone == PHONE)).one()
    assert contact.opted_out_at is not None
    [confirmation] = [m for m in outbound_to(session, PHONE) if m.status != MessageStatus.SUPPRESSED]
    assert confirmation.template == "opt_out_confirm"
    assert len(fake.sent) == 1 and fake.sent[0].content == confirmation.body


def test_a_batch_is_handled_in_the_order_its_texts_were_sent(runtime, session, seeded, client, fake) -> None:
    later = {**uplink("帮助", sequence_id=2), "send_time": "2026-03-10 12:00:09"}
    first = {**uplink("EN", sequence_id=1), "send_time": "2026-03-10 12:00:01"}
    with time_machine.travel(NOON, tick=False):
        assert push(client, UPLINK, [later, first]).get_json() == OK
    assert [m.body for m in inbound(session)] == ["EN", "帮助"]


def queue_help(runtime) -> int:
    with runtime.db.transaction() as work:
        return queue_sms(work, runtime.settings, phone=PHONE, template="help", kind="help").id


def test_a_delivery_report_moves_the_message_on_and_a_repeat_changes_nothing(
    runtime, session, client, fake
) -> None:
    with time_machine.travel(NOON, tick=False):
        message_id = queue_help(runtime)
        run_jobs(runtime)
        [sms] = fake.sent
        assert push(client, REPORT, [report(sms.biz_id, message_id)]).get_json() == OK
        session.expire_all()
        delivered = session.get(Message, message_id)
        assert (delivered.status, delivered.provider_sid) == (MessageStatus.DELIVERED, sms.biz_id)
        stamp = delivered.updated_at
        assert push(client, REPORT, [report(sms.biz_id, message_id)] * 2).get_json() == OK  # pushed again

    session.expire_all()
    message = session.get(Message, message_id)
    assert (message.status, message.provider_sid, message.updated_at) == (
        MessageStatus.DELIVERED,
        sms.biz_id,
        stamp,
    )


def test_a_failed_report_marks_the_message_undelivered_with_the_carriers_code(
    runtime, session, client, fake
) -> None:
    with time_machine.travel(NOON, tick=False):
        message_id = queue_help(runtime)
        run_jobs(runtime)
        [sms] = fake.sent
        assert push(client, REPORT, [report(sms.biz_id, message_id, False, "MK:0001")]).get_json() == OK
    session.expire_all()
    message = session.get(Message, message_id)
    assert message.status == MessageStatus.UNDELIVERED and message.error_message.startswith("MK:0001")


def test_a_report_brings_the_bizid_of_a_message_a_lookup_adopted(runtime, session, client, fake) -> None:
    fake.drop_next(create=True)
    with time_machine.travel(NOON, tick=False) as traveller:
        message_id = queue_help(runtime)
        run_jobs(runtime)
        traveller.shift(timedelta(seconds=runtime.settings.SEND_RECONCILE_AFTER))
        run_jobs(runtime, with_scheduler=True)
        session.expire_all()
        assert session.get(Message, message_id).provider_sid == f"{LOOKUP_SID_PREFIX}{message_id}"
        [sms] = fake.sent
        assert push(client, REPORT, [report(sms.biz_id, message_id)]).get_json() == OK
    session.expire_all()
    message = session.get(Message, message_id)
    assert (message.status, message.provider_sid) == (MessageStatus.DELIVERED, sms.biz_id)


def test_a_report_for_an_inbound_message_or_nothing_we_know_is_ignored(
    runtime, session, seeded, client
) -> None:
    with time_machine.travel(NOON, tick=False):
        push(client, UPLINK, [uplink("帮助")])
        [stored] = inbound(session)
        assert push(client, REPORT, [report("123^456", stored.id), report("999^1", 2**40)]).get_json() == OK
    assert inbound(session)[0].status == MessageStatus.HANDLED


@pytest.mark.parametrize("path", [UPLINK, REPORT], ids=["uplink", "report"])
def test_a_wrong_secret_is_not_found_and_a_stranger_is_forbidden(
    runtime, session, seeded, client, path
) -> None:
    items = [uplink("退订")] if path == UPLINK else [report("1^2", 1)]
    assert push(client, path.replace(PUSH_SECRET, PUSH_SECRET[:-1] + "Q"), items).status_code == 404
    assert push(client, "/sms/aliyun//uplink", items).status_code in {404, 405}
    assert push(client, path, items, address="203.0.113.9").status_code == 403
    assert push(client, path, items, address="100.104.3.4").status_code == 200  # an allowed network
    # Through a proxy we were not told to trust, the address is the proxy's: refused.
    assert push(client, path, items, headers={"X-Forwarded-For": "100.104.3.4"}).status_code == 403
    contact = session.scalars(select(Contact).where(Contact.phone == PHONE)).one_or_none()
    assert len(inbound(session)) == (1 if path == UPLINK else 0)
    assert contact is None or path == UPLINK


@pytest.mark.parametrize("path", [UPLINK, REPORT], ids=["uplink", "report"])
@pytest.mark.parametrize(
    "body",
    ["not json", "{}", '{"phone_number": "139"}', "null", "", b"\xff\xfe", '"text"'],
    ids=["text", "object", "an-item-alone", "null", "empty", "not-utf8", "string"],
)
def test_a_push_that_is_not_a_json_array_is_a_400(client, path, body) -> None:
    response = push(client, path, body)
    assert response.status_code == 400 and response.get_json()["code"] != 0


@pytest.mark.parametrize(
    "items",
    [
        [1, "x", None, [], {}],
        [{"phone_number": 13912345678, "sequence_id": {"a": 1}, "content": ["帮助"]}],
        [{"phone_number": "+1 415 555 0100", "sequence_id": 5, "content": "帮助"}],
        [{"phone_number": "13912345678", "sequence_id": "x" * 500, "content": "帮助"}],
        [{"phone_number": "13912345678", "sequence_id": 7, "content": "帮\x00助" * 2000, "send_time": None}],
        [
            {"biz_id": None, "out_id": "-1", "success": "maybe"},
            {"biz_id": "1^2", "out_id": "99999999999999999"},
        ],
    ],
    ids=["scalars", "wrong-types", "not-mainland", "long-id", "nul-and-long", "odd-report"],
)
def test_odd_items_are_dropped_or_kept_never_a_5xx(runtime, seeded, client, items) -> None:
    with time_machine.travel(NOON, tick=False):
        for path in (UPLINK, REPORT):
            response = push(client, path, items)
            assert (response.status_code, response.get_json()) == (200, OK)


def test_replies_and_reports_while_the_database_is_down_wait_in_the_spool(
    runtime, session, seeded, client, fake
) -> None:
    with time_machine.travel(NOON, tick=False):
        message_id = queue_help(runtime)
        run_jobs(runtime)
    [sms] = fake.sent
    item = uplink("退订", sequence_id=777)
    with database_down(runtime) as (_down, down_client), time_machine.travel(NOON, tick=False):
        assert push(down_client, UPLINK, [item]).get_json() == OK
        assert push(down_client, UPLINK, [item]).get_json() == OK  # pushed again meanwhile
        assert push(down_client, REPORT, [report(sms.biz_id, message_id)]).get_json() == OK
    assert [request.kind for request in waiting(runtime)] == [
        "sms.inbound",
        "sms.inbound",
        "sms.aliyun_report",
    ]

    with time_machine.travel(NOON + timedelta(minutes=1), tick=False):
        result = replay_pending(runtime, now=settled(runtime))
    assert (result.replayed, result.failed, result.left) == (3, 0, 0)
    [stored] = inbound(session)
    assert (stored.provider_sid, stored.created_at) == ("ALI777", NOON)
    session.expire_all()
    assert session.get(Message, message_id).status == MessageStatus.DELIVERED
    assert session.scalars(select(Contact).where(Contact.phone == PHONE)).one().opted_out_at is not None
