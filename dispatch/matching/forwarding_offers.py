"""The offer a friend gets when a worker passes one on (`转 123 13800138000`), or the invitation an
unknown number gets, and the offer that follows when that number registers.

Made as a wave makes them: the same explanation (badged `forward` on the agent's job page), the same
expiry rules, the texts queued through the SMS layer (not replies: quiet hours hold them).
"""

from __future__ import annotations

import logging
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from dispatch.insurance import services as insurance
from dispatch.matching import candidates as pool_candidates
from dispatch.matching import config as matching_config
from dispatch.matching import notices, rescue, services, waves
from dispatch.models import (
    Contact,
    ForwardOutcome,
    Job,
    Message,
    Offer,
    OfferForward,
    OfferStatus,
    Worker,
)
from dispatch.models.messaging import MessageStatus
from dispatch.phones import display
from dispatch.settings import Settings
from dispatch.sms.services import get_or_create_contact, queue_sms

log = logging.getLogger(__name__)

# Why matching would not offer the job to the friend, as the forwarder's reply words it. A block by the
# employer is not the forwarder's business: it reads as a plain "does not suit".
_REFUSALS = {
    rescue.Refusal.TRADE: "trade",
    rescue.Refusal.PAY: "pay",
    rescue.Refusal.CLASH: "clash",
    rescue.Refusal.INACTIVE: "inactive",
    rescue.Refusal.UNREACHABLE: "opted_out",
}
UNFIT_REASONS = ("trade", "pay", "clash", "inactive", "offered", "booked", "other")


def taking(settings: Settings, job: Job, now: datetime) -> bool:
    """The job still wants workers, and texting one now could still get them there in time."""
    return job.status in services.TAKING and job.remaining > 0 and now < waves.last_day_starts(settings, job)


def unfit(session: Session, settings: Settings, job: Job, friend: Worker, now: datetime) -> str | None:
    """Why the friend cannot be offered the job (distance aside: the friend chose), or None."""
    existing = session.scalar(
        select(Offer.status).where(Offer.job_id == job.id, Offer.worker_id == friend.id)
    )
    if existing is not None:
        return "booked" if existing == OfferStatus.ACCEPTED else "offered"
    refused = rescue.unfit(session, job, friend)
    if refused is not None:
        return _REFUSALS.get(refused.refusal, "other")
    if job.trade.high_risk and insurance.refusal(settings, friend, job, now) is not None:
        return "other"  # dispatched only insured: a yes would only end in a refusal (their details)
    return None


def close_forwarded(session: Session, offer: Offer, now: datetime) -> None:
    """The forwarder passed the offer on: to them it is a no."""
    offer.status = OfferStatus.DECLINED
    offer.responded_at = now
    session.flush()


def offer_to(
    session: Session,
    settings: Settings,
    job: Job,
    friend: Worker,
    forwarder: Worker,
    wave: int,
    now: datetime,
) -> Offer:
    """A new offer for the friend, in the forwarder's wave with the expiry a wave gives, texted as one
    passed on by the forwarder. The job's row is locked by the caller."""
    config = matching_config.load(settings)
    explained = pool_candidates.explain(
        session,
        job,
        friend,
        radius_km=rescue.every_town_km(session, job, config),
        policy=settings.MATCHING_POLICY,
        config=config,
        seed=int(job.matching.get("seed", job.id)),
        now=now,
    )
    # `by` badges the offer on the agent's job page; `forwarded_by` says whose offer it was.
    explanation = {
        **(explained.as_json() if explained else {}),
        "by": "forward",
        "forwarded_by": forwarder.id,
    }
    sent_at = notices.send_time(settings, now)
    offer = Offer(
        job_id=job.id,
        worker_id=friend.id,
        wave=wave,
        status=OfferStatus.SENT,
        score=float(explanation.get("score", 0.0)),
        explanation=explanation,
        created_at=now,
        sent_at=sent_at,
        expires_at=notices.expiry(
            settings, config.expiry_same_day_minutes, config.expiry_later_minutes, job, sent_at
        ),
    )
    session.add(offer)
    session.flush()
    message = _text(session, settings, job, friend.phone, forwarder, "forward_offer", "offer.forwarded", now)
    offer.message_id = message.id
    if message.status == MessageStatus.SUPPRESSED:  # the number stopped taking texts meanwhile
        offer.status = OfferStatus.CANCELLED
    waves.mark_offered(session, [friend.id], now)
    return offer


def invite(
    session: Session, settings: Settings, job: Job, forwarder: Worker, phone: str, now: datetime
) -> Message:
    """Ask an unknown number to register; a new contact reads the forwarder's language (a friend passing
    a job on is the best guess we have of it)."""
    if session.scalar(select(Contact.id).where(Contact.phone == phone)) is None:
        get_or_create_contact(session, phone).language = notices.language_of(session, forwarder.phone)
    return _text(session, settings, job, phone, forwarder, "forward_invite", "forward.invite", now)


def _text(
    session: Session,
    settings: Settings,
    job: Job,
    phone: str,
    forwarder: Worker,
    template: str,
    kind: str,
    now: datetime,
) -> Message:
    """A text to the friend (not a reply: quiet hours hold it), saying who passed the job on."""
    language = notices.language_of(session, phone)
    friend_id = session.scalar(select(Worker.id).where(Worker.phone == phone))
    return queue_sms(
        session,
        settings,
        phone=phone,
        template=template,
        kind=kind,
        worker_id=friend_id,
        from_name=notices.person_name(forwarder.name, language),
        from_phone=display(forwarder.phone),
        **notices.job_context(job, language, settings, notices.send_time(settings, now)),
    )


def offer_invited(session: Session, settings: Settings, worker: Worker, now: datetime) -> list[Offer]:
    """A number invited by a forward has registered: each job passed to it that still wants workers and
    fits them is offered now, as the invitation promised."""
    invites = session.scalars(
        select(OfferForward)
        .where(
            OfferForward.to_phone == worker.phone,
            OfferForward.outcome == ForwardOutcome.INVITED,
            OfferForward.new_offer_id.is_(None),
        )
        .order_by(OfferForward.id)
    ).all()
    offers: list[Offer] = []
    for invitation in invites:
        job = rescue.lock_job(session, invitation.job_id)
        if not taking(settings, job, now) or unfit(session, settings, job, worker, now) is not None:
            continue
        forwarder = session.get(Worker, invitation.from_worker_id)
        forwarded = session.get(Offer, invitation.offer_id)
        assert forwarder is not None and forwarded is not None
        offer = offer_to(session, settings, job, worker, forwarder, forwarded.wave, now)
        invitation.to_worker_id, invitation.new_offer_id = worker.id, offer.id
        offers.append(offer)
    if offers:
        log.info("worker %s registered after an invitation: %s offers", worker.id, len(offers))
    return offers
