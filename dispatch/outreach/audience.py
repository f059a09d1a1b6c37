"""Who an outreach text goes to: workers of a site and the sites below it, of some trades, idle for some
days, registered since a day, speaking a language. Read from the database at the moment of sending (and
for the count shown before), never kept as a list."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any

from sqlalchemy import Select, func, or_, select
from sqlalchemy.orm import Session

from dispatch.i18n import zone
from dispatch.models import Contact, Site, Trade, Worker, WorkerStatus, WorkerTrade

# Workers an event may be announced to: on the market's books and not stopped (paused ones too: a
# pause is about offers, and a training is a reason to come back).
REACHABLE = (WorkerStatus.ACTIVE, WorkerStatus.PAUSED)


@dataclass(frozen=True)
class Audience:
    site_code: str  # the site and every site below it
    trade_codes: tuple[str, ...] = ()  # any of them; none: every trade
    idle_days: int | None = None  # not placed for at least this many days (or never)
    registered_since: date | None = None  # registered on or after this day (market time)
    language: str | None = None  # zh or en; None: both

    def to_json(self) -> dict[str, Any]:
        return {
            "site": self.site_code,
            "trades": list(self.trade_codes),
            "idle_days": self.idle_days,
            "registered_since": self.registered_since.isoformat() if self.registered_since else None,
            "language": self.language,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Audience:
        since = data.get("registered_since")
        return cls(
            site_code=data["site"],
            trade_codes=tuple(data.get("trades") or ()),
            idle_days=data.get("idle_days"),
            registered_since=date.fromisoformat(since) if since else None,
            language=data.get("language"),
        )


def subtree(session: Session, site_id: int) -> set[int]:
    """The site and every site below it."""
    children: dict[int | None, list[int]] = {}
    for child, parent in session.execute(select(Site.id, Site.parent_id)):
        children.setdefault(parent, []).append(child)
    found, frontier = set(), [site_id]
    while frontier:
        current = frontier.pop()
        if current not in found:
            found.add(current)
            frontier.extend(children.get(current, []))
    return found


def query(session: Session, audience: Audience, now: datetime, timezone: str) -> Select[Worker, Contact]:
    """The workers of `audience` with their contact (language, opt-outs), in id order."""
    site = session.scalar(select(Site).where(Site.code == audience.site_code))
    site_ids = subtree(session, site.id) if site is not None else set()
    language = func.coalesce(Contact.language, "zh")
    statement = (
        select(Worker, Contact)
        .outerjoin(Contact, Contact.phone == Worker.phone)
        .where(Worker.status.in_(REACHABLE), Worker.home_site_id.in_(site_ids))
        .order_by(Worker.id)
    )
    if audience.trade_codes:
        trades = select(WorkerTrade.worker_id).join(Trade, Trade.id == WorkerTrade.trade_id)
        statement = statement.where(Worker.id.in_(trades.where(Trade.code.in_(audience.trade_codes))))
    if audience.idle_days is not None:
        idle_since = now - timedelta(days=audience.idle_days)
        statement = statement.where(or_(Worker.last_placed_at.is_(None), Worker.last_placed_at < idle_since))
    if audience.registered_since is not None:
        start = datetime.combine(audience.registered_since, time(0), tzinfo=zone(timezone))
        statement = statement.where(Worker.created_at >= start)
    if audience.language is not None:
        statement = statement.where(language == audience.language)
    return statement


def members(
    session: Session, audience: Audience, now: datetime, timezone: str
) -> list[tuple[Worker, Contact | None]]:
    rows = session.execute(query(session, audience, now, timezone)).all()
    return [(row[0], row[1]) for row in rows]
