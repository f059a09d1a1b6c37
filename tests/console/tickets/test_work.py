"""Working a ticket of each kind: re-read an unreadable SMS, type a voicemail, type a spoken name."""

from __future__ import annotations

from sqlalchemy import select

from dispatch.models import AuditEvent, Direction, Message, Ticket, TicketKind, TicketStatus, Worker
from tests.console.helpers import console_post
from tests.console.tickets.test_queue import add_ticket
from tests.helpers import last_reply, text_in

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
    assert session.get(Ticket, ticket.id).status == TicketStatus.OPEN


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
    from dispatch.models import RegisteredVia

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
