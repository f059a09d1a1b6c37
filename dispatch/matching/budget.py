"""Fairness as a budget: each worker's share of the trade's offers over a rolling window, against their
fair share (the trade's offers over its active workers), and who has been left idle (再服务).

A worker whose offers run past the band above their fair share is asked only after everyone within
it; a worker not offered anything for `idle_days` (a newcomer: registered that long ago) is asked
first, the market's promise of re-service (再服务). Two aggregates over `offer` per
wave: the trade's count in the window, and the shortlisted workers' own counts (index lookups).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from dispatch.matching.config import AdaptiveConfig
from dispatch.models import Job, Offer, OfferStatus, Worker, WorkerStatus
from dispatch.models.people import MatchPool

# Offers that reached a worker (queued ones have not yet; cancelled unsent ones never did).
_COUNTED = (
    OfferStatus.SENT,
    OfferStatus.ACCEPTED,
    OfferStatus.DECLINED,
    OfferStatus.EXPIRED,
    OfferStatus.LATE,
    OfferStatus.STANDBY,
    OfferStatus.CANCELLED,
)


@dataclass(frozen=True)
class Standing:
    """A worker's offers in the window against the fair share, and whether they were left idle."""

    offers: int
    fair_share: float
    over: bool  # past the band: asked after everyone within it
    idle: bool  # nothing offered for idle_days (registered before then): asked first

    def as_json(self) -> dict[str, object]:
        return {
            "offers": self.offers,
            "fair": round(self.fair_share, 2),
            "over": self.over,
            "idle": self.idle,
        }


def fair_share(session: Session, cfg: AdaptiveConfig, trade_id: int, now: datetime) -> float:
    """The trade's offers in the window over its active workers: what each would have had if spread evenly."""
    since = now - timedelta(days=cfg.window_days)
    offers = session.scalar(
        select(func.count())
        .select_from(Offer)
        .join(Job, Job.id == Offer.job_id)
        .where(Job.trade_id == trade_id, Offer.sent_at >= since, Offer.status.in_(_COUNTED))
    )
    workers = session.scalar(
        select(func.count())
        .select_from(MatchPool)
        .where(MatchPool.trade_id == trade_id, MatchPool.status == WorkerStatus.ACTIVE.value)
    )
    return (offers or 0) / max(workers or 0, 1)


def standings(
    session: Session,
    cfg: AdaptiveConfig,
    trade_id: int,
    worker_ids: Iterable[int],
    now: datetime,
    share: float | None = None,
) -> dict[int, Standing]:
    """`share`: the trade's fair share if already known (adaptive.py remembers it a few minutes)."""
    ids = sorted(set(worker_ids))
    if not ids:
        return {}
    since = now - timedelta(days=cfg.window_days)
    share = fair_share(session, cfg, trade_id, now) if share is None else share
    counted = (
        select(Offer.worker_id, func.count().label("offers"))
        .where(Offer.worker_id.in_(ids), Offer.sent_at >= since, Offer.status.in_(_COUNTED))
        .group_by(Offer.worker_id)
    )
    counts: dict[int, int] = {row.worker_id: row.offers for row in session.execute(counted)}
    # Idle: nothing offered since idle_days ago, or (never offered) registered before then.
    last = {
        row.id: row.last_offered_at or row.created_at
        for row in session.execute(
            select(Worker.id, Worker.last_offered_at, Worker.created_at).where(Worker.id.in_(ids))
        )
    }
    idle_since = now - timedelta(days=cfg.idle_days)
    limit = share * (1 + cfg.share_band) + cfg.share_slack
    return {
        worker_id: Standing(
            offers=counts.get(worker_id, 0),
            fair_share=share,
            over=counts.get(worker_id, 0) > limit,
            idle=worker_id in last and last[worker_id] <= idle_since,
        )
        for worker_id in ids
    }
