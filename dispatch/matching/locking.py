"""Row locks in the one order every answer takes them (worker, then job, then offer), the offers still
waiting on a job, and the nudge that sends the next wave once none are left.

Row locks are FOR NO KEY UPDATE: an Offer or Message inserted meanwhile (its foreign key takes a KEY
SHARE lock on the worker or job) neither waits for them nor deadlocks with them. Once a lock is
granted the row is read as the transaction that held it left it, not as the session remembers it.
"""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from dispatch.clock import utcnow
from dispatch.matching.tasks import send_wave
from dispatch.models import OPEN_OFFER_STATUSES, Job, JobStatus, Offer, OfferStatus, Worker
from dispatch.queue import defer

# Offers whose yes may claim a place: still open, lapsed (the job's days not over), or waiting on standby.
# Never one the worker declined or gave back, one closed by the job filling, or one already told 名额已满.
CLAIMABLE = frozenset({*OPEN_OFFER_STATUSES, OfferStatus.EXPIRED, OfferStatus.STANDBY})


def lock_worker(session: Session, worker_id: int) -> Worker:
    query = select(Worker).where(Worker.id == worker_id).with_for_update(key_share=True)
    return session.scalars(query.execution_options(populate_existing=True)).one()


def lock_job(session: Session, job_id: int) -> Job:
    query = select(Job).where(Job.id == job_id).with_for_update(key_share=True)
    return session.scalars(query.execution_options(populate_existing=True)).one()


def open_offers(session: Session, job: Job) -> list[Offer]:
    query = select(Offer).where(Offer.job_id == job.id, Offer.status.in_(OPEN_OFFER_STATUSES))
    return list(session.scalars(query.order_by(Offer.id)))


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
    job.updated_at = utcnow()  # the sweep's grace for a lost next wave runs from here
    defer(session, send_wave, job.id, job.wave + 1, queue="matching")
    return True
