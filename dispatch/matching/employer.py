"""Telling the employer who confirmed: one SMS per confirmation, or one summary for those that
arrive within a short window (config/matching.toml, `employer_summary_seconds`)."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from dispatch.matching import config as matching_config
from dispatch.matching import notices
from dispatch.matching.tasks import notify_employer
from dispatch.models import Job, Offer, OfferStatus
from dispatch.queue import defer
from dispatch.settings import Settings
from dispatch.voice import notice_calls


def notice_due(session: Session, settings: Settings, job: Job, now: datetime) -> None:
    """One SMS per confirmation, or one summary for those arriving within the window: the first
    confirmation schedules the notice, later ones within the window join it."""
    due = job.matching.get("employer_notice_due")
    if due is not None and datetime.fromisoformat(due) > now:
        return
    seconds = matching_config.load(settings).employer_summary_seconds
    run_at = now + timedelta(seconds=seconds)
    job.matching = {**job.matching, "employer_notice_due": run_at.isoformat()}
    defer(session, notify_employer, job.id, queue="matching", run_at=run_at if seconds else None)


def notify(session: Session, settings: Settings, job_id: int, now: datetime) -> dict[str, int]:
    """Tell the employer about the workers who confirmed since the last notice (idempotent)."""
    job = session.scalars(select(Job).where(Job.id == job_id).with_for_update(key_share=True)).first()
    if job is None:
        return {"missing": 1}
    # Read after the job's lock: a notice that ran meanwhile has marked the offers it told of.
    placed = list(
        session.scalars(
            select(Offer)
            .where(
                Offer.job_id == job.id,
                Offer.status == OfferStatus.ACCEPTED,
                Offer.employer_told_at.is_(None),
            )
            .order_by(Offer.responded_at, Offer.id)
        )
    )
    job.matching = {key: value for key, value in job.matching.items() if key != "employer_notice_due"}
    if not placed:
        return {"told": 0}
    messages = notices.tell_employer_placed(session, settings, job, [offer.worker for offer in placed], now)
    for offer in placed:
        offer.employer_told_at = now
    if notice_calls.cannot_text(session, job.employer.phone):
        # Those texts are suppressed: the employer hears who is coming by phone instead.
        notice_calls.call_later(session, job.employer, now)
    return {"told": len(placed), "messages": len(messages)}
