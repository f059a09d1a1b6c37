"""The work an agent does on a ticket of a given kind: read an unreadable SMS again, answer it, type
what a voicemail said, type a spoken name. Plain functions on a session; they flush, never commit."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from dispatch.clock import utcnow
from dispatch.console.audit import record
from dispatch.console.people.services import SmsDraft, draft_sms, send_agent_text
from dispatch.console.tickets.services import claim_ticket, open_tickets_for_job, resolve_ticket
from dispatch.db import savepoint
from dispatch.inbound.handling import handle_inbound
from dispatch.insurance.services import reenrol_worker
from dispatch.ivr.workers import set_recorded_name
from dispatch.models import Agent, Direction, Message, MessageStatus, Ticket, TicketOutcome, TicketStatus
from dispatch.quiet_hours import quiet_hours_end
from dispatch.settings import Settings

MAX_TEXT = 1000
# An agent's reading of a text this old is answered in the morning, not in quiet hours: its sender is
# no longer waiting at the phone. (A reply to a text just in always goes at once.)
REPLY_WINDOW = timedelta(minutes=10)


def hold(db: Session, agent: Agent, ticket: Ticket, remote_addr: str = "") -> None:
    """Working a ticket claims it first and keeps its row locked to the end of the request: an agent
    who lost the race is told (TicketUnavailable) with nothing done, and nobody (a filled job, a
    supervisor's release) can change the ticket between the work and its resolution."""
    db.refresh(ticket, with_for_update=True)
    if ticket.status == TicketStatus.CLAIMED and ticket.claimed_by_id == agent.id:
        return
    claim_ticket(db, agent, ticket, remote_addr)


class StillUnreadable(Exception):
    """The agent's reading was not understood either; nothing was changed."""


class NothingToDo(Exception):
    """The ticket has no message / no worker / no phone for this action."""


class DraftRefused(Exception):
    """The agent's reply was not sent (empty, or longer than an agent may send); nothing changed."""

    def __init__(self, draft: SmsDraft) -> None:
        super().__init__(str(draft.refusal))
        self.draft = draft


def reread_message(
    db: Session, settings: Settings, agent: Agent, ticket: Ticket, text: str, remote_addr: str = ""
) -> Message:
    """Handle the agent's reading of an SMS as if the person had sent it, then resolve the ticket.

    The reading is stored as its own inbound message (kind `agent_reading`, pointing at the original),
    so the conversation shows what the person wrote and what the agent took it to mean.
    """
    original = db.get(Message, ticket.message_id) if ticket.message_id else None
    text = text.strip()[:MAX_TEXT]
    if original is None or not text:
        raise NothingToDo()
    hold(db, agent, ticket, remote_addr)
    reading = Message(
        direction=Direction.INBOUND,
        phone=original.phone,
        service_address=original.service_address,
        body=text,
        status=MessageStatus.RECEIVED,
        language=original.language,
        raw={"agent_reading_of": original.id, "agent_id": agent.id},
        created_at=utcnow(),
    )
    try:
        with savepoint(db):
            db.add(reading)
            db.flush()
            handle_inbound(db, settings, reading)
            if reading.status == MessageStatus.UNPARSED:
                raise StillUnreadable()
    except StillUnreadable:
        db.expire_all()
        raise
    _hold_late_replies(db, settings, original, reading)
    reading.kind = f"agent_reading:{reading.kind}"[:48]
    record(
        db, agent, "sms.reread", original, remote_addr=remote_addr, reading=text, understood_as=reading.kind
    )
    resolve_ticket(db, agent, ticket, TicketOutcome.DONE, f"read as: {text}", remote_addr)
    return reading


def _hold_late_replies(db: Session, settings: Settings, original: Message, reading: Message) -> None:
    """Replies go at once only while the sender is plausibly waiting (REPLY_WINDOW); answering an old
    text, read by an agent hours later, must not wake anyone in quiet hours."""
    if utcnow() - original.created_at < REPLY_WINDOW:
        return
    held_until = quiet_hours_end(utcnow(), settings.quiet_hours, settings.MARKET_TIMEZONE)
    if held_until is None:
        return
    replies = db.scalars(select(Message).where(Message.in_reply_to_id == reading.id))
    for reply in replies:
        reply.send_after = held_until  # the send job sees it and waits (dispatch.sms.tasks)
    db.flush()


def reply_to_sender(
    db: Session, settings: Settings, agent: Agent, ticket: Ticket, typed: str, remote_addr: str = ""
) -> Message:
    """Answer the person behind the ticket by SMS (the agent's own words), then resolve it as replied.
    A refused draft (empty, too long) raises DraftRefused before anything changes."""
    if not ticket.phone:
        raise NothingToDo()
    draft = draft_sms(db, settings, ticket.phone, typed)
    if draft.refusal is not None:
        raise DraftRefused(draft)
    hold(db, agent, ticket, remote_addr)
    sent = send_agent_text(
        db,
        settings,
        agent,
        ticket.phone,
        typed,
        target=ticket,
        worker_id=ticket.worker_id,
        employer_id=ticket.employer_id,
        remote_addr=remote_addr,
    )
    assert isinstance(sent, Message)  # the same draft was accepted above
    resolve_ticket(db, agent, ticket, TicketOutcome.REPLIED, f"SMS: {sent.body}", remote_addr)
    return sent


def close_job_tickets(db: Session, agent: Agent, job_id: int, note: str, remote_addr: str = "") -> int:
    """A cancelled job leaves nothing to rescue: its open tickets are resolved, whoever held them."""
    closed = 0
    for ticket in open_tickets_for_job(db, job_id):
        ticket.status, ticket.outcome = TicketStatus.RESOLVED, TicketOutcome.JOB_CLOSED.value
        ticket.resolution, ticket.resolved_by_id, ticket.resolved_at = note[:4000], agent.id, utcnow()
        record(db, agent, "ticket.resolve", ticket, note=note, remote_addr=remote_addr, outcome="job_closed")
        closed += 1
    db.flush()
    return closed


def save_transcript(db: Session, agent: Agent, ticket: Ticket, text: str, remote_addr: str = "") -> None:
    """What a voicemail or call said, typed by the agent who listened to it."""
    hold(db, agent, ticket, remote_addr)
    ticket.details = {**ticket.details, "transcript": text.strip()[:MAX_TEXT]}
    record(
        db, agent, "ticket.transcript", ticket, remote_addr=remote_addr, transcript=text.strip()[:MAX_TEXT]
    )
    db.flush()


def type_recorded_name(
    db: Session, settings: Settings, agent: Agent, ticket: Ticket, name: str, remote_addr: str = ""
) -> None:
    """The name a worker spoke when registering by phone (or the full name the insurer needs), typed by
    the agent; the days the insurer refused for want of it are enrolled again; resolves the ticket."""
    name = name.strip()
    if not name or ticket.worker_id is None:
        raise NothingToDo()
    hold(db, agent, ticket, remote_addr)
    worker = set_recorded_name(db, ticket, name)
    if worker is None:
        raise NothingToDo()
    reenrolled = reenrol_worker(db, settings, worker, utcnow())
    record(db, agent, "worker.name", worker, remote_addr=remote_addr, name=worker.name, reenrolled=reenrolled)
    resolve_ticket(db, agent, ticket, TicketOutcome.DONE, f"name typed: {worker.name}", remote_addr)
