"""Load the market's sites and trade catalogue from config/*.toml into the database, upserting by code."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from dispatch.config_files import (
    LEVEL_ORDER,
    SITES_FILE,
    TRADES_FILE,
    SeedError,
    SiteSpec,
    TradeSpec,
    read_sites,
    read_trades,
    site_labels,
    trade_labels,
)
from dispatch.hall.policy import seed_topics
from dispatch.models import Base, Site, Trade

__all__ = [
    "SITES_FILE",
    "TRADES_FILE",
    "SeedError",
    "SiteSpec",
    "TradeSpec",
    "load_sites",
    "load_trades",
    "read_sites",
    "read_trades",
    "seed",
]


Counts = dict[str, int]


def seed(session: Session, config_dir: Path) -> dict[str, int]:
    """Load sites.toml and trades.toml from config_dir (both files are checked before either is written),
    and on the first run the policy topics of policy_topics.toml."""
    sites_path, trades_path = config_dir / SITES_FILE, config_dir / TRADES_FILE
    site_specs, trade_specs = read_sites(sites_path), read_trades(trades_path)
    counts: dict[str, int] = {}
    for name, value in _upsert_sites(session, sites_path, site_specs).items():
        counts[f"sites_{name}"] = value
    for name, value in _upsert_trades(session, trades_path, trade_specs).items():
        counts[f"trades_{name}"] = value
    counts["policy_topics_created"] = seed_topics(session, config_dir)  # first run only
    return counts


def load_sites(session: Session, path: Path | str) -> Counts:
    """Upsert the sites of a sites.toml; returns total/created/updated/unchanged counts."""
    path = Path(path)
    return _upsert_sites(session, path, read_sites(path))


def load_trades(session: Session, path: Path | str) -> Counts:
    """Upsert the trades of a trades.toml; returns total/created/updated/unchanged counts."""
    path = Path(path)
    return _upsert_trades(session, path, read_trades(path))


# --- reading and checking the files ------------------------------------------------------------------


def _assign(row: Base, values: dict[str, Any]) -> bool:
    """Set the attributes that differ; True when any did (so that an unchanged row is not rewritten)."""
    changed = False
    for name, value in values.items():
        if getattr(row, name) != value:
            setattr(row, name, value)
            changed = True
    return changed


def _upsert_sites(session: Session, path: Path, specs: Sequence[SiteSpec]) -> Counts:
    codes = [spec.code for spec in specs]
    rows = {site.code: site for site in session.scalars(select(Site).where(Site.code.in_(codes)))}
    _check_left_over_sites(session, path, specs, codes)
    counts = {"total": len(specs), "created": 0, "updated": 0, "unchanged": 0}
    # Parents first (district, towns, villages) so that a child always finds its parent's row.
    for spec in sorted(specs, key=lambda spec: LEVEL_ORDER[spec.level]):
        parent = rows[spec.parent] if spec.parent is not None else None
        values: dict[str, Any] = {
            "level": spec.level,
            "number": spec.number,
            "name_zh": spec.name_zh,
            "name_en": spec.name_en,
            "aliases": list(spec.aliases),
            "lat": spec.lat,
            "lon": spec.lon,
        }
        site = rows.get(spec.code)
        if site is None:
            site = Site(code=spec.code, parent=parent, **values)
            session.add(site)
            rows[spec.code] = site
            counts["created"] += 1
            continue
        changed = _assign(site, values)
        if site.parent is not parent:
            site.parent = parent
            changed = True
        counts["updated" if changed else "unchanged"] += 1
    session.flush()
    return counts


def _check_left_over_sites(session: Session, path: Path, specs: Sequence[SiteSpec], codes: list[str]) -> None:
    """A site dropped from the file keeps its row (workers point at it); it must not keep a number or
    alias the file now gives to another site, or the SMS parser would have two answers."""
    numbers = {spec.number: spec.code for spec in specs if spec.number is not None}
    labels = {label: spec.code for spec in specs for label in site_labels(spec)}
    for site in session.scalars(select(Site).where(Site.code.not_in(codes))):
        if site.number is not None and site.number in numbers:
            raise SeedError(
                f"{path}: site {numbers[site.number]!r}: number {site.number} still belongs to site "
                f"{site.code!r}, which is in the database but not in this file; clear its number first"
            )
        for label in {site.name_zh.lower(), *(alias.lower() for alias in site.aliases or [])}:
            if label in labels:
                raise SeedError(
                    f"{path}: site {labels[label]!r}: name or alias {label!r} still belongs to site "
                    f"{site.code!r}, which is in the database but not in this file"
                )


def _upsert_trades(session: Session, path: Path, specs: Sequence[TradeSpec]) -> Counts:
    codes = [spec.code for spec in specs]
    rows = {trade.code: trade for trade in session.scalars(select(Trade).where(Trade.code.in_(codes)))}
    _check_left_over_trades(session, path, specs, codes)

    # Reordering the menu swaps digits between rows; the UNIQUE constraint is checked row by row, so
    # the moving rows first take placeholders ('#' never passes IVR_DIGITS) and then their new digits.
    wanted = {spec.code: spec.ivr_digit for spec in specs}
    moving = [trade for code, trade in rows.items() if trade.ivr_digit != wanted[code]]
    if moving:
        for index, trade in enumerate(moving):
            trade.ivr_digit = f"#{index}"
        session.flush()

    counts = {"total": len(specs), "created": 0, "updated": 0, "unchanged": 0}
    for spec in specs:
        values: dict[str, Any] = {
            "ivr_digit": spec.ivr_digit,
            "name_zh": spec.name_zh,
            "name_en": spec.name_en,
            "keywords": list(spec.keywords),
            "high_risk": spec.high_risk,
        }
        existing = rows.get(spec.code)
        if existing is None:
            session.add(Trade(code=spec.code, **values))
            counts["created"] += 1
            continue
        counts["updated" if _assign(existing, values) else "unchanged"] += 1
    session.flush()
    return counts


def _check_left_over_trades(
    session: Session, path: Path, specs: Sequence[TradeSpec], codes: list[str]
) -> None:
    """A trade dropped from the file keeps its row (workers list it); it must not keep a digit or keyword
    the file now gives to another trade. ivr_digit is also UNIQUE and NOT NULL, so it cannot just let go."""
    digits = {spec.ivr_digit: spec.code for spec in specs}
    labels = {label: spec.code for spec in specs for label in trade_labels(spec)}
    for trade in session.scalars(select(Trade).where(Trade.code.not_in(codes))):
        if trade.ivr_digit in digits:
            raise SeedError(
                f"{path}: trade {digits[trade.ivr_digit]!r}: ivr_digit {trade.ivr_digit!r} still belongs to "
                f"trade {trade.code!r}, which is in the database but not in this file"
            )
        for label in {trade.name_zh.lower(), *(keyword.lower() for keyword in trade.keywords or [])}:
            if label in labels:
                raise SeedError(
                    f"{path}: trade {labels[label]!r}: keyword {label!r} still belongs to trade "
                    f"{trade.code!r}, which is in the database but not in this file"
                )
