"""Jobs escalated to an agent expire when their days have passed, as held jobs do (dispatch.wages.holds)
and open ones do when matching next looks at them (dispatch.matching.waves): without this an escalated
job nobody closed stayed "active" for good, on the employer's IVR list and the agents' counts.

An escalated job expires once its last day is over (market time), not when that day begins as a held
job does: an agent may still staff it by phone on the day (the `unfilled_after_start` ticket).

Plain functions on a session; they flush, never commit.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from dispatch.i18n import market_zone
from dispatch.models import OPEN_OFFER_STATUSES, AuditEvent, Job, JobStatus, Offer, OfferStatus
from dispatch.settings import Settings


def expire_escalated_jobs(session: Session, settings: Settings, now: datetime, limit: int = 500) -> list[Job]:
    """Escalated jobs whose last day is before the market's today: expired, their open offers too,
    audited as the service's doing (no agent). Rows another transaction holds are left for the next run."""
    today = now.astimezone(market_zone(settings)).date()
    jobs = session.scalars(
        select(Job)
        .where(Job.status == JobStatus.ESCALATED, Job.end_date < today)
        .order_by(Job.end_date, Job.id)
        .limit(limit)
        .with_for_update(key_share=True, skip_locked=True)
    ).all()
    for job in jobs:
        job.status = JobStatus.EXPIRED
    if jobs:
        session.execute(
            update(Offer)
            .where(Offer.job_id.in_([job.id for job in jobs]), Offer.status.in_(OPEN_OFFER_STATUSES))
            .values(status=OfferStatus.EXPIRED)
            .execution_options(synchronize_session=False)
        )
    session.add_all(
        AuditEvent(
            agent_id=None,
            action="job.expire",
            target_type=Job.__tablename__,
            target_id=job.id,
            details={"reason": "escalated_past_its_days", "by": "service", "old_status": "escalated"},
            note="",
        )
        for job in jobs
    )
    session.flush()
    return list(jobs)
