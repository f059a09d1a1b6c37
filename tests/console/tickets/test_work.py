"""Working a ticket of each kind: re-read an unreadable SMS, type a voicemail, type a spoken name."""

from __future__ import annotations

from datetime import date, time, timedelta

from sqlalchemy import select

from dispatch.jobs.services import JobRequest, create_job
from dispatch.models import (
    AuditEvent,
    Direction,
    Employer,
    EmployerStatus,
    JobSource,
    Message,
    RegisteredVia,
    Site,
    Ticket,
    TicketKind,
    TicketStatus,
    Trade,
    Worker,
)
from tests.console.helpers import console_post
from tests.console.tickets.test_queue import add_ticket
from tests.helpers import last_reply, outbound_to, text_in

PHONE = "+8613700000011"


def unreadable_ticket(client, session) -> Ticket:
    text_in(client, "帮帮我哦哦哦", PHONE)
    return session.scalar(select(Ticket).where(Ticket.phone == PHONE, Ticket.kind == TicketKind.UNPARSED_SMS))


def test_an_agent_reading_is_handled_like_the_sender_wrote_it(agent_client, client, session, agent):
    ticket = unreadable_ticket(client, session)
    page = agent_client.get(f"/console/tickets/{ticket.id}").get_data(as_text=True)
    assert "帮帮我哦哦哦" in page
    before = last_reply(session, PHONE).id
    response = console_post(agent_client, f"/console/tickets/{ticket.id}/reread", {"text": "帮助"})
    assert response.status_code == 302
    session.expire_all()
    assert last_reply(session, PHONE).kind == "help" and last_reply(session, PHONE).id != before
    reading = session.scalar(
        select(Message).where(
            Message.direction == Direction.INBOUND, Message.body == "帮助", Message.phone == PHONE
        )
    )
    assert reading.raw["agent_reading_of"] == ticket.message_id and reading.kind == "agent_reading:help"
    assert (ticket.status, ticket.outcome) == (TicketStatus.RESOLVED, "done")
    assert session.scalar(select(AuditEvent.action).where(AuditEvent.action == "sms.reread")) == "sms.reread"


def test_a_reading_the_service_cannot_read_either_changes_nothing(agent_client, client, session):
    ticket = unreadable_ticket(client, session)
    tickets_before = session.scalars(select(Ticket.id)).all()
    response = console_post(
        agent_client, f"/console/tickets/{ticket.id}/reread", {"text": "still nonsense xyz"}
    )
    assert response.status_code == 422
    assert "仍然看不懂" in response.get_data(as_text=True)
    session.expire_all()
    assert session.scalars(select(Ticket.id)).all() == tickets_before  # no second ticket
    assert session.scalar(select(Message.id).where(Message.body == "still nonsense xyz")) is None
    assert session.get(Ticket, ticket.id).status == TicketStatus.OPEN  # not even claimed


def test_voicemail_shows_the_recording_keeps_the_transcript_and_links_to_the_forms(agent_client, session):
    url = "https://api.twilio.com/2010-04-01/Accounts/AC1/Recordings/RE1"
    ticket = add_ticket(session, TicketKind.VOICEMAIL, details={"voicemail_recording_url": url})
    page = agent_client.get(f"/console/tickets/{ticket.id}").get_data(as_text=True)
    assert f'src="{url}"' in page
    assert (
        f"/console/intake/job?ticket={ticket.id}" in page
        and f"/console/intake/worker?ticket={ticket.id}" in page
    )
    console_post(agent_client, f"/console/tickets/{ticket.id}/transcript", {"transcript": "明天要两个搬运工"})
    session.refresh(ticket)
    assert ticket.details["transcript"] == "明天要两个搬运工"
    assert ticket.details["voicemail_recording_url"] == url


def test_typing_a_spoken_name_names_the_worker_and_resolves(agent_client, session, agent):
    worker = Worker(phone="+8613700000012", registered_via=RegisteredVia.IVR)
    session.add(worker)
    session.flush()
    ticket = add_ticket(
        session, TicketKind.RECORDED_NAME, worker_id=worker.id, details={"name_recording_url": "u"}
    )
    assert console_post(agent_client, f"/console/tickets/{ticket.id}/name", {"name": "  "}).status_code == 400
    assert (
        console_post(agent_client, f"/console/tickets/{ticket.id}/name", {"name": "李四"}).status_code == 302
    )
    session.refresh(worker)
    session.refresh(ticket)
    assert worker.name == "李四"
    assert (ticket.status, ticket.resolution, ticket.resolved_by_id) == (
        TicketStatus.RESOLVED,
        "name typed: 李四",
        agent.id,
    )


def test_unfilled_job_ticket_links_to_the_job(agent_client, session):
    ticket = add_ticket(session, TicketKind.UNFILLED_JOB)
    page = agent_client.get(f"/console/tickets/{ticket.id}").get_data(as_text=True)
    assert "岗位招不满" in page


def test_reply_to_an_unreadable_sms_goes_through_the_outbound_path(agent_client, client, session, agent):
    ticket = unreadable_ticket(client, session)
    assert console_post(agent_client, f"/console/tickets/{ticket.id}/reply", {"text": " "}).status_code == 422
    response = console_post(
        agent_client, f"/console/tickets/{ticket.id}/reply", {"text": "您好，请回复1 加岗位号接活"}
    )
    assert response.status_code == 302
    reply = last_reply(session, PHONE)
    assert reply.kind == "agent.text" and "请回复1 加岗位号接活" in reply.body
    session.refresh(ticket)
    assert (ticket.status, ticket.outcome) == (TicketStatus.RESOLVED, "replied")


def test_reply_to_an_opted_out_number_is_not_sent(agent_client, client, session):
    ticket = unreadable_ticket(client, session)
    text_in(client, "退订", PHONE)
    response = console_post(agent_client, f"/console/tickets/{ticket.id}/reply", {"text": "还需要工作吗"})
    assert response.status_code == 302
    reply = last_reply(session, PHONE)
    assert reply.kind == "agent.text" and reply.status.value == "suppressed"
    assert "未发送" in agent_client.get("/console/tickets/").get_data(as_text=True)


def test_cancelling_a_job_resolves_its_unfilled_ticket(agent_client, session, agent):
    site = session.scalar(select(Site).where(Site.code == "LZ-TX"))
    trade = (
        session.scalar(select(Trade).where(Trade.code == "plumber")) or session.scalars(select(Trade)).first()
    )
    employer = Employer(phone="+8613600000099", name="王老板", site_id=site.id, status=EmployerStatus.ACTIVE)
    session.add(employer)
    session.flush()
    request = JobRequest(
        trade_id=trade.id,
        headcount=1,
        work_date=date.today() + timedelta(days=1),
        start_time=time(8),
        days=1,
        daily_pay=300,
        site_id=site.id,
    )
    job = create_job(session, employer, request, source=JobSource.AGENT)
    ticket = add_ticket(session, TicketKind.UNFILLED_JOB, site="LZ-TX", job_id=job.id)
    page = agent_client.get(f"/console/tickets/{ticket.id}").get_data(as_text=True)
    assert f"/console/jobs/{job.id}" in page
    assert (
        console_post(agent_client, f"/console/jobs/{job.id}/cancel", {"note": "老板不要了"}).status_code
        == 302
    )
    session.refresh(ticket)
    assert (ticket.status, ticket.outcome, ticket.resolved_by_id) == (
        TicketStatus.RESOLVED,
        "job_closed",
        agent.id,
    )


def test_a_reply_to_a_ticket_resolved_meanwhile_sends_nothing(app, agent_client, client, session, agent):
    ticket = unreadable_ticket(client, session)
    console_post(agent_client, f"/console/tickets/{ticket.id}/claim")
    ticket.status, ticket.outcome = TicketStatus.RESOLVED, "not_needed"  # e.g. a supervisor, elsewhere
    session.commit()
    before = len(outbound_to(session, PHONE))
    response = console_post(agent_client, f"/console/tickets/{ticket.id}/reply", {"text": "您好"})
    assert response.status_code == 409
    assert len(outbound_to(session, PHONE)) == before
    assert session.scalar(select(AuditEvent.id).where(AuditEvent.action == "sms.send")) is None
