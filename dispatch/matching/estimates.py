"""Learned estimates: how likely a worker is to answer an offer at all, to answer before it lapses,
and to say yes, read from the offers and replies the service already stores (never from anything the
simulator knows about its people).

Each rate is a Beta-prior estimate, (k + m * prior) / (n + m): a worker's own record (k of n) against
`prior_count` (m) offers' worth of the population's rate, so a newcomer gets the population's rate and
a few unanswered offers move an estimate only so far. The population's rates by pay margin, distance
and time of day (each band's own record smoothed towards the overall rate) turn that into the rate
for this offer: the worker's rate times the band's lift over the overall rate, one lift per band.

The population also says how long late answers take (the window's latest 2,000 of them): how long a
lapsed offer may still bring a yes.

Per wave, the shortlisted workers' own records (an index lookup per worker on
`ix_offer_worker_status`); the population's record grouped by band (a few dozen rows) and its late
answers are read again only every `cache_minutes` (adaptive.py).
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import BigInteger, Float, and_, case, cast, extract, func, or_, select
from sqlalchemy.orm import Session

from dispatch.matching.config import AdaptiveConfig
from dispatch.models import Job, Offer, OfferStatus, Worker

# Band edges: pay above the worker's floor (share of the floor), km from the worker's home site.
PAY_EDGES = (0.1, 0.3)
KM_EDGES = (1.0, 3.0, 8.0)
# Minutes a worker had to answer: a same-day offer's 10 minutes against a later one's hour. Answering
# in time depends on it far more than on the worker (a 7-minute median answer is in time for one and
# late for the other), so the population's in-time rate is read per wait band.
WAIT_EDGES = (20.0,)
RATES = ("answer", "in_time", "yes")
# When nothing at all is on record yet (a new market): a guess the record soon replaces.
START = {"answer": 0.75, "in_time": 0.65, "yes": 0.6}  # 0.39 a yes in time: [waves] acceptance
_YES = (OfferStatus.ACCEPTED, OfferStatus.LATE, OfferStatus.STANDBY)


def pay_band(pay: int, floor: int) -> int:
    margin = (pay - floor) / max(floor, 1)
    return sum(margin >= edge for edge in PAY_EDGES)


def km_band(km: float | None) -> int:
    return sum((km if km is not None else KM_EDGES[-1]) >= edge for edge in KM_EDGES)


def wait_band(minutes: float) -> int:
    return sum(minutes >= edge for edge in WAIT_EDGES)


def hour_band(hour: int) -> int:
    """Morning before 11, the day until 17, the evening until 21, the night (urgent offers)."""
    if hour >= 21 or hour < 6:
        return 3
    return 0 if hour < 11 else 1 if hour < 17 else 2


@dataclass(frozen=True)
class Record:
    """Counts of resolved offers (answered, or lapsed unanswered; those closed unanswered because the
    job filled say nothing), the answers, the answers in time, and the yeses."""

    offers: float = 0.0
    answers: float = 0.0
    in_time: float = 0.0
    yeses: float = 0.0

    def __add__(self, other: Record) -> Record:
        return Record(
            self.offers + other.offers,
            self.answers + other.answers,
            self.in_time + other.in_time,
            self.yeses + other.yeses,
        )

    def counts(self, rate: str) -> tuple[float, float]:
        """(successes, trials) behind `rate`: a yes is counted among answers."""
        return {
            "answer": (self.answers, self.offers),
            "in_time": (self.in_time, self.offers),
            "yes": (self.yeses, self.answers),
        }[rate]


def smoothed(record: Record, rate: str, prior: float, strength: float) -> float:
    k, n = record.counts(rate)
    return (k + strength * prior) / (n + strength)


@dataclass(frozen=True)
class Estimate:
    """One worker, one offer: the three rates, and how many resolved offers of theirs are behind them."""

    answer: float
    in_time: float
    yes: float
    offers: int

    @property
    def yes_in_time(self) -> float:
        """The chance this offer brings a yes before it lapses."""
        return self.in_time * self.yes

    @property
    def yes_at_all(self) -> float:
        """The chance of a yes, in time or late (a late yes still takes a place that is left)."""
        return self.answer * self.yes

    @property
    def late_yes(self) -> float:
        """The chance of a yes after all, once the offer lapsed unanswered: answering late among those
        who did not answer in time."""
        if self.in_time >= 1:
            return 0.0
        return max(0.0, self.answer - self.in_time) * self.yes / (1 - self.in_time)

    def as_json(self) -> dict[str, Any]:
        return {
            "answer": round(self.answer, 3),
            "in_time": round(self.in_time, 3),
            "yes": round(self.yes, 3),
            "p": round(self.yes_in_time, 3),
            "offers": self.offers,
        }


def _sums(since: datetime, now: datetime) -> tuple[list[Any], Any]:
    resolved = and_(
        Offer.sent_at >= since,
        Offer.sent_at < now,
        or_(Offer.responded_at.is_not(None), Offer.status == OfferStatus.EXPIRED),
    )
    answered = Offer.responded_at.is_not(None)
    yes = or_(Offer.status.in_(_YES), Offer.given_back_at.is_not(None))
    columns = [
        func.count().label("offers"),
        func.sum(case((answered, 1), else_=0)).label("answers"),
        func.sum(case((and_(answered, Offer.responded_at <= Offer.expires_at), 1), else_=0)).label("in_time"),
        func.sum(case((and_(answered, yes), 1), else_=0)).label("yeses"),
    ]
    return columns, resolved


def _record(row: Any) -> Record:
    return Record(float(row.offers), float(row.answers or 0), float(row.in_time or 0), float(row.yeses or 0))


@dataclass(frozen=True)
class Population:
    """The market's rates overall and each band's lift over them (1: like everyone)."""

    overall: dict[str, float]
    lifts: dict[tuple[str, int], dict[str, float]]  # ("pay"|"km"|"hour", band) -> rate -> lift
    # Minutes from an offer's lapse within which LATE_SHARE of the late answers came (None: too few
    # on record): how long a lapsed offer may still bring a yes.
    late_answer_minutes: float | None = None

    def lift(self, rate: str, bands: dict[str, int]) -> float:
        total = 1.0
        for dimension, band in bands.items():
            total *= self.lifts.get((dimension, band), {}).get(rate, 1.0)
        return total


def population(session: Session, cfg: AdaptiveConfig, now: datetime, utc_offset_s: int) -> Population:
    """The population's record over the window, by pay, distance and (market) time-of-day band."""
    since = now - timedelta(days=cfg.window_days)
    columns, resolved = _sums(since, now)
    margin = (Job.daily_pay - Worker.min_daily_pay) / cast(func.coalesce(Worker.min_daily_pay, 1), Float)
    km = func.coalesce(Offer.explanation["km"].as_float(), KM_EDGES[-1])
    epoch = cast(extract("epoch", Offer.sent_at), BigInteger) + utc_offset_s
    pay_b = case(*((margin < edge, i) for i, edge in enumerate(PAY_EDGES)), else_=len(PAY_EDGES))
    km_b = case(*((km < edge, i) for i, edge in enumerate(KM_EDGES)), else_=len(KM_EDGES))
    hour = (epoch // 3600) % 24
    waited = (cast(extract("epoch", Offer.expires_at), BigInteger) + utc_offset_s - epoch) / 60.0
    wait_b = case(*((waited < edge, i) for i, edge in enumerate(WAIT_EDGES)), else_=len(WAIT_EDGES))
    rows = session.execute(
        select(pay_b.label("pay"), km_b.label("km"), hour.label("hour"), wait_b.label("wait"), *columns)
        .join(Job, Job.id == Offer.job_id)
        .join(Worker, Worker.id == Offer.worker_id)
        .where(resolved)
        .group_by(pay_b, km_b, hour, wait_b)
    ).all()
    by_band: dict[tuple[str, int], Record] = {}
    total = Record()
    for row in rows:
        record = _record(row)
        total += record
        bands = (("pay", int(row.pay)), ("km", int(row.km)), ("hour", hour_band(int(row.hour))))
        for key in (*bands, ("wait", int(row.wait))):
            by_band[key] = by_band.get(key, Record()) + record
    overall = {rate: smoothed(total, rate, START[rate], cfg.prior_count) for rate in RATES}
    # A band's lift is against the population's own rate: a band holding the whole record lifts by 1.
    plain = {rate: _plain(total, rate) or overall[rate] for rate in RATES}
    lifts = {
        key: {rate: smoothed(record, rate, plain[rate], cfg.band_prior_count) / plain[rate] for rate in RATES}
        for key, record in by_band.items()
    }
    return Population(overall, lifts, late_answer_minutes(session, since, now))


# The late answers read for their delay: enough to learn from, the latest first; fewer than
# LATE_SAMPLES and the configured `late_minutes` stands.
LATE_SAMPLES, LATE_READ, LATE_SHARE = 20, 2000, 0.8


def late_answer_minutes(session: Session, since: datetime, now: datetime) -> float | None:
    """The minutes after an offer lapsed within which LATE_SHARE of the window's late answers came."""
    rows = session.execute(
        select(Offer.expires_at, Offer.responded_at)
        .where(
            Offer.sent_at >= since,
            Offer.sent_at < now,
            Offer.responded_at.is_not(None),
            Offer.responded_at > Offer.expires_at,
        )
        .order_by(Offer.sent_at.desc())
        .limit(LATE_READ)
    ).all()
    if len(rows) < LATE_SAMPLES:
        return None
    delays = sorted(
        (_utc(answered) - _utc(lapsed)).total_seconds() / 60
        for lapsed, answered in rows
        if lapsed is not None and answered is not None
    )
    return delays[max(0, math.ceil(LATE_SHARE * len(delays)) - 1)]


def _utc(moment: datetime) -> datetime:
    """SQLite gives back naive datetimes (stored in UTC), PostgreSQL aware ones."""
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def _plain(record: Record, rate: str) -> float | None:
    """k / n, or None when n or k is 0 (nothing to lift against)."""
    k, n = record.counts(rate)
    return k / n if n and k else None


def records(
    session: Session, cfg: AdaptiveConfig, worker_ids: Iterable[int], now: datetime
) -> dict[int, Record]:
    """Each worker's own record over the window (workers without one are left out)."""
    ids = sorted(set(worker_ids))
    if not ids:
        return {}
    columns, resolved = _sums(now - timedelta(days=cfg.window_days), now)
    rows = session.execute(
        select(Offer.worker_id, *columns).where(Offer.worker_id.in_(ids), resolved).group_by(Offer.worker_id)
    ).all()
    return {row.worker_id: _record(row) for row in rows}


def estimate(
    cfg: AdaptiveConfig, people: Population, record: Record | None, bands: dict[str, int]
) -> Estimate:
    """One worker's rates for an offer in `bands`: their own record against the population's prior,
    times the bands' lifts; never above 1."""
    record = record or Record()
    rates = {
        rate: min(
            1.0, smoothed(record, rate, people.overall[rate], cfg.prior_count) * people.lift(rate, bands)
        )
        for rate in RATES
    }
    # Answering in time is answering, sooner: never likelier than answering at all.
    return Estimate(rates["answer"], min(rates["in_time"], rates["answer"]), rates["yes"], int(record.offers))
