"""What the counter page reads: an event's sign-ups narrowed by a name or the last digits of a phone,
the workers of the agent's sites who could be added as walk-ins, and the event's tally."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import ColumnElement, func, select
from sqlalchemy.orm import Session

from dispatch.console.access import site_filter
from dispatch.console.people.search import MIN_SUFFIX_DIGITS, ParsedQuery, parse_query
from dispatch.models import Agent, EventSignup, SignupStatus, Worker
from dispatch.outreach.signups import signups

WALK_IN_RESULTS = 10


@dataclass(frozen=True)
class Tally:
    booked: int = 0
    waiting: int = 0
    cancelled: int = 0
    came: int = 0
    completed: int = 0
    walk_ins: int = 0


def tally(session: Session, event_id: int) -> Tally:
    row = session.execute(
        select(
            func.count().filter(EventSignup.status == SignupStatus.BOOKED),
            func.count().filter(EventSignup.status == SignupStatus.WAITING),
            func.count().filter(EventSignup.status == SignupStatus.CANCELLED),
            func.count(EventSignup.attended_at),
            func.count(EventSignup.completed_at),
            func.count().filter(EventSignup.walk_in.is_(True)),
        ).where(EventSignup.event_id == event_id)
    ).one()
    return Tally(*(value or 0 for value in row))


def _match(query: ParsedQuery) -> ColumnElement[bool] | None:
    """A whole number, its last digits (4 or more), or part of a name; None when nothing was typed."""
    if query.phone:
        return Worker.phone == query.phone
    if query.digits:
        if len(query.digits) < MIN_SUFFIX_DIGITS:
            return None
        return Worker.phone.endswith(query.digits, autoescape=True)
    if query.text:
        return Worker.name.icontains(query.text, autoescape=True)
    return None


def matching_signups(session: Session, event_id: int, raw: str, region: str) -> list[EventSignup]:
    """The sign-ups in the counter's order; narrowed when something was typed."""
    rows = signups(session, event_id)
    query = parse_query(raw, region)
    match = _match(query)
    if not query.text:
        return rows
    if match is None:
        return []
    ids = set(session.scalars(select(Worker.id).where(match, Worker.id.in_([row.worker_id for row in rows]))))
    return [row for row in rows if row.worker_id in ids]


def walk_in_candidates(session: Session, agent: Agent, event_id: int, raw: str, region: str) -> list[Worker]:
    """Workers of the agent's sites matching what was typed who have no sign-up (or a cancelled one)."""
    match = _match(parse_query(raw, region))
    if match is None:
        return []
    listed = select(EventSignup.worker_id).where(
        EventSignup.event_id == event_id, EventSignup.status != SignupStatus.CANCELLED
    )
    query = (
        select(Worker)
        .where(match, site_filter(session, agent, Worker.home_site_id), Worker.id.not_in(listed))
        .order_by(Worker.id.desc())
        .limit(WALK_IN_RESULTS)
    )
    return list(session.scalars(query))
