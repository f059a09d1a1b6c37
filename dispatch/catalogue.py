"""Finding a trade or a place from what a person typed or keyed: a number, a name, a synonym."""

from __future__ import annotations

import re
import unicodedata

from sqlalchemy import select
from sqlalchemy.orm import Session

from dispatch.models import Site, SiteLevel, Trade

# What an English place name may be typed without: `Dongjie` for `Dongjie Street`.
_EN_PLACE_SUFFIX = re.compile(r"\s+(street|town|township|station)$", re.IGNORECASE)
_LEVEL_RANK = {SiteLevel.DISTRICT: 0, SiteLevel.TOWN: 1, SiteLevel.VILLAGE: 2}


def _key(text: str) -> str:
    # Letters and digits only: SMS normalisation turns `/`, `-` and `'` into spaces, and the dialogue
    # drops spaces, so `Yan'an South Road Street` must still meet `yan an south road street`.
    return "".join(ch for ch in unicodedata.normalize("NFKC", text).casefold() if ch.isalnum())


def trades_in_menu_order(session: Session) -> list[Trade]:
    return sorted(session.scalars(select(Trade)), key=lambda trade: int(trade.ivr_digit))


def trade_short_name(trade: Trade, language: str) -> str:
    """A trade in a list that must fit one SMS: its Chinese name, or its first English keyword
    (`plumber` for `Plumber / electrician`), which is also a word the worker may type back."""
    if language != "en":
        return trade.name_zh
    english = [word for word in trade.keywords if word.isascii()]
    return english[0] if english else trade.name_en


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
    """A town by its number (`5`), or any site by name or alias (`太西`, `太行西街街道`, `Dongjie`)."""
    key = _key(token)
    if not key:
        return None
    if key.isascii() and key.isdecimal():
        if not by_number or len(key) > 4:  # towns are numbered 1, 2, ...; a longer number is none
            return None
        query = select(Site).where(Site.level == SiteLevel.TOWN, Site.number == int(key))
        return session.scalar(query)
    # District, towns, then villages: where a short name is shared, the bigger place wins.
    for site in sorted(session.scalars(select(Site)), key=lambda site: (_LEVEL_RANK[site.level], site.id)):
        names = {site.code, site.name_zh, site.name_en, _EN_PLACE_SUFFIX.sub("", site.name_en), *site.aliases}
        if key in {_key(name) for name in names}:
            return site
    return None
