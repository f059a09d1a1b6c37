"""Reading the outreach form: the event, its audience and when to send, checked against what the agent
may see. Nothing here writes; a value that cannot be read is a refusal with a catalogue key."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from dispatch.console.access import may_see
from dispatch.i18n import LANGUAGES
from dispatch.models import Agent, Event, EventKind, Site, Trade
from dispatch.outreach.audience import Audience
from dispatch.outreach.services import OutreachRefused

MAX_TEXT = 60


@dataclass
class OutreachForm:
    event: Event  # not added to the session
    audience: Audience
    send_at: datetime | None  # None: now


def _text(form: Mapping[str, str], name: str) -> str:
    return " ".join(form.get(name, "").split())[:MAX_TEXT]


def _int(raw: str, low: int, high: int, key: str) -> int | None:
    raw = raw.strip()
    if not raw:
        return None
    if not (raw.isascii() and raw.isdigit() and len(raw) <= 6) or not low <= int(raw) <= high:
        raise OutreachRefused(key)
    return int(raw)


def _local(raw: str, zone: ZoneInfo, key: str) -> datetime | None:
    raw = raw.strip()
    if not raw:
        return None
    try:
        return datetime.fromisoformat(raw).replace(tzinfo=zone)
    except ValueError:
        raise OutreachRefused(key) from None


def _site(session: Session, agent: Agent, code: str) -> Site:
    site = session.scalar(select(Site).where(Site.code == code.strip()[:32])) if code.strip() else None
    if site is None or not may_see(session, agent, site.id):
        raise OutreachRefused("outreach.error.site")
    return site


def _training_trade(session: Session, kind: EventKind, code: str) -> int | None:
    """The trade a training teaches (finishing it adds the trade to the worker); other kinds have none."""
    code = code.strip()[:32]
    if not code or kind != EventKind.TRAINING:
        return None
    trade_id = session.scalar(select(Trade.id).where(Trade.code == code))
    if trade_id is None:
        raise OutreachRefused("outreach.error.trade")
    return trade_id


def read(
    session: Session, agent: Agent, form: Mapping[str, str], trades: list[str], zone: ZoneInfo
) -> OutreachForm:
    try:
        kind = EventKind(form.get("kind", ""))
    except ValueError:
        raise OutreachRefused("outreach.error.kind") from None
    site = _site(session, agent, form.get("site", ""))
    event = Event(
        kind=kind,
        title_zh=_text(form, "title_zh")[:40],
        title_en=_text(form, "title_en"),
        site_id=site.id,
        starts_at=_local(form.get("starts_at", ""), zone, "outreach.error.starts_at"),
        place_zh=_text(form, "place_zh")[:40],
        place_en=_text(form, "place_en"),
        capacity=_int(form.get("capacity", ""), 1, 9999, "outreach.error.capacity"),
        trade_id=_training_trade(session, kind, form.get("training_trade", "")),
    )
    audience_site = _site(session, agent, form.get("audience_site", "") or site.code)
    known = set(session.scalars(select(Trade.code)))
    raw_since = form.get("registered_since", "").strip()
    try:
        since = date.fromisoformat(raw_since) if raw_since else None
    except ValueError:
        raise OutreachRefused("outreach.error.registered_since") from None
    language = form.get("language", "")
    audience = Audience(
        site_code=audience_site.code,
        trade_codes=tuple(code for code in trades if code in known),
        idle_days=_int(form.get("idle_days", ""), 0, 3650, "outreach.error.idle_days"),
        registered_since=since,
        language=language if language in LANGUAGES else None,
    )
    send_at = _local(form.get("send_at", ""), zone, "outreach.error.send_at")
    return OutreachForm(event, audience, send_at)
