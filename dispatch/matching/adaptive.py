"""The adaptive policy's wave: a shortlist from the SQL ranking, ordered by the chance of a yes in time
(estimates.py) within each worker's offer budget (budget.py), cut to the size that fills the job with
the target chance (sizing.py).

Order: workers within their budget before those past it; among each, those left idle (再服务) first;
then by the chance of a yes in time times `estimate_weight` plus the policy's SQL score (near, well
rated, reliable, rested, experienced). The shortlist is `pool_factor` times the offers the wave may
send, so the budget and the estimates have someone to choose among.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from dispatch.i18n import market_zone
from dispatch.matching import budget, estimates, in_time, memo, sizing
from dispatch.matching import candidates as pool_candidates
from dispatch.matching.config import MatchingConfig
from dispatch.models import Job, Offer, OfferStatus, Worker
from dispatch.settings import Settings

POLICY = "adaptive"


@dataclass(frozen=True)
class Choice:
    found: list[pool_candidates.Candidate]  # best first, already cut to the wave's size
    sizing: sizing.Sizing | None  # None: nobody in reach
    # When the lapsed offers counted on (lapsed()) stop counting: look again then, not at once.
    recheck_at: datetime | None = None


def lapsed(session: Session, job: Job, now: datetime, late_minutes: float) -> list[Offer]:
    """The job's offers that lapsed unanswered within `late_minutes`: a late yes still takes a place
    that is left (locking.CLAIMABLE), so a wave sent now counts on them too, or the job overfills."""
    since = now - timedelta(minutes=late_minutes)
    query = select(Offer).where(
        Offer.job_id == job.id,
        Offer.status == OfferStatus.EXPIRED,
        Offer.responded_at.is_(None),
        Offer.expires_at > since,
        Offer.expires_at <= now,
    )
    return list(session.scalars(query.order_by(Offer.id)))


class Estimator:
    """The estimates for one job's offers sent at one moment (one population query, shared)."""

    def __init__(self, session: Session, settings: Settings, config: MatchingConfig, job: Job, now: datetime):
        self.session, self.cfg, self.job, self.now = session, config.adaptive, job, now
        offset = now.astimezone(market_zone(settings)).utcoffset() or timedelta(0)
        ttl = timedelta(minutes=self.cfg.cache_minutes)
        self.people = memo.remembered(
            session,
            ("population", self.cfg),
            now,
            ttl,
            lambda: estimates.population(session, self.cfg, now, int(offset.total_seconds())),
        )
        self.zone = market_zone(settings)

    def late_window(self) -> float:
        """Minutes a lapsed offer is counted on for a late yes: as long as the record's late answers
        take (most of them), between `late_minutes` and `late_minutes_max`; `late_minutes` until
        the record holds enough of them."""
        learned = self.people.late_answer_minutes
        if learned is None:
            return self.cfg.late_minutes
        return min(max(learned, self.cfg.late_minutes), self.cfg.late_minutes_max)

    def chances(
        self, worker_kms: dict[int, float | None], send_at: datetime, wait: timedelta
    ) -> dict[int, estimates.Estimate]:
        ids = list(worker_kms)
        records = estimates.records(self.session, self.cfg, ids, self.now)
        floors = {
            row.id: row.min_daily_pay
            for row in self.session.execute(select(Worker.id, Worker.min_daily_pay).where(Worker.id.in_(ids)))
        }
        hour = estimates.hour_band(send_at.astimezone(self.zone).hour)
        waited = estimates.wait_band(wait.total_seconds() / 60)
        return {
            worker_id: estimates.estimate(
                self.cfg,
                self.people,
                records.get(worker_id),
                {
                    "pay": estimates.pay_band(self.job.daily_pay, floors.get(worker_id) or 0),
                    "km": estimates.km_band(km),
                    "hour": hour,
                    "wait": waited,
                },
            )
            for worker_id, km in worker_kms.items()
        }


def wave_target(config: MatchingConfig, timing: in_time.Timing, waves: int, same_day: bool) -> float:
    """A job for today (the market measures how fast those fill) or starting within `soon_hours` aims
    each wave high: filled fast rather than with the fewest texts; any other at its share of the
    job's target over the waves that still fit, at least `min_wave_target`."""
    cfg = config.adaptive
    soon = same_day or timing.start - timing.send_at <= timedelta(hours=cfg.soon_hours)
    floor = cfg.soon_wave_target if soon else cfg.min_wave_target
    return sizing.wave_target(cfg.target_fill, waves, floor)


def owed(standing: budget.Standing, estimate: estimates.Estimate) -> bool:
    """Offered even when unlikely to make a difference: a worker left idle (再服务) within budget, or one
    with nothing on record yet (the chance is only the population's guess until they are asked)."""
    return not standing.over and (standing.idle or estimate.offers == 0)


def choose(
    session: Session,
    settings: Settings,
    config: MatchingConfig,
    job: Job,
    radius_km: float,
    still_open: list[Offer],
    timing: in_time.Timing,
    seed: int,
    now: datetime,
) -> Choice:
    cfg = config.adaptive
    room = config.max_size - len(still_open)
    shortlist = pool_candidates.rank(
        session,
        job,
        radius_km=radius_km,
        limit=max(0, math.ceil(room * cfg.pool_factor)),
        policy=POLICY,
        config=config,
        seed=seed,
        now=now,
    )
    estimator = Estimator(session, settings, config, job, now)
    late_window = estimator.late_window()
    late = lapsed(session, job, now, late_window)
    kms: dict[int, float | None] = {c.worker_id: c.explanation.km for c in shortlist}
    kms.update({offer.worker_id: offer.explanation.get("km") for offer in [*still_open, *late]})
    expiry = in_time.expiry(settings, config, job, timing) - timing.send_at
    chances = estimator.chances(kms, timing.send_at, expiry)
    share = memo.remembered(
        session,
        ("fair_share", job.trade_id, cfg),
        now,
        timedelta(minutes=cfg.cache_minutes),
        lambda: budget.fair_share(session, cfg, job.trade_id, now),
    )
    standing = budget.standings(session, cfg, job.trade_id, [c.worker_id for c in shortlist], now, share)

    def value(candidate: pool_candidates.Candidate) -> float:
        return cfg.estimate_weight * chances[candidate.worker_id].yes_in_time + candidate.score

    def order(candidate: pool_candidates.Candidate) -> tuple[bool, bool, float]:
        worker = standing[candidate.worker_id]
        return (worker.over, not worker.idle, -value(candidate))

    ordered = sorted(shortlist, key=order)
    zone = market_zone(settings)
    waves = sizing.waves_left(
        timing.send_at,
        timing.start,
        in_time.lead(settings),
        expiry,
        lambda due: in_time.send_after(settings, due, urgent=timing.urgent),
    )
    sized = sizing.choose(
        job.remaining,
        wave_target(config, timing, waves, same_day=job.work_date <= timing.send_at.astimezone(zone).date()),
        waves,
        [chances[offer.worker_id].yes_in_time for offer in still_open]
        + [chances[offer.worker_id].late_yes for offer in late],
        [chances[c.worker_id].yes_in_time for c in ordered],
        room,
        lapsed=len(late),
        min_marginal=cfg.min_marginal_yes,
        owed=[owed(standing[c.worker_id], chances[c.worker_id]) for c in ordered],
        worth=[chances[c.worker_id].yes_at_all for c in ordered],
    )
    found = [
        dataclasses.replace(
            candidate,
            score=value(candidate),
            explanation=dataclasses.replace(
                candidate.explanation,
                extra={
                    "estimate": chances[candidate.worker_id].as_json(),
                    "budget": standing[candidate.worker_id].as_json(),
                },
            ),
        )
        for candidate in (ordered[index] for index in sized.picked)
    ]
    recheck = min((o.expires_at for o in late if o.expires_at is not None), default=None)
    return Choice(
        found,
        sized if shortlist or still_open or late else None,
        None if recheck is None else recheck + timedelta(minutes=late_window),
    )
