"""RQ jobs of matching: module-level functions that take ids, are idempotent and return counts."""

from __future__ import annotations

import logging
from datetime import timedelta

from sqlalchemy import select

from dispatch.clock import utcnow
from dispatch.models import OPEN_OFFER_STATUSES, Job, JobStatus, Offer, OfferStatus
from dispatch.queue import defer, task
from dispatch.runtime import get_runtime

log = logging.getLogger(__name__)
# The sweep leaves an expiry this young to the wave job scheduled for it.
SWEEP_GRACE = timedelta(minutes=2)
SWEEP_BATCH = 1000


# The services are imported inside the tasks: see "The task registry" in dispatch/queue.py.


@task("matching")
def match_job(job_id: int) -> dict[str, int]:
    """Start matching a new (or released) job: wave 1."""
    return send_wave(job_id, 1)


@task("matching")
def send_wave(job_id: int, wave: int) -> dict[str, int]:
    """Send wave `wave` of a job's offers (nothing if it went out already or the job is settled)."""
    from dispatch.matching import waves

    runtime = get_runtime()
    with runtime.db.transaction() as session:
        return waves.send_wave(session, runtime.settings, job_id, wave, utcnow())


@task("matching")
def refill_job(job_id: int) -> dict[str, int]:
    """A place reopened: standby workers first, else the next wave."""
    from dispatch.matching import waves

    runtime = get_runtime()
    with runtime.db.transaction() as session:
        return waves.refill(session, runtime.settings, job_id, utcnow())


@task("matching")
def notify_employer(job_id: int) -> dict[str, int]:
    """Tell the employer who confirmed since the last notice: one SMS, or a summary of several."""
    from dispatch.matching import employer

    runtime = get_runtime()
    with runtime.db.transaction() as session:
        return employer.notify(session, runtime.settings, job_id, utcnow())


@task("matching")
def send_reminders() -> dict[str, int]:
    """Periodic: remind placed workers of their job the evening before and shortly before its start."""
    from dispatch.matching import reminders

    runtime = get_runtime()
    with runtime.db.transaction() as session:
        return reminders.send_due_reminders(session, runtime.settings, utcnow())


@task("matching")
def sweep_offers() -> dict[str, int]:
    """Periodic safety net: expire offers whose wave job never ran (lost from Redis), start the next
    wave for jobs left with none out (including those whose offers were all declined and whose queued
    next wave was lost), and restart jobs whose first wave never went."""
    runtime = get_runtime()
    now = utcnow()
    with runtime.db.transaction() as session:
        stale = session.scalars(
            select(Offer)
            .where(Offer.status.in_(OPEN_OFFER_STATUSES), Offer.expires_at < now - SWEEP_GRACE)
            .order_by(Offer.expires_at)
            .limit(SWEEP_BATCH)
            .with_for_update(skip_locked=True)
        ).all()
        for offer in stale:
            offer.status = OfferStatus.EXPIRED
        session.flush()
        job_ids = {offer.job_id for offer in stale}
        waiting = (
            select(Offer.id).where(Offer.job_id == Job.id, Offer.status.in_(OPEN_OFFER_STATUSES)).exists()
        )
        # A job past wave 0 with places left and nothing out, untouched for the grace: its queued next
        # wave (declines exhausted the last one) was lost from Redis, and nothing else would move it.
        stalled = select(Job.id).where(
            Job.status == JobStatus.OPEN,
            Job.wave > 0,
            Job.filled < Job.headcount,
            Job.updated_at < now - SWEEP_GRACE,
            ~waiting,
        )
        job_ids.update(session.scalars(stalled.order_by(Job.updated_at).limit(SWEEP_BATCH)))
        restarted = 0
        for job in session.scalars(
            select(Job).where(Job.id.in_(job_ids), Job.status == JobStatus.OPEN, ~waiting)
        ):
            if job.remaining > 0:
                defer(session, send_wave, job.id, job.wave + 1, queue="matching")
                restarted += 1
        # A job whose first wave never went out (its match_job lost after the relay).
        forgotten = select(Job.id).where(
            Job.status == JobStatus.OPEN, Job.wave == 0, Job.created_at < now - SWEEP_GRACE
        )
        never_started = 0
        for job_id in session.scalars(forgotten.limit(SWEEP_BATCH)):
            defer(session, send_wave, job_id, 1, queue="matching")
            never_started += 1
        if stale or restarted or never_started:
            log.info(
                "offer sweep: %s expired, %s jobs restarted, %s never started",
                len(stale),
                restarted,
                never_started,
            )
        return {"expired": len(stale), "restarted": restarted, "never_started": never_started}
