"""Measuring a run of market days (days.py) at its end: each day's figures and the run's.

A day's jobs are those its employers posted between its start and its midnight (the evening's postings
for the next morning included); their fill rate, offers per filled place and times to fill are those
jobs' as the run left them. A day's texts are those sent between its start and its midnight, whatever
job they were for (the morning's waves for the evening's postings, the follow-ups of the day before),
so a day's SMS per filled place is a day's traffic over the places its own jobs filled; over the run
both are whole. Time to fill is split between jobs that start the day they were posted and later ones.

Fairness over the run: the Gini of offers and of placements across the workers eligible for at least
one job of the run (their trade, a pay floor the job meets, a home within the widest wave's radius),
and the workers left out: eligible for jobs in a stretch of IDLE_DAYS days (the whole run if it is
shorter) and offered nothing in it, while workers of the same home site and trade were offered those
jobs (the rotation the market promises, 再服务).
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, tzinfo
from typing import TYPE_CHECKING, Any

from sqlalchemy import select

from dispatch.i18n import market_zone
from dispatch.models import Direction, Job, Message, Offer, OfferStatus, Worker
from dispatch.simulation.market import Market, WorkerSpec, km_between
from dispatch.simulation.report import Posting, gini, percentile

if TYPE_CHECKING:
    from dispatch.simulation.timeline import MarketDay

IDLE_DAYS = 7


@dataclass(frozen=True)
class DayWindow:
    day: date
    start: datetime
    end: datetime
    jobs: frozenset[int]  # the ids of the jobs posted in it


@dataclass(frozen=True)
class Ledger:
    """The rows the run left, read once."""

    jobs: dict[int, Job]
    offers: dict[int, list[Offer]]  # job id -> its offers
    sent: list[datetime]  # when each outbound text went
    posted: dict[int, Posting]
    zone: tzinfo


def measure_run(timeline: MarketDay, windows: list[DayWindow], radius_km: float) -> tuple[list[dict], dict]:
    """(each day's figures, the run's): the run's with its invariants, what the people did and the
    follow-ups, as a one-day report has them."""
    whole = timeline.report()
    if timeline.options.next_morning:
        whole = timeline.report(day=whole)  # with the follow-ups' figures, as of the run's end
    settings = timeline.runtime.settings
    with timeline.runtime.db.transaction() as session:
        jobs = {job.id: job for job in session.scalars(select(Job).where(Job.id.in_(timeline.posted)))}
        by_job: dict[int, list[Offer]] = defaultdict(list)
        for offer in session.scalars(select(Offer).order_by(Offer.id)):
            by_job[offer.job_id].append(offer)
        sent = list(
            session.scalars(
                select(Message.sent_at).where(
                    Message.direction == Direction.OUTBOUND, Message.sent_at.is_not(None)
                )
            )
        )
        ids = {phone: worker_id for phone, worker_id in session.execute(select(Worker.phone, Worker.id))}
        ledger = Ledger(
            jobs, by_job, [at for at in sent if at is not None], timeline.posted, market_zone(settings)
        )
        eligible = Eligibility(timeline.market, ids, list(jobs.values()), radius_km)
        days = []
        for number, window in enumerate(windows, 1):
            in_day = sum(window.start <= at < window.end for at in ledger.sent)
            days.append(
                {
                    "day": number,
                    "date": window.day.isoformat(),
                    **figures(ledger, window.jobs, in_day, eligible),
                }
            )
        run = figures(ledger, frozenset(jobs), len(ledger.sent), eligible)
        opted_out = {ids[phone]: opt.at for phone, opt in timeline.opt_outs.items() if phone in ids}
        run.update(left_out(ledger, windows, eligible, opted_out))
    run = {**whole, **run, "days": len(windows), "behaviour": timeline.options.behaviour.name}
    return days, run


class Eligibility:
    """Which worker may do which job: their trade, a pay floor the job meets, a home in reach."""

    def __init__(self, market: Market, ids: dict[str, int], jobs: Iterable[Job], radius_km: float) -> None:
        self.specs = {ids[spec.phone]: spec for spec in market.workers if spec.phone in ids}
        km: dict[tuple[int, int], float] = {}
        self.jobs: dict[int, set[int]] = {}  # worker id -> eligible job ids
        for job in jobs:
            for worker_id, spec in self.specs.items():
                pair = (spec.site_id, job.site_id)
                if pair not in km:
                    km[pair] = km_between(market.sites[pair[0]], market.sites[pair[1]])
                if job.trade_id in spec.trade_ids and job.daily_pay >= spec.min_pay and km[pair] <= radius_km:
                    self.jobs.setdefault(worker_id, set()).add(job.id)

    def workers_for(self, job_ids: frozenset[int]) -> list[int]:
        return sorted(worker for worker, eligible in self.jobs.items() if eligible & job_ids)


def figures(ledger: Ledger, job_ids: frozenset[int], sms: int, eligible: Eligibility) -> dict[str, Any]:
    """Fill, offers, texts, time to fill and Gini for these jobs (and `sms` texts)."""
    jobs = [ledger.jobs[job_id] for job_id in sorted(job_ids) if job_id in ledger.jobs]
    offers = [offer for job in jobs for offer in ledger.offers.get(job.id, [])]
    places = sum(job.headcount for job in jobs)
    filled = sum(job.filled for job in jobs)
    same_day, later = _fill_minutes(ledger, jobs)
    offered = Counter(offer.worker_id for offer in offers)
    placed = Counter(offer.worker_id for offer in offers if offer.status == OfferStatus.ACCEPTED)
    workers = eligible.workers_for(frozenset(job.id for job in jobs))
    return {
        "jobs_posted": len(jobs),
        "places_posted": places,
        "places_filled": filled,
        "fill_rate": round(filled / places, 3) if places else 0.0,
        "offers": len(offers),
        "offers_per_filled_place": round(len(offers) / filled, 2) if filled else None,
        "sms_sent": sms,
        "sms_per_filled_place": round(sms / filled, 2) if filled else None,
        "time_to_fill_same_day_median_min": _median(same_day),
        "time_to_fill_later_median_min": _median(later),
        "jobs_filled_same_day": len(same_day),
        "jobs_filled_later": len(later),
        "eligible_workers": len(workers),
        "gini_offers": round(gini([offered.get(worker, 0) for worker in workers]), 3),
        "gini_placements": round(gini([placed.get(worker, 0) for worker in workers]), 3),
    }


def _median(values: list[float]) -> float | None:
    median = percentile(values, 0.5)
    return None if median is None else round(median, 1)


def _fill_minutes(ledger: Ledger, jobs: list[Job]) -> tuple[list[float], list[float]]:
    """Minutes from posting to the last place taken, for each job whose places are all taken: those
    starting the day they were posted, and the rest."""
    same_day: list[float] = []
    later: list[float] = []
    for job in jobs:
        taken = [
            offer.responded_at
            for offer in ledger.offers.get(job.id, [])
            if offer.status == OfferStatus.ACCEPTED and offer.responded_at is not None
        ]
        if job.filled < job.headcount or not taken or job.id not in ledger.posted:
            continue
        posted = ledger.posted[job.id].at
        minutes = (max(taken) - posted).total_seconds() / 60
        (same_day if job.work_date == posted.astimezone(ledger.zone).date() else later).append(minutes)
    return same_day, later


def left_out(
    ledger: Ledger, windows: list[DayWindow], eligible: Eligibility, opted_out: dict[int, datetime]
) -> dict[str, Any]:
    """Workers eligible for jobs in IDLE_DAYS days and offered nothing then, while a worker of their
    home site and the job's trade was offered one of those jobs (each worker counted once)."""
    span = min(IDLE_DAYS, len(windows))
    left: set[int] = set()
    for first in range(len(windows) - span + 1):
        stretch = windows[first : first + span]
        start, end = stretch[0].start, stretch[-1].end
        job_ids = frozenset().union(*(window.jobs for window in stretch))
        offered_then = {
            offer.worker_id
            for offers in ledger.offers.values()
            for offer in offers
            if start <= offer.created_at < end
        }
        # (home site, trade) of workers offered a job of the stretch, for its trade
        peers = {
            (eligible.specs[offer.worker_id].site_id, ledger.jobs[job_id].trade_id)
            for job_id in job_ids
            if job_id in ledger.jobs
            for offer in ledger.offers.get(job_id, [])
            if offer.worker_id in eligible.specs
        }
        for worker_id, spec in eligible.specs.items():
            if worker_id in offered_then or opted_out.get(worker_id, end) < end:
                continue
            if any(
                _peer_offered(spec, ledger.jobs[job_id], peers)
                for job_id in eligible.jobs.get(worker_id, set()) & job_ids
            ):
                left.add(worker_id)
    return {"left_out_window_days": span, "eligible_left_out": len(left), "left_out_workers": sorted(left)}


def _peer_offered(spec: WorkerSpec, job: Job, peers: set[tuple[int, int]]) -> bool:
    return (spec.site_id, job.trade_id) in peers
