"""Sign-ups for events: `报名 7` takes a place while there is one, else the waiting list; a place is
reminded the evening before. Plain functions on a session; they flush, never commit."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import case, func, select
from sqlalchemy.orm import Session

from dispatch.i18n import market_zone
from dispatch.models import Contact, Event, EventSignup, SignupStatus, Worker
from dispatch.outreach.services import event_context
from dispatch.outreach.tasks import remind_signup
from dispatch.queue import defer
from dispatch.settings import Settings
from dispatch.sms.gateway import mask_phone
from dispatch.sms.services import queue_sms

log = logging.getLogger(__name__)
MAX_EVENT_ID = 2**31 - 1


@dataclass(frozen=True)
class SignedUp:
    outcome: str  # booked, waiting, already, unknown
    event: Event | None = None
    position: int = 0  # on the waiting list


def sign_up(session: Session, settings: Settings, worker: Worker, event_id: int, now: datetime) -> SignedUp:
    """`报名 7`: a place while the event has one, else the waiting list; the event row is locked so that
    two sign-ups for the last place cannot both get it."""
    event = session.get(Event, event_id, with_for_update=True) if 0 < event_id <= MAX_EVENT_ID else None
    if event is None or event.capacity is None or (event.starts_at is not None and event.starts_at <= now):
        return SignedUp("unknown")
    signup = session.scalar(
        select(EventSignup).where(EventSignup.event_id == event.id, EventSignup.worker_id == worker.id)
    )
    if signup is not None and signup.status != SignupStatus.CANCELLED:
        return SignedUp("already", event, 1 if signup.status == SignupStatus.WAITING else 0)
    booked = _count(session, event.id, SignupStatus.BOOKED)
    status = SignupStatus.BOOKED if booked < event.capacity else SignupStatus.WAITING
    if signup is None:
        signup = EventSignup(event_id=event.id, worker_id=worker.id, status=status, created_at=now)
        session.add(signup)
    else:  # cancelled once, signing up again: the back of the queue, as a new sign-up
        signup.status, signup.created_at, signup.cancelled_at, signup.reminded_at = status, now, None, None
    session.flush()
    if status == SignupStatus.BOOKED:
        _remind_later(session, settings, signup, event, now)
    log.info("event %s: worker %s (%s) %s", event.id, worker.id, mask_phone(worker.phone), status.value)
    if status == SignupStatus.BOOKED:
        return SignedUp("booked", event)
    return SignedUp("waiting", event, _count(session, event.id, SignupStatus.WAITING))


def _count(session: Session, event_id: int, status: SignupStatus) -> int:
    query = select(func.count()).where(EventSignup.event_id == event_id, EventSignup.status == status)
    return session.scalar(query) or 0


# The list as the counter reads it: places first, then the waiting list in its order, then cancelled.
_LIST_ORDER = case(
    (EventSignup.status == SignupStatus.BOOKED, 0), (EventSignup.status == SignupStatus.WAITING, 1), else_=2
)


def signups(session: Session, event_id: int) -> list[EventSignup]:
    query = select(EventSignup).where(EventSignup.event_id == event_id)
    return list(session.scalars(query.order_by(_LIST_ORDER, EventSignup.created_at, EventSignup.id)))


def _remind_later(
    session: Session, settings: Settings, signup: EventSignup, event: Event, now: datetime
) -> None:
    when = reminder_time(settings, event)
    if when is not None and when > now:
        defer(session, remind_signup, signup.id, run_at=when)


@dataclass(frozen=True)
class Cancelled:
    signup: EventSignup | None  # None: the worker had no sign-up for that event (or it is over)
    moved_up: EventSignup | None = None  # the first of the waiting list, who now has the place


def cancel_for_worker(
    session: Session, settings: Settings, worker: Worker, event_id: int, now: datetime
) -> Cancelled:
    """`取消报名 7`: the worker's sign-up (a place or the waiting list) is cancelled."""
    event = session.get(Event, event_id, with_for_update=True) if 0 < event_id <= MAX_EVENT_ID else None
    if event is None:
        return Cancelled(None)
    signup = session.scalar(
        select(EventSignup).where(EventSignup.event_id == event.id, EventSignup.worker_id == worker.id)
    )
    if signup is None or signup.status == SignupStatus.CANCELLED:
        return Cancelled(None)
    return cancel(session, settings, signup, now)


def cancel(session: Session, settings: Settings, signup: EventSignup, now: datetime) -> Cancelled:
    """Cancel a sign-up; a place it held goes to the first of the waiting list (texted), while the
    event has not begun. The event row is locked: two cancellations cannot move up the same worker."""
    event = session.get(Event, signup.event_id, with_for_update=True)
    assert event is not None
    if signup.status == SignupStatus.CANCELLED:
        return Cancelled(None)
    had_place = signup.status == SignupStatus.BOOKED
    signup.status, signup.cancelled_at = SignupStatus.CANCELLED, now
    session.flush()
    log.info("event %s: sign-up %s cancelled", event.id, signup.id)
    begun = event.starts_at is not None and event.starts_at <= now
    if not had_place or begun or event.capacity is None:
        return Cancelled(signup)
    if _count(session, event.id, SignupStatus.BOOKED) >= event.capacity:
        return Cancelled(signup)  # more places were taken than there are (a capacity lowered)
    first = session.scalars(
        select(EventSignup)
        .where(EventSignup.event_id == event.id, EventSignup.status == SignupStatus.WAITING)
        .order_by(EventSignup.created_at, EventSignup.id)
        .limit(1)
        .with_for_update()
    ).first()
    if first is None:
        return Cancelled(signup)
    first.status = SignupStatus.BOOKED
    session.flush()
    _tell_moved_up(session, settings, first, event)
    _remind_later(session, settings, first, event, now)
    log.info("event %s: sign-up %s moved up from the waiting list", event.id, first.id)
    return Cancelled(signup, first)


def tell_cancelled(session: Session, settings: Settings, signup: EventSignup) -> None:
    """A sign-up an agent cancelled (the worker called): the worker has it in writing."""
    worker = signup.worker
    language = _language(session, worker)
    queue_sms(
        session,
        settings,
        phone=worker.phone,
        template="event_cancelled",
        kind="outreach.cancelled",
        language=language,
        worker_id=worker.id,
        event_title=signup.event.title(language),
    )


def _language(session: Session, worker: Worker) -> str:
    contact = session.scalar(select(Contact).where(Contact.phone == worker.phone))
    return contact.language if contact is not None else "zh"


WHEN_AND_WHERE = ("event_title", "date", "hour", "minute", "place")


def _text_about_event(
    session: Session,
    settings: Settings,
    signup: EventSignup,
    event: Event,
    template: str,
    fields: tuple[str, ...],
) -> None:
    """A text to a signed-up worker about their event, in their language; not sent once it has begun."""
    worker = signup.worker
    language = _language(session, worker)
    context = event_context(settings, event, language)
    queue_sms(
        session,
        settings,
        phone=worker.phone,
        template=template,
        kind=f"outreach.{template.removeprefix('event_')}",
        language=language,
        worker_id=worker.id,
        not_after=event.starts_at,
        **{name: context[name] for name in fields},
    )


def _tell_moved_up(session: Session, settings: Settings, signup: EventSignup, event: Event) -> None:
    _text_about_event(session, settings, signup, event, "event_moved_up", (*WHEN_AND_WHERE, "event_id"))


def reminder_time(settings: Settings, event: Event) -> datetime | None:
    """The evening before the event (REMINDER_EVENING_TIME, as a job's reminder), market time."""
    if event.starts_at is None:
        return None
    zone = market_zone(settings)
    day_before = event.starts_at.astimezone(zone).date() - timedelta(days=1)
    return datetime.combine(day_before, settings.reminder_evening_time, tzinfo=zone)


def remind(session: Session, settings: Settings, signup_id: int, now: datetime) -> dict[str, int]:
    """Text a booked worker the event's time and place; once, and never once it has begun."""
    signup = session.get(EventSignup, signup_id, with_for_update=True)
    if signup is None or signup.status != SignupStatus.BOOKED or signup.reminded_at is not None:
        return {"reminded": 0}
    event = session.get(Event, signup.event_id)
    if event is None or event.starts_at is None or event.starts_at <= now:
        return {"reminded": 0}
    _text_about_event(session, settings, signup, event, "event_reminder", WHEN_AND_WHERE)
    signup.reminded_at = now
    session.flush()
    return {"reminded": 1}
