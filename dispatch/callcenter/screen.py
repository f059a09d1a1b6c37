"""The screen pop: who is on the line, what the voice menu collected, and what they have going on.

Opened with the call. Jobs and tickets are those the agent may open (dispatch/console/access.py): a
link the agent cannot follow would only 404.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from dispatch.console.access import site_filter
from dispatch.models import (
    ACTIVE_JOB_STATUSES,
    AgentCall,
    Call,
    Employer,
    Job,
    Offer,
    OfferStatus,
    QueuedCall,
    Site,
    Ticket,
    TicketStatus,
    Trade,
    Worker,
)

MAX_LISTED = 20
# A worker's offers worth a word on the phone: waiting for an answer, taken, or first in line.
LIVE_OFFERS = (OfferStatus.QUEUED, OfferStatus.SENT, OfferStatus.ACCEPTED, OfferStatus.STANDBY)


@dataclass
class ScreenPop:
    agent_call: AgentCall
    call: Call | None
    ivr_answers: dict[str, Any]
    worker: Worker | None
    employer: Employer | None
    jobs: list[Job] = field(default_factory=list)
    offers: list[Offer] = field(default_factory=list)
    tickets: list[Ticket] = field(default_factory=list)
    # ivr_answers with trade and site ids named (Chinese names, as the ticket page shows them).
    ivr_readable: dict[str, Any] = field(default_factory=dict)
    queued: QueuedCall | None = None
    ticket: Ticket | None = None  # the call's own ticket


def screen_pop(session: Session, agent_call: AgentCall) -> ScreenPop:
    """Everything the agent needs on screen when the call connects."""
    queued = session.get(QueuedCall, agent_call.queued_call_id) if agent_call.queued_call_id else None
    ticket = session.get(Ticket, agent_call.ticket_id) if agent_call.ticket_id else None
    call = session.get(Call, queued.call_id) if queued is not None else None
    if call is None and ticket is not None and ticket.call_sid:
        call = session.scalar(select(Call).where(Call.call_sid == ticket.call_sid))
    worker = session.get(Worker, agent_call.worker_id) if agent_call.worker_id else None
    employer = session.get(Employer, agent_call.employer_id) if agent_call.employer_id else None
    if worker is None and employer is None and agent_call.phone:
        worker = session.scalar(select(Worker).where(Worker.phone == agent_call.phone))
        employer = session.scalar(select(Employer).where(Employer.phone == agent_call.phone))
    answers = {k: v for k, v in (call.answers if call is not None else {}).items() if not k.startswith("_")}
    agent = agent_call.agent
    offers = _offers(session, worker)
    return ScreenPop(
        agent_call=agent_call,
        call=call,
        ivr_answers=answers,
        ivr_readable=_readable(session, answers),
        worker=worker,
        employer=employer,
        jobs=_jobs(session, agent, employer, offers, agent_call.job_id),
        offers=offers,
        tickets=_tickets(session, agent, worker, employer, agent_call.phone),
        queued=queued,
        ticket=ticket,
    )


def _readable(session: Session, answers: dict[str, Any]) -> dict[str, Any]:
    readable = dict(answers)
    for key in ("trade", "site"):
        raw = answers.get(key)
        if isinstance(raw, int | str) and str(raw).isdigit():
            row = session.get(Trade, int(raw)) if key == "trade" else session.get(Site, int(raw))
            if row is not None:
                readable[key] = row.name_zh
    return readable


def _offers(session: Session, worker: Worker | None) -> list[Offer]:
    if worker is None:
        return []
    query = (
        select(Offer)
        .join(Job, Job.id == Offer.job_id)
        .where(
            Offer.worker_id == worker.id, Offer.status.in_(LIVE_OFFERS), Job.status.in_(ACTIVE_JOB_STATUSES)
        )
        .order_by(Job.work_date, Offer.id)
        .limit(MAX_LISTED)
    )
    return list(session.scalars(query))


def _jobs(
    session: Session, agent: Any, employer: Employer | None, offers: list[Offer], job_id: int | None
) -> list[Job]:
    """The employer's open jobs, the jobs of the worker's offers, and the job the call is about."""
    conditions = []
    if employer is not None:
        conditions.append(Job.employer_id == employer.id)
    if offers:
        conditions.append(Job.id.in_([offer.job_id for offer in offers]))
    if job_id is not None:
        conditions.append(Job.id == job_id)
    if not conditions:
        return []
    query = (
        select(Job)
        .where(
            or_(*conditions), Job.status.in_(ACTIVE_JOB_STATUSES), site_filter(session, agent, Job.site_id)
        )
        .order_by(Job.work_date, Job.id)
        .limit(MAX_LISTED)
    )
    return list(session.scalars(query))


def _tickets(
    session: Session, agent: Any, worker: Worker | None, employer: Employer | None, phone: str
) -> list[Ticket]:
    conditions = []
    if worker is not None:
        conditions.append(Ticket.worker_id == worker.id)
    if employer is not None:
        conditions.append(Ticket.employer_id == employer.id)
    if phone:
        conditions.append(Ticket.phone == phone)
    if not conditions:
        return []
    query = (
        select(Ticket)
        .where(
            or_(*conditions),
            Ticket.status != TicketStatus.RESOLVED,
            site_filter(session, agent, Ticket.site_id),
        )
        .order_by(Ticket.priority, Ticket.created_at, Ticket.id)
        .limit(MAX_LISTED)
    )
    return list(session.scalars(query))
