"""Offer waves: a few ranked workers at a time, the radius widening wave by wave, until the job is
filled or the last wave lapses and the job goes to an agent as an `unfilled job` ticket.

A wave is sized from the places still open and the expected acceptance rate; its offers expire
(sooner for a job starting that day) and the next wave is an RQ job scheduled, through the outbox,
for that expiry. Running a wave twice does nothing the second time: the job's row is locked and its
`wave` counter says which waves have gone out.
"""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any

from sqlalchemy import and_, or_, select, update
from sqlalchemy.orm import Session, aliased

from dispatch.i18n import market_zone
from dispatch.matching import adaptive, in_time, notices, sizing
from dispatch.matching import candidates as pool_candidates
from dispatch.matching import config as matching_config
from dispatch.matching import tasks as matching_tasks
from dispatch.matching.config import MatchingConfig
from dispatch.matching.locking import open_offers
from dispatch.models import (
    Contact,
    EmployerBlock,
    Job,
    JobStatus,
    Offer,
    OfferStatus,
    Ticket,
    TicketKind,
    Worker,
    WorkerStatus,
)
from dispatch.queue import defer
from dispatch.settings import Settings
from dispatch.tickets.services import open_ticket
from dispatch.tickets.summaries import Summary, names

log = logging.getLogger(__name__)


def _locked_job(session: Session, job_id: int) -> Job | None:
    return session.scalars(select(Job).where(Job.id == job_id).with_for_update(key_share=True)).first()


def expire_due_offers(session: Session, job: Job, now: datetime) -> int:
    expired = 0
    for offer in open_offers(session, job):
        if offer.expires_at is not None and offer.expires_at <= now:
            offer.status = OfferStatus.EXPIRED
            expired += 1
    return expired


def send_wave(
    session: Session, settings: Settings, job_id: int, wave: int, now: datetime, refill: bool = False
) -> dict[str, int]:
    """Send wave `wave` of offers for the job, unless it went out already or is no longer wanted.

    A refill (a place given back) past the last wave still asks once more at the widest radius (new
    workers may have come within reach) before the job goes to an agent."""
    job = _locked_job(session, job_id)
    if job is None:
        return {"missing": 1}
    if job.status != JobStatus.OPEN or job.wave >= wave:
        return {"skipped": 1}
    counts = {"expired": expire_due_offers(session, job, now)}
    if job.end_date < notices.local_date(settings, now):
        # Its last day is over: nobody is asked any more, and nobody is left waiting.
        job.status = JobStatus.EXPIRED
        for offer in open_offers(session, job):
            offer.status = OfferStatus.EXPIRED
        return {**counts, "job_over": 1}
    if now >= last_day_starts(settings, job):
        # Its last working day has begun: a worker texted now could not be there in time. An agent
        # decides (call workers, move the date, or close) instead of another wave of texts.
        for offer in open_offers(session, job):
            offer.status = OfferStatus.EXPIRED
        escalate(session, settings, job, now)
        return {**counts, "started": 1}
    config = matching_config.load(settings)
    if job.remaining <= 0:
        return {**counts, "skipped": 1}
    still_open = open_offers(session, job)
    timing = in_time.plan(settings, job, now)
    if timing is None:
        # No offer sent now could reach anyone in time for the start: the offers still out may yet
        # fill it (they lapse before the start); else an agent, at once, rather than texts that come
        # too late.
        if still_open:
            _look_again(session, job, wave, still_open)
            return {**counts, "waiting": 1}
        escalate(session, settings, job, now, too_late=True)
        return {**counts, "too_late": 1}
    if settings.MATCHING_POLICY == adaptive.POLICY:
        return {**counts, **_adaptive_wave(session, settings, config, job, wave, still_open, timing, now)}
    size = config.wave_size(job.remaining) - len(still_open)
    if size <= 0:
        # The offers still out may fill it: look again when they lapse.
        _look_again(session, job, wave, still_open)
        return {**counts, "waiting": 1}
    seed = int(job.matching.get("seed", job.id))
    numbers = range(wave, max(config.last_wave, wave if refill else 0) + 1)
    for number in numbers:
        radius = config.radius_for(number)
        found = pool_candidates.rank(
            session,
            job,
            radius_km=radius,
            limit=size,
            policy=settings.MATCHING_POLICY,
            config=config,
            seed=seed,
            now=now,
        )
        if found:
            expires_at = offer_wave(session, settings, config, job, number, radius, found, now, timing)
            defer(session, matching_tasks.send_wave, job.id, number + 1, queue="matching", run_at=expires_at)
            return {**counts, "wave": number, "offers": len(found)}
    job.wave = max(job.wave, config.last_wave)
    if still_open:
        _look_again(session, job, config.last_wave + 1, still_open)
        return {**counts, "waiting": 1}
    escalate(session, settings, job, now)
    return {**counts, "escalated": 1}


def _adaptive_wave(
    session: Session,
    settings: Settings,
    config: MatchingConfig,
    job: Job,
    wave: int,
    still_open: list[Offer],
    timing: in_time.Timing,
    now: datetime,
) -> dict[str, int]:
    """The adaptive policy's wave (adaptive.py): sized from the learned estimates. A job with time
    (many waves fit before its start: the wave aims at `min_wave_target`) takes what this radius
    holds and widens next wave; a job starting soon, whose wave aims higher, widens at once when
    the workers within this radius cannot reach the aim. Past the last radius it keeps asking at
    the widest while anyone is left to ask and the start allows."""
    if len(still_open) >= config.max_size:  # as many offers out as a wave may hold: let them lapse
        _look_again(session, job, wave, still_open)
        return {"waiting": 1}
    seed = int(job.matching.get("seed", job.id))
    best: tuple[int, float, adaptive.Choice] | None = None
    for number in range(wave, max(config.last_wave, wave) + 1):
        radius = config.radius_for(number)
        choice = adaptive.choose(session, settings, config, job, radius, still_open, timing, seed, now)
        sized = choice.sizing
        if sized is not None and not choice.found and not sized.capped:
            # The offers still out (or lately lapsed) are enough for the target: look again when they
            # lapse (or stop counting).
            _look_again(session, job, wave, still_open, choice.recheck_at)
            return {"waiting": 1}
        if choice.found and sized is not None:
            # A wider radius that adds nobody likelier keeps the narrower one (and its wave number).
            if best is None or best[2].sizing is None or sized.chance > best[2].sizing.chance + 1e-9:
                best = (number, radius, choice)
            if not sized.capped or sized.target <= config.adaptive.min_wave_target:
                break
    if best is not None:
        number, radius, choice = best
        expires_at = offer_wave(session, settings, config, job, number, radius, choice.found, now, timing)
        if choice.sizing is not None:
            _record_sizing(job, choice.sizing)
        defer(session, matching_tasks.send_wave, job.id, number + 1, queue="matching", run_at=expires_at)
        return {"wave": number, "offers": len(choice.found)}
    job.wave = max(job.wave, config.last_wave, wave)
    if still_open:
        _look_again(session, job, job.wave + 1, still_open)
        return {"waiting": 1}
    escalate(session, settings, job, now)
    return {"escalated": 1}


def _record_sizing(job: Job, sized: sizing.Sizing) -> None:
    """Why the wave just written has its size, beside it in the job's wave history (the job page)."""
    history = list(job.matching.get("waves", []))
    history[-1] = {**history[-1], "sizing": sized.as_json()}
    job.matching = {**job.matching, "waves": history}


def last_day_starts(settings: Settings, job: Job) -> datetime:
    """The moment work starts on the job's last day, in the market's time zone."""
    return datetime.combine(job.end_date, job.start_time, tzinfo=market_zone(settings))


def _look_again(
    session: Session, job: Job, wave: int, still_open: list[Offer], recheck_at: datetime | None = None
) -> None:
    moments = [offer.expires_at for offer in still_open if offer.expires_at is not None]
    later = max([*moments, *([recheck_at] if recheck_at is not None else [])], default=None)
    defer(session, matching_tasks.send_wave, job.id, wave, queue="matching", run_at=later)


def offer_wave(
    session: Session,
    settings: Settings,
    config: MatchingConfig,
    job: Job,
    wave: int,
    radius: float,
    found: list[pool_candidates.Candidate],
    now: datetime,
    timing: in_time.Timing,
) -> datetime:
    """Write the wave's offers and queue their texts; returns when they expire."""
    sent_at = timing.send_at
    expires_at = in_time.expiry(settings, config, job, timing)
    offers = [
        Offer(
            job_id=job.id,
            worker_id=candidate.worker_id,
            wave=wave,
            status=OfferStatus.SENT,
            score=candidate.score,
            explanation=candidate.explanation.as_json(),
            created_at=now,
            sent_at=sent_at,
            expires_at=expires_at,
        )
        for candidate in found
    ]
    session.add_all(offers)
    session.flush()
    for offer in offers:
        message = notices.send_offer(
            session, settings, offer, job, offer.worker, now, reopened=False, urgent=timing.urgent
        )
        offer.message_id = message.id
        if not notices.reaches(session, message, offer.worker):  # the number stopped taking texts meanwhile
            offer.status = OfferStatus.CANCELLED
    mark_offered(session, [offer.worker_id for offer in offers], now)
    job.wave = wave
    history = list(job.matching.get("waves", []))
    history.append(
        {"wave": wave, "radius_km": radius, "offers": len(offers), "expires_at": expires_at.isoformat()}
    )
    job.matching = {**job.matching, "waves": history}
    return expires_at


def mark_offered(session: Session, worker_ids: list[int], now: datetime) -> None:
    """Rotation: the workers just offered go to the back. A worker row another transaction holds
    (an answer being handled) is skipped rather than waited for, so a wave never deadlocks with one."""
    if not worker_ids:
        return
    free = (
        select(Worker.id).where(Worker.id.in_(worker_ids)).with_for_update(skip_locked=True, key_share=True)
    )
    session.execute(
        update(Worker)
        .where(Worker.id.in_(free.scalar_subquery()))
        .values(last_offered_at=now)
        .execution_options(synchronize_session=False)
    )


def _standby_eligible(job: Job) -> Any:
    """The checks of a normal wave, for a worker on standby: still active, their number taking texts,
    no place on another job on these days, not blocked by the employer."""
    held = aliased(Offer)
    held_job = aliased(Job)
    booked = (
        select(held.id)
        .join(held_job, held_job.id == held.job_id)
        .where(
            held.worker_id == Offer.worker_id,
            held.status == OfferStatus.ACCEPTED,
            held.job_id != job.id,
            held_job.end_date >= job.work_date,
            held_job.work_date <= job.end_date,
        )
        .exists()
    )
    unreachable = (
        select(Contact.id)
        .where(
            Contact.phone == Worker.phone,
            or_(Contact.opted_out_at.is_not(None), pool_candidates.texts_only_and_undeliverable()),
        )
        .exists()
    )
    blocked = (
        select(EmployerBlock.worker_id)
        .where(EmployerBlock.employer_id == job.employer_id, EmployerBlock.worker_id == Offer.worker_id)
        .exists()
    )
    return and_(Worker.status == WorkerStatus.ACTIVE, ~booked, ~unreachable, ~blocked)


def reoffer_standby(session: Session, settings: Settings, job: Job, now: datetime) -> int:
    """A place reopened: those who said yes when it was full come first, in the order they answered,
    if they could still be offered it in a normal wave (the others' standby lapses)."""
    config = matching_config.load(settings)
    waiting = (
        select(Offer)
        .join(Worker, Worker.id == Offer.worker_id)
        .where(Offer.job_id == job.id, Offer.status == OfferStatus.STANDBY)
    )
    for gone in session.scalars(waiting.where(~_standby_eligible(job))):
        gone.status = OfferStatus.CANCELLED
    chosen = list(
        session.scalars(
            waiting.where(_standby_eligible(job))
            .order_by(Offer.responded_at, Offer.id)
            .limit(config.wave_size(job.remaining))
        )
    )
    timing = in_time.plan(settings, job, now)
    if not chosen or timing is None:  # too late for standby too: refill's next wave sends the agent
        return 0
    sent_at = timing.send_at
    expires_at = in_time.expiry(settings, config, job, timing)
    reoffered = 0
    for offer in chosen:
        offer.status = OfferStatus.SENT
        offer.sent_at = sent_at
        offer.expires_at = expires_at
        offer.responded_at = None
        message = notices.send_offer(
            session, settings, offer, job, offer.worker, now, reopened=True, urgent=timing.urgent
        )
        offer.message_id = message.id
        if not notices.reaches(session, message, offer.worker):  # the number stopped taking texts meanwhile
            offer.status = OfferStatus.CANCELLED
        else:
            reoffered += 1
    if reoffered:
        defer(session, matching_tasks.send_wave, job.id, job.wave + 1, queue="matching", run_at=expires_at)
    return reoffered


def refill(session: Session, settings: Settings, job_id: int, now: datetime) -> dict[str, int]:
    """A placed worker gave a place back: standby first, else the next wave at once."""
    job = _locked_job(session, job_id)
    if job is None or job.status != JobStatus.OPEN or job.remaining <= 0:
        return {"skipped": 1}
    reoffered = reoffer_standby(session, settings, job, now)
    if reoffered:
        return {"standby": reoffered}
    return send_wave(session, settings, job.id, job.wave + 1, now, refill=True)


def escalate(session: Session, settings: Settings, job: Job, now: datetime, too_late: bool = False) -> Ticket:
    """No wave left (or nobody left to ask): an agent takes over the job, and the employer is told.

    `too_late`: no offer could reach a worker MIN_LEAD_MINUTES before the start (in_time.py): the
    ticket says so, and is urgent; the employer's text may go in the urgent hours."""
    job.status = JobStatus.ESCALATED
    offered = session.scalars(select(Offer.status).where(Offer.job_id == job.id)).all()
    fields = {"code": job.code, "trade": names(job.trade), "filled": job.filled, "headcount": job.headcount}
    if too_late:
        start = in_time.next_start(settings, job, now) or in_time.first_start(settings, job)
        summary = Summary.of("unfilled_no_time", **fields, start=start.strftime("%m-%d %H:%M"))
    else:
        summary = Summary.of("unfilled_escalated", **fields)
    ticket = open_ticket(
        session,
        TicketKind.UNFILLED_JOB,
        job=job,
        summary=summary,
        text=f"{job.code} {job.trade.name_zh} {job.filled}/{job.headcount}"
        + (" no time" if too_late else ""),
        details={
            "waves": job.wave,
            "offers": len(offered),
            "declined": sum(status == OfferStatus.DECLINED for status in offered),
            "expired": sum(status == OfferStatus.EXPIRED for status in offered),
            "remaining": job.remaining,
        },
        now=now,
    )
    notices.tell_employer(
        session,
        settings,
        job,
        "match_unfilled",
        "match.unfilled",
        now,
        urgent=too_late,
        remaining=job.remaining,
    )
    log.info("job %s escalated after %s waves with %s places open", job.code, job.wave, job.remaining)
    return ticket
