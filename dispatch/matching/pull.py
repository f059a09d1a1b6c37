"""A worker asks for jobs (`找活`, `找活 水电工`): up to three open jobs nearest them that they fit, in
one reply, each with its code. Each listed job becomes an offer to the worker (badged `pull` on the
agent's job page), so `1 <code>` takes it under the same first-come rules as a wave's offer.

The seed's workers pick jobs from the hall's screen; this is the screen for a phone without a browser.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from dispatch.catalogue import trade_short_name
from dispatch.inbound.questions import offer_question
from dispatch.insurance import services as insurance
from dispatch.matching import distances, in_time, notices, rescue, services, waves
from dispatch.matching.locking import lock_job, lock_worker
from dispatch.models import OPEN_OFFER_STATUSES, Job, Message, Offer, Trade, Worker, WorkerStatus, WorkerTrade
from dispatch.settings import Settings
from dispatch.sms.registration import town_short_name
from dispatch.sms.segments import count_segments
from dispatch.sms.services import reply

LISTED = 3  # jobs in one reply, at most (fewer when three would not fit the text's segments)
LOOKED_AT = 60  # open jobs of the worker's trades read, soonest first, before the nearest are chosen
MAX_SEGMENTS = {"zh": 2, "en": 1}


@dataclass(frozen=True)
class Listed:
    job: Job
    km: float


def open_jobs_near(
    session: Session, settings: Settings, worker: Worker, trade: Trade | None, now: datetime
) -> list[Listed]:
    """Jobs still taking workers that matching would offer this worker (trade, pay, blocks, clashes,
    insurance) and that an answer can still reach before they start; nearest first, then soonest.
    A job the worker already answered, or was offered and let lapse, is not listed again; one whose
    offer still waits for their answer is (the worker asked)."""
    answered = select(Offer.job_id).where(
        Offer.worker_id == worker.id, Offer.status.not_in(OPEN_OFFER_STATUSES)
    )
    query = (
        select(Job)
        .join(WorkerTrade, (WorkerTrade.trade_id == Job.trade_id) & (WorkerTrade.worker_id == worker.id))
        .where(
            Job.status.in_(services.TAKING),
            Job.filled < Job.headcount,
            Job.daily_pay >= worker.min_daily_pay,
            Job.id.not_in(answered),
        )
        .order_by(Job.work_date, Job.start_time, Job.id)
        .limit(LOOKED_AT)
    )
    if trade is not None:
        query = query.where(Job.trade_id == trade.id)
    # The listing is a reply, sent now even in quiet hours: it must still leave the lead a wave's offer
    # leaves before the start it is for (in_time.py).
    jobs = [job for job in session.scalars(query) if _timing(settings, job, now) is not None]
    home = worker.home_site
    km = distances.near_sites(session, home, None) if home is not None else {}
    fits = [
        Listed(job, km.get(job.site_id, 0.0))
        for job in jobs
        if rescue.unfit(session, job, worker) is None
        and not (job.trade.high_risk and insurance.refusal(settings, worker, job, now) is not None)
    ]
    return sorted(fits, key=lambda listed: (round(listed.km), listed.job.work_date, listed.job.start_time))


def answer(
    session: Session, settings: Settings, message: Message, worker: Worker, trade: Trade | None
) -> None:
    """The reply to `找活`: the nearest jobs that fit, each now an offer waiting for `1 <code>`."""
    if worker.status != WorkerStatus.ACTIVE:
        reply(session, settings, message, "not_active", "pull.not_active", status=worker.status.value)
        return
    now = message.created_at
    lock_worker(session, worker.id)  # worker, then jobs: the order every answer locks them in
    listed = open_jobs_near(session, settings, worker, trade, now)
    language = notices.language_of(session, worker.phone)
    shown = _fitting(settings, language, listed[:LISTED], now)
    if not shown:
        reply(session, settings, message, "pull_none", "pull.none", trade=_trade_name(trade, language))
        return
    offers = [
        offer_listed(session, settings, listed.job, worker, now) for listed in sorted(shown, key=_by_id)
    ]
    first = shown[0].job
    expires_at = max(offer.expires_at for offer in offers if offer.expires_at is not None)
    sent = reply(
        session,
        settings,
        message,
        "pull_jobs",
        "pull.jobs",
        asks=offer_question(first.id, expires_at, now),
        jobs=[_line(listed, language, settings, now) for listed in shown],
    )
    for offer in offers:
        if offer.message_id is None:
            offer.message_id = sent.id
    waves.mark_offered(session, [worker.id], now)


def may_take(session: Session, settings: Settings, job: Job, worker: Worker, now: datetime) -> bool:
    """A job the worker may take without an offer (one seen on the hall's screen): what open_jobs_near
    asks of a listed job, for this one job."""
    if (
        worker.status != WorkerStatus.ACTIVE
        or job.status not in services.TAKING
        or job.filled >= job.headcount
    ):
        return False
    if _timing(settings, job, now) is None or rescue.unfit(session, job, worker) is not None:
        return False
    return not (job.trade.high_risk and insurance.refusal(settings, worker, job, now) is not None)


def _by_id(listed: Listed) -> int:
    return listed.job.id  # jobs are locked in the order of their ids, as everywhere


def offer_listed(session: Session, settings: Settings, job: Job, worker: Worker, now: datetime) -> Offer:
    """The worker's offer of a listed job: the one still waiting, or a new one, expiring as a wave's."""
    lock_job(session, job.id)
    existing = session.scalar(select(Offer).where(Offer.job_id == job.id, Offer.worker_id == worker.id))
    if existing is not None:
        return existing
    timing = _timing(settings, job, now)
    assert timing is not None  # listed only when there is time (open_jobs_near)
    offer = rescue.offer_outside_waves(session, settings, job, worker, now, "pull", timing)
    session.flush()
    return offer


def _timing(settings: Settings, job: Job, now: datetime) -> in_time.Timing | None:
    """The listing goes now, a reply: its offers are for the next start that still leaves the lead."""
    start = in_time.next_start(settings, job, now)
    if start is None or now + in_time.lead(settings) > start:
        return None
    return in_time.Timing(now, start, urgent=True)


def _line(listed: Listed, language: str, settings: Settings, now: datetime) -> dict[str, Any]:
    job = listed.job
    return {
        "code": job.code,
        "trade": trade_short_name(job.trade, language),
        "pay": job.daily_pay,
        "area": town_short_name(job.site, language),
        **notices.when(job, settings, now),
    }


def _fitting(settings: Settings, language: str, listed: list[Listed], now: datetime) -> list[Listed]:
    """As many of the jobs as the reply has room for (a long place name or code can leave two)."""
    from dispatch.i18n import render_sms

    signature = settings.SMS_SIGNATURE_EN if language == "en" else settings.SMS_SIGNATURE_ZH
    budget = MAX_SEGMENTS["en" if language == "en" else "zh"]
    while listed:
        lines = [_line(one, language, settings, now) for one in listed]
        if count_segments(render_sms("pull_jobs", language, sig=signature, jobs=lines)).segments <= budget:
            return listed
        listed = listed[:-1]
    return []


def _trade_name(trade: Trade | None, language: str) -> str:
    return trade_short_name(trade, language) if trade is not None else ""
