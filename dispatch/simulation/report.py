"""Measuring a simulated day from the database it left and the simulation's own record of what its
people did: fill rate, time to fill, SMS per place, fairness (Gini) across eligible workers, and the
invariants that must be zero. Formatting as a text table (one day, or policies side by side).
"""

from __future__ import annotations

import itertools
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from dispatch.i18n import market_zone
from dispatch.models import (
    Call,
    Direction,
    Job,
    Message,
    Offer,
    OfferStatus,
    Ticket,
    TicketKind,
    TicketStatus,
    Worker,
)
from dispatch.quiet_hours import quiet_hours_end
from dispatch.settings import Settings
from dispatch.simulation.market import LATE_POSTINGS, POSTING_FROM, Market, km_between

# The one text an opted-out number may still get: the confirmation of its opt-out (DESIGN §7).
ALLOWED_AFTER_OPT_OUT = frozenset({"opt_out.confirm"})
# What the simulated people did, counted by the driver (always reported, zero or not).
BEHAVIOURS = (
    "calls",
    "calls_not_posted",
    "sms_requests",
    "sms_requests_not_posted",
    "yes_replies",
    "no_replies",
    "offers_ignored",
    "cancellations",
    "opt_outs",
)


def gini(values: Sequence[float]) -> float:
    """0 when everyone has the same, towards 1 when one has everything (0 for nobody or nothing)."""
    ordered = sorted(values)
    total = sum(ordered)
    if not ordered or total <= 0:
        return 0.0
    n = len(ordered)
    weighted = sum(rank * value for rank, value in enumerate(ordered, 1))
    return 2 * weighted / (n * total) - (n + 1) / n


def percentile(values: Sequence[float], share: float) -> float | None:
    """The `share` (0-1) quantile, interpolating between neighbours; None for no values."""
    ordered = sorted(values)
    if not ordered:
        return None
    position = share * (len(ordered) - 1)
    low = int(position)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


@dataclass(frozen=True)
class Posting:
    at: datetime  # when the employer confirmed it (the last key of the call, or the SMS `1`)
    channel: str


@dataclass(frozen=True)
class OptOut:
    at: datetime
    sent_before: frozenset[int]  # outbound messages to the number already sent when it opted out


@dataclass(frozen=True)
class Record:
    """What the simulation itself saw and did, against which the database is checked."""

    posted: dict[int, Posting]  # job id -> posting
    opt_outs: dict[str, OptOut]  # phone -> its opt-out
    sms_sids: list[str]
    call_sids: list[str]
    webhook_errors: int
    failed_jobs: int
    behaviour: Counter[str]


def measure(session: Session, settings: Settings, market: Market, record: Record, radius_km: float) -> dict:
    """The day's measures, from the database it left and the simulation's own record."""
    jobs = list(session.scalars(select(Job).where(Job.id.in_(record.posted)).order_by(Job.id)))
    offers = list(session.scalars(select(Offer).order_by(Offer.id)))
    accepted = [offer for offer in offers if offer.status == OfferStatus.ACCEPTED]
    places = sum(job.headcount for job in jobs)
    filled = sum(job.filled for job in jobs)
    fill_minutes = _fill_minutes(jobs, accepted, record.posted)
    outbound = list(
        session.execute(
            select(
                Message.id,
                Message.phone,
                Message.kind,
                Message.is_reply,
                Message.urgent,
                Message.created_at,
                Message.sent_at,
            ).where(Message.direction == Direction.OUTBOUND)
        )
    )
    sent = [row for row in outbound if row.sent_at is not None]
    statuses = Counter(offer.status.value for offer in offers)
    median, p90 = percentile(fill_minutes, 0.5), percentile(fill_minutes, 0.9)
    report: dict[str, Any] = {
        "jobs_posted": len(jobs),
        "places_posted": places,
        "places_filled": filled,
        "fill_rate": round(filled / places, 3) if places else 0.0,
        "jobs_filled": sum(job.filled >= job.headcount for job in jobs),
        "time_to_fill_median_min": None if median is None else round(median, 1),
        "time_to_fill_p90_min": None if p90 is None else round(p90, 1),
        "sms_sent": len(sent),
        "sms_per_filled_place": round(len(sent) / filled, 2) if filled else None,
        "offers": len(offers),
        **{f"offers_{status}": statuses.get(status, 0) for status in ("accepted", "declined", "expired")},
        **_fairness(session, market, jobs, offers, accepted, radius_km),
        "quiet_hours_held": sum(
            1 for row in outbound if not row.is_reply and _in_quiet_hours(settings, row.created_at)
        ),
        "late_jobs_posted": sum(_posted_late(settings, posting.at) for posting in record.posted.values()),
        "urgent_texts_in_quiet_hours": sum(
            1 for row in sent if row.urgent and _in_quiet_hours(settings, row.sent_at)
        ),
        "reminders_sent": sum(1 for row in sent if row.kind.startswith("reminder.")),
        "unfilled_job_tickets": _count(session, Ticket.kind == TicketKind.UNFILLED_JOB),
        "open_tickets": _count(session, Ticket.status != TicketStatus.RESOLVED),
        **{f"people_{name}": record.behaviour.get(name, 0) for name in BEHAVIOURS},
    }
    report["invariants"] = {
        "overbooked": overbooked(jobs, accepted),
        "sent_after_opt_out": sent_after_opt_out(sent, record.opt_outs),
        # An urgent text (issue 16) may go in quiet hours, but only inside the urgent hours.
        "quiet_hours_sends": sum(
            1
            for row in sent
            if not row.is_reply
            and _in_quiet_hours(settings, row.sent_at)
            and not (row.urgent and _in_urgent_hours(settings, row.sent_at))
        ),
        "offers_after_start": offers_after_start(session, settings),
        "lost_inbound": _lost(session, record),
        "webhook_errors": record.webhook_errors,
        "failed_jobs": record.failed_jobs,
    }
    return report


def _in_quiet_hours(settings: Settings, moment: datetime) -> bool:
    return quiet_hours_end(moment, settings.quiet_hours, settings.MARKET_TIMEZONE) is not None


def _in_urgent_hours(settings: Settings, moment: datetime) -> bool:
    window = settings.urgent_hours
    return window is not None and quiet_hours_end(moment, window, settings.MARKET_TIMEZONE) is not None


def _posted_late(settings: Settings, moment: datetime) -> bool:
    """Posted in the evening or before dawn (market.LATE_POSTINGS), when quiet hours are near."""
    clock = moment.astimezone(market_zone(settings)).time()
    return clock >= LATE_POSTINGS[0][0] or clock < POSTING_FROM


def offers_after_start(session: Session, settings: Settings) -> int:
    """Offer texts sent after the start they were for (the text's `not_after`), or after the job's last
    working day began: a worker cannot take such an offer in time."""
    rows = session.execute(
        select(Message.sent_at, Message.not_after, Job)
        .join(Offer, Offer.message_id == Message.id)
        .join(Job, Job.id == Offer.job_id)
        .where(Message.sent_at.is_not(None))
    )
    late = 0
    for sent_at, not_after, job in rows:
        assert sent_at is not None  # the query's condition
        last_day = datetime.combine(job.end_date, job.start_time, tzinfo=market_zone(settings))
        late += not_after is None or sent_at >= not_after or sent_at >= last_day
    return late


def _count(session: Session, condition: Any) -> int:
    return session.scalar(select(func.count()).select_from(Ticket).where(condition)) or 0


def _fill_minutes(jobs: list[Job], accepted: list[Offer], posted: dict[int, Posting]) -> list[float]:
    """From posting to the last place taken, for each job whose places are all taken."""
    last: dict[int, datetime] = {}
    for offer in accepted:
        if offer.responded_at is not None:
            last[offer.job_id] = max(last.get(offer.job_id, offer.responded_at), offer.responded_at)
    return [
        (last[job.id] - posted[job.id].at).total_seconds() / 60
        for job in jobs
        if job.filled >= job.headcount and job.id in last
    ]


def _fairness(
    session: Session,
    market: Market,
    jobs: list[Job],
    offers: list[Offer],
    accepted: list[Offer],
    radius_km: float,
) -> dict[str, Any]:
    """Gini of offers and of placements across the workers eligible for at least one posted job: their
    trade, a pay floor the job meets, a home within the widest wave's radius."""
    ids = {phone: worker_id for phone, worker_id in session.execute(select(Worker.phone, Worker.id))}
    eligible = []
    for spec in market.workers:
        if any(
            job.trade_id in spec.trade_ids
            and job.daily_pay >= spec.min_pay
            and km_between(market.sites[spec.site_id], market.sites[job.site_id]) <= radius_km
            for job in jobs
        ):
            eligible.append(ids[spec.phone])
    offered = Counter(offer.worker_id for offer in offers)
    placed = Counter(offer.worker_id for offer in accepted)
    return {
        "eligible_workers": len(eligible),
        "gini_offers": round(gini([offered.get(worker, 0) for worker in eligible]), 3),
        "gini_placements": round(gini([placed.get(worker, 0) for worker in eligible]), 3),
    }


def overbooked(jobs: list[Job], accepted: list[Offer]) -> int:
    """Jobs with more places taken than wanted, plus workers holding two jobs on the same day."""
    per_job = Counter(offer.job_id for offer in accepted)
    over = sum(1 for job in jobs if max(job.filled, per_job.get(job.id, 0)) > job.headcount)
    by_worker: dict[int, list[Job]] = {}
    for offer in accepted:
        by_worker.setdefault(offer.worker_id, []).append(offer.job)
    for held in by_worker.values():
        over += sum(
            1
            for a, b in itertools.combinations(held, 2)
            if a.work_date <= b.end_date and b.work_date <= a.end_date
        )
    return over


def sent_after_opt_out(sent: list[Any], opt_outs: dict[str, OptOut]) -> int:
    """Texts sent to a number after it opted out, other than the one confirmation."""
    return sum(
        1
        for row in sent
        if row.phone in opt_outs
        and row.id not in opt_outs[row.phone].sent_before
        and row.kind not in ALLOWED_AFTER_OPT_OUT
    )


def _lost(session: Session, record: Record) -> int:
    """Inbound texts and calls the simulation posted that the database does not hold."""
    stored_sms = set(
        session.scalars(select(Message.provider_sid).where(Message.direction == Direction.INBOUND))
    )
    stored_calls = set(session.scalars(select(Call.call_sid)))
    return sum(sid not in stored_sms for sid in record.sms_sids) + sum(
        sid not in stored_calls for sid in record.call_sids
    )
