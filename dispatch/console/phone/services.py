"""What the softphone's views read: the number to dial (found here from a row the agent may see, never
sent by the browser), the call-back list in queue order, and the phone bar's state."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from flask import abort
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from dispatch.console.access import require_visible, site_filter, visible_row
from dispatch.models import (
    Agent,
    AgentCall,
    AgentPresence,
    Employer,
    Job,
    Presence,
    QueuedCall,
    Site,
    Ticket,
    TicketKind,
    TicketStatus,
    Trade,
    Worker,
)

# The form fields a call button may send: which row to call about (one of them).
DIAL_FIELDS = ("ticket_id", "worker_id", "employer_id", "job_id")


class NothingToDial(ValueError):
    """The row has no phone number on record."""


@dataclass(frozen=True)
class DialTarget:
    """Whom to call and what about: the keyword arguments of calls.start_outbound."""

    phone: str
    ticket_id: int | None = None
    worker_id: int | None = None
    employer_id: int | None = None
    job_id: int | None = None

    def links(self) -> dict[str, int | None]:
        return {
            "ticket_id": self.ticket_id,
            "worker_id": self.worker_id,
            "employer_id": self.employer_id,
            "job_id": self.job_id,
        }


def dial_target(db: Session, agent: Agent, field: str, row_id: int) -> DialTarget:
    """The number behind a ticket, worker, employer or job the agent may see (404 otherwise)."""
    if field == "ticket_id":
        ticket = visible_row(db, agent, Ticket, row_id)
        worker = db.get(Worker, ticket.worker_id) if ticket.worker_id else None
        employer = db.get(Employer, ticket.employer_id) if ticket.employer_id else None
        phone = ticket.phone or (worker.phone if worker else "") or (employer.phone if employer else "")
        target = DialTarget(phone, ticket.id, ticket.worker_id, ticket.employer_id, ticket.job_id)
    elif field == "worker_id":
        worker = _person(db, agent, Worker, row_id)
        target = DialTarget(worker.phone, worker_id=worker.id)
    elif field == "employer_id":
        employer = _person(db, agent, Employer, row_id)
        target = DialTarget(employer.phone, employer_id=employer.id)
    else:
        job = visible_row(db, agent, Job, row_id)
        # About a job the one to call is its employer (a worker is called from their own page).
        target = DialTarget(job.employer.phone, employer_id=job.employer_id, job_id=job.id)
    if not target.phone:
        raise NothingToDial(field)
    return target


def _person(db: Session, agent: Agent, model: type[Worker] | type[Employer], row_id: int) -> Any:
    person = db.get(Worker, row_id) if model is Worker else db.get(Employer, row_id)
    if person is None:
        abort(404)
    require_visible(db, agent, person.home_site_id if isinstance(person, Worker) else person.site_id)
    return person


@dataclass(frozen=True)
class CallBackRow:
    ticket: Ticket
    queued_at: datetime  # when the caller first joined the queue: the list keeps that order
    attempts: int
    last_attempt: AgentCall | None


def call_backs(db: Session, agent: Agent) -> list[CallBackRow]:
    """Open call-back tickets the agent may see, in the order their callers had queued (a caller who
    pressed the call-back key keeps their place), with the attempts made so far."""
    first_queued = (
        select(QueuedCall.ticket_id, func.min(QueuedCall.queued_at).label("queued_at"))
        .where(QueuedCall.ticket_id.is_not(None))
        .group_by(QueuedCall.ticket_id)
        .subquery()
    )
    since = func.coalesce(first_queued.c.queued_at, Ticket.created_at)
    rows = db.execute(
        select(Ticket, since)
        .outerjoin(first_queued, first_queued.c.ticket_id == Ticket.id)
        .where(
            Ticket.kind == TicketKind.CALL_BACK,
            Ticket.status != TicketStatus.RESOLVED,
            site_filter(db, agent, Ticket.site_id),
        )
        .order_by(since, Ticket.id)
    ).all()
    tickets = [ticket for ticket, _ in rows]
    attempts = _attempts(db, [ticket.id for ticket in tickets])
    return [
        CallBackRow(ticket, queued_at, len(attempts.get(ticket.id, [])), _last(attempts.get(ticket.id)))
        for ticket, queued_at in rows
    ]


def _attempts(db: Session, ticket_ids: list[int]) -> dict[int, list[AgentCall]]:
    found: dict[int, list[AgentCall]] = {}
    if not ticket_ids:
        return found
    query = select(AgentCall).where(AgentCall.ticket_id.in_(ticket_ids)).order_by(AgentCall.started_at)
    for call in db.scalars(query):
        found.setdefault(call.ticket_id or 0, []).append(call)
    return found


def _last(calls: list[AgentCall] | None) -> AgentCall | None:
    return calls[-1] if calls else None


@dataclass(frozen=True)
class PhoneState:
    """What the phone bar shows; read only (a page view must not create a presence row)."""

    status: Presence
    agent_call_id: int | None
    changed_at: datetime | None


def phone_state(db: Session, agent: Agent) -> PhoneState:
    row = db.get(AgentPresence, agent.id)
    if row is None:
        return PhoneState(Presence.AWAY, None, None)
    return PhoneState(row.status, row.agent_call_id, row.changed_at)


def named_answers(db: Session, answers: dict[str, Any], language: str) -> list[tuple[str, Any]]:
    """(key, value) of what the IVR collected, a trade or a site named rather than its id (the caller's
    words and keys are shown as they were stored)."""
    shown: list[tuple[str, Any]] = []
    for key, value in (answers or {}).items():
        named: Site | Trade | None = None
        text = str(value)
        if key in ("trade", "site") and text.isdigit() and len(text) < 10:
            named = db.get(Trade, int(text)) if key == "trade" else db.get(Site, int(text))
        shown.append((key, named.name(language) if named is not None else value))
    return shown
