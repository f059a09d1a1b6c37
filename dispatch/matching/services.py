"""Placements: a worker takes, declines or gives back an offer, without ever overbooking a job.

A place is claimed with one conditional UPDATE (`filled = filled + 1 WHERE filled < headcount`),
which cannot overbook under READ COMMITTED; the worker's row is locked first, so one worker's two
answers (or two jobs on the same days) are decided one after the other. Locks are always taken in
the order worker, job, offer, so concurrent answers never deadlock.
"""

from __future__ import annotations

import enum
import logging
from datetime import datetime

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from dispatch.jobs import services as jobs
from dispatch.matching import employer, notices
from dispatch.models import (
    OPEN_OFFER_STATUSES,
    Job,
    JobStatus,
    Message,
    Offer,
    OfferStatus,
    Ticket,
    TicketKind,
    TicketStatus,
    Worker,
)
from dispatch.queue import defer
from dispatch.settings import Settings

log = logging.getLogger(__name__)

# A job in these statuses still takes a yes (an escalated job is still wanted, by agents too).
TAKING = (JobStatus.OPEN, JobStatus.ESCALATED)
SEND_WAVE = "dispatch.matching.tasks.send_wave"
REFILL = "dispatch.matching.tasks.refill_job"


class Outcome(enum.StrEnum):
    PLACED = "placed"  # the worker has the place
    ALREADY = "already"  # the worker had it already (a repeated yes)
    FULL = "full"  # no place left: 名额已满 (and standby, if enabled)
    OVERLAP = "overlap"  # the worker holds another job on those days
    CLOSED = "closed"  # the job was cancelled or is over
    DECLINED = "declined"
    GIVEN_BACK = "given_back"  # a placed worker cancelled
    NOT_HELD = "not_held"  # a cancel for a place the worker does not hold


def _lock_worker(session: Session, worker_id: int) -> Worker:
    return session.scalars(select(Worker).where(Worker.id == worker_id).with_for_update()).one()


def _lock_job(session: Session, job_id: int) -> Job:
    return session.scalars(select(Job).where(Job.id == job_id).with_for_update()).one()


def open_offers(session: Session, job: Job) -> list[Offer]:
    query = select(Offer).where(Offer.job_id == job.id, Offer.status.in_(OPEN_OFFER_STATUSES))
    return list(session.scalars(query.order_by(Offer.id)))


def clashing_job(session: Session, worker: Worker, job: Job) -> Job | None:
    """Another job the worker holds a place on, on any of `job`'s days."""
    query = (
        select(Job)
        .join(Offer, Offer.job_id == Job.id)
        .where(
            Offer.worker_id == worker.id,
            Offer.status == OfferStatus.ACCEPTED,
            Offer.job_id != job.id,
            Job.work_date <= job.end_date,
            Job.end_date >= job.work_date,
        )
        .limit(1)
    )
    return session.scalar(query)


def accept(
    session: Session, settings: Settings, offer: Offer, inbound: Message | None, now: datetime
) -> Outcome:
    """The worker says yes: a place if one is left, else 名额已满 (and standby, if enabled)."""
    worker = _lock_worker(session, offer.worker_id)
    session.refresh(offer)  # what other answers committed while we waited for the lock
    job = offer.job
    session.refresh(job)
    if offer.status == OfferStatus.ACCEPTED:
        notices.tell_worker(
            session, settings, inbound, worker, "placement_worker", "placement.worker", job, now
        )
        return Outcome.ALREADY
    if job.status not in (*TAKING, JobStatus.FILLED):
        _tell_closed(session, settings, inbound, worker, job, now)
        return Outcome.CLOSED
    clash = clashing_job(session, worker, job)
    if clash is not None:
        job = _lock_job(session, job.id)  # before the offer's row, as everywhere
        session.refresh(offer)
        if offer.status in OPEN_OFFER_STATUSES:
            offer.status = OfferStatus.DECLINED
            offer.responded_at = now
            session.flush()
            maybe_next_wave(session, job)
        notices.tell_worker(
            session,
            settings,
            inbound,
            worker,
            "match_overlap",
            "match.overlap",
            job,
            now,
            other_code=clash.code,
        )
        return Outcome.OVERLAP
    claimed = session.execute(
        update(Job)
        .where(Job.id == job.id, Job.filled < Job.headcount, Job.status.in_(TAKING))
        .values(filled=Job.filled + 1, updated_at=now)
        .returning(Job.filled)
        .execution_options(synchronize_session=False)
    ).first()
    session.refresh(job)  # the row is ours now (or full): read it as committed
    if claimed is None:
        if job.status not in (*TAKING, JobStatus.FILLED):
            _tell_closed(session, settings, inbound, worker, job, now)
            return Outcome.CLOSED
        offer.status = OfferStatus.STANDBY if settings.STANDBY_ENABLED else OfferStatus.LATE
        offer.responded_at = now
        notices.tell_worker(
            session,
            settings,
            inbound,
            worker,
            "match_full",
            "match.full",
            job,
            now,
            standby=settings.STANDBY_ENABLED,
        )
        return Outcome.FULL
    offer.status = OfferStatus.ACCEPTED
    offer.responded_at = now
    worker.last_placed_at = now
    if job.filled >= job.headcount:
        _filled(session, job, now)
    session.flush()
    notices.tell_worker(session, settings, inbound, worker, "placement_worker", "placement.worker", job, now)
    employer.notice_due(session, settings, job, now)
    maybe_next_wave(session, job)
    return Outcome.PLACED


def _filled(session: Session, job: Job, now: datetime) -> None:
    """The last place went: outstanding offers close (late answers get 名额已满), the agents' ticket
    for this job, if any, is resolved."""
    job.status = JobStatus.FILLED
    job.filled_at = now
    for offer in open_offers(session, job):
        offer.status = OfferStatus.CANCELLED
        offer.responded_at = now
    tickets = select(Ticket).where(
        Ticket.job_id == job.id,
        Ticket.kind == TicketKind.UNFILLED_JOB,
        Ticket.status != TicketStatus.RESOLVED,
    )
    for ticket in session.scalars(tickets):
        ticket.status = TicketStatus.RESOLVED
        ticket.resolved_at = now
        ticket.resolution = "filled by SMS replies"


def _tell_closed(
    session: Session, settings: Settings, inbound: Message | None, worker: Worker, job: Job, now: datetime
) -> None:
    cancelled = job.status == JobStatus.CANCELLED
    notices.tell_worker(
        session, settings, inbound, worker, "match_closed", "match.closed", job, now, cancelled=cancelled
    )


def decline(
    session: Session, settings: Settings, offer: Offer, inbound: Message | None, now: datetime
) -> Outcome:
    """The worker says no: the offer's place goes to the next wave, at once if nobody else is left."""
    job = _lock_job(session, offer.job_id)
    session.refresh(offer)
    worker = offer.worker
    if offer.status == OfferStatus.ACCEPTED:
        # `2 123` from the worker who holds 123: giving a place back takes `取消 123`, said plainly.
        codes = [job.code]
        notices.tell_worker(
            session,
            settings,
            inbound,
            worker,
            "match_which_code",
            "match.which_code",
            codes=codes,
            cancel=True,
        )
        return Outcome.NOT_HELD
    if offer.status in (*OPEN_OFFER_STATUSES, OfferStatus.STANDBY, OfferStatus.EXPIRED, OfferStatus.LATE):
        offer.status = OfferStatus.DECLINED
        offer.responded_at = now
        session.flush()
        maybe_next_wave(session, job)
    notices.tell_worker(session, settings, inbound, worker, "match_declined", "match.declined", job, now)
    return Outcome.DECLINED


def give_back(
    session: Session, settings: Settings, offer: Offer, inbound: Message | None, now: datetime
) -> Outcome:
    """A placed worker cancels (`取消 123`): the place reopens, the employer is told, a refill goes out,
    and the worker's reliability remembers it."""
    worker = _lock_worker(session, offer.worker_id)
    session.refresh(offer)
    if offer.status != OfferStatus.ACCEPTED:
        return decline(session, settings, offer, inbound, now)
    job = offer.job
    session.execute(
        update(Job)
        .where(Job.id == job.id, Job.filled > 0)
        .values(filled=Job.filled - 1, updated_at=now)
        .execution_options(synchronize_session=False)
    )
    session.refresh(job)
    offer.status = OfferStatus.CANCELLED
    offer.responded_at = now
    worker.cancellations += 1
    if job.status == JobStatus.FILLED:
        job.status = JobStatus.OPEN
        job.filled_at = None
    told = set(job.matching.get("employer_told", []))
    session.flush()
    notices.tell_worker(session, settings, inbound, worker, "match_cancel_ok", "match.cancel_ok", job, now)
    if offer.id in told:  # the employer heard of this worker: they hear of the cancellation too
        language = notices.language_of(session, job.employer.phone)
        notices.tell_employer(
            session,
            settings,
            job,
            "match_cancel_employer",
            "match.cancel_employer",
            now,
            filled=job.filled,
            **notices.worker_for_employer(worker, language),
        )
    if job.status == JobStatus.OPEN:
        defer(session, REFILL, job.id, queue="matching")
    return Outcome.GIVEN_BACK


def maybe_next_wave(session: Session, job: Job) -> bool:
    """Declines (or clashes) exhausted the wave and places remain: the next wave goes now, not at expiry."""
    if job.status != JobStatus.OPEN or job.remaining <= 0:
        return False
    still_open = session.scalar(
        select(func.count())
        .select_from(Offer)
        .where(Offer.job_id == job.id, Offer.status.in_(OPEN_OFFER_STATUSES))
    )
    if still_open:
        return False
    defer(session, SEND_WAVE, job.id, job.wave + 1, queue="matching")
    return True


def cancel_job(session: Session, settings: Settings, job: Job, now: datetime) -> list[Offer]:
    """An employer (or an agent for them) calls the job off: every worker with an open offer, a place
    or a standby is told. Returns those offers."""
    _lock_job(session, job.id)  # the job before its offers, as every answer locks them
    affected = jobs.cancel_job(session, job)
    for offer in affected:
        notices.tell_worker(
            session, settings, None, offer.worker, "job_cancelled", "match.job_cancelled", job, now
        )
    return affected
