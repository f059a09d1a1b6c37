"""Tickets whose subject is over, resolved by the service with the reason, so the queue's counts are true.

A ticket is over when:
- it is about a job (staffing it, a held job's review, an employer not told, an unclear request) and the
  job's last day has passed in market time, or the job was cancelled or expired; a ticket about filling
  the job is over too once the job is filled;
- it is about a place a worker held (placed uninsured, opted out holding a place) and that offer is no
  longer held: expired, declined, given back or cancelled;
- it asks an agent to call someone back (a call-back, a voicemail) and that number has been served since:
  a later call that made a job or a registration, a later call an agent answered or made, a job request
  or registration the number completed by SMS, a later ticket of the number's (an unread text, another
  call) that an agent resolved, or an agent's text to it.

A ticket an agent has claimed is left alone: the agent is working it and resolves it with what they
know (closing it under them would lose their outcome and note). Only `open` tickets are closed, with a
conditional UPDATE, so an agent claiming one at the same moment wins.

Each closed ticket gets outcome and resolution, its `details["closed"]` says why as data (for the
console to word in the agent's language), and an audit entry with no agent: the service did it.

Plain functions on a session; they flush, never commit.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import ColumnElement, and_, exists, or_, select, update
from sqlalchemy.orm import Session, aliased

from dispatch.i18n import market_zone
from dispatch.jobs.expiry import expire_escalated_jobs
from dispatch.models import (
    AgentCall,
    AuditEvent,
    Call,
    CallOutcome,
    Direction,
    Employer,
    Job,
    JobStatus,
    Message,
    MessageStatus,
    Offer,
    OfferStatus,
    Ticket,
    TicketKind,
    TicketOutcome,
    TicketStatus,
    Worker,
)
from dispatch.settings import Settings

BY = "service"  # who closed it, in the ticket's details and the audit entry
AGENT_TEXT_KIND = "agent.text"  # dispatch.console.people.services: an agent's own words to a number

# Kinds about a job whatever their summary, and summaries about a job in kinds that are not.
JOB_KINDS = frozenset({TicketKind.UNFILLED_JOB, TicketKind.INSURANCE, TicketKind.HELD_JOB})
JOB_SUMMARIES = frozenset({"employer_not_told", "job_request_unclear"})
# Tickets asking an agent to fill a place: a filled job needs nobody.
FILLING_SUMMARIES = frozenset(
    {"unfilled_escalated", "unfilled_no_time", "unfilled_after_start", "insurance_not_placed"}
)
# Tickets about a place a worker holds (details["offer_id"]): over once the place is not held.
OFFER_SUMMARIES = frozenset({"insurance_placed", "unfilled_opted_out"})
OFFER_OVER = frozenset({OfferStatus.EXPIRED, OfferStatus.DECLINED, OfferStatus.CANCELLED, OfferStatus.LATE})
# Tickets asking for a call back to the number that rang.
CALLER_KINDS = frozenset({TicketKind.CALL_BACK, TicketKind.VOICEMAIL})
SERVED_CALL_OUTCOMES = (CallOutcome.JOB, CallOutcome.REGISTRATION)


@dataclass(frozen=True)
class Over:
    """Why a ticket's subject is over: `reason` a key (console texts `tickets.closed.<reason>`)."""

    reason: str
    outcome: TicketOutcome
    words: str  # the plain English resolution kept with the ticket, for logs and audits


def close_over_tickets(session: Session, settings: Settings, now: datetime, limit: int = 500) -> Counter[str]:
    """Expire escalated jobs whose days passed, then resolve the open tickets whose subject is over.
    Returns how many were closed for each reason (and `jobs_expired`)."""
    counts: Counter[str] = Counter()
    counts["jobs_expired"] = len(expire_escalated_jobs(session, settings, now, limit))
    today = now.astimezone(market_zone(settings)).date()
    found: list[tuple[Ticket, Over]] = [
        *_job_tickets(session, today, limit),
        *_offer_tickets(session, limit),
        *_caller_tickets(session, limit),
    ]
    audits: dict[int, AuditEvent] = {}
    for ticket, over in found:
        if ticket.id not in audits and (event := resolve_over(session, ticket, over, now)) is not None:
            audits[ticket.id] = event
            counts[over.reason] += 1
    # Added together after the UPDATEs: one batch, not a flush before each UPDATE.
    session.add_all(audits.values())
    session.flush()
    return counts


def resolve_over(session: Session, ticket: Ticket, over: Over, now: datetime) -> AuditEvent | None:
    """Resolve the ticket if it is still open (not claimed, not resolved); its audit entry (for the
    caller to add), or None when it was not open any more."""
    details = {**(ticket.details or {}), "closed": {"by": BY, "reason": over.reason}}
    resolved = session.execute(
        update(Ticket)
        .where(Ticket.id == ticket.id, Ticket.status == TicketStatus.OPEN)
        .values(
            status=TicketStatus.RESOLVED,
            outcome=over.outcome.value,
            resolution=over.words,
            resolved_by_id=None,
            resolved_at=now,
            details=details,
        )
        .execution_options(synchronize_session=False)
    )
    if resolved.rowcount != 1:  # type: ignore[attr-defined]
        return None
    kind = ticket.kind
    session.expire(ticket)  # read again when next used: the UPDATE went around the session
    return AuditEvent(
        agent_id=None,
        action="ticket.resolve",
        target_type=Ticket.__tablename__,
        target_id=ticket.id,
        details={"by": BY, "reason": over.reason, "outcome": over.outcome.value, "kind": kind},
        note=over.words,
    )


def job_over(ticket: Ticket, job: Job, today: date) -> Over | None:
    """Why a job's ticket is over, if it is."""
    said = f"closed by the service: job {job.code or job.id}"
    if job.status == JobStatus.CANCELLED:
        return Over("job_cancelled", TicketOutcome.JOB_CLOSED, f"{said} was cancelled")
    if job.end_date < today or job.status == JobStatus.EXPIRED:
        return Over("job_over", TicketOutcome.JOB_CLOSED, f"{said}: its days have passed")
    if job.status == JobStatus.FILLED and ticket.summary_key in FILLING_SUMMARIES:
        return Over("job_filled", TicketOutcome.NOT_NEEDED, f"{said} is filled")
    return None


def offer_over(offer: Offer) -> Over | None:
    if offer.status not in OFFER_OVER:
        return None
    reason = "offer_expired" if offer.status == OfferStatus.EXPIRED else "offer_closed"
    words = f"closed by the service: offer {offer.id} is {offer.status.value}, the place is not held"
    return Over(reason, TicketOutcome.NOT_NEEDED, words)


def served_since(phone: Any, since: Any) -> ColumnElement[bool]:
    """Whether the number was served after `since`: a call that made a job or registration, a call an
    agent answered or made, a job it requested or a registration it confirmed, a later ticket of the
    number's an agent resolved (a text, a call), or an agent's text to it.
    Columns or values: correlated with the ticket in the sweep's query."""
    handled = aliased(Ticket)
    checks = (
        select(Call.id).where(
            Call.phone == phone, Call.created_at > since, Call.outcome.in_(SERVED_CALL_OUTCOMES)
        ),
        select(AgentCall.id).where(
            AgentCall.phone == phone, AgentCall.started_at > since, AgentCall.answered_at.is_not(None)
        ),
        select(Job.id)
        .join(Employer, Employer.id == Job.employer_id)
        .where(Employer.phone == phone, Job.created_at > since, Job.status != JobStatus.DRAFT),
        select(Worker.id).where(Worker.phone == phone, Worker.consent_at > since),
        # A later ticket of the number's (a text the machine could not read, another call) an agent worked.
        select(handled.id).where(
            handled.phone == phone, handled.created_at > since, handled.resolved_by_id.is_not(None)
        ),
        select(Message.id).where(
            Message.phone == phone,
            Message.direction == Direction.OUTBOUND,
            Message.kind == AGENT_TEXT_KIND,
            Message.created_at > since,
            Message.status != MessageStatus.SUPPRESSED,
        ),
    )
    return or_(*(exists(check) for check in checks))


# -- the candidates -------------------------------------------------------------------------------


def _job_tickets(session: Session, today: date, limit: int) -> Iterable[tuple[Ticket, Over]]:
    rows = session.execute(
        select(Ticket, Job)
        .join(Job, Job.id == Ticket.job_id)
        .where(
            Ticket.status == TicketStatus.OPEN,
            or_(Ticket.kind.in_(JOB_KINDS), Ticket.summary_key.in_(JOB_SUMMARIES)),
            or_(
                Job.end_date < today,
                Job.status.in_((JobStatus.CANCELLED, JobStatus.EXPIRED)),
                and_(Job.status == JobStatus.FILLED, Ticket.summary_key.in_(FILLING_SUMMARIES)),
            ),
        )
        .order_by(Ticket.id)
        .limit(limit)
    ).all()
    for ticket, job in rows:
        if (over := job_over(ticket, job, today)) is not None:
            yield ticket, over


def _offer_tickets(session: Session, limit: int) -> Iterable[tuple[Ticket, Over]]:
    rows = session.execute(
        select(Ticket, Offer)
        .join(Offer, Offer.id == Ticket.details["offer_id"].as_integer())
        .where(
            Ticket.status == TicketStatus.OPEN,
            Ticket.summary_key.in_(OFFER_SUMMARIES),
            Offer.status.in_(OFFER_OVER),
        )
        .order_by(Ticket.id)
        .limit(limit)
    ).all()
    for ticket, offer in rows:
        if (over := offer_over(offer)) is not None:
            yield ticket, over


def _caller_tickets(session: Session, limit: int) -> Iterable[tuple[Ticket, Over]]:
    tickets = session.scalars(
        select(Ticket)
        .where(
            Ticket.status == TicketStatus.OPEN,
            Ticket.kind.in_(CALLER_KINDS),
            Ticket.phone != "",
            served_since(Ticket.phone, Ticket.created_at),
        )
        .order_by(Ticket.id)
        .limit(limit)
    ).all()
    words = "closed by the service: the caller has been served since"
    for ticket in tickets:
        yield ticket, Over("caller_served", TicketOutcome.NOT_NEEDED, words)
