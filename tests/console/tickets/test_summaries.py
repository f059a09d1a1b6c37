"""Machine-made tickets of the after-the-job kinds are worded in the agent's language from what they
recorded (job code, names, amounts); other tickets show the summary they were stored with."""

from __future__ import annotations

from dispatch.models import TicketKind
from tests.console.helpers import console_post
from tests.console.tickets.test_queue import add_ticket

WAGE = {
    "wage_case_id": 7,
    "job_code": "105",
    "name": "李四",
    "employer": "王老板",
    "paid": "none",
    "owed": 600,
}
FOLLOW_UP = {
    "follow_up_id": 3,
    "party": "employer",
    "reason": "unanswered",
    "job_code": "101",
    "seq": 2,
    "name": "王老板",
}
INSURANCE = {"reason": "no_name", "placed": False, "job_code": "123", "name": "+8613700000043"}


def test_the_queue_words_after_the_job_tickets_in_the_agents_language(agent_client, session):
    add_ticket(session, TicketKind.WAGE_CASE, summary="Wage case 7: stored English", details=WAGE)
    add_ticket(session, TicketKind.FOLLOW_UP, summary="101 #2: stored English", details=FOLLOW_UP)
    add_ticket(session, TicketKind.INSURANCE, summary="123: stored English", details=INSURANCE)
    add_ticket(session, TicketKind.VOICEMAIL, summary="下班后来电留言（52秒）")

    page = agent_client.get("/console/tickets/").get_data(as_text=True)
    assert "欠薪：李四说岗位105的工钱没给，欠600元（王老板）" in page
    assert "岗位101第2位工人：雇主王老板没回复评价，请打电话问" in page
    assert "岗位123：+8613700000043因日险办不成未能派工" in page
    assert "下班后来电留言（52秒）" in page  # stored words, shown as they are
    assert "stored English" not in page

    console_post(agent_client, "/console/language", {"lang": "en", "next": "/console/tickets/"})
    page = agent_client.get("/console/tickets/").get_data(as_text=True)
    assert "Wages: Li Si" not in page  # names stay as people wrote them
    assert "Wages: 李四 says job 105 was not paid, ¥600 owed (王老板)" in page
    assert "Job 101, worker 2: employer 王老板 did not rate; call and ask" in page
    assert "stored English" not in page


def test_a_ticket_without_the_words_keeps_its_stored_summary(agent_client, session):
    ticket = add_ticket(session, TicketKind.FOLLOW_UP, summary="101 #1: stored", details={"party": "worker"})
    page = agent_client.get(f"/console/tickets/{ticket.id}").get_data(as_text=True)
    assert "101 #1: stored" in page
