"""The seeded sites and trades as the simulation's plain records, for tests that build a market."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from dispatch.models import Site, Trade
from dispatch.simulation.market import SiteInfo, TradeInfo


def seeded_places(session: Session) -> tuple[list[SiteInfo], list[TradeInfo]]:
    sites = [
        SiteInfo(s.id, s.code, s.level.value, s.parent_id, s.number, s.name_zh, s.lat, s.lon)
        for s in session.scalars(select(Site).order_by(Site.id))
    ]
    trades = [
        TradeInfo(t.id, t.code, t.ivr_digit, next(k for k in t.keywords if not k.isascii()))
        for t in session.scalars(select(Trade).order_by(Trade.id))
    ]
    return sites, trades
