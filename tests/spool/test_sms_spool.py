"""The SMS webhooks while the database is down or hung, and the spool's replay (dispatch/spool/).

Proved here, against the real PostgreSQL and Redis: a signed text or delivery report that reaches a
service whose database is down is answered 200 and kept in SPOOL_DIR, never stored half; replayed, it
goes through the normal path exactly once (a file replayed twice changes nothing more), keeps the time
it reached us, gets the reply the normal path gives, and each sender's texts stay in arrival order,
also those that came once the database was back but while older ones still waited. Unsigned requests
are refused and never kept; a file that cannot be replayed for a reason other than the database goes
to failed/ without holding up the others; a database still down (or hanging mid-request) keeps them.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import event, func, select, text
from sqlalchemy.orm import Session

from dispatch import create_app
from dispatch.clock import utcnow
from dispatch.db import Database, Timeouts, make_engine
from dispatch.i18n import render_sms as render
from dispatch.models import Contact, Direction, Message, MessageStatus, OutboxEvent
from dispatch.queue import get_queue
from dispatch.runtime import Runtime
from dispatch.sms.views import EMPTY_TWIML
from dispatch.sms.webhooks import INBOUND, STATUS
from dispatch.spool.replay import ReplayResult, replay_pending
from dispatch.spool.store import SpooledRequest
from tests.helpers import inbound_params, outbound_to, sign, signed_post, text_in
from tests.spool import database_down, failed_names, settled, waiting
from tests.test_db_timeouts import FreezableProxy, postgres_url

PHONE = "+8613800138000"
OTHER = "+8613900139000"
SENDERS = ("+8613800138001", "+8613800138002", "+8613800138003")
ARRIVAL = datetime(2026, 11, 2, 1, 30, tzinfo=UTC)
REPLAYED_AT = ARRIVAL + timedelta(minutes=7)


@pytest.fixture
def down(runtime: Runtime) -> Iterator[FlaskClient]:
    """A client of the same service with its database down."""
    with database_down(runtime) as (_, client):
        yield client


def help_text(runtime: Runtime) -> str:
    return render("help", "zh", sig=runtime.settings.SMS_SIGNATURE_ZH)


def inbound(session: Session, phone: str | None = None) -> list[Message]:
    session.expire_all()
    query = select(Message).where(Message.direction == Direction.INBOUND)
    if phone is not None:
        query = query.where(Message.phone == phone)
    return list(session.scalars(query.order_by(Message.id)))


def with_sid(session: Session, sid: str) -> list[Message]:
    session.expire_all()
    return list(session.scalars(select(Message).where(Message.provider_sid == sid)))


def count_outbox(session: Session) -> int:
    return session.scalar(select(func.count()).select_from(OutboxEvent)) or 0


def spool_text(down: FlaskClient, body: str, sender: str = PHONE) -> dict[str, str]:
    """Text `body` to the service while its database is down: answered 200 with empty TwiML."""
    params = inbound_params(body, sender)
    response = signed_post(down, "/sms/inbound", params)
    assert response.status_code == 200, response.get_data(as_text=True)
    assert (response.mimetype, response.get_data(as_text=True)) == ("text/xml", EMPTY_TWIML)
    return params


def twin(runtime: Runtime, url: str, timeouts: Timeouts) -> Runtime:
    """`runtime`'s service (settings, Redis, SPOOL_DIR) on an engine of its own, with `timeouts`."""
    return Runtime(settings=runtime.settings, db=Database(url, timeouts=timeouts), redis=runtime.redis)


def make_outbound(runtime: Runtime, sid: str | None, phone: str = PHONE) -> int:
    """An outbound message as the send job leaves it (queued), committed like a request would."""
    with runtime.db.transaction() as session:
        message = Message(
            direction=Direction.OUTBOUND,
            phone=phone,
            body="【潞州零工】测试",
            status=MessageStatus.QUEUED,
            provider_sid=sid,
            kind="test",
        )
        session.add(message)
        session.flush()
        return message.id


def status_params(sid: str, status: str) -> dict[str, str]:
    return {
        "MessageSid": sid,
        "SmsSid": sid,
        "AccountSid": "AC" + "0" * 32,
        "From": "+8610690000",
        "To": PHONE,
        "MessageStatus": status,
        "SmsStatus": status,
    }


# -- one text, spooled and replayed ---------------------------------------------------------------


def test_a_text_while_the_database_is_down_is_spooled_and_replayed_once_at_its_arrival_time(
    runtime: Runtime, session: Session, seeded, down: FlaskClient, client: FlaskClient
) -> None:
    with time_machine.travel(ARRIVAL, tick=False):
        params = spool_text(down, "帮助")

    assert with_sid(session, params["MessageSid"]) == []
    [kept] = waiting(runtime)
    assert (kept.kind, kept.form, kept.args, kept.received_at) == (INBOUND, params, {}, ARRIVAL)

    with time_machine.travel(REPLAYED_AT, tick=False):
        assert replay_pending(runtime, now=settled(runtime)) == ReplayResult(replayed=1, failed=0, left=0)

    assert runtime.spool.pending() == [] and failed_names(runtime) == []
    [stored] = with_sid(session, params["MessageSid"])
    assert (stored.direction, stored.phone, stored.body, stored.status) == (
        Direction.INBOUND,
        PHONE,
        "帮助",
        MessageStatus.HANDLED,
    )
    assert stored.created_at == ARRIVAL
    [answer] = outbound_to(session, PHONE)
    assert (answer.is_reply, answer.in_reply_to_id, answer.kind, answer.status) == (
        True,
        stored.id,
        "help",
        MessageStatus.PENDING,
    )
    assert answer.created_at == REPLAYED_AT
    [job] = get_queue("sms", runtime.redis).get_jobs()
    assert (job.func_name, job.args) == ("dispatch.sms.tasks.send_message", (answer.id,))

    # The normal path, once the database is back, answers another sender with the very same text.
    text_in(client, "帮助", OTHER)
    assert answer.body == outbound_to(session, OTHER)[0].body == help_text(runtime)
    assert answer.body == (
        "【潞州零工】回复：注册=登记找活；忙=暂停派活；空=恢复派活；我的=查看资料；退订=不再收短信；"
        "EN=English。接单回复 1 加岗位号，如 1 123；没拿到工钱回复 欠薪 加岗位号。"
    )


def test_a_file_replayed_twice_stores_one_message_and_one_reply(
    runtime: Runtime, session: Session, seeded, down: FlaskClient
) -> None:
    params = spool_text(down, "帮助")
    [path] = runtime.spool.pending()
    copy = path.read_bytes()

    assert replay_pending(runtime, now=settled(runtime)) == ReplayResult(replayed=1)
    path.write_bytes(copy)  # as after a crash between the commit and the unlink
    assert replay_pending(runtime, now=settled(runtime)) == ReplayResult(replayed=1)

    assert runtime.spool.pending() == []
    assert len(with_sid(session, params["MessageSid"])) == 1
    assert [message.body for message in outbound_to(session, PHONE)] == [help_text(runtime)]
    assert count_outbox(session) == 1
    assert get_queue("sms", runtime.redis).count == 1


@pytest.mark.parametrize("path", ["/sms/inbound", "/sms/status?m=1"])
@pytest.mark.parametrize("signature", ["none", "another token", "another url"])
def test_an_unsigned_or_mis_signed_request_while_down_is_refused_and_not_kept(
    runtime: Runtime, session: Session, down: FlaskClient, path: str, signature: str
) -> None:
    params = inbound_params("帮助") if path == "/sms/inbound" else status_params("SM" + "7" * 32, "delivered")
    headers = {
        "none": {},
        "another token": {"X-Twilio-Signature": sign("http://localhost" + path, params, "another-token")},
        "another url": {"X-Twilio-Signature": sign("http://localhost/sms/elsewhere", params)},
    }[signature]
    response = down.post(path, data=params, headers=headers)
    assert response.status_code == 403
    assert runtime.spool.pending() == [] and failed_names(runtime) == []
    assert inbound(session) == []


# -- order ----------------------------------------------------------------------------------------


def test_texts_from_three_senders_interleaved_are_stored_in_each_senders_order_and_replied_once(
    runtime: Runtime, session: Session, seeded, down: FlaskClient
) -> None:
    for number in range(1, 6):
        for sender in SENDERS:
            spool_text(down, f"消息 {number}", sender)
    assert len(runtime.spool.pending()) == 15

    assert replay_pending(runtime, now=settled(runtime)) == ReplayResult(replayed=15)

    not_understood = render("not_understood", "zh", sig=runtime.settings.SMS_SIGNATURE_ZH)
    for sender in SENDERS:
        stored = inbound(session, sender)
        assert [message.body for message in stored] == [f"消息 {n}" for n in range(1, 6)]
        assert [message.status for message in stored] == [MessageStatus.UNPARSED] * 5
        replies = outbound_to(session, sender)
        assert [reply.in_reply_to_id for reply in replies] == [message.id for message in stored]
        assert [reply.body for reply in replies] == [not_understood] * 5
    assert runtime.spool.pending() == []


def test_while_a_file_waits_a_new_text_is_spooled_behind_it_though_the_database_works(
    runtime: Runtime, session: Session, seeded, down: FlaskClient, client: FlaskClient
) -> None:
    first = spool_text(down, "消息 1")
    second = inbound_params("消息 2")
    response = signed_post(client, "/sms/inbound", second)  # the database works again
    assert (response.status_code, response.get_data(as_text=True)) == (200, EMPTY_TWIML)

    assert inbound(session) == []
    assert [request.form["MessageSid"] for request in waiting(runtime)] == [
        first["MessageSid"],
        second["MessageSid"],
    ]

    assert replay_pending(runtime, now=settled(runtime)) == ReplayResult(replayed=2)
    stored = inbound(session, PHONE)
    assert [message.provider_sid for message in stored] == [first["MessageSid"], second["MessageSid"]]
    assert [reply.in_reply_to_id for reply in outbound_to(session, PHONE)] == [m.id for m in stored]

    # Nothing waits any more: the next text is handled at once.
    text_in(client, "消息 3")
    assert runtime.spool.pending() == []
    assert [message.body for message in inbound(session, PHONE)] == ["消息 1", "消息 2", "消息 3"]


# -- what cannot be replayed, and a database still away -------------------------------------------


def test_a_file_that_fails_for_another_reason_goes_to_failed_and_the_rest_are_replayed(
    runtime: Runtime, session: Session, seeded
) -> None:
    spool = runtime.spool
    good = [inbound_params(f"消息 {n}") for n in (1, 2, 3)]
    spool.write(SpooledRequest(kind=INBOUND, form=good[0]))
    unknown = spool.write(SpooledRequest(kind="sms.nonsense", form=inbound_params("消息 x")))
    spool.write(SpooledRequest(kind=INBOUND, form=good[1]))
    # A call without its CallSid: the replay's own work raises (KeyError), the database is fine.
    broken = spool.write(SpooledRequest(kind="ivr.outage_call", form={"From": PHONE}))
    torn = spool.write(SpooledRequest(kind=INBOUND, form=inbound_params("消息 y")))
    torn.write_text('{"v": 1, "kind": "sms.inb', encoding="utf-8")
    spool.write(SpooledRequest(kind=INBOUND, form=good[2]))

    assert replay_pending(runtime, now=settled(runtime)) == ReplayResult(replayed=3, failed=3, left=0)

    assert spool.pending() == []
    assert failed_names(runtime) == sorted([unknown.name, broken.name, torn.name])
    assert [message.provider_sid for message in inbound(session, PHONE)] == [p["MessageSid"] for p in good]
    assert len(outbound_to(session, PHONE)) == 3


def test_the_database_still_down_at_replay_replays_nothing_and_keeps_every_file(
    runtime: Runtime, session: Session
) -> None:
    with database_down(runtime) as (down_runtime, down):
        sids = [spool_text(down, f"消息 {n}")["MessageSid"] for n in (1, 2, 3)]
        names = [path.name for path in runtime.spool.pending()]

        assert replay_pending(down_runtime, now=settled(down_runtime)) == ReplayResult(
            replayed=0, failed=0, left=3
        )

    assert [path.name for path in runtime.spool.pending()] == names
    assert [request.form["MessageSid"] for request in waiting(runtime)] == sids
    assert failed_names(runtime) == []
    assert inbound(session) == []


def test_a_database_that_hangs_during_the_replay_keeps_the_file_for_the_next_pass(
    committed: tuple[Runtime, Flask], service_urls: dict[str, str]
) -> None:
    """The database answers the replay's first statements, then hangs while the text is handled: the
    pass must stop and keep the file (the request is not at fault), not move it to failed/."""
    runtime, _ = committed
    url = postgres_url(service_urls)
    proxy = FreezableProxy.to(url)
    hung = twin(runtime, proxy.url_for(url), Timeouts(connect=2, statement=0.2, lock=0.2))

    def hang_at_the_handling(_conn, _cursor, statement: str, *_args) -> None:  # type: ignore[no-untyped-def]
        if "JOIN conversation" in statement:  # store_inbound is done; the handling reads the sender
            proxy.freeze()

    event.listen(hung.db.engine, "before_cursor_execute", hang_at_the_handling)
    params = inbound_params("帮助", PHONE)
    runtime.spool.write(SpooledRequest(kind=INBOUND, form=params))
    try:
        first = replay_pending(hung, now=settled(hung))
        kept, failed = len(runtime.spool.pending()), failed_names(runtime)
        proxy.thaw()
        proxy.settle()  # the hung connection is gone, and its transaction with it
        event.remove(hung.db.engine, "before_cursor_execute", hang_at_the_handling)
        second = replay_pending(hung, now=settled(hung))
    finally:
        proxy.thaw()
        hung.db.engine.dispose()
        proxy.close()

    assert (first, kept, failed) == (ReplayResult(replayed=0, failed=0, left=1), 1, [])
    assert second == ReplayResult(replayed=1)
    with runtime.db.transaction() as session:
        assert len(with_sid(session, params["MessageSid"])) == 1
        assert [reply.kind for reply in outbound_to(session, PHONE)] == ["help"]


def test_a_lock_timeout_while_a_text_is_handled_keeps_the_request_in_the_spool(
    committed: tuple[Runtime, Flask], service_urls: dict[str, str]
) -> None:
    """A row the handling must update is locked elsewhere for longer than the lock timeout: the
    request is kept and replayed (a lock timeout is contention, worth waiting out), not stored as
    'handling failed' for an agent with no reply to the sender."""
    runtime, _ = committed
    url = postgres_url(service_urls)
    with runtime.db.transaction() as session:  # a number a carrier wrote off: texting us clears that
        session.add(Contact(phone=PHONE, language="zh", undeliverable_at=utcnow(), undeliverable_error=30006))
    timed = twin(runtime, url, Timeouts(connect=2, statement=2.0, lock=0.2))
    app = create_app(runtime=timed)
    app.testing = True
    holder = make_engine(url)
    params = inbound_params("帮助", PHONE)
    try:
        with holder.connect() as connection, connection.begin():
            connection.execute(
                text("SELECT id FROM contact WHERE phone = :phone FOR UPDATE"), {"phone": PHONE}
            )
            response = signed_post(app.test_client(), "/sms/inbound", params)
        kept = waiting(runtime)
        result = replay_pending(timed, now=settled(timed))
    finally:
        holder.dispose()
        timed.db.engine.dispose()

    assert (response.status_code, response.get_data(as_text=True)) == (200, EMPTY_TWIML)
    assert [request.form["MessageSid"] for request in kept] == [params["MessageSid"]]
    assert result == ReplayResult(replayed=1)
    with runtime.db.transaction() as session:
        [stored] = with_sid(session, params["MessageSid"])
        assert (stored.status, stored.error_message) == (MessageStatus.HANDLED, "")
        assert [reply.kind for reply in outbound_to(session, PHONE)] == ["help"]
        assert session.scalar(select(Contact.undeliverable_at).where(Contact.phone == PHONE)) is None


def test_a_text_that_meets_a_busy_database_pass_after_pass_is_set_aside_not_kept_for_ever(
    committed: tuple[Runtime, Flask], service_urls: dict[str, str]
) -> None:
    """Contention that does not pass (a lock held for good) must not hold the spool up for ever: after
    CONTENTION_TRIES passes the request goes to failed/, for an operator, and the spool moves on."""
    from dispatch.spool.replay import CONTENTION_TRIES

    runtime, _ = committed
    url = postgres_url(service_urls)
    with runtime.db.transaction() as session:  # handling a text from it updates the row (clears this)
        session.add(Contact(phone=PHONE, language="zh", undeliverable_at=utcnow(), undeliverable_error=30006))
    timed = twin(runtime, url, Timeouts(connect=2, statement=2.0, lock=0.1))
    holder = make_engine(url)
    stuck, behind = inbound_params("帮助", PHONE), inbound_params("帮助", SENDERS[0])
    try:
        timed.spool.write(SpooledRequest(kind=INBOUND, form=stuck))
        timed.spool.write(SpooledRequest(kind=INBOUND, form=behind))
        with holder.connect() as connection, connection.begin():
            connection.execute(
                text("SELECT id FROM contact WHERE phone = :phone FOR UPDATE"), {"phone": PHONE}
            )
            results = [replay_pending(timed, now=settled(timed)) for _ in range(CONTENTION_TRIES)]
    finally:
        holder.dispose()
        timed.db.engine.dispose()

    assert results[:-1] == [ReplayResult(left=2)] * (CONTENTION_TRIES - 1)  # kept, and its sender's order
    assert results[-1] == ReplayResult(replayed=1, failed=1)
    assert len(failed_names(runtime)) == 1 and waiting(runtime) == []
    with runtime.db.transaction() as session:
        assert with_sid(session, stuck["MessageSid"]) == []
        assert len(with_sid(session, behind["MessageSid"])) == 1


# -- delivery reports and refused texts -----------------------------------------------------------


def test_a_delivery_report_while_down_is_spooled_and_moves_the_status_on_never_back(
    runtime: Runtime, session: Session, down: FlaskClient
) -> None:
    sid = "SM" + "5" * 32
    message_id = make_outbound(runtime, None)  # the send job has not stored the Sid yet
    for status in ("sent", "delivered", "sending"):  # the last one is late and older
        response = signed_post(down, f"/sms/status?m={message_id}", status_params(sid, status))
        assert (response.status_code, response.get_data(as_text=True)) == (200, EMPTY_TWIML)

    kept = waiting(runtime)
    assert [(r.kind, r.form["MessageStatus"], r.args) for r in kept] == [
        (STATUS, "sent", {"m": str(message_id)}),
        (STATUS, "delivered", {"m": str(message_id)}),
        (STATUS, "sending", {"m": str(message_id)}),
    ]
    session.expire_all()
    assert session.get(Message, message_id).status == MessageStatus.QUEUED

    assert replay_pending(runtime, now=settled(runtime)) == ReplayResult(replayed=3)
    session.expire_all()
    message = session.get(Message, message_id)
    assert (message.status, message.provider_sid) == (MessageStatus.DELIVERED, sid)


def test_a_text_without_from_is_refused_when_the_database_works_and_kept_when_it_does_not(
    runtime: Runtime, session: Session, seeded, client: FlaskClient, down: FlaskClient
) -> None:
    params = inbound_params("帮助")
    del params["From"]
    response = signed_post(client, "/sms/inbound", params)
    assert response.status_code == 400
    assert "missing From" in response.get_data(as_text=True)

    # Down, the service cannot tell: the sender is checked as the message is stored, which needs the
    # database. Twilio retries neither answer, so the text is kept and, replayed, stored as REJECTED
    # (with nothing sent back), exactly as the 400 above stored it.
    later = inbound_params("帮助")
    del later["From"]
    response = signed_post(down, "/sms/inbound", later)
    assert (response.status_code, response.get_data(as_text=True)) == (200, EMPTY_TWIML)
    assert len(runtime.spool.pending()) == 1

    assert replay_pending(runtime, now=settled(runtime)) == ReplayResult(replayed=1)
    stored = [(m.provider_sid, m.status, m.error_message, m.phone) for m in inbound(session)]
    assert stored == [
        (params["MessageSid"], MessageStatus.REJECTED, "missing From", ""),
        (later["MessageSid"], MessageStatus.REJECTED, "missing From", ""),
    ]
    assert count_outbox(session) == 0


def test_a_request_that_waited_on_a_hung_database_is_replayed_in_its_arrival_order(tmp_path):
    """A webhook held by a hung database is written to the spool after texts that came later (those
    were spooled at once): its file still sorts by when it arrived."""
    from datetime import UTC, datetime, timedelta

    from dispatch.spool.store import Spool, SpooledRequest

    spool = Spool(tmp_path / "spool")
    arrived = datetime(2026, 12, 6, 12, 0, tzinfo=UTC)
    later = spool.write(
        SpooledRequest("sms.inbound", {"Body": "3"}, received_at=arrived + timedelta(seconds=2))
    )
    held = spool.write(SpooledRequest("sms.inbound", {"Body": "2"}, received_at=arrived))
    assert spool.pending() == [held, later]
    assert [spool.read(path).form["Body"] for path in spool.pending()] == ["2", "3"]


def test_a_young_spool_waits_for_requests_that_may_still_be_waiting_on_the_database(runtime, seeded):
    """Replay holds back until the oldest file is settle_seconds old: a text that went to a (hung)
    database while the spool was empty may still be spooled, under its earlier arrival time."""
    from sqlalchemy.exc import OperationalError

    from dispatch.spool.guard import now_or_spooled
    from dispatch.spool.replay import settle_seconds

    first, second = inbound_params("帮助 1", SENDERS[0]), inbound_params("帮助 2", SENDERS[0])

    def hangs_then_fails() -> None:
        # Meanwhile the sender's next text was spooled (the spool had another file), and a replay ran.
        runtime.spool.write(SpooledRequest(kind=INBOUND, form=second))
        assert replay_pending(runtime) == ReplayResult(left=1)  # too young: held back
        raise OperationalError("SELECT 1", {}, Exception("no answer"))

    assert now_or_spooled(runtime, INBOUND, first, hangs_then_fails) is None
    assert [request.form["Body"] for request in waiting(runtime)] == ["帮助 1", "帮助 2"]
    almost = datetime.now(UTC) + timedelta(seconds=settle_seconds(runtime.settings) - 1)
    assert replay_pending(runtime, now=almost) == ReplayResult(left=2)
    assert replay_pending(runtime, now=settled(runtime)) == ReplayResult(replayed=2)
    with runtime.db.transaction() as session:
        bodies = session.scalars(
            select(Message.body).where(Message.direction == Direction.INBOUND).order_by(Message.id)
        ).all()
    assert bodies == ["帮助 1", "帮助 2"]


def test_a_file_the_spool_did_not_name_is_left_alone(tmp_path):
    """An operator's hand-edited copy saved in pending/ neither blocks nor breaks the spool (its name
    says no arrival time): /readyz, /metrics and `dispatch check` count only the spool's own files."""
    from dispatch.spool.store import Spool

    spool = Spool(tmp_path / "spool")
    spool.write(SpooledRequest("sms.inbound", {"Body": "1"}))
    (spool.pending_dir / "fixed-by-hand.json").write_text("{}")
    [only] = spool.pending()
    assert spool.read(only).form == {"Body": "1"}
    spool.done(only)
    assert spool.pending() == [] and not spool.has_pending()
