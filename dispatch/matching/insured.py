"""High-risk trades go out only insured: an offer the insurer would not cover is closed (and may be
taken again once an agent fixed the worker's details), the worker told why, an agent asked."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from dispatch.insurance import services as insurance
from dispatch.matching import notices
from dispatch.matching.locking import CLAIMABLE, lock_job, maybe_next_wave
from dispatch.models import Job, Message, Offer, OfferStatus
from dispatch.settings import Settings


def uninsured_offer(offer: Offer) -> bool:
    """The offer was closed because the insurer would not cover the worker (and not given back)."""
    return offer.status == OfferStatus.CANCELLED and offer.uninsured and offer.given_back_at is None


def closed_for_insurance(session: Session, job: Job, offer: Offer) -> bool:
    """An offer closed because the insurer would not cover the worker: once an agent has fixed their
    details, a yes to it may still take a place (the insurer is asked again) - unless the worker said
    no to it since (`decline` clears `offer.uninsured`), and never ahead of workers waiting on standby:
    a place that reopens is theirs first, this worker hears 名额已满 and joins them."""
    if not uninsured_offer(offer):
        return False
    waiting = select(Offer.id).where(Offer.job_id == job.id, Offer.status == OfferStatus.STANDBY).limit(1)
    return session.scalar(waiting) is None


def refuse(
    session: Session, settings: Settings, inbound: Message | None, offer: Offer, reason: str, now: datetime
) -> None:
    """A high-risk job's worker the insurer will not cover: no place. The offer closes, the worker is
    told why, an agent is asked to fix the worker's details, and matching goes on as for a no."""
    job = lock_job(session, offer.job_id)  # before the offer's row, as everywhere
    session.refresh(offer)
    if offer.status in CLAIMABLE:
        offer.status = OfferStatus.CANCELLED
        offer.responded_at = now
    offer.uninsured = True
    session.flush()
    insurance.open_ticket(session, offer, reason, now, placed=False)
    maybe_next_wave(session, job)
    notices.tell_worker(
        session,
        settings,
        inbound,
        offer.worker,
        "insurance_refused",
        "insurance.refused",
        job,
        now,
        reason=reason,
    )
