"""Reading the queue: the tickets an agent sees, in the order they should be worked."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import case, func, select
from sqlalchemy.orm import Session, selectinload

from dispatch.console.access import site_filter
from dispatch.models import Agent, Ticket, TicketKind, TicketStatus

QUEUE_LIMIT = 200  # a page an agent can scan; the rest waits behind it in the same order

VIEWS = ("open", "mine", "claimed", "resolved")


@dataclass(frozen=True)
class QueueFilter:
    view: str = "open"  # open: waiting or being worked; mine: claimed by me; resolved: done today and before
    kind: str = ""

    @classmethod
    def from_args(cls, args) -> QueueFilter:
        view = args.get("view", "open")
        kind = args.get("kind", "")
        return cls(
            view=view if view in VIEWS else "open",
            kind=kind if kind in {k.value for k in TicketKind} else "",
        )


def queue_tickets(db: Session, agent: Agent, chosen: QueueFilter) -> list[Ticket]:
    """Most urgent first, then oldest first: the ticket that waited longest at a priority goes next."""
    query = (
        select(Ticket)
        .where(site_filter(db, agent, Ticket.site_id))
        .options(
            selectinload(Ticket.claimed_by),
            selectinload(Ticket.site),
            selectinload(Ticket.worker),
            selectinload(Ticket.employer),
        )
        .limit(QUEUE_LIMIT)
    )
    if chosen.view == "open":
        query = query.where(Ticket.status != TicketStatus.RESOLVED)
    elif chosen.view == "mine":
        query = query.where(Ticket.status == TicketStatus.CLAIMED, Ticket.claimed_by_id == agent.id)
    elif chosen.view == "claimed":
        query = query.where(Ticket.status == TicketStatus.CLAIMED)
    else:
        query = query.where(Ticket.status == TicketStatus.RESOLVED)
    if chosen.kind:
        query = query.where(Ticket.kind == chosen.kind)
    if chosen.view == "resolved":
        query = query.order_by(Ticket.resolved_at.desc(), Ticket.id.desc())
    else:
        # Unclaimed before claimed, so the next ticket to take is always at the top.
        claimed_last = case((Ticket.status == TicketStatus.CLAIMED, 1), else_=0)
        query = query.order_by(claimed_last, Ticket.priority, Ticket.created_at, Ticket.id)
    return list(db.scalars(query))


def open_counts(db: Session, agent: Agent) -> dict[str, int]:
    """Unresolved tickets per kind, for the filter bar."""
    rows = db.execute(
        select(Ticket.kind, func.count())
        .where(site_filter(db, agent, Ticket.site_id), Ticket.status != TicketStatus.RESOLVED)
        .group_by(Ticket.kind)
    )
    return {kind: count for kind, count in rows}
