"""The offer a friend gets when a worker passes one on (`转 123 13800138000`), or the invitation an
unknown number gets, and the offer that follows when that number registers.

Made as a wave makes them: the same explanation (badged `forward` on the agent's job page), the same
expiry rules, the texts queued through the SMS layer (not replies: quiet hours hold them).

Forwards to a number and that number's registration take the number's advisory lock (`lock_number`)
before they look for its worker, then the jobs' rows: see `forwarding_target`.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from dispatch.inbound.questions import Question, offer_question
from dispatch.insurance import services as insurance
from dispatch.matching import candidates as pool_candidates
from dispatch.matching import config as matching_config
from dispatch.matching import notices, rescue, services, waves
from dispatch.matching.locking import lock_job
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

# The first key of the advisory lock on a number: keeps these locks apart from any other use of them.
NUMBER_LOCK_SPACE = 70_207


def lock_number(session: Session, phone: str) -> None:
    """Hold the number until the transaction ends (PostgreSQL; SQLite has one writer anyway)."""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(select(func.pg_advisory_xact_lock(NUMBER_LOCK_SPACE, func.hashtext(phone))))


def taking(job: Job) -> bool:
    """The job still wants workers."""
    return job.status in services.TAKING and job.remaining > 0


def in_time(settings: Settings, job: Job, now: datetime) -> bool:
    """A text to the friend queued now, held until quiet hours end perhaps, still leaves them the time
    a same-day offer gives to answer before work starts on the job's last day (a wave stops there)."""
    window = timedelta(minutes=matching_config.load(settings).expiry_same_day_minutes)
    return notices.send_time(settings, now) + window <= waves.last_day_starts(settings, job)


def unfit(session: Session, settings: Settings, job: Job, friend: Worker, now: datetime) -> str | None:
    """Why the friend cannot be offered the job (distance aside: the friend chose), in a word for the
    agents (`offered`, `booked`, or a matching refusal: `trade`, `pay`, `blocked`, ...), or None."""
    existing = session.scalar(
        select(Offer.status).where(Offer.job_id == job.id, Offer.worker_id == friend.id)
    )
    if existing is not None:
        return "booked" if existing == OfferStatus.ACCEPTED else "offered"
    refused = rescue.unfit(session, job, friend)
    if refused is not None:
        return refused.refusal.value
    if job.trade.high_risk and insurance.refusal(settings, friend, job, now) is not None:
        # Dispatched only insured: a yes would only end in a refusal.
        return rescue.Refusal.UNINSURED.value
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
    asks = offer_question(job.id, offer.expires_at, now)  # the friend's bare `1` takes it
    message = _text(
        session, settings, job, friend.phone, forwarder, "forward_offer", "offer.forwarded", now, asks=asks
    )
    offer.message_id = message.id
    if message.status == MessageStatus.SUPPRESSED:  # the number stopped taking texts meanwhile
        offer.status = OfferStatus.CANCELLED
    waves.mark_offered(session, [friend.id], now)
    return offer


def invite(
    session: Session, settings: Settings, job: Job, forwarder: Worker, phone: str, now: datetime
) -> bool:
    """Ask an unknown number to register; False if the text was suppressed (the number stopped our
    texts since we looked). A new contact reads the forwarder's language (a friend passing a job on is
    the best guess we have of it)."""
    if session.scalar(select(Contact.id).where(Contact.phone == phone)) is None:
        get_or_create_contact(session, phone).language = notices.language_of(session, forwarder.phone)
    message = _text(session, settings, job, phone, forwarder, "forward_invite", "forward.invite", now)
    return message.status != MessageStatus.SUPPRESSED


def _text(
    session: Session,
    settings: Settings,
    job: Job,
    phone: str,
    forwarder: Worker,
    template: str,
    kind: str,
    now: datetime,
    asks: Question | None = None,
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
        asks=asks,
        from_name=notices.person_name(forwarder.name, language),
        from_phone=display(forwarder.phone),
        **notices.job_context(job, language, settings, notices.send_time(settings, now)),
    )


def offer_invited(session: Session, settings: Settings, worker: Worker, now: datetime) -> list[Offer]:
    """A number invited by a forward has registered: each job passed to it that still wants workers and
    fits them is offered now, as the invitation promised; once, however many invited it to the job.

    The caller holds the number's lock (`lock_number`). The jobs are locked in the order of their ids,
    as a wave or an answer locks one job at a time: two registrations never wait on each other's jobs."""
    invites = session.scalars(
        select(OfferForward)
        .join(Job, Job.id == OfferForward.job_id)
        .where(
            OfferForward.to_phone == worker.phone,
            OfferForward.outcome == ForwardOutcome.INVITED,
            OfferForward.new_offer_id.is_(None),
            Job.status.in_(services.TAKING),
        )
        .order_by(OfferForward.job_id, OfferForward.id)
    ).all()
    offers: list[Offer] = []
    by_job: dict[int, list[OfferForward]] = {}
    for invitation in invites:
        by_job.setdefault(invitation.job_id, []).append(invitation)
    for job_id, invitations in sorted(by_job.items()):
        job = lock_job(session, job_id)
        for invitation in invitations:
            invitation.to_worker_id = worker.id
        if not (taking(job) and in_time(settings, job, now)) or unfit(session, settings, job, worker, now):
            continue
        first = invitations[0]  # the first to pass it on is named in the offer
        forwarder = session.get(Worker, first.from_worker_id)
        forwarded = session.get(Offer, first.offer_id)
        assert forwarder is not None and forwarded is not None
        offer = offer_to(session, settings, job, worker, forwarder, forwarded.wave, now)
        first.new_offer_id = offer.id
        offers.append(offer)
    session.flush()
    if offers:
        log.info("worker %s registered after an invitation: %s offers", worker.id, len(offers))
    return offers
