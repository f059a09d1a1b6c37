"""Property tests of /sms/inbound: whatever arrives, signed, is answered without a 5xx and never lost."""

from __future__ import annotations

import uuid

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from dispatch.models import Direction, Message, MessageStatus, OutboxEvent, Ticket
from dispatch.phones import try_e164
from tests.helpers import signed_post

PROPERTY_SETTINGS = settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
FIELDS = ("MessageSid", "From", "Body", "To")
# Fields the service reads besides FIELDS; SmsSid is left out because it stands in for MessageSid.
READ_FIELDS = frozenset({*FIELDS, "SmsSid", "MessagingServiceSid", "NumSegments"})

# Characters that have broken SMS services: NUL and other controls, bidi marks, zero-width and
# combining characters, full-width forms, emoji (with joiners and skin tones), CJK, carrier brackets.
AWKWARD = (
    "\x00\x01\x07\x08\t\n\r\x0b\x0c\x1b\x7f\x85\xa0"
    "\u200b\u200c\u200d\u200e\u200f\u202a\u202e\u2066\u2069\ufeff\ufffd\u0301\u0336"
    "０１２３４５６７８９ＡＢｙｅｓ　"
    "😀👍🏽👨‍👩‍👧🇨🇳🙏"
    "注册登记退订帮助忙空我的水电工太西张三一二三四五六七八九十两元块"
    "【】「」，。！？、；：abcXYZ 019?+-#*%&=;'\"<>\\/"
)
COMMANDS = (
    "STOP",
    "stop",
    "START",
    "HELP",
    "?",
    "帮助",
    "退订",
    "订阅",
    "注册",
    "REG",
    "注册 水电工 太西 300 张三",
    "1",
    "１",
    "二",
    "300",
    "张三",
    "忙",
    "空",
    "我的",
    "EN",
    "中文",
    "【中国移动】TD",
)

bodies = st.one_of(
    st.text(max_size=200),
    st.text(alphabet=AWKWARD, max_size=1600),
    st.text(min_size=1400, max_size=1600),
    st.sampled_from(COMMANDS),
    st.builds(lambda command, junk: command + junk, st.sampled_from(COMMANDS), st.text(AWKWARD, max_size=5)),
)
senders = st.one_of(
    st.sampled_from(
        ["+8613800138000", "13900139000", "+86 137 0013 7000", "８６１３６００１３６０００", "+14155550100"]
    ),
    st.text(max_size=20),
    st.sampled_from(["", " ", "abc", "+1", "+86", "+", "0", "\x00"]),
)
extra_fields = st.dictionaries(
    st.text(max_size=20).filter(lambda name: name not in READ_FIELDS),
    st.text(max_size=50),
    max_size=5,
)
optional_read_fields = st.fixed_dictionaries(
    {},
    optional={
        "NumSegments": st.one_of(st.text(max_size=6), st.integers(-5, 5000).map(str)),
        "MessagingServiceSid": st.text(max_size=60),
    },
)


def new_sid() -> str:
    return "SM" + uuid.uuid4().hex


def form(body: str, sender: str, missing: set[str], extras: dict[str, str]) -> dict[str, str]:
    params = {
        **extras,
        "MessageSid": new_sid(),
        "AccountSid": "AC" + "0" * 32,
        "From": sender,
        "To": "+8610690000",
        "Body": body,
    }
    return {key: value for key, value in params.items() if key not in missing}


def without_nul(text: str) -> str:
    """PostgreSQL text cannot hold NUL: the service keeps U+FFFD in its place, on purpose."""
    return text.replace("\x00", "\ufffd")


def rows(session: Session, model, *where) -> int:  # type: ignore[no-untyped-def]
    return session.scalar(select(func.count()).select_from(model).where(*where)) or 0


def newest_unsided(session: Session) -> Message | None:
    """The newest stored inbound message that came without a MessageSid."""
    query = select(Message).where(Message.direction == Direction.INBOUND, Message.provider_sid.is_(None))
    return session.scalar(query.order_by(Message.id.desc()).limit(1))


def check_kept(session: Session, params: dict[str, str], response, unsided_before: int) -> Message:  # type: ignore[no-untyped-def]
    """The response is 200 or 400, never 5xx, and the message is stored as it came."""
    assert response.status_code in {200, 400}, response.get_data(as_text=True)
    session.expire_all()
    if "MessageSid" in params:
        stored = session.scalars(select(Message).where(Message.provider_sid == params["MessageSid"])).one()
    else:
        unsided = rows(
            session, Message, Message.direction == Direction.INBOUND, Message.provider_sid.is_(None)
        )
        assert unsided == unsided_before + 1
        stored = newest_unsided(session)
    assert stored is not None
    assert stored.direction == Direction.INBOUND
    assert stored.body == without_nul(params.get("Body", ""))
    assert stored.raw == {without_nul(key): without_nul(value) for key, value in params.items()}

    phone = try_e164(params.get("From", "").strip(), "CN")
    if "MessageSid" in params and phone is not None:
        assert response.status_code == 200
        assert stored.phone == phone
        # acted on: understood, or waiting for an agent with a ticket
        assert stored.status in {MessageStatus.HANDLED, MessageStatus.UNPARSED}
    else:
        assert response.status_code == 400
        assert stored.status == MessageStatus.REJECTED
        assert stored.error_message
        assert response.get_data(as_text=True) == stored.error_message
    if stored.status == MessageStatus.UNPARSED:
        assert rows(session, Ticket, Ticket.message_id == stored.id) >= 1
    return stored


def unsided_count(session: Session) -> int:
    session.expire_all()
    return rows(session, Message, Message.direction == Direction.INBOUND, Message.provider_sid.is_(None))


@PROPERTY_SETTINGS
@given(
    body=bodies,
    sender=senders,
    missing=st.sets(st.sampled_from(FIELDS)),
    extras=extra_fields,
    read=optional_read_fields,
)
def test_any_inbound_is_answered_and_kept(
    client, session: Session, seeded, body, sender, missing, extras, read
):
    params = form(body, sender, missing, {**extras, **read})
    before = unsided_count(session)

    response = signed_post(client, "/sms/inbound", params)

    check_kept(session, params, response, before)


@PROPERTY_SETTINGS
@given(body=bodies, sender=st.sampled_from(["+8613800138000", "+8613900139000", "+14155550100"]))
def test_every_message_from_a_valid_number_is_handled_or_ticketed(
    client, session: Session, seeded, body, sender
):
    params = form(body, sender, set(), {})

    response = signed_post(client, "/sms/inbound", params)

    stored = check_kept(session, params, response, 0)
    assert response.status_code == 200
    if stored.status == MessageStatus.UNPARSED:
        assert session.scalars(select(Ticket).where(Ticket.message_id == stored.id)).first() is not None
    else:
        assert stored.status == MessageStatus.HANDLED
        assert stored.kind  # what it was understood as


@PROPERTY_SETTINGS
@given(body=bodies, sender=senders, missing=st.sets(st.sampled_from(FIELDS)), extras=extra_fields)
def test_a_repeated_delivery_changes_nothing(client, session: Session, seeded, body, sender, missing, extras):
    missing.discard("MessageSid")  # without a Sid a repeat cannot be recognised, and is kept again
    params = form(body, sender, missing, extras)
    first = signed_post(client, "/sms/inbound", params)
    assert first.status_code in {200, 400}
    session.expire_all()
    counts = [rows(session, model) for model in (Message, OutboxEvent, Ticket)]

    again = signed_post(client, "/sms/inbound", params)

    assert again.status_code == 200
    session.expire_all()
    assert [rows(session, model) for model in (Message, OutboxEvent, Ticket)] == counts
    assert rows(session, Message, Message.provider_sid == params["MessageSid"]) == 1
