"""Where a forwarded offer goes (`转 123 13800138000`): the number's checks and the day's limits; the
offer or invitation itself is made in `forwarding_offers`. Every outcome is an `OfferForward` row with
its reason: the limits count them, and agents can see who passed what to whom and why it went or not.

The forwarder is told the reason only when it is about their own input (a bad, foreign or own number,
their own limits). Anything about the friend (does not fit, opted out, invited already, the number's
limit) gets one and the same answer, and each such try counts towards a daily number of tries: a
worker cannot learn a stranger's trade, wage, bookings or blocks by forwarding to their number.

The caller holds the forwarder's worker row, the number's advisory lock (`offers.lock_number`) and the
job's row, taken in that order. The worker's lock makes one worker's forwards go one after the other (never
past the day's limit). The number's lock makes forwards to one number and that number's registration
(`dispatch.sms.registration`, which takes it before it reads or creates the worker) go one after the
other: a forward sees a registration that committed, and a registration sees an invitation that did.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from typing import Any

import phonenumbers
from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from dispatch.i18n import market_zone
from dispatch.matching import forwarding_offers as offers
from dispatch.matching.locking import maybe_next_wave
from dispatch.models import (
    Contact,
    Direction,
    ForwardOutcome,
    Message,
    Offer,
    OfferForward,
    OfferStatus,
    Worker,
    WorkerStatus,
)
from dispatch.phones import display, try_e164
from dispatch.settings import Settings
from dispatch.sms.gateway import mask_phone

log = logging.getLogger(__name__)

# Forwards that texted someone: only these count towards FORWARDS_PER_DAY and the number's limit.
SENT = (ForwardOutcome.OFFERED, ForwardOutcome.INVITED)
# A worker's tries at a friend's number a day, sent or refused, are bounded by this many times
# FORWARDS_PER_DAY: a refusal says nothing of the friend, and a few hundred would still tell something.
TRIES_PER_FORWARD = 2
_TYPES = phonenumbers.PhoneNumberType
MOBILE_TYPES = frozenset({_TYPES.MOBILE, _TYPES.FIXED_LINE_OR_MOBILE})
MAX_TYPED = 20  # what of a mistyped number the refusal repeats
FRIEND = "friend"  # the one answer to every refusal about the friend
# Every reason the forwarder's refusal can give (the forward_refused template words each one, as `why`).
REASONS = (
    "usage",  # `转 123` without a number, 123 being an open offer of theirs
    "no_offer",  # the offer was answered or closed while the forward waited for it
    "closed",  # the job is full, over or no longer wanted
    "late",  # the friend's text could not reach them in time to answer before work starts
    "bad_number",  # not a valid mobile number
    "foreign",  # a mobile number of another country: nothing goes abroad
    "own",  # the forwarder's own number
    "limit_day",  # the forwarder passed on FORWARDS_PER_DAY today
    "limit_tries",  # the forwarder tried TRIES_PER_FORWARD * FORWARDS_PER_DAY numbers today
    FRIEND,
)
# Reasons recorded on a refused row (for agents) that the forwarder only hears as FRIEND. Besides these,
# the matching refusals (`trade`, `pay`, `blocked`, `clash`, `offered`, `booked`, ...) of `offers.unfit`.
FRIEND_LIMIT_REASONS = ("limit_number", "invited_before")  # REFUSED_LIMIT rows that were tries
_SENT = OfferForward.outcome.in_(SENT)
_TRIED = or_(
    OfferForward.outcome.in_((*SENT, ForwardOutcome.REFUSED_OPTED_OUT, ForwardOutcome.REFUSED_NOT_FIT)),
    OfferForward.reason.in_(FRIEND_LIMIT_REASONS),
)


@dataclass(frozen=True)
class Passed:
    """What became of one forward: the outcome recorded, and what the forwarder's reply says."""

    outcome: ForwardOutcome
    reason: str  # `offered`, `invited`, or the forward_refused template's reason
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

    def record(outcome: ForwardOutcome, reason: str, phone: str, *, told: str = "", **extra: Any) -> Passed:
        session.add(
            OfferForward(
                offer_id=offer.id,
                job_id=job.id,
                from_worker_id=forwarder.id,
                to_phone=phone[:40],
                outcome=outcome,
                reason=reason,
                message_id=inbound.id,
                created_at=now,
                **extra,
            )
        )
        session.flush()
        log.info("worker %s passed job %s to %s: %s", forwarder.id, job.code, mask_phone(phone[:40]), reason)
        shown = display(phone) if phone.startswith("+") else phone[:MAX_TYPED]
        return Passed(outcome, told or reason, shown)

    def refuse_friend(outcome: ForwardOutcome, reason: str, phone: str, **extra: Any) -> Passed:
        return record(outcome, reason, phone, told=FRIEND, **extra)

    phone, problem = read_number(typed, settings, forwarder)
    if problem is not None:
        return record(ForwardOutcome.REFUSED_BAD_NUMBER, problem, phone or typed)
    assert phone is not None
    since = day_start(settings, now)
    mine = OfferForward.from_worker_id == forwarder.id
    if _count_since(session, since, mine, _SENT) >= settings.FORWARDS_PER_DAY:
        return _limited(record(ForwardOutcome.REFUSED_LIMIT, "limit_day", phone), settings.FORWARDS_PER_DAY)
    if _count_since(session, since, mine, _TRIED) >= TRIES_PER_FORWARD * settings.FORWARDS_PER_DAY:
        return record(ForwardOutcome.REFUSED_LIMIT, "limit_tries", phone)
    to_number = OfferForward.to_phone == phone
    if _count_since(session, since, to_number, _SENT) >= settings.FORWARDS_TO_NUMBER_PER_DAY:
        return refuse_friend(ForwardOutcome.REFUSED_LIMIT, "limit_number", phone)
    friend = session.scalar(select(Worker).where(Worker.phone == phone))
    contact = session.scalar(select(Contact).where(Contact.phone == phone))
    friend_id: dict[str, Any] = {"to_worker_id": friend.id} if friend is not None else {}
    stopped = friend is not None and friend.status in (WorkerStatus.OPTED_OUT, WorkerStatus.UNDELIVERABLE)
    if stopped or (contact is not None and not contact.may_receive):
        return refuse_friend(ForwardOutcome.REFUSED_OPTED_OUT, "opted_out", phone, **friend_id)
    if friend is None:
        if invited_lately(session, settings, phone, now):
            return refuse_friend(ForwardOutcome.REFUSED_LIMIT, "invited_before", phone)
        if not offers.invite(session, settings, job, forwarder, phone, now):
            # Opted out in the instant since we looked: nothing went, the forwarder keeps the offer.
            return refuse_friend(ForwardOutcome.REFUSED_OPTED_OUT, "suppressed", phone)
        offers.close_forwarded(session, offer, now)
        maybe_next_wave(session, job)  # nobody holds the place while the friend registers
        return record(ForwardOutcome.INVITED, "invited", phone)
    refusal = offers.unfit(session, settings, job, friend, now)
    if refusal is not None:
        return refuse_friend(ForwardOutcome.REFUSED_NOT_FIT, refusal, phone, **friend_id)
    new = offers.offer_to(session, settings, job, friend, forwarder, offer.wave, now)
    if new.status == OfferStatus.CANCELLED:
        # The friend's text was suppressed (they stopped our texts meanwhile): nobody holds the place, so
        # the forwarder's offer stays open.
        return refuse_friend(
            ForwardOutcome.REFUSED_OPTED_OUT, "suppressed", phone, **friend_id, new_offer_id=new.id
        )
    # The friend's offer holds the place now: no next wave until they answer or it lapses.
    offers.close_forwarded(session, offer, now)
    return record(ForwardOutcome.OFFERED, "offered", phone, **friend_id, new_offer_id=new.id)


def _limited(passed: Passed, limit: int) -> Passed:
    return Passed(passed.outcome, passed.reason, passed.to_phone, limit)


def read_number(typed: str, settings: Settings, forwarder: Worker) -> tuple[str | None, str | None]:
    """The typed number in E.164 and what is wrong with it (`bad_number`, `foreign`, `own`), if anything.

    Only a mobile of the market's own country: a text abroad costs many times one at home, and a
    forward to foreign numbers is the classic way of pumping SMS for a share of the fees."""
    phone = try_e164(typed, settings.DEFAULT_REGION)
    if phone is None:
        return None, "bad_number"
    number = phonenumbers.parse(phone, None)
    if phonenumbers.number_type(number) not in MOBILE_TYPES:
        return None, "bad_number"
    if phonenumbers.region_code_for_number(number) != settings.DEFAULT_REGION:
        return phone, "foreign"
    if phone == forwarder.phone:
        return phone, "own"
    return phone, None


def invited_lately(session: Session, settings: Settings, phone: str, now: datetime) -> bool:
    """The number was invited within FORWARD_INVITE_DAYS and has not texted us since: one invitation
    to a number that never asked for our texts is enough; once it writes to us, it may get another."""
    last = session.scalar(
        select(func.max(OfferForward.created_at)).where(
            OfferForward.to_phone == phone,
            OfferForward.outcome == ForwardOutcome.INVITED,
            OfferForward.created_at > now - timedelta(days=settings.FORWARD_INVITE_DAYS),
        )
    )
    if last is None:
        return False
    wrote = select(Message.id).where(
        Message.phone == phone, Message.direction == Direction.INBOUND, Message.created_at >= last
    )
    return session.scalar(wrote.limit(1)) is None


def day_start(settings: Settings, now: datetime) -> datetime:
    """The start of the market's local day: the limits count forwards from there."""
    zone = market_zone(settings)
    return datetime.combine(now.astimezone(zone).date(), time(0), tzinfo=zone)


def _count_since(session: Session, since: datetime, *conditions: Any) -> int:
    query = (
        select(func.count()).select_from(OfferForward).where(*conditions, OfferForward.created_at >= since)
    )
    return session.scalar(query) or 0
