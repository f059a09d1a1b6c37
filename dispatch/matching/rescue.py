"""What an agent does for a job the machine has not filled: send a wave now (the next radius, or every
town at once), offer the job to one chosen worker, or book a worker who said yes on the phone.

The same candidate selection, ranking, offer texts and place claim as the automatic path: a wave is
`candidates.rank` + `waves.offer_wave`, a phone yes goes through `services.accept`. An escalated job
stays with the agents (no automatic wave follows an agent's wave); an open one carries on as usual.
"""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from dispatch.insurance import services as insurance
from dispatch.matching import candidates as pool_candidates
from dispatch.matching import config as matching_config
from dispatch.matching import in_time, notices, services, waves
from dispatch.matching.config import MatchingConfig
from dispatch.matching.distances import near_sites
from dispatch.matching.locking import CLAIMABLE, lock_job, lock_worker, open_offers
from dispatch.matching.tasks import send_wave
from dispatch.models import (
    Contact,
    EmployerBlock,
    Job,
    JobStatus,
    Offer,
    OfferStatus,
    Worker,
    WorkerStatus,
    WorkerTrade,
)
from dispatch.queue import defer
from dispatch.settings import Settings

AGENT_WAVE = 0  # Offer.wave of an offer an agent made to one worker (or a yes taken on the phone)
WIDEST_MARGIN_KM = 1.0  # "every town" reaches a little past the farthest site


class Refusal(enum.StrEnum):
    CLOSED = "closed"  # the job is filled, cancelled, expired or held: it takes nobody
    OVER = "over"  # its last day is over
    STARTED = "started"  # its last working day has begun: too late for texts, phone instead
    FULL = "full"  # no place left
    NOBODY = "nobody"  # no eligible worker in reach who was not offered it already
    INACTIVE = "inactive"  # the worker is pending, paused, opted out, undeliverable or blocked
    UNREACHABLE = "unreachable"  # opted out, or a number that takes no texts and no offer calls
    TRADE = "trade"  # the worker is not registered for the job's trade
    PAY = "pay"  # the worker wants more a day than the job pays
    BLOCKED = "blocked"  # the employer does not want this worker
    CLASH = "clash"  # the worker holds a place on another job on those days
    OFFERED = "offered"  # the worker has an offer for this job already
    BOOKED = "booked"  # the worker holds a place on this job already
    UNINSURED = "uninsured"  # a high-risk trade and the insurer would not cover the worker (e.g. no name)


class RescueRefused(Exception):
    """The action cannot be done; nothing was changed. `details` fill the agent's message."""

    def __init__(self, refusal: Refusal, **details: Any) -> None:
        super().__init__(refusal.value)
        self.refusal = refusal
        self.details = details


def _seed(job: Job) -> int:
    return int(job.matching.get("seed", job.id))


def every_town_km(session: Session, job: Job, config: MatchingConfig) -> float:
    """A radius reaching every site of the market from the job's site (never less than the last wave's)."""
    farthest = max(near_sites(session, job.site, None).values(), default=0.0)
    return max(config.radius_km[-1], farthest + WIDEST_MARGIN_KM)


def _check_taking(settings: Settings, job: Job, now: datetime, texts: bool) -> None:
    if job.status == JobStatus.FILLED:
        raise RescueRefused(Refusal.FULL)
    if job.status not in services.TAKING:
        raise RescueRefused(Refusal.CLOSED)
    if job.end_date < notices.local_date(settings, now):
        raise RescueRefused(Refusal.OVER)
    if texts and now >= waves.last_day_starts(settings, job):
        raise RescueRefused(Refusal.STARTED)
    if job.remaining <= 0:
        raise RescueRefused(Refusal.FULL)


def candidates_to_call(
    session: Session, settings: Settings, job: Job, now: datetime, limit: int = 20
) -> list[pool_candidates.Candidate]:
    """The best eligible workers anywhere in the market not yet offered this job, for agents to phone."""
    config = matching_config.load(settings)
    return pool_candidates.rank(
        session,
        job,
        radius_km=every_town_km(session, job, config),
        limit=limit,
        policy=settings.MATCHING_POLICY,
        config=config,
        seed=_seed(job),
        now=now,
    )


def wave_now(
    session: Session, settings: Settings, job_id: int, now: datetime, every_town: bool = False
) -> tuple[int, float, list[Offer]]:
    """The next wave at once, as if the offers still out had lapsed now (their yes still takes a place):
    the next radius of config/matching.toml, or with `every_town` the whole market. Returns the wave's
    number, radius and offers; refuses when nobody is left in reach (the offers out stay as they were)."""
    job = lock_job(session, job_id)
    _check_taking(settings, job, now, texts=True)
    config = matching_config.load(settings)
    number = job.wave + 1
    radius = every_town_km(session, job, config) if every_town else config.radius_for(number)
    found = pool_candidates.rank(
        session,
        job,
        radius_km=radius,
        limit=config.wave_size(job.remaining),
        policy=settings.MATCHING_POLICY,
        config=config,
        seed=_seed(job),
        now=now,
    )
    if not found:
        raise RescueRefused(Refusal.NOBODY, km=round(radius, 1))
    for offer in open_offers(session, job):
        offer.status = OfferStatus.EXPIRED
        offer.expires_at = min(offer.expires_at or now, now)
    history = [_lapsed_by(entry, now) for entry in job.matching.get("waves", [])]
    job.matching = {**job.matching, "waves": history}
    timing = _agent_timing(settings, job, now)
    expires_at = waves.offer_wave(session, settings, config, job, number, radius, found, now, timing)
    if job.status == JobStatus.OPEN:
        # The wave the machine had scheduled finds this one sent and does nothing; this is the next.
        defer(session, send_wave, job.id, number + 1, queue="matching", run_at=expires_at)
    offers = session.scalars(select(Offer).where(Offer.job_id == job.id, Offer.wave == number)).all()
    return number, radius, list(offers)


def _agent_timing(settings: Settings, job: Job, now: datetime) -> in_time.Timing:
    """When an agent's offers go: as matching's (urgent hours for a job starting before quiet hours
    end), and, the agent having asked, even when they cannot reach anyone the usual lead before the
    start (at once, or when the urgent hours open); the texts are still never sent after the start."""
    return in_time.plan(settings, job, now) or in_time.Timing(
        in_time.send_after(settings, now, urgent=True),
        in_time.next_start(settings, job, now) or waves.last_day_starts(settings, job),
        urgent=True,
    )


def _lapsed_by(entry: dict[str, Any], now: datetime) -> dict[str, Any]:
    """A wave's history entry, its expiry brought forward to `now` (the wave was cut short)."""
    expires = entry.get("expires_at")
    if expires and datetime.fromisoformat(expires) > now:
        return {**entry, "expires_at": now.isoformat()}
    return entry


def reached_by_call(contact: Contact, worker: Worker) -> bool:
    """A voice worker's landline: no SMS, but the offer's call rings
    (candidates.texts_only_and_undeliverable)."""
    return contact.opted_out_at is None and worker.prefers_voice


def unfit(session: Session, job: Job, worker: Worker, check_pay: bool = True) -> RescueRefused | None:
    """Why matching would not offer `job` to `worker` (distance aside), or None if it would."""
    if worker.status != WorkerStatus.ACTIVE:
        return RescueRefused(Refusal.INACTIVE, status=worker.status.value)
    contact = session.scalar(select(Contact).where(Contact.phone == worker.phone))
    if contact is not None and not (contact.may_receive or reached_by_call(contact, worker)):
        return RescueRefused(Refusal.UNREACHABLE)
    if session.get(WorkerTrade, (worker.id, job.trade_id)) is None:
        return RescueRefused(Refusal.TRADE)
    if check_pay and worker.min_daily_pay > job.daily_pay:
        return RescueRefused(Refusal.PAY, wants=worker.min_daily_pay)
    blocked = select(EmployerBlock.worker_id).where(
        EmployerBlock.employer_id == job.employer_id, EmployerBlock.worker_id == worker.id
    )
    if session.scalar(blocked) is not None:
        return RescueRefused(Refusal.BLOCKED)
    clash = services.clashing_job(session, worker, job)
    if clash is not None:
        return RescueRefused(Refusal.CLASH, code=clash.code)
    return None


def _check_insurable(settings: Settings, job: Job, worker: Worker, now: datetime) -> None:
    """A high-risk job goes only to a worker the insurer covers: the agent hears why at once, rather
    than the worker being texted a refusal (fix the details on the worker's page first)."""
    if job.trade.high_risk:
        refused = insurance.refusal(settings, worker, job, now)
        if refused is not None:
            raise RescueRefused(Refusal.UNINSURED, reason=refused.reason.value)


def _explanation(
    session: Session, settings: Settings, job: Job, worker: Worker, now: datetime, by: str
) -> dict[str, Any]:
    """The worker's score for the job as a wave over the whole market would rank them, and who chose."""
    config = matching_config.load(settings)
    explained = pool_candidates.explain(
        session,
        job,
        worker,
        radius_km=every_town_km(session, job, config),
        policy=settings.MATCHING_POLICY,
        config=config,
        seed=_seed(job),
        now=now,
    )
    return {**(explained.as_json() if explained else {}), "by": by}


def _agent_offer(
    session: Session, settings: Settings, job: Job, worker: Worker, now: datetime, by: str
) -> Offer:
    """A new offer outside the waves (`by` an agent's choice, or a yes taken on the phone), scored and
    explained as a wave over the whole market would rank the worker."""
    explanation = _explanation(session, settings, job, worker, now, by)
    offer = Offer(
        job_id=job.id,
        worker_id=worker.id,
        wave=AGENT_WAVE,
        status=OfferStatus.SENT,
        score=float(explanation.get("score", 0.0)),
        explanation=explanation,
        created_at=now,
    )
    session.add(offer)
    return offer


def offer_outside_waves(
    session: Session,
    settings: Settings,
    job: Job,
    worker: Worker,
    now: datetime,
    by: str,
    timing: in_time.Timing,
) -> Offer:
    """A new offer of one job to one worker (an agent's choice, a job the worker asked for), sent when
    `timing` says and lapsing as a wave's offer would (never after the start it is for)."""
    offer = _agent_offer(session, settings, job, worker, now, by)
    offer.sent_at = timing.send_at
    offer.expires_at = in_time.expiry(settings, matching_config.load(settings), job, timing)
    return offer


def offer_one(session: Session, settings: Settings, job_id: int, worker_id: int, now: datetime) -> Offer:
    """Offer the job by SMS to one worker an agent chose, if matching could have offered it to them."""
    worker = lock_worker(session, worker_id)  # worker, then job: the order every answer locks them in
    job = lock_job(session, job_id)
    _check_taking(settings, job, now, texts=True)
    existing = session.scalar(select(Offer).where(Offer.job_id == job.id, Offer.worker_id == worker.id))
    if existing is not None:
        raise RescueRefused(
            Refusal.BOOKED if existing.status == OfferStatus.ACCEPTED else Refusal.OFFERED,
            status=existing.status.value,
        )
    refused = unfit(session, job, worker)
    if refused is not None:
        raise refused
    _check_insurable(settings, job, worker, now)
    timing = _agent_timing(settings, job, now)
    offer = offer_outside_waves(session, settings, job, worker, now, "agent", timing)
    session.flush()
    message = notices.send_offer(
        session, settings, offer, job, worker, now, reopened=False, urgent=timing.urgent
    )
    offer.message_id = message.id
    if not notices.reaches(session, message, worker):
        offer.status = OfferStatus.CANCELLED
    waves.mark_offered(session, [worker.id], now)
    return offer


def confirm_by_phone(
    session: Session, settings: Settings, job_id: int, worker_id: int, now: datetime
) -> tuple[services.Outcome, Offer]:
    """A worker said yes on the phone: they take a place exactly as a `1 <code>` text would (the same
    conditional claim, never past the headcount, the same insurance enrolment; the worker and the
    employer are texted as usual).
    Their pay floor is not checked: they agreed to this pay with the agent."""
    worker = lock_worker(session, worker_id)
    job = lock_job(session, job_id)  # two agents booking the last place: the second waits, then sees it full
    offer = session.scalar(select(Offer).where(Offer.job_id == job.id, Offer.worker_id == worker.id))
    if offer is not None and offer.status == OfferStatus.ACCEPTED:
        raise RescueRefused(Refusal.BOOKED)
    _check_taking(settings, job, now, texts=False)
    refused = unfit(session, job, worker, check_pay=False)
    if refused is not None:
        raise refused
    _check_insurable(settings, job, worker, now)
    if offer is None:
        offer = _agent_offer(session, settings, job, worker, now, "phone")
    elif offer.status not in CLAIMABLE:
        # Said no by text, heard 名额已满, or gave the place back: the yes on the phone is what counts now.
        offer.status = OfferStatus.SENT
    session.flush()  # `accept` reads the offer afresh from the database
    return services.accept(session, settings, offer, None, now), offer
