"""Jobs held for an agent's review (their employer is held, e.g. by an open wage case) and the ticket
that puts each on the agents' queue until it leaves `held`: released to matching, expired, or called
off. Plain functions on a session; they flush, never commit.
"""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy import select, update
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import ColumnElement

from dispatch.clock import utcnow
from dispatch.jobs.tickets import open_job_ticket
from dispatch.models import (
    OPEN_WAGE_CASE_STATUSES,
    Job,
    JobStatus,
    Ticket,
    TicketKind,
    TicketOutcome,
    TicketStatus,
    WageCase,
)
from dispatch.settings import Settings

HELD_TICKET_PRIORITY = 2
# A held job starting today expires unseen (dispatch.wages.tasks.expire_held_jobs) unless an agent looks
# before it starts.
URGENT_HELD_TICKET_PRIORITY = 1


def hold_job(
    session: Session, job: Job, settings: Settings | None = None, now: datetime | None = None
) -> Ticket:
    """The job of a held employer waits for an agent's review: no matching, and a ticket on the queue
    saying why (without one, agents only saw it on the job list, and a same-day job expired unseen).
    Without `settings` the market's today is unknown and the ticket is not marked urgent."""
    now = now or utcnow()
    job.status = JobStatus.HELD
    found = session.scalar(select(Ticket).where(*_waiting(job)))
    if found is not None:  # a job is held once, but never two tickets for one review
        return found
    case_ids = list(
        session.scalars(
            select(WageCase.id)
            .where(WageCase.employer_id == job.employer_id, WageCase.status.in_(OPEN_WAGE_CASE_STATUSES))
            .order_by(WageCase.id)
        )
    )
    who = job.employer.name or job.employer.phone
    today = now.astimezone(ZoneInfo(settings.MARKET_TIMEZONE)).date() if settings is not None else None
    urgent = today is not None and job.work_date <= today
    why = f"open wage case(s) {', '.join(map(str, case_ids))}" if case_ids else "the employer is held"
    return open_job_ticket(
        session,
        TicketKind.HELD_JOB,
        job,
        priority=URGENT_HELD_TICKET_PRIORITY if urgent else HELD_TICKET_PRIORITY,
        summary=f"Job {job.code} of {who} held for review ({why}): no offer goes out until released",
        details={
            # What the queue page words in the agent's language (console/tickets/summaries.py).
            "job_code": job.code,
            "employer": who,
            "reason": "wage_case" if case_ids else "employer_held",
            "wage_case_ids": case_ids,
        },
        now=now,
    )


def close_held_job_tickets(
    session: Session,
    job: Job,
    outcome: TicketOutcome,
    resolution: str,
    now: datetime,
    agent_id: int | None = None,
) -> list[Ticket]:
    """The job left `held` (released, expired, called off): its review ticket is done, whoever holds
    it. A conditional UPDATE, so an agent resolving it at the same moment is not written over; returns
    the tickets resolved here (the caller audits them)."""
    resolved = session.scalars(
        update(Ticket)
        .where(*_waiting(job))
        .values(
            status=TicketStatus.RESOLVED,
            outcome=outcome.value,
            resolution=resolution[:4000],
            resolved_by_id=agent_id,
            resolved_at=now,
        )
        .returning(Ticket.id)
        .execution_options(synchronize_session=False)
    ).all()
    tickets = [session.get_one(Ticket, ticket_id) for ticket_id in resolved]
    for ticket in tickets:
        session.refresh(ticket)
    return tickets


def _waiting(job: Job) -> tuple[ColumnElement[bool], ...]:
    """The job's review ticket while it is not resolved."""
    return (
        Ticket.job_id == job.id,
        Ticket.kind == TicketKind.HELD_JOB,
        Ticket.status != TicketStatus.RESOLVED,
    )
