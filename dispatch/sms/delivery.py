"""What a send attempt does to a message row, in its own short transactions (see tasks.py).

The life of an outbound message, at most once to the provider:

    pending ──start_attempt──▶ sending (no Sid) ──took──▶ queued/sent/... (Sid)
       ▲                           │  refused: back to pending (retry) or failed
       │                           │  ambiguous / worker died: reconcile
       └──── not at the provider ◀─┴─ found at the provider: adopt its Sid

`sending` without a Sid means "handed to the provider, outcome not recorded": it is committed before
the API call, so a worker that dies during the call leaves a row that says so, and nothing sends that
message again until the provider has been asked whether it has it. Plain functions that take a
session; they flush, never commit.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from dispatch import quiet_hours
from dispatch.clock import utcnow
from dispatch.models import Contact, Message, MessageStatus
from dispatch.queue import defer
from dispatch.settings import Settings
from dispatch.sms.gateway import SendError, SendResult, SentMessage, mask_phone
from dispatch.sms.services import SENT_WHILE_OPTED_OUT, TOO_LATE, apply_error_to_contact, apply_status
from dispatch.sms.tasks import reconcile_message, send_message

log = logging.getLogger(__name__)
MAX_BACKOFF_SECONDS = 600
# Twilio's clock and ours differ, and it keeps whole seconds: a message it created for an attempt
# may carry a time up to this much before the attempt started by our clock.
CLOCK_SKEW = timedelta(seconds=60)


def backoff_seconds(attempt: int) -> int:
    """2, 4, 8 ... seconds, at most ten minutes."""
    return min(2**attempt, MAX_BACKOFF_SECONDS)


def in_flight(message: Message) -> bool:
    """Handed to the provider by an attempt whose outcome nobody has recorded yet."""
    return message.status == MessageStatus.SENDING and message.provider_sid is None


def schedule_send(session: Session, message: Message, run_at: datetime | None = None) -> None:
    defer(session, send_message, message.id, queue="sms", run_at=run_at)


def hold_or_suppress(session: Session, settings: Settings, message: Message, now: datetime) -> dict[str, int]:
    """Hold a message that is not due yet; suppress one to a number that may not be texted, or one that
    would go after its deadline (an offer after its job's start)."""
    hold_until = hold_until_for(message, now, settings)
    if message.not_after is not None and (hold_until or now) >= message.not_after:
        message.status = MessageStatus.SUPPRESSED
        message.error_message = TOO_LATE
        log.info("SMS %s (%s) not sent: past its deadline", message.id, message.kind)
        return {"too_late": 1}
    if hold_until is not None:
        message.send_after = hold_until
        schedule_send(session, message, hold_until)
        return {"deferred": 1}
    # FOR SHARE: a STOP being written for this number waits for the send, or the send for the STOP.
    contact = session.scalar(select(Contact).where(Contact.phone == message.phone).with_for_update(read=True))
    if contact is not None and (
        contact.undeliverable_at is not None
        or (contact.opted_out_at is not None and message.kind not in SENT_WHILE_OPTED_OUT)
    ):
        message.status = MessageStatus.SUPPRESSED
        return {"suppressed": 1}
    return {}


def hold_until_for(message: Message, now: datetime, settings: Settings) -> datetime | None:
    """When a message due now must wait: its own send_after, or, for anything but a reply, the end of
    quiet hours that began after it was queued (a retry, a rate-limit wait or a backlog). A reply is
    an answer to somebody who just wrote to us, however late a retry or a recovery sends it."""
    if message.send_after is not None and message.send_after > now:
        return message.send_after
    if message.is_reply:
        return None
    window = settings.urgent_hours if message.urgent else None
    return quiet_hours.hold_until(now, settings.quiet_hours, settings.MARKET_TIMEZONE, window)


def start_attempt(message: Message, now: datetime) -> int:
    """Mark the message as handed to the provider (committed before the call); the attempt's number."""
    message.attempts += 1
    message.status = MessageStatus.SENDING
    message.send_started_at = now
    return message.attempts


def adopt(session: Session, message: Message, provider_sid: str, provider_status: str) -> None:
    """The provider holds this message under `provider_sid` (its answer, or what a lookup found)."""
    was_in_flight = in_flight(message)
    message.provider_sid = provider_sid
    message.sent_at = message.sent_at or utcnow()
    # An earlier attempt's transient error (20429, 5xx) is not this message's outcome.
    message.error_code = None
    message.error_message = ""
    if was_in_flight:
        # Our own "handed over" mark; a delivery report that came first has already moved it on.
        message.status = MessageStatus.QUEUED
    apply_status(session, message, provider_status, None)


def took(session: Session, message: Message, attempt: int, result: SendResult) -> dict[str, int]:
    """The provider answered the attempt with a Sid."""
    if message.attempts != attempt and message.provider_sid != result.provider_sid:
        # Our answer came after the lease ran out and the message was looked up (and sent) anew.
        log.error("SMS %s: attempt %d answered after it was given up; sent twice", message.id, attempt)
        return {"late": 1}
    if message.provider_sid not in (None, result.provider_sid):
        log.error("SMS %s: the provider holds it twice (%s)", message.id, result.provider_sid)
        return {"late": 1}
    adopt(session, message, result.provider_sid, result.status)
    return {"sent": 1}


def unanswered(session: Session, settings: Settings, message: Message, exc: SendError) -> dict[str, int]:
    """The provider may have taken the message: look it up before anything is sent again."""
    message.error_code = exc.code
    message.error_message = str(exc)[:500]
    log.warning(
        "SMS %s to %s: no clear answer (%s); looking it up in %s s",
        message.id,
        mask_phone(message.phone),
        exc.describe(),
        settings.SEND_RECONCILE_AFTER,
    )
    schedule_reconcile(session, settings, message)
    return {"unanswered": 1}


# Twilio's list may show a message a moment after Twilio created it: never look sooner than this after
# the attempt gave up waiting, whatever the settings.
LOOKUP_GRACE = timedelta(seconds=5)


def schedule_reconcile(session: Session, settings: Settings, message: Message) -> None:
    started = message.send_started_at or utcnow()
    run_at = max(utcnow() + LOOKUP_GRACE, started + timedelta(seconds=settings.SEND_RECONCILE_AFTER))
    defer(session, reconcile_message, message.id, queue="sms", run_at=run_at)


def refused(session: Session, max_attempts: int, message: Message, exc: SendError) -> dict[str, int]:
    """The provider surely did not take the message: try again later, or give up."""
    message.error_code = exc.code
    message.error_message = str(exc)[:500]
    # A carrier's frequency limit on the number is a wait, not a failure: it never uses up the attempts.
    if exc.retryable and (message.attempts < max_attempts or exc.retry_after is not None):
        wait = exc.retry_after if exc.retry_after is not None else backoff_seconds(message.attempts)
        delay = timedelta(seconds=wait)
        log.warning("SMS %s not taken (%s); retrying in %s", message.id, exc.describe(), delay)
        message.status = MessageStatus.PENDING
        message.send_after = utcnow() + delay
        schedule_send(session, message, message.send_after)
        return {"retrying": 1}
    log.warning("SMS %s failed for good: %s", message.id, exc.describe())
    message.status = MessageStatus.FAILED
    if exc.code is not None:
        apply_error_to_contact(session, message.phone, exc.code)
    return {"failed": 1}


def unclaimed(session: Session, found: list[SentMessage]) -> SentMessage | None:
    """The oldest of the provider's matching messages that no other row of ours has claimed."""
    if not found:
        return None
    sids = [sent.provider_sid for sent in found]
    claimed = set(session.scalars(select(Message.provider_sid).where(Message.provider_sid.in_(sids))))
    return next((sent for sent in found if sent.provider_sid not in claimed), None)


def not_at_provider(session: Session, max_attempts: int, message: Message) -> dict[str, int]:
    """The lookup found nothing after the grace period: the provider never took it; send it again,
    unless that was the last attempt."""
    attempt = message.attempts
    if attempt >= max_attempts:
        log.warning("SMS %s: not at the provider after the last attempt (%d); failed", message.id, attempt)
        message.status = MessageStatus.FAILED
        return {"failed": 1}
    log.warning("SMS %s: not at the provider after attempt %d; sending it again", message.id, attempt)
    message.status = MessageStatus.PENDING
    message.send_after = None
    schedule_send(session, message)
    return {"resend": 1}
