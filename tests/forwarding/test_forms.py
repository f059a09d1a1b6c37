"""The ways a forward is typed (`转`, `转给`, `转发`, `FWD`, glued, full-width, a number in groups or with
+86), English forwarders and friends, quiet hours for the friend's text, and the agent's job page."""

from __future__ import annotations

from datetime import datetime

import pytest
from sqlalchemy import select

from dispatch.matching.forwarding import Forward, read_forward
from dispatch.models import Contact, ForwardOutcome, Message, OfferStatus
from dispatch.phones import display
from dispatch.sms.parser import parse
from tests.console.conftest import signed_in
from tests.console.helpers import make_agent
from tests.factories import SHANGHAI, Market, commit
from tests.forwarding.conftest import forwards, national, offer_of, offered
from tests.helpers import last_reply, outbound_to, run_jobs, text_in

UNKNOWN = "+8613912345678"
WIDE = str.maketrans("0123456789", "０１２３４５６７８９")


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("转 123 13912345678", Forward("123", "13912345678")),
        ("转给 123 139 1234 5678", Forward("123", "13912345678")),
        ("转发 123 +86 139-1234-5678", Forward("123", "+8613912345678")),
        ("FWD 123 13912345678", Forward("123", "13912345678")),
        ("fwd 123 +8613912345678", Forward("123", "+8613912345678")),
        ("Fwd 123 8613912345678", Forward("123", "8613912345678")),
        ("转123 13912345678", Forward("123", "13912345678")),  # glued
        ("转给123，13912345678。", Forward("123", "13912345678")),
        ("转　１２３　１３９１２３４５６７８", Forward("123", "13912345678")),  # full-width
        ("【中国移动】转 一二三 13912345678", Forward("123", "13912345678")),  # Chinese numerals, a signature
        ("转 13912345678 123", Forward("123", "13912345678")),  # the number typed first
        ("转 123", Forward("123", None)),  # no number: the answer says how
    ],
)
def test_forward_forms_are_read(raw: str, expected: Forward) -> None:
    assert read_forward(parse(raw).text) == expected


@pytest.mark.parametrize(
    "raw",
    [
        "转",
        "FWD",
        "转账 100",
        "转 水电工",
        "转 12 13912345678",
        "1 123",
        "转正",
        "fwd abc",
        "forward 123 13912345678",
    ],
)
def test_other_texts_are_not_forwards(raw: str) -> None:
    assert read_forward(parse(raw).text) is None


@pytest.mark.parametrize(
    "form",
    [
        "转 {code} {number}",
        "转给 {code} {spaced}",
        "转发{code} +86 {dashed}",
        "FWD {code} {number}",
        "转　{wide_code}　{wide_number}",
        "转 {number} {code}",
    ],
)
def test_every_form_passes_the_offer_on(runtime, session, client, market: Market, form: str):
    forwarder = market.worker(name="张三", language="zh")
    job = offered(runtime, session, market, forwarder)
    number = national(UNKNOWN)
    text = form.format(
        code=job.code,
        number=number,
        spaced=f"{number[:3]} {number[3:7]} {number[7:]}",
        dashed=f"{number[:3]}-{number[3:7]}-{number[7:]}",
        wide_code=job.code.translate(WIDE),
        wide_number=number.translate(WIDE),
    )

    text_in(client, text, sender=forwarder.phone)
    run_jobs(runtime)

    assert [(f.outcome, f.to_phone) for f in forwards(session)] == [(ForwardOutcome.INVITED, UNKNOWN)]
    assert [m.kind for m in outbound_to(session, UNKNOWN)] == ["forward.invite"]
    assert last_reply(session, forwarder.phone).kind == "forward.done"


def test_fwd_in_english(runtime, session, client, market: Market):
    forwarder = market.worker(name="Li Wei", language="en")
    job, second = offered(runtime, session, market, forwarder), offered(runtime, session, market, forwarder)
    friend_zh = market.worker(name="李四")  # registered after both waves: offered neither
    commit(runtime, session)

    text_in(client, f"FWD {job.code} 12345", sender=forwarder.phone)
    assert last_reply(session, forwarder.phone).body == (
        f"Luzhou Jobs: 12345 is not a mobile number; nothing was sent. "
        f"Your offer stays open: reply 1 {job.code} to take it."
    )
    text_in(client, f"fwd {job.code} {national(friend_zh.phone)}", sender=forwarder.phone)
    assert last_reply(session, forwarder.phone).body == (
        f"Luzhou Jobs: Job {job.code} is passed on to {display(friend_zh.phone)}. "
        "Your offer is closed. Thanks!"
    )
    assert outbound_to(session, friend_zh.phone)[-1].body.startswith("【潞州零工】您的朋友Li Wei（")

    text_in(client, f"FWD {second.code} +86 {national(UNKNOWN)}", sender=forwarder.phone)
    run_jobs(runtime)
    assert last_reply(session, forwarder.phone).body == (
        f"Luzhou Jobs: Job {second.code} is passed on to {display(UNKNOWN)}, with an invitation to sign up "
        "first. Your offer is closed. Thanks!"
    )
    # A new number reads the language of the friend who passed the job on.
    assert session.scalar(select(Contact.language).where(Contact.phone == UNKNOWN)) == "en"
    assert outbound_to(session, UNKNOWN)[-1].body == (
        f"Luzhou Jobs: {display(forwarder.phone)} suggests: plumber, tomorrow 8:00, ¥300/day, "
        "Taihang West Street. Join: REG trade area pay name. STOP=quit"
    )


def test_an_english_friend_gets_the_english_offer(runtime, session, client, market: Market):
    forwarder = market.worker(name="张三", language="zh")
    job = offered(runtime, session, market, forwarder)
    friend = market.worker(name="Wang", language="en")
    commit(runtime, session)

    text_in(client, f"转 {job.code} {national(friend.phone)}", sender=forwarder.phone)

    assert outbound_to(session, friend.phone)[-1].body == (
        f"Luzhou Jobs: From {display(forwarder.phone)}: plumber, tomorrow 8:00, 1d, ¥300/day, "
        f"Taihang West Street. Reply 1 {job.code} = yes, 2 {job.code} = no"
    )


@pytest.mark.parametrize("settings_overrides", [{"QUIET_HOURS": "21:00-08:00"}])
def test_the_friends_text_waits_for_morning_but_the_answer_does_not(
    runtime, session, client, market: Market, clock
):
    clock.move_to(datetime(2026, 12, 1, 22, 30, tzinfo=SHANGHAI))
    forwarder = market.worker(name="张三", language="zh")
    job = offered(runtime, session, market, forwarder, work_date=datetime(2026, 12, 3).date())
    friend = market.worker(name="李四")
    commit(runtime, session)

    text_in(client, f"转 {job.code} {national(friend.phone)}", sender=forwarder.phone)

    morning = datetime(2026, 12, 2, 8, 0, tzinfo=SHANGHAI)
    [to_friend] = outbound_to(session, friend.phone)
    assert to_friend.send_after == morning and not to_friend.is_reply
    assert offer_of(session, job, friend).sent_at == morning
    answer = last_reply(session, forwarder.phone)
    assert answer.kind == "forward.done" and answer.send_after is None and answer.is_reply


def test_the_job_page_shows_an_offer_passed_on(runtime, session, client, app, market: Market):
    forwarder = market.worker(name="张三", language="zh")
    job = offered(runtime, session, market, forwarder)
    friend = market.worker(name="李四")
    commit(runtime, session)
    text_in(client, f"转 {job.code} {national(friend.phone)}", sender=forwarder.phone)
    assert offer_of(session, job, friend).status == OfferStatus.SENT
    agent_client = signed_in(app, make_agent(session, "district1", "agent", "LZ"))

    page = agent_client.get(f"/console/jobs/{job.id}").get_data(as_text=True)

    assert page.count("朋友转来") == 1  # the friend's offer, badged; the forwarder's is a plain no
    assert session.scalar(select(Message.kind).where(Message.phone == friend.phone)) == "offer.forwarded"


def test_the_job_page_lists_the_forwards_with_the_reasons_the_forwarder_was_not_told(
    runtime, session, client, app, market: Market
):
    """Agents see what became of each `转`: the offer that went, and a refusal's real reason (the
    forwarder only heard that it could not be passed on)."""
    forwarder = market.worker(name="张三", language="zh")
    job = offered(runtime, session, market, forwarder)
    friend = market.worker(name="李四")
    wrong_trade = market.worker(name="王五", trades=("cleaner",))
    commit(runtime, session)
    text_in(client, f"转 {job.code} {national(wrong_trade.phone)}", sender=forwarder.phone)
    text_in(client, f"转 {job.code} {national(friend.phone)}", sender=forwarder.phone)
    agent_client = signed_in(app, make_agent(session, "district1", "agent", "LZ"))

    page = agent_client.get(f"/console/jobs/{job.id}").get_data(as_text=True)
    section = page[page.index('id="forwards"') :]
    assert "转给朋友" in section
    assert "未转：对方不符合条件" in section and "不做这个工种" in section
    assert "已把邀请发给对方" in section
    assert section.index("不做这个工种") < section.index("已把邀请发给对方")  # in the order they came
