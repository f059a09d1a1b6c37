"""What a person's page shows: every SMS and call in one timeline, offers, placements and jobs."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import ColumnElement, or_, select
from sqlalchemy.orm import Session, joinedload

from dispatch.console.access import site_filter
from dispatch.models import Agent, Call, Contact, Employer, Job, Message, Offer, OfferStatus, Worker

# A person's page shows this much of their history, the newest part; older rows are counted.
TIMELINE_LIMIT = 300
OFFERS_LIMIT = 200
JOBS_LIMIT = 100


@dataclass(frozen=True)
class TimelineEntry:
    """One SMS (in or out) or one call, in the order they happened."""

    at: datetime
    message: Message | None = None
    call: Call | None = None

    @property
    def sort_key(self) -> tuple[datetime, int, int]:
        # Calls and texts of the same instant: keep each table's own order (its ids).
        return (self.at, 0 if self.call is not None else 1, (self.call or self.message).id)  # type: ignore[union-attr]


@dataclass(frozen=True)
class Timeline:
    entries: list[TimelineEntry]
    truncated: bool  # older rows exist beyond what is shown


def worker_timeline(session: Session, worker: Worker) -> Timeline:
    return _timeline(
        session,
        or_(Message.worker_id == worker.id, Message.phone == worker.phone),
        Call.phone == worker.phone,
    )


def employer_timeline(session: Session, employer: Employer) -> Timeline:
    return _timeline(
        session,
        or_(Message.employer_id == employer.id, Message.phone == employer.phone),
        Call.phone == employer.phone,
    )


def _timeline(session: Session, messages_of: ColumnElement[bool], calls_of: ColumnElement[bool]) -> Timeline:
    # The newest rows of each table, then merged: the page shows the latest part of a long history.
    entries = [TimelineEntry(at=m.created_at, message=m) for m in _newest(session, Message, messages_of)]
    entries += [TimelineEntry(at=c.created_at, call=c) for c in _newest(session, Call, calls_of)]
    entries.sort(key=lambda entry: entry.sort_key)
    truncated = len(entries) > TIMELINE_LIMIT
    return Timeline(entries=entries[-TIMELINE_LIMIT:], truncated=truncated)


def _newest(session: Session, model: type[Message] | type[Call], where: ColumnElement[bool]) -> list:
    """One more than the timeline shows of the table's newest rows (so that older ones are told)."""
    query = select(model).where(where).order_by(model.created_at.desc(), model.id.desc())
    return list(session.scalars(query.limit(TIMELINE_LIMIT + 1)))


def contact_of(session: Session, phone: str) -> Contact | None:
    """The number's SMS standing (language, opted out, undeliverable); None before any SMS."""
    return session.scalar(select(Contact).where(Contact.phone == phone))


def worker_offers(session: Session, worker: Worker) -> list[Offer]:
    """The worker's offers, newest first (placements are the accepted ones)."""
    return list(
        session.scalars(
            select(Offer)
            .options(joinedload(Offer.job).joinedload(Job.trade), joinedload(Offer.job).joinedload(Job.site))
            .where(Offer.worker_id == worker.id)
            .order_by(Offer.created_at.desc(), Offer.id.desc())
            .limit(OFFERS_LIMIT)
        )
    )


def placements(offers: list[Offer]) -> list[Offer]:
    return [offer for offer in offers if offer.status == OfferStatus.ACCEPTED]


def employer_jobs(session: Session, agent: Agent, employer: Employer) -> list[Job]:
    """The employer's jobs at the agent's sites, newest first."""
    return list(
        session.scalars(
            select(Job)
            .options(joinedload(Job.trade), joinedload(Job.site))
            .where(Job.employer_id == employer.id, site_filter(session, agent, Job.site_id))
            .order_by(Job.created_at.desc(), Job.id.desc())
            .limit(JOBS_LIMIT)
        )
    )


def worker_rating(worker: Worker) -> float | None:
    return round(worker.rating_sum / worker.rating_count, 1) if worker.rating_count else None
