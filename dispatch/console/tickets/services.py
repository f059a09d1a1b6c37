"""Working the queue: claim a ticket (one agent only), release it, resolve it with an outcome.

Claims are conditional UPDATEs, so two agents pressing "claim" at once cannot both win: the row
changes from open to claimed once, and the loser is told who has it.
"""

from __future__ import annotations

from sqlalchemy import or_, select, update
from sqlalchemy.orm import Session

from dispatch.clock import utcnow
from dispatch.console.access import site_filter
from dispatch.console.audit import record
from dispatch.models import Agent, AgentRole, Job, JobStatus, Ticket, TicketKind, TicketOutcome, TicketStatus


class TicketUnavailable(Exception):
    """The ticket is held by another agent, or already resolved."""

    def __init__(self, ticket: Ticket) -> None:
        super().__init__(f"ticket {ticket.id} is {ticket.status}")
        self.ticket = ticket


class ClosesWithCase(Exception):
    """A wage case's ticket: it resolves when its case closes on the case page (dispatch.wages), never
    by itself, or the case would stay open with nothing in the queue to say so."""

    def __init__(self, ticket: Ticket) -> None:
        super().__init__(f"ticket {ticket.id} closes with its wage case")
        self.ticket = ticket


class ClosesWithJob(Exception):
    """A held job's review ticket: it resolves when the job is released, expires or is called off (the
    job page), never by itself, or the job would stay held with nothing in the queue to say so."""

    def __init__(self, ticket: Ticket) -> None:
        super().__init__(f"ticket {ticket.id} closes with its held job")
        self.ticket = ticket


def claim_ticket(db: Session, agent: Agent, ticket: Ticket, remote_addr: str = "") -> Ticket:
    """Take an open ticket; claiming one's own ticket again is harmless."""
    now = utcnow()
    claimed = db.execute(
        update(Ticket)
        .where(Ticket.id == ticket.id, Ticket.status == TicketStatus.OPEN)
        .values(status=TicketStatus.CLAIMED, claimed_by_id=agent.id, claimed_at=now)
        .returning(Ticket.id)
        .execution_options(synchronize_session=False)
    ).scalar_one_or_none()
    db.refresh(ticket)
    if claimed is None:
        if ticket.status == TicketStatus.CLAIMED and ticket.claimed_by_id == agent.id:
            return ticket
        raise TicketUnavailable(ticket)
    record(db, agent, "ticket.claim", ticket, remote_addr=remote_addr, kind=ticket.kind)
    return ticket


def next_ticket(db: Session, agent: Agent, remote_addr: str = "") -> Ticket | None:
    """Claim the most urgent open ticket the agent may work (priority, then age), or None if none is open.

    The candidate row is locked with SKIP LOCKED, so two agents pressing "next" at once each get a
    different ticket instead of queueing on the same row and one of them being refused; the conditional
    UPDATE in claim_ticket is the final word where the database does not lock (SQLite).
    """
    tried: list[int] = []
    while True:
        query = (
            select(Ticket)
            .where(site_filter(db, agent, Ticket.site_id), Ticket.status == TicketStatus.OPEN)
            .order_by(Ticket.priority, Ticket.created_at, Ticket.id)
            .limit(1)
            .with_for_update(skip_locked=True)
        )
        if tried:
            query = query.where(Ticket.id.not_in(tried))
        ticket = db.scalar(query)
        if ticket is None:
            return None
        try:
            return claim_ticket(db, agent, ticket, remote_addr)
        except TicketUnavailable:
            tried.append(ticket.id)  # taken between the read and the update: the next one


def release_ticket(
    db: Session, agent: Agent, ticket: Ticket, note: str = "", remote_addr: str = ""
) -> Ticket:
    """Give a claimed ticket back to the queue: its holder may, and so may a supervisor or admin."""
    condition = [Ticket.id == ticket.id, Ticket.status == TicketStatus.CLAIMED]
    if agent.role == AgentRole.AGENT:
        condition.append(Ticket.claimed_by_id == agent.id)
    released = db.execute(
        update(Ticket)
        .where(*condition)
        .values(status=TicketStatus.OPEN, claimed_by_id=None, claimed_at=None)
        .returning(Ticket.id)
        .execution_options(synchronize_session=False)
    ).scalar_one_or_none()
    db.refresh(ticket)
    if released is None:
        raise TicketUnavailable(ticket)
    record(db, agent, "ticket.release", ticket, note=note, remote_addr=remote_addr)
    return ticket


def resolve_ticket(
    db: Session,
    agent: Agent,
    ticket: Ticket,
    outcome: TicketOutcome,
    note: str = "",
    remote_addr: str = "",
) -> Ticket:
    """Close a ticket the agent holds (or an open one, claimed and closed in one step)."""
    if ticket.kind == TicketKind.WAGE_CASE:
        raise ClosesWithCase(ticket)
    if ticket.kind == TicketKind.HELD_JOB and _job_still_held(db, ticket):
        raise ClosesWithJob(ticket)
    now = utcnow()
    resolved = db.execute(
        update(Ticket)
        .where(
            Ticket.id == ticket.id,
            or_(
                Ticket.status == TicketStatus.OPEN,
                (Ticket.status == TicketStatus.CLAIMED) & (Ticket.claimed_by_id == agent.id),
            ),
        )
        .values(
            status=TicketStatus.RESOLVED,
            claimed_by_id=agent.id,
            outcome=outcome.value,
            resolution=note[:4000],
            resolved_by_id=agent.id,
            resolved_at=now,
        )
        .returning(Ticket.id)
        .execution_options(synchronize_session=False)
    ).scalar_one_or_none()
    db.refresh(ticket)
    if resolved is None:
        raise TicketUnavailable(ticket)
    record(db, agent, "ticket.resolve", ticket, note=note, remote_addr=remote_addr, outcome=outcome)
    return ticket


def _job_still_held(db: Session, ticket: Ticket) -> bool:
    status = db.scalar(select(Job.status).where(Job.id == ticket.job_id)) if ticket.job_id else None
    return status == JobStatus.HELD


def open_tickets_for_job(db: Session, job_id: int) -> list[Ticket]:
    """The job's unresolved tickets, but for wage cases' (they close with their case, see ClosesWithCase)."""
    return list(
        db.scalars(
            select(Ticket).where(
                Ticket.job_id == job_id,
                Ticket.status != TicketStatus.RESOLVED,
                Ticket.kind != TicketKind.WAGE_CASE,
            )
        )
    )
