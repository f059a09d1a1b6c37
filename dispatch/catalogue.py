"""Finding a trade or a place from what a person typed or keyed: a number, a name, a synonym."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from dispatch.models import Site, SiteLevel, Trade


def _key(text: str) -> str:
    return text.strip().casefold()


def trades_in_menu_order(session: Session) -> list[Trade]:
    return sorted(session.scalars(select(Trade)), key=lambda trade: int(trade.ivr_digit))


def find_trade(session: Session, token: str) -> Trade | None:
    """By menu number (`1`), name (`水电工`, `plumber`) or synonym (`水电`, `电工`)."""
    key = _key(token)
    if not key:
        return None
    for trade in session.scalars(select(Trade)):
        names = {trade.ivr_digit, trade.code, trade.name_zh, trade.name_en, *trade.keywords}
        if key in {_key(name) for name in names}:
            return trade
    return None


def towns_in_number_order(session: Session) -> list[Site]:
    query = select(Site).where(Site.level == SiteLevel.TOWN).order_by(Site.number)
    return list(session.scalars(query))


def find_site(session: Session, token: str, by_number: bool = True) -> Site | None:
    """A town by its number (`5`), or any site by name or alias (`太西`, `太行西街街道`)."""
    key = _key(token)
    if not key:
        return None
    if key.isdigit():
        if not by_number:
            return None
        query = select(Site).where(Site.level == SiteLevel.TOWN, Site.number == int(key))
        return session.scalar(query)
    for site in session.scalars(select(Site).order_by(Site.level, Site.id)):
        names = {site.code, site.name_zh, site.name_en, *site.aliases}
        if key in {_key(name) for name in names}:
            return site
    return None
