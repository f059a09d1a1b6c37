"""Where a forwarded offer goes (`转 123 13800138000`): the number's checks and the day's limits; the
offer or invitation itself is made in `forwarding_offers`. Every outcome is an `OfferForward` row: the
limits count them, and agents can see who passed what to whom.

The caller holds the forwarder's worker row and the job's row (FOR NO KEY UPDATE, in that order, as
every answer to an offer takes them), so one worker's forwards are decided one after the other and
never exceed the day's limit. The number's limit takes a transaction-scoped advisory lock on the
number (PostgreSQL; SQLite has one writer anyway): two workers passing offers to one number at once
are counted one after the other, without inserting a row for a number we may never text.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, time
from typing import Any
from zoneinfo import ZoneInfo

import phonenumbers
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from dispatch.matching import forwarding_offers as offers
from dispatch.matching import services
from dispatch.models import (
    Contact,
    ForwardOutcome,
    Message,
    Offer,
    OfferForward,
    Worker,
    WorkerStatus,
)
from dispatch.phones import display, try_e164
from dispatch.settings import Settings

log = logging.getLogger(__name__)

# Forwards that texted someone: only these count towards the day's limits.
SENT = (ForwardOutcome.OFFERED, ForwardOutcome.INVITED)
_TYPES = phonenumbers.PhoneNumberType
MOBILE_TYPES = frozenset({_TYPES.MOBILE, _TYPES.FIXED_LINE_OR_MOBILE})
# The first key of the advisory lock on a number: keeps these locks apart from any other use of them.
NUMBER_LOCK_SPACE = 70_207
MAX_TYPED = 20  # what of a mistyped number the refusal repeats
# Every reason the forwarder's refusal can give (the forward_refused template words each one, as `why`).
REASONS = (
    "usage",  # `转 123` without a number
    "no_offer",  # no open offer for that code
    "closed",  # the job is full, over or no longer wanted
    "bad_number",  # not a valid mobile number
    "own",  # the forwarder's own number
    "limit_day",  # the forwarder passed on FORWARDS_PER_DAY today
    "limit_number",  # the number was passed FORWARDS_TO_NUMBER_PER_DAY today
    "opted_out",  # the number takes no texts from us
    *offers.UNFIT_REASONS,
)


@dataclass(frozen=True)
class Passed:
    """What became of one forward: the outcome recorded, and what the forwarder's reply says."""

    outcome: ForwardOutcome
    reason: str  # `offered`, `invited`, or why not (the forward_refused template's reason)
    to_phone: str  # as the reply shows it
    limit: int = 0


def pass_on(
    session: Session,
    settings: Settings,
    inbound: Message,
    forwarder: Worker,
    offer: Offer,
    typed: str,
    now: datetime,
) -> Passed:
    """Pass the forwarder's open offer to the number typed; the rows are locked by the caller."""
    job = offer.job

    def record(outcome: ForwardOutcome, reason: str, phone: str, **extra: Any) -> Passed:
        session.add(
            OfferForward(
                offer_id=offer.id,
                job_id=job.id,
                from_worker_id=forwarder.id,
                to_phone=phone[:40],
                outcome=outcome,
                message_id=inbound.id,
                created_at=now,
                **extra,
            )
        )
        session.flush()
        log.info("worker %s passed job %s to %s: %s", forwarder.id, job.code, phone[:40], outcome.value)
        return Passed(outcome, reason, display(phone) if phone.startswith("+") else phone[:MAX_TYPED])

    phone = mobile_number(typed, settings)
    if phone is None:
        return record(ForwardOutcome.REFUSED_BAD_NUMBER, "bad_number", typed)
    if phone == forwarder.phone:
        return record(ForwardOutcome.REFUSED_BAD_NUMBER, "own", phone)
    since = day_start(settings, now)
    if _sent_since(session, OfferForward.from_worker_id == forwarder.id, since) >= settings.FORWARDS_PER_DAY:
        return _limited(record(ForwardOutcome.REFUSED_LIMIT, "limit_day", phone), settings.FORWARDS_PER_DAY)
    _lock_number(session, phone)
    if _sent_since(session, OfferForward.to_phone == phone, since) >= settings.FORWARDS_TO_NUMBER_PER_DAY:
        passed = record(ForwardOutcome.REFUSED_LIMIT, "limit_number", phone)
        return _limited(passed, settings.FORWARDS_TO_NUMBER_PER_DAY)
    friend = session.scalar(select(Worker).where(Worker.phone == phone))
    contact = session.scalar(select(Contact).where(Contact.phone == phone))
    stopped = friend is not None and friend.status in (WorkerStatus.OPTED_OUT, WorkerStatus.UNDELIVERABLE)
    if stopped or (contact is not None and not contact.may_receive):
        return record(
            ForwardOutcome.REFUSED_OPTED_OUT, "opted_out", phone, to_worker_id=friend.id if friend else None
        )
    if friend is None:
        offers.invite(session, settings, job, forwarder, phone, now)
        offers.close_forwarded(session, offer, now)
        services.maybe_next_wave(session, job)  # nobody holds the place while the friend registers
        return record(ForwardOutcome.INVITED, "invited", phone)
    refusal = offers.unfit(session, settings, job, friend, now)
    if refusal is not None:
        return record(ForwardOutcome.REFUSED_NOT_FIT, refusal, phone, to_worker_id=friend.id)
    new = offers.offer_to(session, settings, job, friend, forwarder, offer.wave, now)
    # The friend's offer holds the place now: no next wave until they answer or it lapses.
    offers.close_forwarded(session, offer, now)
    return record(ForwardOutcome.OFFERED, "offered", phone, to_worker_id=friend.id, new_offer_id=new.id)


def _limited(passed: Passed, limit: int) -> Passed:
    return Passed(passed.outcome, passed.reason, passed.to_phone, limit)


def mobile_number(typed: str, settings: Settings) -> str | None:
    """The typed number in E.164 if it is a valid number that can take SMS (a mobile), else None."""
    phone = try_e164(typed, settings.DEFAULT_REGION)
    if phone is None:
        return None
    kind = phonenumbers.number_type(phonenumbers.parse(phone, None))
    return phone if kind in MOBILE_TYPES else None


def day_start(settings: Settings, now: datetime) -> datetime:
    """The start of the market's local day: the limits count forwards from there."""
    zone = ZoneInfo(settings.MARKET_TIMEZONE)
    return datetime.combine(now.astimezone(zone).date(), time(0), tzinfo=zone)


def _sent_since(session: Session, condition: Any, since: datetime) -> int:
    query = (
        select(func.count())
        .select_from(OfferForward)
        .where(condition, OfferForward.outcome.in_(SENT), OfferForward.created_at >= since)
    )
    return session.scalar(query) or 0


def _lock_number(session: Session, phone: str) -> None:
    if session.get_bind().dialect.name == "postgresql":
        session.execute(select(func.pg_advisory_xact_lock(NUMBER_LOCK_SPACE, func.hashtext(phone))))
