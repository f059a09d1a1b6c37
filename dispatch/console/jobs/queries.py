"""What the job pages read: the job list of the agent's sites, and one job with its offers by wave,
its confirmed workers, its open tickets and the workers an agent could call."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, joinedload

from dispatch.console.access import site_filter, visible_row, visible_site_ids
from dispatch.console.listing import status_page
from dispatch.matching import rescue
from dispatch.matching import services as matching
from dispatch.models import (
    ACTIVE_JOB_STATUSES,
    Agent,
    Job,
    JobStatus,
    Offer,
    OfferForward,
    OfferStatus,
    Ticket,
    TicketStatus,
    Worker,
)
from dispatch.settings import Settings

PAGE_SIZE = 50
# The list's tabs: the jobs still wanting workers first (the default), then each status, then all.
FILTERS: dict[str, tuple[JobStatus, ...]] = {
    "active": tuple(ACTIVE_JOB_STATUSES),
    **{
        status.value: (status,)
        for status in (
            JobStatus.ESCALATED,
            JobStatus.OPEN,
            JobStatus.HELD,
            JobStatus.FILLED,
            JobStatus.CANCELLED,
            JobStatus.EXPIRED,
            JobStatus.DRAFT,
        )
    },
    "all": (),
}
CANDIDATES_TO_CALL = 15


@dataclass
class JobList:
    jobs: list[Job]
    chosen: str
    page: int
    has_next: bool
    counts: dict[str, int]


def job_list(db: Session, agent: Agent, chosen: str, page: int) -> JobList:
    """A page of the agent's sites' jobs, most urgent and newest first."""
    chosen = chosen if chosen in FILTERS else "active"
    page = max(page, 1)
    visible = site_filter(db, agent, Job.site_id)
    query = (
        select(Job)
        .where(visible)
        .options(joinedload(Job.employer), joinedload(Job.trade), joinedload(Job.site))
        .order_by(Job.urgency.desc(), Job.created_at.desc(), Job.id.desc())
    )
    rows, has_next, counts = status_page(db, query, Job.status, visible, FILTERS, chosen, page, PAGE_SIZE)
    return JobList(rows, chosen, page, has_next, counts)


def visible_job(db: Session, agent: Agent, job_id: int) -> Job:
    """The job, or 404 if it does not exist or belongs to a site the agent does not work for."""
    return visible_row(db, agent, Job, job_id)


@dataclass
class Wave:
    number: int  # 0: offers agents made to chosen workers, or yeses taken on the phone
    offers: list[Offer]
    radius_km: float | None = None
    expires_at: datetime | None = None
    counts: dict[str, int] = field(default_factory=dict)
    # Why the wave had its size (the adaptive policy, matching/sizing.py): expected yeses, the aim.
    sizing: dict[str, Any] | None = None


@dataclass
class CallRow:
    worker: Worker
    score: float
    explanation: dict[str, Any]


@dataclass
class JobPage:
    job: Job
    waves: list[Wave]
    confirmed: list[Offer]
    tickets: list[Ticket]
    candidates: list[CallRow]
    taking: bool  # the job still takes workers: the rescue actions apply
    forwards: list[OfferForward]  # the job's offers passed on to friends (`转 …`), with what became of them


def job_page(db: Session, agent: Agent, settings: Settings, job: Job, now: datetime) -> JobPage:
    offers = list(
        db.scalars(
            select(Offer)
            .where(Offer.job_id == job.id)
            .options(joinedload(Offer.worker).joinedload(Worker.home_site))
            .order_by(Offer.wave, Offer.score.desc(), Offer.id)
        )
    )
    history = {entry.get("wave"): entry for entry in job.matching.get("waves", [])}
    waves: dict[int, Wave] = {}
    for offer in offers:
        wave = waves.get(offer.wave)
        if wave is None:
            entry = history.get(offer.wave, {})
            expires = entry.get("expires_at")
            wave = waves[offer.wave] = Wave(
                offer.wave,
                [],
                radius_km=entry.get("radius_km"),
                expires_at=datetime.fromisoformat(expires) if expires else None,
                sizing=entry.get("sizing"),
            )
        wave.offers.append(offer)
        wave.counts[offer.status.value] = wave.counts.get(offer.status.value, 0) + 1
    confirmed = sorted(
        (offer for offer in offers if offer.status == OfferStatus.ACCEPTED),
        key=lambda offer: (offer.responded_at or offer.created_at, offer.id),
    )
    tickets = list(
        db.scalars(
            select(Ticket)
            .where(Ticket.job_id == job.id, Ticket.status != TicketStatus.RESOLVED)
            .order_by(Ticket.priority, Ticket.created_at)
        )
    )
    taking = job.status in matching.TAKING and job.remaining > 0
    return JobPage(
        job=job,
        # The newest wave on top: it is the one an agent acts on; the agents' own offers last.
        waves=sorted(waves.values(), key=lambda wave: (wave.number == 0, -wave.number)),
        confirmed=confirmed,
        tickets=tickets,
        candidates=_candidates(db, agent, settings, job, now) if taking else [],
        taking=taking,
        forwards=list(
            db.scalars(
                select(OfferForward)
                .where(OfferForward.job_id == job.id)
                .options(joinedload(OfferForward.from_worker))
                .order_by(OfferForward.created_at, OfferForward.id)
            )
        ),
    )


def _candidates(db: Session, agent: Agent, settings: Settings, job: Job, now: datetime) -> list[CallRow]:
    """The best workers to phone, among those the agent may see (a town agent: their own town's)."""
    # Ranked over the whole market, then limited to the agent's sites: fetch more to keep enough.
    found = rescue.candidates_to_call(db, settings, job, now, limit=CANDIDATES_TO_CALL * 4)
    workers = {
        worker.id: worker
        for worker in db.scalars(
            select(Worker)
            .where(Worker.id.in_([candidate.worker_id for candidate in found]))
            .options(joinedload(Worker.home_site))
        )
    }
    visible = visible_site_ids(db, agent)
    rows = [
        CallRow(workers[c.worker_id], c.score, c.explanation.as_json())
        for c in found
        if c.worker_id in workers and (visible is None or workers[c.worker_id].home_site_id in visible)
    ]
    return rows[:CANDIDATES_TO_CALL]
