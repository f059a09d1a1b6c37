"""The worker's SMS commands end to end: opt-out/in, help, busy/free, profile, language, the rest.

Each test texts the signed /sms/inbound webhook and checks the Message rows the service wrote, with
the exact text rendered from the templates.
"""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import func, select

from dispatch.clock import utcnow
from dispatch.i18n import render_sms as render
from dispatch.models import (
    Contact,
    Direction,
    Message,
    MessageStatus,
    OutboxEvent,
    RegisteredVia,
    Site,
    Ticket,
    TicketKind,
    TicketStatus,
    Trade,
    Worker,
    WorkerStatus,
    WorkerTrade,
)
from dispatch.sms.services import queue_sms
from tests.helpers import outbound_to, run_jobs, text_in

PHONE = "+8613800138000"
OTHER = "+8613900139000"

OPT_OUT_WORDS = [
    "STOP",
    "UNSUBSCRIBE",
    "END",
    "QUIT",
    "STOPALL",
    "REVOKE",
    "OPTOUT",
    "CANCEL",
    "退订",
    "TD",
    "T",
    "R",
    "取消订阅",
    # as people and phones really send them
    "stop",
    "Stop",
    "td",
    "ｓｔｏｐ",
    "ＳＴＯＰ",
    "ＴＤ",
    " Stop。",
    "退订！",
    "【中国移动】ＳＴＯＰ",
    "【中国移动】退订",
]
OPT_IN_WORDS = ["START", "UNSTOP", "订阅", "start", "ＳＴＡＲＴ", " 订阅。"]


def expected(runtime, template: str, language: str, **context: Any) -> str:
    settings = runtime.settings
    sig = settings.SMS_SIGNATURE_EN if language == "en" else settings.SMS_SIGNATURE_ZH
    return render(template, language, sig=sig, **context)


def bodies(session, phone: str = PHONE) -> list[str]:
    return [message.body for message in outbound_to(session, phone)]


def contact(session, phone: str = PHONE) -> Contact:
    session.expire_all()
    row = session.scalar(select(Contact).where(Contact.phone == phone))
    assert row is not None
    return row


def worker_status(session, phone: str = PHONE) -> WorkerStatus:
    session.expire_all()
    return session.scalar(select(Worker.status).where(Worker.phone == phone))


def inbound(session, phone: str = PHONE) -> list[Message]:
    session.expire_all()
    query = select(Message).where(Message.direction == Direction.INBOUND, Message.phone == phone)
    return list(session.scalars(query.order_by(Message.id)))


def make_worker(
    session,
    phone: str = PHONE,
    *,
    status: WorkerStatus = WorkerStatus.ACTIVE,
    consent: bool = True,
    name: str = "张三",
    trades: tuple[str, ...] = ("plumber_electrician", "bricklayer"),
    site: str = "LZ-TX",
    pay: int = 300,
) -> Worker:
    """A worker registered at the counter (no SMS exchanged yet)."""
    home = session.scalar(select(Site).where(Site.code == site))
    worker = Worker(
        phone=phone,
        name=name,
        home_site=home,
        min_daily_pay=pay,
        status=status,
        consent_at=utcnow() if consent else None,
        registered_via=RegisteredVia.COUNTER,
    )
    worker.trades = [
        WorkerTrade(trade_id=session.scalar(select(Trade.id).where(Trade.code == code))) for code in trades
    ]
    session.add(worker)
    session.commit()
    return worker


# -- opt-out --------------------------------------------------------------------------------------


@pytest.mark.parametrize("word", OPT_OUT_WORDS)
def test_opt_out_word_confirms_once_in_chinese(runtime, session, seeded, client, word: str) -> None:
    make_worker(session)
    text_in(client, "帮助")  # the number speaks Chinese
    assert bodies(session) == [expected(runtime, "help", "zh")]

    text_in(client, word)

    replies = outbound_to(session, PHONE)
    assert len(replies) == 2
    confirmation = replies[-1]
    assert confirmation.body == expected(runtime, "opt_out_confirm", "zh")
    assert confirmation.body == "【潞州零工】您已退订，将不再收到本平台短信。如需恢复，回复 订阅。"
    assert (confirmation.kind, confirmation.status) == ("opt_out.confirm", MessageStatus.PENDING)
    assert confirmation.is_reply
    assert contact(session).opted_out_at is not None
    assert worker_status(session) == WorkerStatus.OPTED_OUT
    assert inbound(session)[-1].kind == "opt_out"

    text_in(client, word)  # a second opt-out: silence
    text_in(client, "STOP")
    assert len(outbound_to(session, PHONE)) == 2


@pytest.mark.parametrize("word", OPT_OUT_WORDS)
def test_opt_out_word_confirms_once_in_english(runtime, session, seeded, client, word: str) -> None:
    text_in(client, "HELP")  # the number's first message was English
    assert bodies(session) == [expected(runtime, "help", "en")]

    text_in(client, word)

    assert bodies(session)[1:] == [expected(runtime, "opt_out_confirm", "en")]
    assert bodies(session)[-1] == (
        "Luzhou Jobs: You are unsubscribed and will get no more messages. Reply START to subscribe again."
    )
    assert contact(session).opted_out_at is not None
    text_in(client, word)
    assert len(outbound_to(session, PHONE)) == 2


@pytest.mark.parametrize(
    ("word", "language"),
    [
        ("STOP", "en"),
        ("stop", "en"),
        ("UNSUBSCRIBE", "en"),
        ("退订", "zh"),
        ("取消订阅", "zh"),
        # Chinese carriers' codes (回复TD退订, R拒收) are Chinese even though written in Latin letters
        ("TD", "zh"),
        ("T", "zh"),
        ("R", "zh"),
        ("【中国移动】ＳＴＯＰ", "en"),
    ],
)
def test_opt_out_as_first_message_answers_in_its_language(
    runtime, session, seeded, client, word: str, language: str
) -> None:
    text_in(client, word)
    assert bodies(session) == [expected(runtime, "opt_out_confirm", language)]
    assert contact(session).language == language
    assert contact(session).opted_out_at is not None


def test_nothing_more_is_sent_until_start(runtime, session, seeded, client) -> None:
    make_worker(session)
    text_in(client, "帮助")
    run_jobs(runtime)
    text_in(client, "退订")
    confirmation_id = outbound_to(session, PHONE)[-1].id

    text_in(client, "STOP")
    text_in(client, "帮助")
    text_in(client, "HELP")
    text_in(client, "?")
    text_in(client, "我的")
    text_in(client, "忙")
    text_in(client, "空")
    text_in(client, "hello there")  # still kept for an agent, but not answered
    text_in(client, "注册")
    text_in(client, "注册 水电工 太西 300 张三")
    with runtime.db.transaction() as tx:  # the service itself wants to text the number
        queue_sms(tx, runtime.settings, phone=PHONE, template="resumed", kind="worker.resumed")

    later = [message for message in outbound_to(session, PHONE) if message.id > confirmation_id]
    assert len(later) == 10  # every reply but the second STOP's was written, and suppressed
    assert {message.status for message in later} == {MessageStatus.SUPPRESSED}
    suppressed_ids = {message.id for message in later}
    events = session.scalars(select(OutboxEvent).where(OutboxEvent.task == "dispatch.sms.tasks.send_message"))
    assert not suppressed_ids & {event.args[0] for event in events}
    assert session.scalar(select(func.count()).select_from(Ticket).where(Ticket.phone == PHONE)) == 1

    run_jobs(runtime)
    sent = [sms.body for sms in runtime.transport.sent if sms.to == PHONE]
    assert sent == [expected(runtime, "help", "zh"), expected(runtime, "opt_out_confirm", "zh")]
    assert worker_status(session) == WorkerStatus.OPTED_OUT
    assert contact(session).opted_out_at is not None

    text_in(client, "订阅")
    assert bodies(session)[-1] == expected(runtime, "opt_in_confirm", "zh")
    assert outbound_to(session, PHONE)[-1].status == MessageStatus.PENDING
    assert contact(session).opted_out_at is None
    assert worker_status(session) == WorkerStatus.ACTIVE
    text_in(client, "帮助")
    assert outbound_to(session, PHONE)[-1].status == MessageStatus.PENDING
    run_jobs(runtime)
    sent = [sms.body for sms in runtime.transport.sent if sms.to == PHONE]
    assert sent[2:] == [expected(runtime, "opt_in_confirm", "zh"), expected(runtime, "help", "zh")]


def test_a_message_queued_before_the_opt_out_is_not_sent_after_it(runtime, session, seeded, client) -> None:
    text_in(client, "帮助")  # its reply is still waiting for the send job
    text_in(client, "退订")
    run_jobs(runtime)
    assert [sms.body for sms in runtime.transport.sent] == [expected(runtime, "opt_out_confirm", "zh")]
    assert [m.status for m in outbound_to(session, PHONE)] == [MessageStatus.SUPPRESSED, MessageStatus.SENT]


def test_registering_while_opted_out_sends_nothing_and_does_not_opt_in(runtime, session, seeded, client):
    text_in(client, "退订")
    text_in(client, "注册 水电工 太西 300 张三")
    text_in(client, "1")

    assert [m.status for m in outbound_to(session, PHONE)] == [MessageStatus.PENDING] + [
        MessageStatus.SUPPRESSED
    ] * 2
    assert worker_status(session) == WorkerStatus.OPTED_OUT  # only START/订阅 lifts an opt-out
    text_in(client, "订阅")
    assert worker_status(session) == WorkerStatus.ACTIVE


def test_opt_out_ends_a_dialogue_in_progress(runtime, session, seeded, client) -> None:
    text_in(client, "注册")
    text_in(client, "1")
    text_in(client, "T")
    text_in(client, "订阅")
    text_in(client, "太西")  # the area answer, but the dialogue is gone
    assert bodies(session)[-1] == expected(runtime, "not_understood", "zh")


@pytest.mark.parametrize("word", OPT_IN_WORDS)
def test_opt_in_word_resubscribes_a_consented_worker(runtime, session, seeded, client, word: str) -> None:
    make_worker(session)
    text_in(client, "退订")
    text_in(client, word)

    assert bodies(session) == [
        expected(runtime, "opt_out_confirm", "zh"),
        expected(runtime, "opt_in_confirm", "zh"),
    ]
    assert outbound_to(session, PHONE)[-1].kind == "opt_in.confirm"
    assert contact(session).opted_out_at is None
    assert worker_status(session) == WorkerStatus.ACTIVE


def test_opt_in_returns_a_worker_without_consent_to_pending(runtime, session, seeded, client) -> None:
    make_worker(session, status=WorkerStatus.PENDING, consent=False)
    text_in(client, "STOP")
    assert worker_status(session) == WorkerStatus.OPTED_OUT
    text_in(client, "UNSTOP")
    assert bodies(session)[-1] == expected(runtime, "opt_in_confirm", "en")
    assert worker_status(session) == WorkerStatus.PENDING


def test_cancel_in_chinese_alone_is_not_an_opt_out(runtime, session, seeded, client) -> None:
    make_worker(session)
    text_in(client, "取消")
    assert bodies(session) == [expected(runtime, "not_understood", "zh")]
    assert contact(session).opted_out_at is None
    assert worker_status(session) == WorkerStatus.ACTIVE
    ticket = session.scalar(select(Ticket).where(Ticket.phone == PHONE))
    assert ticket is not None and ticket.kind == TicketKind.UNPARSED_SMS


# -- help and language ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("word", "language"),
    [("HELP", "en"), ("help", "en"), ("帮助", "zh"), ("?", "zh"), ("？", "zh"), ("【中国联通】帮助。", "zh")],
)
def test_help_as_first_message(runtime, session, seeded, client, word: str, language: str) -> None:
    text_in(client, word)
    assert bodies(session) == [expected(runtime, "help", language)]
    message = outbound_to(session, PHONE)[0]
    assert (message.kind, message.language, message.status) == ("help", language, MessageStatus.PENDING)
    assert contact(session).language == language


def test_help_follows_the_contacts_language_not_the_words(runtime, session, seeded, client) -> None:
    text_in(client, "帮助")
    text_in(client, "HELP")
    text_in(client, "?")
    assert bodies(session) == [expected(runtime, "help", "zh")] * 3
    assert bodies(session)[0] == (
        "【潞州零工】回复：注册=登记找活；忙=暂停派活；空=恢复派活；我的=查看资料；退订=不再收短信；"
        "EN=English。接单回复 1 加岗位号，如 1 123；没拿到工钱回复 欠薪 加岗位号。"
    )


def test_en_and_chinese_switch_the_language(runtime, session, seeded, client) -> None:
    text_in(client, "帮助")
    text_in(client, "EN")
    assert contact(session).language == "en"
    text_in(client, "帮助")
    text_in(client, "中文")
    assert contact(session).language == "zh"
    text_in(client, "HELP")
    assert bodies(session) == [
        expected(runtime, "help", "zh"),
        expected(runtime, "language_set", "en"),
        expected(runtime, "help", "en"),
        expected(runtime, "language_set", "zh"),
        expected(runtime, "help", "zh"),
    ]
    assert bodies(session)[1] == "Luzhou Jobs: OK, we will text you in English. Reply HELP for help."


@pytest.mark.parametrize(("first", "language"), [("HELP", "en"), ("帮助", "zh"), ("1", "zh"), ("１", "zh")])
def test_language_follows_the_first_message(runtime, session, seeded, client, first, language) -> None:
    text_in(client, first)
    text_in(client, "随便")  # later messages do not change it
    assert contact(session).language == language
    assert bodies(session)[-1] == expected(runtime, "not_understood", language)


# -- busy, free, profile --------------------------------------------------------------------------


def test_busy_pauses_and_free_resumes_an_active_worker(runtime, session, seeded, client) -> None:
    make_worker(session)
    text_in(client, "忙")
    assert worker_status(session) == WorkerStatus.PAUSED
    assert bodies(session) == [expected(runtime, "paused", "zh")]
    text_in(client, "空")
    assert worker_status(session) == WorkerStatus.ACTIVE
    assert bodies(session)[-1] == expected(runtime, "resumed", "zh")
    assert [m.kind for m in outbound_to(session, PHONE)] == ["worker.paused", "worker.resumed"]


def test_busy_and_free_in_english(runtime, session, seeded, client) -> None:
    make_worker(session)
    text_in(client, "BUSY")
    assert worker_status(session) == WorkerStatus.PAUSED
    text_in(client, "free")
    assert worker_status(session) == WorkerStatus.ACTIVE
    assert bodies(session) == [expected(runtime, "paused", "en"), expected(runtime, "resumed", "en")]


def test_free_does_not_activate_a_worker_who_never_consented(runtime, session, seeded, client) -> None:
    make_worker(session, status=WorkerStatus.PENDING, consent=False)
    text_in(client, "空")
    assert worker_status(session) == WorkerStatus.PENDING
    assert bodies(session) == [expected(runtime, "not_active", "zh", status="pending")]
    assert "（待确认）" in bodies(session)[0]


def test_busy_does_not_touch_a_blocked_worker(runtime, session, seeded, client) -> None:
    make_worker(session, status=WorkerStatus.BLOCKED)
    text_in(client, "忙")
    text_in(client, "空")
    assert worker_status(session) == WorkerStatus.BLOCKED
    assert bodies(session)[-1] == expected(runtime, "not_active", "zh", status="blocked")


def test_profile_in_chinese(runtime, session, seeded, client) -> None:
    make_worker(session)
    text_in(client, "我的")
    assert bodies(session) == [
        expected(
            runtime,
            "profile",
            "zh",
            name="张三",
            trade_names=["水电工", "瓦工"],
            area="太行西街街道",
            pay=300,
            status="active",
        )
    ]
    assert (
        bodies(session)[0]
        == "【潞州零工】张三：水电工、瓦工；太行西街街道；日薪不低于300元；可接单。回复 注册 修改资料。"
    )


def test_profile_in_english(runtime, session, seeded, client) -> None:
    make_worker(session, name="Li Lei", status=WorkerStatus.PAUSED)
    text_in(client, "ME")
    assert bodies(session) == [
        "Luzhou Jobs: Li Lei: plumber, bricklayer; Taihang West Street; ¥300+/day; paused. "
        "Reply REG to change."
    ]


@pytest.mark.parametrize(("word", "language"), [("我的", "zh"), ("ME", "en"), ("忙", "zh"), ("FREE", "en")])
def test_worker_commands_from_an_unregistered_number(runtime, session, seeded, client, word, language):
    text_in(client, word)
    assert bodies(session) == [expected(runtime, "not_registered", language)]
    assert session.scalar(select(func.count()).select_from(Worker)) == 0
    assert session.scalar(select(func.count()).select_from(Ticket)) == 0


# -- anything else --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "language"),
    [
        ("hello there", "en"),
        ("随便", "zh"),
        ("👍🙂", "zh"),
        ("1", "zh"),
        ("取消", "zh"),
        ("明天有活吗", "zh"),
    ],
)
def test_not_understood_is_answered_and_kept_for_an_agent(runtime, session, seeded, client, body, language):
    text_in(client, body)

    assert bodies(session) == [expected(runtime, "not_understood", language)]
    assert outbound_to(session, PHONE)[0].kind == "not_understood"
    message = inbound(session)[0]
    assert message.body == body
    assert message.status == MessageStatus.UNPARSED
    tickets = list(session.scalars(select(Ticket)))
    assert len(tickets) == 1
    ticket = tickets[0]
    assert ticket.kind == TicketKind.UNPARSED_SMS
    assert ticket.status == TicketStatus.OPEN
    assert ticket.message_id == message.id
    assert ticket.phone == PHONE
    assert ticket.summary == body


def test_each_unreadable_message_gets_its_own_ticket(runtime, session, seeded, client) -> None:
    make_worker(session)
    text_in(client, "hello there")
    text_in(client, "随便", sender=OTHER)
    text_in(client, "what")
    tickets = list(session.scalars(select(Ticket).order_by(Ticket.id)))
    assert [t.phone for t in tickets] == [PHONE, OTHER, PHONE]
    worker = session.scalar(select(Worker).where(Worker.phone == PHONE))
    assert tickets[0].worker_id == worker.id
    assert tickets[0].site_id == worker.home_site_id
    assert len({t.message_id for t in tickets}) == 3
