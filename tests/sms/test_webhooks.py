"""The SMS webhooks: signatures (also behind a proxy), duplicate and concurrent deliveries, status
callbacks in any order, malformed posts, and the health check."""

from __future__ import annotations

import dataclasses
from typing import Any

import pytest
from redis import Redis
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from dispatch import create_app
from dispatch.db import Database
from dispatch.models import (
    Base,
    Contact,
    Conversation,
    Direction,
    Message,
    MessageStatus,
    OutboxEvent,
    Ticket,
    TicketKind,
    Worker,
    WorkerStatus,
)
from dispatch.queue import QUEUE_NAMES, get_queue
from dispatch.runtime import Runtime
from dispatch.sms.services import queue_sms
from tests.helpers import (
    BASE_URL,
    TEST_AUTH_TOKEN,
    deliver_concurrently,
    inbound_params,
    outbound_to,
    run_jobs,
    sign,
    signed_post,
    text_in,
)

PHONE = "+8613800138000"
OTHER_PHONE = "+8613900139000"
PROXY_BASE = "https://dispatch.example.org"


# -- helpers ------------------------------------------------------------------------------------


def count(session: Session, model: type[Base], *where: Any) -> int:
    return session.scalar(select(func.count()).select_from(model).where(*where)) or 0


def snapshot(session: Session, redis: Redis) -> dict[str, Any]:
    """Everything a webhook could change: row counts and contents that matter, and the queues."""
    session.expire_all()
    state: dict[str, Any] = {
        model.__name__: count(session, model)
        for model in (Message, Contact, OutboxEvent, Ticket, Conversation, Worker)
    }
    state["messages"] = [
        (m.id, m.status, m.provider_sid, m.error_code)
        for m in session.scalars(select(Message).order_by(Message.id))
    ]
    state["contacts"] = [
        (c.phone, c.opted_out_at, c.undeliverable_at)
        for c in session.scalars(select(Contact).order_by(Contact.id))
    ]
    state.update({f"queue:{name}": get_queue(name, redis).count for name in QUEUE_NAMES})
    state["redis_keys"] = redis.dbsize()
    return state


def messages_with_sid(session: Session, sid: str) -> list[Message]:
    session.expire_all()
    return list(session.scalars(select(Message).where(Message.provider_sid == sid)))


def only_message(session: Session, sid: str) -> Message:
    messages = messages_with_sid(session, sid)
    assert len(messages) == 1, messages
    return messages[0]


def contact(session: Session, phone: str) -> Contact | None:
    session.expire_all()
    return session.scalar(select(Contact).where(Contact.phone == phone))


def post_signed_for(client, signed_url: str, path: str, params: dict[str, str], **headers: str):  # type: ignore[no-untyped-def]
    """POST `params` to `path`, with a signature made for `signed_url` (what Twilio thinks it called)."""
    headers = {"X-Twilio-Signature": sign(signed_url, params), **headers}
    return client.post(path, data=params, headers=headers)


def make_outbound(
    runtime: Runtime,
    sid: str | None,
    status: MessageStatus = MessageStatus.QUEUED,
    phone: str = PHONE,
) -> int:
    """An outbound message as the send job leaves it, committed like a request would."""
    with runtime.db.transaction() as session:
        message = Message(
            direction=Direction.OUTBOUND,
            phone=phone,
            body="【潞州零工】测试",
            status=status,
            provider_sid=sid,
            kind="test",
        )
        session.add(message)
        session.flush()
        return message.id


def status_params(sid: str, status: str, error_code: str | None = None) -> dict[str, str]:
    """The form Twilio posts to a message's StatusCallback."""
    params = {
        "MessageSid": sid,
        "SmsSid": sid,
        "AccountSid": "AC" + "0" * 32,
        "From": "+8610690000",
        "To": PHONE,
        "MessageStatus": status,
        "SmsStatus": status,
        "ApiVersion": "2010-04-01",
    }
    if error_code is not None:
        params["ErrorCode"] = error_code
    return params


def post_status(client, sid: str, status: str, error_code: str | None = None, message_id: int | None = None):  # type: ignore[no-untyped-def]
    path = "/sms/status" + (f"?m={message_id}" if message_id is not None else "")
    response = signed_post(client, path, status_params(sid, status, error_code))
    assert response.status_code == 200, response.get_data(as_text=True)
    return response


# -- signatures ---------------------------------------------------------------------------------


def _tampered(params: dict[str, str]) -> dict[str, str]:
    key = "Body" if "Body" in params else "MessageStatus"
    return {**params, key: params[key] + "x"}


def _with_extra(params: dict[str, str]) -> dict[str, str]:
    return {**params, "Extra": "1"}


def _without_one(params: dict[str, str]) -> dict[str, str]:
    return {key: value for key, value in params.items() if key != "To"}


# What is wrong -> (query added to the posted path, a function (path, params) -> X-Twilio-Signature or
# None to send no header, a function changing the params after signing or None).
REJECTED_SIGNATURES: dict[str, tuple[str, Any, Any]] = {
    "missing header": ("", None, None),
    "empty header": ("", lambda path, params: "", None),
    "garbage": ("", lambda path, params: "not-a-signature", None),
    "another token": ("", lambda path, params: sign(BASE_URL + path, params, "another-token"), None),
    "another path": (
        "",
        lambda path, params: sign(
            BASE_URL + ("/sms/status" if path.startswith("/sms/inbound") else "/sms/inbound"), params
        ),
        None,
    ),
    "another query": ("?x=1", lambda path, params: sign(BASE_URL + path.replace("x=1", "x=2"), params), None),
    "query not signed": ("?x=1", lambda path, params: sign(BASE_URL + path.split("?")[0], params), None),
    "query signed, not sent": ("", lambda path, params: sign(BASE_URL + path + "?x=1", params), None),
    "another host": ("", lambda path, params: sign("http://attacker.example" + path, params), None),
    "another scheme": ("", lambda path, params: sign("https://localhost" + path, params), None),
    "tampered value": ("", lambda path, params: sign(BASE_URL + path, params), _tampered),
    "parameter added": ("", lambda path, params: sign(BASE_URL + path, params), _with_extra),
    "parameter dropped": ("", lambda path, params: sign(BASE_URL + path, params), _without_one),
    "signed without params": ("", lambda path, params: sign(BASE_URL + path, {}), None),
}


@pytest.mark.parametrize("endpoint", ["/sms/inbound", "/sms/status"])
@pytest.mark.parametrize("case", list(REJECTED_SIGNATURES))
def test_bad_signature_is_refused_and_changes_nothing(
    client, runtime: Runtime, session: Session, seeded, endpoint: str, case: str
) -> None:
    suffix, make_signature, change = REJECTED_SIGNATURES[case]
    sid = "SMout" + "1" * 29
    message_id = make_outbound(runtime, sid, MessageStatus.SENT)
    path = endpoint + suffix
    if endpoint == "/sms/inbound":
        params = inbound_params("STOP", sender=OTHER_PHONE)
    else:
        params = status_params(sid, "undelivered", "21610")
    headers = {} if make_signature is None else {"X-Twilio-Signature": make_signature(path, params)}
    posted = change(params) if change else params
    before = snapshot(session, runtime.redis)

    response = client.post(path, data=posted, headers=headers)

    assert response.status_code == 403, response.get_data(as_text=True)
    assert response.get_data(as_text=True) == "403 Forbidden: invalid Twilio signature\n"
    assert snapshot(session, runtime.redis) == before
    # The same request, properly signed, does change things: the refusal was the signature's doing.
    response = signed_post(client, path, params)
    assert response.status_code == 200
    if endpoint == "/sms/inbound":
        assert len(messages_with_sid(session, params["MessageSid"])) == 1
        assert contact(session, OTHER_PHONE).opted_out_at is not None
    else:
        assert session.get(Message, message_id).status == MessageStatus.UNDELIVERED
        assert contact(session, PHONE).opted_out_at is not None


def test_without_an_auth_token_nothing_is_accepted(runtime: Runtime, session: Session) -> None:
    """Settings.load fills in a development token and production refuses to start without one; should
    an empty token reach the check anyway, a signature made with the empty key must not pass."""
    tokenless = Runtime(
        settings=dataclasses.replace(runtime.settings, TWILIO_AUTH_TOKEN=""),
        db=runtime.db,
        redis=runtime.redis,
    )
    client = create_app(runtime=tokenless).test_client()
    params = inbound_params("HELP")
    before = snapshot(session, runtime.redis)
    for token in ("", TEST_AUTH_TOKEN):
        assert signed_post(client, "/sms/inbound", params, token=token).status_code == 403
    assert snapshot(session, runtime.redis) == before


def test_port_in_the_signed_url_is_accepted(client, session: Session, seeded) -> None:
    """Twilio signs with or without the default port; RequestValidator accepts both."""
    params = inbound_params("HELP")
    response = post_signed_for(client, "http://localhost:80/sms/inbound", "/sms/inbound", params)
    assert response.status_code == 200
    assert len(messages_with_sid(session, params["MessageSid"])) == 1


# -- behind a proxy -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "settings_overrides", [{"PUBLIC_BASE_URL": PROXY_BASE}, {"PUBLIC_BASE_URL": PROXY_BASE + "/"}]
)
def test_public_base_url_is_the_signed_url(client, runtime: Runtime, session: Session, seeded) -> None:
    params = inbound_params("HELP")
    before = snapshot(session, runtime.redis)
    refused = post_signed_for(client, BASE_URL + "/sms/inbound", "/sms/inbound", params)
    assert refused.status_code == 403
    assert snapshot(session, runtime.redis) == before

    accepted = post_signed_for(client, PROXY_BASE + "/sms/inbound", "/sms/inbound", params)
    assert accepted.status_code == 200
    assert only_message(session, params["MessageSid"]).status == MessageStatus.HANDLED
    assert [m.kind for m in outbound_to(session, PHONE)] == ["help"]


@pytest.mark.parametrize("settings_overrides", [{"PUBLIC_BASE_URL": PROXY_BASE}])
def test_public_base_url_wins_over_forwarded_headers(client, session: Session) -> None:
    """A forged X-Forwarded-Host cannot make a signature for another host count."""
    params = inbound_params("HELP")
    headers = {"X-Forwarded-Proto": "https", "X-Forwarded-Host": "attacker.example"}
    response = post_signed_for(
        client, "https://attacker.example/sms/inbound", "/sms/inbound", params, **headers
    )
    assert response.status_code == 403
    response = post_signed_for(client, PROXY_BASE + "/sms/inbound", "/sms/inbound", params, **headers)
    assert response.status_code == 200


@pytest.mark.parametrize("settings_overrides", [{"PUBLIC_BASE_URL": "https://example.org/dispatch"}])
def test_public_base_url_with_a_path_prefix(client, session: Session) -> None:
    """The proxy strips /dispatch; Twilio signed the URL with it."""
    params = inbound_params("HELP")
    response = post_signed_for(client, "https://example.org/dispatch/sms/inbound", "/sms/inbound", params)
    assert response.status_code == 200
    assert len(messages_with_sid(session, params["MessageSid"])) == 1


@pytest.mark.parametrize(
    "forwarded",
    [
        {"X-Forwarded-Proto": "https", "X-Forwarded-Host": "dispatch.example.org"},
        # a chain of proxies: the first (client-facing) value is what Twilio called
        {"X-Forwarded-Proto": "https, http", "X-Forwarded-Host": "dispatch.example.org, internal:8000"},
    ],
)
def test_forwarded_proto_and_host(client, runtime: Runtime, session: Session, seeded, forwarded) -> None:
    params = inbound_params("HELP")
    before = snapshot(session, runtime.redis)
    refused = post_signed_for(client, BASE_URL + "/sms/inbound", "/sms/inbound", params, **forwarded)
    assert refused.status_code == 403
    assert snapshot(session, runtime.redis) == before

    accepted = post_signed_for(client, PROXY_BASE + "/sms/inbound", "/sms/inbound", params, **forwarded)
    assert accepted.status_code == 200
    assert only_message(session, params["MessageSid"]).status == MessageStatus.HANDLED


def test_query_string_is_part_of_the_signed_url(client, session: Session, seeded) -> None:
    params = inbound_params("HELP")
    refused = post_signed_for(client, BASE_URL + "/sms/inbound", "/sms/inbound?x=1", params)
    assert refused.status_code == 403
    accepted = post_signed_for(client, BASE_URL + "/sms/inbound?x=1", "/sms/inbound?x=1", params)
    assert accepted.status_code == 200
    assert len(messages_with_sid(session, params["MessageSid"])) == 1


def test_app_mounted_under_a_prefix(client, session: Session) -> None:
    """Mounted at /dispatch (SCRIPT_NAME), the URL Twilio called and signed includes the prefix."""
    params = inbound_params("HELP")
    headers = {"X-Twilio-Signature": sign(BASE_URL + "/sms/inbound", params)}
    refused = client.post("/sms/inbound", data=params, headers=headers, base_url=BASE_URL + "/dispatch")
    assert refused.status_code == 403
    headers = {"X-Twilio-Signature": sign(BASE_URL + "/dispatch/sms/inbound", params)}
    accepted = client.post("/sms/inbound", data=params, headers=headers, base_url=BASE_URL + "/dispatch")
    assert accepted.status_code == 200
    assert len(messages_with_sid(session, params["MessageSid"])) == 1


def test_forwarded_url_keeps_the_query_string(client, session: Session, seeded) -> None:
    params = inbound_params("HELP")
    headers = {"X-Forwarded-Proto": "https", "X-Forwarded-Host": "dispatch.example.org"}
    url = PROXY_BASE + "/sms/inbound?x=1&y=%E4%B8%AD"
    response = post_signed_for(client, url, "/sms/inbound?x=1&y=%E4%B8%AD", params, **headers)
    assert response.status_code == 200


# -- idempotency --------------------------------------------------------------------------------


def test_duplicate_stop_confirms_once(client, runtime: Runtime, session: Session, seeded) -> None:
    params = inbound_params("STOP", sid="SM" + "d" * 32)
    for _ in range(2):
        assert signed_post(client, "/sms/inbound", params).status_code == 200
    assert len(messages_with_sid(session, params["MessageSid"])) == 1
    replies = outbound_to(session, PHONE)
    assert [m.kind for m in replies] == ["opt_out.confirm"]
    assert count(session, OutboxEvent) == 1
    assert contact(session, PHONE).opted_out_at is not None


def test_duplicate_help_replies_once(client, runtime: Runtime, session: Session, seeded) -> None:
    params = inbound_params("帮助")
    assert signed_post(client, "/sms/inbound", params).status_code == 200
    after_first = snapshot(session, runtime.redis)
    for _ in range(2):
        assert signed_post(client, "/sms/inbound", params).status_code == 200
    # the repeats change nothing at all
    assert snapshot(session, runtime.redis) == after_first
    assert [m.kind for m in outbound_to(session, PHONE)] == ["help"]


def test_duplicate_registration_answer_advances_once(client, session: Session, seeded) -> None:
    text_in(client, "注册")
    conversation = session.scalar(select(Conversation).where(Conversation.phone == PHONE))
    assert conversation is not None and conversation.step == "trade"

    answer = inbound_params("1", sid="SM" + "a" * 32)
    for _ in range(2):
        assert signed_post(client, "/sms/inbound", answer).status_code == 200

    session.expire_all()
    conversation = session.scalar(select(Conversation).where(Conversation.phone == PHONE))
    assert conversation.step == "area"
    assert len(conversation.answers["trade"]) == 1
    assert [m.kind for m in outbound_to(session, PHONE)] == [
        "registration.ask_trade",
        "registration.ask_area",
    ]

    # The retry of an area answer must not also be taken as the pay answer.
    area = inbound_params("1", sid="SM" + "b" * 32)
    for _ in range(2):
        assert signed_post(client, "/sms/inbound", area).status_code == 200
    session.expire_all()
    conversation = session.scalar(select(Conversation).where(Conversation.phone == PHONE))
    assert conversation.step == "pay"
    assert "pay" not in conversation.answers
    assert len(outbound_to(session, PHONE)) == 3


def test_duplicate_of_a_rejected_message_is_not_stored_twice(client, session: Session) -> None:
    params = inbound_params("HELP", sender="abc")
    for _ in range(2):
        signed_post(client, "/sms/inbound", params)
    assert len(messages_with_sid(session, params["MessageSid"])) == 1


# -- concurrent duplicates (committed transactions) ---------------------------------------------


THREADS = 8


@pytest.mark.committed
@pytest.mark.parametrize(
    ("body", "kind"),
    [
        ("STOP", "opt_out.confirm"),
        ("HELP", "help"),
        ("注册", "registration.ask_trade"),
        ("你好呀", "not_understood"),
    ],
)
def test_concurrent_duplicates_have_one_effect(committed, body: str, kind: str) -> None:
    runtime, app = committed
    for round_ in range(3):
        phone = f"+86139{round_:08d}"
        params = inbound_params(body, sender=phone, sid=f"SMconc{round_}{body.encode().hex()}"[:34])

        results = deliver_concurrently(app, [params] * THREADS)

        assert results == [200] * THREADS
        with runtime.db.sessionmaker() as session:
            assert count(session, Message, Message.provider_sid == params["MessageSid"]) == 1
            assert [m.kind for m in outbound_to(session, phone)] == [kind]
            assert count(session, Contact, Contact.phone == phone) == 1
            expected_tickets = 1 if kind == "not_understood" else 0
            assert count(session, Ticket, Ticket.phone == phone) == expected_tickets
    # one reply job each round, relayed to RQ once
    assert get_queue("sms", runtime.redis).count == 3


@pytest.mark.committed
def test_concurrent_messages_from_a_new_number_are_all_handled(committed) -> None:
    """Different messages (distinct sids) from a number we have never seen, all at once: each is handled,
    none ends up as a failure ticket because two requests created the same contact at once."""
    runtime, app = committed
    phone = "+8613700137000"
    params_list = [inbound_params("HELP", sender=phone, sid=f"SMnew{i:030d}") for i in range(THREADS)]

    results = deliver_concurrently(app, params_list)

    assert results == [200] * THREADS
    with runtime.db.sessionmaker() as session:
        statuses = session.scalars(select(Message.status).where(Message.direction == Direction.INBOUND))
        assert sorted(statuses) == [MessageStatus.HANDLED] * THREADS
        assert count(session, Ticket) == 0
        assert [m.kind for m in outbound_to(session, phone)] == ["help"] * THREADS
        assert count(session, Contact, Contact.phone == phone) == 1


# -- status callbacks ---------------------------------------------------------------------------


def test_status_never_moves_backwards(client, runtime: Runtime, session: Session) -> None:
    sid = "SM" + "1" * 32
    message_id = make_outbound(runtime, sid)
    for status in ("delivered", "sent", "queued", "sending"):
        post_status(client, sid, status)
    session.expire_all()
    assert session.get(Message, message_id).status == MessageStatus.DELIVERED


def test_failure_after_sent_is_recorded(client, runtime: Runtime, session: Session) -> None:
    sid = "SM" + "2" * 32
    message_id = make_outbound(runtime, sid)
    post_status(client, sid, "sent")
    post_status(client, sid, "failed", "30003")
    session.expire_all()
    message = session.get(Message, message_id)
    assert (message.status, message.error_code) == (MessageStatus.FAILED, 30003)
    # 30003 is transient: the number is not written off
    assert contact(session, PHONE) is None or contact(session, PHONE).may_receive


def test_failed_is_terminal(client, runtime: Runtime, session: Session) -> None:
    sid = "SM" + "3" * 32
    message_id = make_outbound(runtime, sid)
    post_status(client, sid, "failed", "30003")
    post_status(client, sid, "delivered")
    post_status(client, sid, "undelivered", "30006")
    session.expire_all()
    message = session.get(Message, message_id)
    assert (message.status, message.error_code) == (MessageStatus.FAILED, 30003)
    assert contact(session, PHONE) is None or contact(session, PHONE).may_receive


def test_undelivered_30006_marks_the_number_undeliverable_and_the_worker_is_called_instead(
    client, runtime: Runtime, session: Session, seeded
) -> None:
    with runtime.db.transaction() as tx:
        tx.add(Worker(phone=PHONE, name="张三", status=WorkerStatus.ACTIVE, registered_via="sms"))
    sid = "SM" + "4" * 32
    make_outbound(runtime, sid, MessageStatus.SENT)
    post_status(client, sid, "undelivered", "30006")

    found = contact(session, PHONE)
    assert found.undeliverable_at is not None and found.undeliverable_error == 30006
    # A landline takes calls: the worker stays active and is offered jobs by phone (tests/voice).
    worker = session.scalar(select(Worker).where(Worker.phone == PHONE))
    assert (worker.status, worker.prefers_voice) == (WorkerStatus.ACTIVE, True)
    assert only_message(session, sid).error_code == 30006
    # nothing more is sent to it
    with runtime.db.transaction() as tx:
        later = queue_sms(tx, runtime.settings, phone=PHONE, template="help", kind="help")
        later_id = later.id
    assert session.get(Message, later_id).status == MessageStatus.SUPPRESSED


def test_21610_marks_the_number_opted_out(client, runtime: Runtime, session: Session, seeded) -> None:
    sid = "SM" + "5" * 32
    make_outbound(runtime, sid, MessageStatus.SENT)
    post_status(client, sid, "failed", "21610")
    assert contact(session, PHONE).opted_out_at is not None
    assert only_message(session, sid).status == MessageStatus.FAILED


def test_unknown_sid_changes_nothing(client, runtime: Runtime, session: Session) -> None:
    make_outbound(runtime, "SM" + "6" * 32)
    before = snapshot(session, runtime.redis)
    post_status(client, "SM" + "f" * 32, "failed", "21610")
    post_status(client, "SM" + "f" * 32, "delivered", message_id=987654)
    assert snapshot(session, runtime.redis) == before


def test_status_found_by_id_records_the_sid(client, runtime: Runtime, session: Session) -> None:
    """The callback may come before the send job has stored the Sid: the ?m= id finds the message."""
    message_id = make_outbound(runtime, None, MessageStatus.PENDING)
    sid = "SM" + "7" * 32
    post_status(client, sid, "sent", message_id=message_id)
    session.expire_all()
    message = session.get(Message, message_id)
    assert (message.provider_sid, message.status) == (sid, MessageStatus.SENT)
    post_status(client, sid, "delivered")
    session.expire_all()
    assert session.get(Message, message_id).status == MessageStatus.DELIVERED


def test_status_id_of_another_message_is_not_trusted(client, runtime: Runtime, session: Session) -> None:
    """?m= names a message that already has another Sid: the Sid decides."""
    first = make_outbound(runtime, "SM" + "8" * 32)
    second = make_outbound(runtime, "SM" + "9" * 32)
    post_status(client, "SM" + "9" * 32, "delivered", message_id=first)
    session.expire_all()
    assert session.get(Message, first).status == MessageStatus.QUEUED
    assert session.get(Message, second).status == MessageStatus.DELIVERED


def test_status_sid_wins_over_an_id_without_a_sid(client, runtime: Runtime, session: Session) -> None:
    """?m= names a message not sent yet, but the Sid is another message's: that one is updated, and the
    unsent one does not take a Sid that is already taken."""
    unsent = make_outbound(runtime, None, MessageStatus.PENDING)
    sent = make_outbound(runtime, "SM" + "a" * 32)
    post_status(client, "SM" + "a" * 32, "delivered", message_id=unsent)
    session.expire_all()
    assert (session.get(Message, unsent).provider_sid, session.get(Message, unsent).status) == (
        None,
        MessageStatus.PENDING,
    )
    assert session.get(Message, sent).status == MessageStatus.DELIVERED


def test_status_for_a_message_sent_by_the_job(client, runtime: Runtime, session: Session, seeded) -> None:
    with runtime.db.transaction() as tx:
        message_id = queue_sms(tx, runtime.settings, phone=PHONE, template="help", kind="help").id
    run_jobs(runtime)
    session.expire_all()
    message = session.get(Message, message_id)
    assert message.status == MessageStatus.SENT and message.provider_sid
    post_status(client, message.provider_sid, "queued", message_id=message_id)
    post_status(client, message.provider_sid, "delivered", message_id=message_id)
    post_status(client, message.provider_sid, "sent", message_id=message_id)
    session.expire_all()
    assert session.get(Message, message_id).status == MessageStatus.DELIVERED


@pytest.mark.parametrize(
    ("status", "error_code"),
    [("accepted", None), ("read", None), ("bogus", None), ("", None), ("delivered", "abc"), ("sent", "-1")],
)
def test_odd_status_callbacks_are_answered(
    client, runtime: Runtime, session: Session, status, error_code
) -> None:
    sid = "SM" + "c" * 32
    message_id = make_outbound(runtime, sid)
    post_status(client, sid, status, error_code)
    session.expire_all()
    message = session.get(Message, message_id)
    assert message.error_code is None
    assert message.status in {MessageStatus.QUEUED, MessageStatus.SENT, MessageStatus.DELIVERED}


@pytest.mark.parametrize("m", ["", "abc", "-1", "0", "1.0", "%C2%B2", "%EF%BC%91", "9" * 30, "%00"])
def test_odd_message_ids_in_the_callback_url(client, runtime: Runtime, session: Session, m: str) -> None:
    """?m= is ours, but a proxy or a replay may mangle it: the Sid still finds the message, never a 5xx."""
    sid = "SM" + "e" * 32
    message_id = make_outbound(runtime, sid)
    response = signed_post(client, f"/sms/status?m={m}", status_params(sid, "delivered"))
    assert response.status_code == 200, response.get_data(as_text=True)
    session.expire_all()
    assert session.get(Message, message_id).status == MessageStatus.DELIVERED


def test_status_callback_never_touches_an_inbound_message(
    client, runtime: Runtime, session: Session, seeded
) -> None:
    params = inbound_params("HELP")
    text_in(client, "HELP", sid=params["MessageSid"])
    inbound = only_message(session, params["MessageSid"])
    assert inbound.status == MessageStatus.HANDLED
    before = snapshot(session, runtime.redis)
    post_status(client, params["MessageSid"], "failed", "21610")
    post_status(client, "", "undelivered", "30006", message_id=inbound.id)
    assert snapshot(session, runtime.redis) == before


# -- missing and malformed fields ---------------------------------------------------------------


def test_inbound_without_message_sid_is_kept_and_refused(client, session: Session) -> None:
    params = inbound_params("HELP")
    del params["MessageSid"]
    response = signed_post(client, "/sms/inbound", params)
    assert response.status_code == 400
    assert "MessageSid" in response.get_data(as_text=True)
    stored = session.scalars(select(Message).where(Message.direction == Direction.INBOUND)).one()
    assert (stored.status, stored.body, stored.phone, stored.provider_sid) == (
        MessageStatus.REJECTED,
        "HELP",
        PHONE,
        None,
    )
    assert outbound_to(session, PHONE) == []


@pytest.mark.parametrize("sender", [None, "", "abc", "+1", "+86"])
def test_inbound_without_a_valid_sender_is_kept_and_refused(client, session: Session, sender) -> None:
    params = inbound_params("STOP")
    if sender is None:
        del params["From"]
    else:
        params["From"] = sender
    response = signed_post(client, "/sms/inbound", params)
    assert response.status_code == 400
    body = response.get_data(as_text=True)
    assert ("From" in body) if not sender else (repr(sender) in body), body
    stored = only_message(session, params["MessageSid"])
    assert (stored.status, stored.body, stored.phone) == (MessageStatus.REJECTED, "STOP", sender or "")
    assert count(session, Contact) == 0
    assert count(session, OutboxEvent) == 0


def test_empty_body_goes_to_an_agent(client, session: Session, seeded) -> None:
    params = inbound_params("")
    assert signed_post(client, "/sms/inbound", params).status_code == 200
    stored = only_message(session, params["MessageSid"])
    assert (stored.status, stored.body) == (MessageStatus.UNPARSED, "")
    ticket = session.scalars(select(Ticket).where(Ticket.message_id == stored.id)).one()
    assert ticket.kind == TicketKind.UNPARSED_SMS
    assert [m.kind for m in outbound_to(session, PHONE)] == ["not_understood"]


def test_missing_body_is_an_empty_body(client, session: Session, seeded) -> None:
    params = inbound_params("")
    del params["Body"]
    assert signed_post(client, "/sms/inbound", params).status_code == 200
    stored = only_message(session, params["MessageSid"])
    assert stored.status == MessageStatus.UNPARSED
    assert count(session, Ticket, Ticket.message_id == stored.id) == 1


def test_nul_in_a_body_is_kept_as_a_replacement_character(client, session: Session, seeded) -> None:
    params = inbound_params("a\x00b")
    assert signed_post(client, "/sms/inbound", params).status_code == 200
    assert only_message(session, params["MessageSid"]).body == "a\ufffdb"


def test_oversized_post_is_refused_before_anything(client, runtime: Runtime, session: Session) -> None:
    params = inbound_params("x" * (300 * 1024))
    before = snapshot(session, runtime.redis)
    response = signed_post(client, "/sms/inbound", params)
    assert response.status_code == 413
    assert snapshot(session, runtime.redis) == before


# -- health and methods -------------------------------------------------------------------------


def test_healthz(client) -> None:
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.get_json()["status"] == "ok"


@pytest.mark.parametrize(
    "settings_overrides",
    [
        {
            "SMS_TRANSPORT": "twilio",
            "TWILIO_ACCOUNT_SID": "AC" + "0" * 32,
            "TWILIO_FROM_NUMBER": "+8610690000",
            "PUBLIC_BASE_URL": PROXY_BASE,
            "TWILIO_API_BASE_URL": "http://127.0.0.1:9",  # nothing listens: any call to Twilio would fail
        }
    ],
)
def test_healthz_never_calls_twilio(client) -> None:
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.get_json() == {"status": "ok", "transport": "twilio"}


def test_healthz_without_a_database_is_503(runtime: Runtime) -> None:
    broken = Runtime(
        settings=runtime.settings,
        db=Database("postgresql://postgres@127.0.0.1:1/nothing", connect_args={"connect_timeout": 2}),
        redis=runtime.redis,
    )
    response = create_app(runtime=broken).test_client().get("/healthz")
    assert response.status_code == 503
    assert response.get_json()["status"] == "error"
    broken.db.engine.dispose()


@pytest.mark.parametrize("path", ["/sms/inbound", "/sms/status"])
def test_get_on_a_webhook_is_405(client, path: str) -> None:
    response = client.get(path)
    assert response.status_code == 405
    assert "POST" in response.headers.get("Allow", "")


def test_unknown_path_is_404(client) -> None:
    assert signed_post(client, "/sms/nothing", inbound_params("HELP")).status_code == 404
