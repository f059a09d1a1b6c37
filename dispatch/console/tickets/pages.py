"""What the ticket page shows: the ticket with everything it points at, and the texts of refusals."""

from __future__ import annotations

from typing import Any

from flask import render_template
from sqlalchemy import select
from sqlalchemy.orm import Session

from dispatch.console.canned.services import replies_for
from dispatch.console.i18n import current_language, translate
from dispatch.models import (
    Agent,
    Call,
    Contact,
    Employer,
    Job,
    Message,
    Site,
    Ticket,
    TicketOutcome,
    TicketStatus,
    Trade,
    Worker,
)


def render_ticket(db: Session, agent: Agent, ticket: Ticket, status: int = 200, error: str = ""):
    message = db.get(Message, ticket.message_id) if ticket.message_id else None
    worker = db.get(Worker, ticket.worker_id) if ticket.worker_id else None
    employer = db.get(Employer, ticket.employer_id) if ticket.employer_id else None
    call = db.scalar(select(Call).where(Call.call_sid == ticket.call_sid)) if ticket.call_sid else None
    return render_template(
        "console/tickets/ticket.html",
        ticket=ticket,
        message=message,
        worker=worker,
        employer=employer,
        job=db.get(Job, ticket.job_id) if ticket.job_id else None,
        call=call,
        recordings=recordings(ticket, call),
        collected=collected(db, ticket),
        outcomes=list(TicketOutcome),
        holds_it=ticket.status == TicketStatus.CLAIMED and ticket.claimed_by_id == agent.id,
        error=error,
        canned=replies_for(db, str(ticket.kind)),
        reply_language=_their_language(db, ticket),
    ), status


def _their_language(db: Session, ticket: Ticket) -> str:
    """The language a canned reply is inserted in: the one the number texts in, Chinese when unknown."""
    language = (
        db.scalar(select(Contact.language).where(Contact.phone == ticket.phone)) if ticket.phone else None
    )
    return "en" if language == "en" else "zh"


def recordings(ticket: Ticket, call: Call | None) -> list[tuple[str, str]]:
    """(what, url) of every recording the ticket or its call holds: voicemail, name, description."""
    found = [
        (key.removesuffix("_recording_url"), value)
        for key, value in sorted(ticket.details.items())
        if key.endswith("_recording_url") and isinstance(value, str)
    ]
    if call is not None and call.recording_url and all(url != call.recording_url for _, url in found):
        found.append(("voicemail", call.recording_url))
    return found


def collected(db: Session, ticket: Ticket) -> list[tuple[str, Any]]:
    """(key, value) of what a call collected; a trade or a place is named in the agent's language
    (the ticket's `readable` copy has the Chinese names only)."""
    details = ticket.details or {}
    answers = details.get("answers") or details.get("readable") or {}
    language = current_language()
    shown: list[tuple[str, Any]] = []
    for key, value in answers.items():
        named = _named(db, key, value)
        shown.append((key, named.name(language) if named is not None else value))
    return shown


def _named(db: Session, key: str, value: Any) -> Site | Trade | None:
    """The trade or the site an answer holds the id of (None for any other answer)."""
    if key not in ("trade", "site") or not str(value).isdigit() or len(str(value)) >= 10:
        return None
    return db.get(Trade, int(value)) if key == "trade" else db.get(Site, int(value))


def may_work(agent: Agent, ticket: Ticket) -> bool:
    """Work on a ticket needs it open (claimed by the same stroke) or held by this agent."""
    return ticket.status == TicketStatus.OPEN or (
        ticket.status == TicketStatus.CLAIMED and ticket.claimed_by_id == agent.id
    )


def unavailable_text(ticket: Ticket) -> str:
    if ticket.status == TicketStatus.RESOLVED:
        return translate("tickets.already_resolved")
    holder = ticket.claimed_by.label if ticket.claimed_by else "?"
    return translate("tickets.claimed_by_other", agent=holder)
