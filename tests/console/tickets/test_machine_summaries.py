"""The Chinese console shows no machine-made summary in English: every summary a machine writes, and
the tickets real texts and calls leave, are worded in Chinese on the queue and on the ticket page."""

from __future__ import annotations

import html
import re

import pytest
from sqlalchemy import select

from dispatch.models import Call, Employer, Site, Ticket, TicketKind, Trade
from dispatch.tickets.services import open_ticket
from dispatch.tickets.summaries import KEYS
from tests.console.helpers import console_post
from tests.helpers import text_in
from tests.tickets.test_summaries import CJK, ENGLISH_WORDS, sample

SUMMARY_CELL = re.compile(r'<a href="/console/tickets/(\d+)">(.*?)</a></td>', re.S)
KIND_BY_PREFIX = {
    "unfilled_": TicketKind.UNFILLED_JOB,
    "held_job_": TicketKind.HELD_JOB,
    "insurance_": TicketKind.INSURANCE,
    "follow_up_": TicketKind.FOLLOW_UP,
    "wage_case_": TicketKind.WAGE_CASE,
    "job_request_": TicketKind.UNPARSED_SMS,
    "registration_stuck": TicketKind.UNPARSED_SMS,
    "call_back_": TicketKind.CALL_BACK,
    "recorded_name": TicketKind.RECORDED_NAME,
}


def kind_of(key: str) -> TicketKind:
    return next(
        (kind for prefix, kind in KIND_BY_PREFIX.items() if key.startswith(prefix)), TicketKind.AGENT_CALL
    )


def summaries_on_the_queue(client) -> dict[int, str]:
    page = client.get("/console/tickets/").get_data(as_text=True)
    return {int(ticket_id): html.unescape(text).strip() for ticket_id, text in SUMMARY_CELL.findall(page)}


@pytest.fixture
def every_summary(session, seeded) -> dict[int, str]:
    """A ticket of every machine-made summary, each with an English audit copy that must not show."""
    made = {}
    for key in sorted(KEYS):
        ticket = open_ticket(session, kind_of(key), summary=sample(key), text=f"stored English for {key}")
        made[ticket.id] = key
    session.commit()
    return made


def test_the_chinese_queue_shows_no_machine_made_summary_in_english(agent_client, session, every_summary):
    shown = summaries_on_the_queue(agent_client)
    assert set(every_summary) <= set(shown)
    for ticket_id, key in every_summary.items():
        words = shown[ticket_id]
        assert CJK.search(words) and not ENGLISH_WORDS.search(words), (key, words)
        assert "stored English" not in words
    assert [words for words in shown.values() if words.isascii()] == []  # no ASCII-only summary at all


def test_the_ticket_page_words_the_summary_in_the_agents_language(agent_client, session, every_summary):
    ticket_id = next(ticket_id for ticket_id, key in every_summary.items() if key == "call_back_part_way")
    page = agent_client.get(f"/console/tickets/{ticket_id}").get_data(as_text=True)
    assert "电话招工中途挂断（停在“人数”），请回拨" in page and "stored English" not in page
    console_post(agent_client, "/console/language", {"lang": "en"})
    page = html.unescape(agent_client.get(f"/console/tickets/{ticket_id}").get_data(as_text=True))
    assert "Job request by phone: hung up at “headcount”; call back" in page


def test_tickets_that_real_texts_leave_are_worded_in_chinese(agent_client, client, session, seeded):
    town = session.scalar(select(Site.id).where(Site.code == "LZ-TX"))
    session.add(Employer(phone="+8613700137000", name="王师傅", site_id=town))
    session.commit()
    text_in(client, "招 人 快点", sender="+8613700137000")  # a job request missing its trade, date, pay
    [ticket] = session.scalars(select(Ticket).where(Ticket.phone == "+8613700137000"))
    assert "missing trade, date, pay" in ticket.summary  # the audit copy keeps the plain words
    shown = summaries_on_the_queue(agent_client)
    assert shown[ticket.id] == "招工短信没能登记，缺工种、日期、日薪：招 人 快点"


def test_a_call_ticket_page_names_the_flow_the_step_and_the_answers_in_the_agents_language(
    agent_client, session, seeded
):
    porter = session.scalar(select(Trade).where(Trade.code == "porter"))
    call = Call(call_sid="CA" + "7" * 32, phone="+8613700137000", flow="job", step="hour", answers={})
    call.answers = {"trade": porter.id, "headcount": 10}
    session.add(call)
    session.flush()
    ticket = open_ticket(session, TicketKind.CALL_BACK, call=call, text="hung up during job at hour")
    session.commit()
    page = agent_client.get(f"/console/tickets/{ticket.id}").get_data(as_text=True)
    assert "来电流程：电话招工，停在：开工时间" in page and "搬运" in page
    console_post(agent_client, "/console/language", {"lang": "en"})
    page = agent_client.get(f"/console/tickets/{ticket.id}").get_data(as_text=True)
    assert "Call flow: Job request by phone, stopped at: start time" in page and porter.name_en in page
