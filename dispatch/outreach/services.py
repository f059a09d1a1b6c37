"""Events and their sends: create an event, count and price a send before it is scheduled, send it
(the job), and sign workers up. Plain functions on a session; they flush, never commit."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from dispatch.i18n import LANGUAGES, market_zone, render_sms
from dispatch.models import (
    Agent,
    Contact,
    Direction,
    Event,
    EventKind,
    Message,
    MessageStatus,
    Outreach,
    OutreachStatus,
)
from dispatch.outreach.audience import Audience, members
from dispatch.outreach.tasks import send_outreach
from dispatch.queue import defer
from dispatch.settings import Settings
from dispatch.sms.segments import count_segments
from dispatch.sms.services import queue_sms

log = logging.getLogger(__name__)
TEMPLATE = "outreach_event"
KIND = "outreach.event"  # the texts' Message.kind: the weekly cap counts them
CAP_WINDOW = timedelta(days=7)  # one non-job text per worker in any 7 days
MAX_SEGMENTS = {"zh": 2, "en": 2}


class OutreachRefused(ValueError):
    """A form that cannot be saved; `key` is the console catalogue's text, `fields` fill it in."""

    def __init__(self, key: str, **fields: Any) -> None:
        super().__init__(key)
        self.key, self.fields = key, fields


# -- the text -------------------------------------------------------------------------------------


def event_context(settings: Settings, event: Event, language: str) -> dict[str, Any]:
    """What the outreach template needs, in market time."""
    local = event.starts_at.astimezone(market_zone(settings)) if event.starts_at else None
    return {
        "event_kind": event.kind.value,
        "event_title": event.title(language),
        "date": local.date() if local else None,
        "hour": local.hour if local else 0,
        "minute": local.minute if local else 0,
        "place": event.place(language),
        "capacity": event.capacity or 0,
        "event_id": event.id or 0,
    }


def text_cost(settings: Settings, event: Event, language: str) -> tuple[int, str]:
    """The text's SMS parts and encoding in `language` (an unsaved event is priced with a long id)."""
    signature = settings.SMS_SIGNATURE_EN if language == "en" else settings.SMS_SIGNATURE_ZH
    context = {**event_context(settings, event, language), "event_id": event.id or 99999}
    count = count_segments(render_sms(TEMPLATE, language, sig=signature, **context))
    return count.segments, count.encoding


def check_event(settings: Settings, event: Event) -> None:
    """Refuse an event with missing parts, or a text over its budget (or English that is not GSM-7)."""
    if not event.title_zh or not event.title_en:
        raise OutreachRefused("outreach.error.title")
    if event.kind != EventKind.ANNOUNCEMENT and (event.starts_at is None or not event.place_zh):
        raise OutreachRefused("outreach.error.when_where")
    if event.capacity is not None and not 0 < event.capacity <= 9999:
        raise OutreachRefused("outreach.error.capacity")
    for language in LANGUAGES:
        parts, encoding = text_cost(settings, event, language)
        if language == "en" and encoding != "GSM-7":
            raise OutreachRefused("outreach.error.en_characters")
        if parts > MAX_SEGMENTS[language]:
            raise OutreachRefused(f"outreach.error.long_{language}", parts=parts)


def create_event(session: Session, settings: Settings, event: Event, agent: Agent | None) -> Event:
    if event.kind == EventKind.ANNOUNCEMENT:
        event.capacity, event.starts_at = None, None
    check_event(settings, event)
    event.created_by_id = agent.id if agent else None
    session.add(event)
    session.flush()
    return event


# -- count, price, schedule -----------------------------------------------------------------------


@dataclass
class Preview:
    """What a send would cost, shown before it is scheduled: texts per language and SMS parts."""

    by_language: dict[str, int] = field(default_factory=dict)
    parts: dict[str, int] = field(default_factory=dict)
    opted_out: int = 0
    capped: int = 0  # had a non-job text in the last 7 days (counted now; the send counts again)

    @property
    def count(self) -> int:
        return sum(self.by_language.values())

    @property
    def segments(self) -> int:
        return sum(self.parts[language] * count for language, count in self.by_language.items())


def _recently_texted(session: Session, now: datetime) -> set[str]:
    """Phones sent an outreach text in the last 7 days (the cap)."""
    query = select(Message.phone).where(
        Message.direction == Direction.OUTBOUND,
        Message.kind == KIND,
        Message.created_at >= now - CAP_WINDOW,
        Message.status != MessageStatus.SUPPRESSED,
    )
    return set(session.scalars(query.distinct()))


def _stopped(contact: Contact | None) -> bool:
    if contact is None:
        return False
    return any((contact.opted_out_at, contact.events_opted_out_at, contact.undeliverable_at))


def preview(session: Session, settings: Settings, event: Event, audience: Audience, now: datetime) -> Preview:
    result = Preview(parts={language: text_cost(settings, event, language)[0] for language in LANGUAGES})
    recent = _recently_texted(session, now)
    for worker, contact in members(session, audience, now, settings.MARKET_TIMEZONE):
        if _stopped(contact):
            result.opted_out += 1
        elif worker.phone in recent:
            result.capped += 1
        else:
            language = contact.language if contact is not None else "zh"
            result.by_language[language] = result.by_language.get(language, 0) + 1
    return result


def schedule(
    session: Session,
    settings: Settings,
    agent: Agent | None,
    event: Event,
    audience: Audience,
    send_at: datetime,
    now: datetime,
) -> Outreach:
    """Keep the send with the count and cost shown, and put its job in the outbox for `send_at`."""
    shown = preview(session, settings, event, audience, now)
    outreach = Outreach(
        event_id=event.id,
        audience=audience.to_json(),
        send_at=max(send_at, now),
        planned=shown.count,
        planned_segments=shown.segments,
        created_by_id=agent.id if agent else None,
    )
    session.add(outreach)
    session.flush()
    defer(session, send_outreach, outreach.id, run_at=outreach.send_at if send_at > now else None)
    return outreach


def cancel(session: Session, outreach: Outreach) -> bool:
    if outreach.status != OutreachStatus.SCHEDULED:
        return False
    outreach.status = OutreachStatus.CANCELLED
    session.flush()
    return True


def send(session: Session, settings: Settings, outreach_id: int, now: datetime) -> dict[str, int]:
    """The job: text everyone of the audience not stopped nor capped; each text waits out quiet hours
    on its own (queue_sms). Running it twice sends once (the row is locked and marked sent)."""
    outreach = session.get(Outreach, outreach_id, with_for_update=True)
    if outreach is None or outreach.status != OutreachStatus.SCHEDULED:
        return {"sent": 0}
    event = outreach.event
    audience = Audience.from_json(outreach.audience)
    recent = _recently_texted(session, now)
    contexts = {language: event_context(settings, event, language) for language in LANGUAGES}
    for worker, contact in members(session, audience, now, settings.MARKET_TIMEZONE):
        if _stopped(contact):
            outreach.skipped_opted_out += 1
            continue
        if worker.phone in recent:
            outreach.skipped_cap += 1
            continue
        language = contact.language if contact is not None else "zh"
        queue_sms(
            session,
            settings,
            phone=worker.phone,
            template=TEMPLATE,
            kind=KIND,
            language=language,
            worker_id=worker.id,
            not_after=event.starts_at,  # held past the start by quiet hours: not sent at all
            **contexts["en" if language == "en" else "zh"],
        )
        outreach.sent += 1
    outreach.status, outreach.sent_at = OutreachStatus.SENT, now
    session.flush()
    log.info(
        "outreach %s: %s texts, %s capped, %s opted out",
        outreach.id,
        outreach.sent,
        outreach.skipped_cap,
        outreach.skipped_opted_out,
    )
    return {"sent": outreach.sent, "capped": outreach.skipped_cap, "opted_out": outreach.skipped_opted_out}
