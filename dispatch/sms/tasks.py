"""RQ jobs of the SMS channel."""

from __future__ import annotations

import logging
import time
from datetime import datetime, timedelta

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from dispatch.clock import utcnow
from dispatch.models import Contact, Direction, Message, MessageStatus
from dispatch.queue import defer
from dispatch.quiet_hours import quiet_hours_end
from dispatch.runtime import get_runtime
from dispatch.settings import Settings
from dispatch.sms.gateway import SendError, SmsTransport
from dispatch.sms.rate_limit import SendRateLimiter
from dispatch.sms.services import SENT_WHILE_OPTED_OUT, apply_error_to_contact, apply_status

log = logging.getLogger(__name__)
MAX_BACKOFF_SECONDS = 600
# A pending message untouched this long, and not waiting for a later time, lost its send job.
STUCK_AFTER = timedelta(minutes=15)
REQUEUE_BATCH = 500
# A reply goes out at once, even in quiet hours, only while the person is plausibly still waiting
# for it; one delayed longer (a Redis outage, a backlog) waits for the morning like any message.
REPLY_WINDOW = timedelta(minutes=10)


def backoff_seconds(attempt: int) -> int:
    """2, 4, 8 ... seconds, at most ten minutes."""
    return min(2**attempt, MAX_BACKOFF_SECONDS)


def send_message(message_id: int) -> dict[str, int]:
    """Send one pending outbound message through the configured transport, within the send rate.

    Idempotent: a message that is no longer pending (sent, suppressed, failed) is left alone. The
    wait for a rate slot happens outside any transaction; the send itself holds the message's row
    lock (a second run of this job waits, then does nothing) and re-reads the opt-out, so a STOP
    committed while this job waited is respected.
    """
    runtime = get_runtime()
    settings = runtime.settings
    with runtime.db.transaction() as session:
        message = session.get(Message, message_id)
        if message is None or message.status != MessageStatus.PENDING:
            return {"skipped": 1}
        outcome = _hold_or_suppress(session, settings, message, utcnow())
        if outcome:
            return outcome
        segments = message.segments
    limiter = SendRateLimiter(runtime.redis, settings.SMS_SEND_RATE)
    reserved, wait = limiter.reserve(runtime.transport.sender, settings.SMS_MAX_RATE_WAIT, segments)
    if not reserved:
        with runtime.db.transaction() as session:
            message = session.get(Message, message_id, with_for_update=True)
            if message is not None and message.status == MessageStatus.PENDING:
                message.send_after = utcnow() + timedelta(seconds=wait)
                defer(session, send_message, message.id, queue="sms", run_at=message.send_after)
        return {"rate_limited": 1}
    if wait > 0:
        time.sleep(wait)
    with runtime.db.transaction() as session:
        message = session.get(Message, message_id, with_for_update=True)
        if message is None or message.status != MessageStatus.PENDING:
            return {"skipped": 1}
        outcome = _hold_or_suppress(session, settings, message, utcnow())
        if outcome:
            return outcome
        return _send(session, settings, runtime.transport, message)


def _hold_or_suppress(
    session: Session, settings: Settings, message: Message, now: datetime
) -> dict[str, int]:
    """Hold a message that is not due yet; suppress one to a number that may not be texted."""
    hold_until = _hold_until(message, now, settings)
    if hold_until is not None:
        message.send_after = hold_until
        defer(session, send_message, message.id, queue="sms", run_at=hold_until)
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


def _send(session: Session, settings: Settings, transport: SmsTransport, message: Message) -> dict[str, int]:
    # The id in the URL lets the callback find the message even before its Sid is committed.
    base_url = settings.PUBLIC_BASE_URL.rstrip("/")
    callback = f"{base_url}/sms/status?m={message.id}" if base_url else None
    message.attempts += 1
    try:
        result = transport.send_sms(message.phone, message.body, status_callback=callback)
    except SendError as exc:
        return _failed(session, settings.SMS_MAX_ATTEMPTS, message, exc)
    message.provider_sid = result.provider_sid
    message.sent_at = utcnow()
    # An earlier attempt's transient error (20429, 5xx) is not this message's outcome.
    message.error_code = None
    message.error_message = ""
    message.status = MessageStatus.QUEUED
    apply_status(session, message, result.status, None)
    return {"sent": 1}


def _hold_until(message: Message, now: datetime, settings: Settings) -> datetime | None:
    """When a message due now must wait: its own send_after, or, for anything but a reply, the end
    of quiet hours that began after it was queued (a retry, a rate-limit wait or a backlog)."""
    if message.send_after is not None and message.send_after > now:
        return message.send_after
    if message.is_reply and now - message.created_at < REPLY_WINDOW:
        return None
    return quiet_hours_end(now, settings.quiet_hours, settings.MARKET_TIMEZONE)


def _failed(session: Session, max_attempts: int, message: Message, exc: SendError) -> dict[str, int]:
    message.error_code = exc.code
    message.error_message = str(exc)[:500]
    if exc.retryable and message.attempts < max_attempts:
        delay = timedelta(seconds=backoff_seconds(message.attempts))
        log.warning("SMS %s not taken (%s); retrying in %s", message.id, exc, delay)
        message.send_after = utcnow() + delay
        defer(session, send_message, message.id, queue="sms", run_at=message.send_after)
        return {"retrying": 1}
    log.warning("SMS %s failed for good: %s", message.id, exc)
    message.status = MessageStatus.FAILED
    if exc.code is not None:
        apply_error_to_contact(session, message.phone, exc.code)
    return {"failed": 1}


def requeue_stuck_messages() -> dict[str, int]:
    """Give a new send job to pending messages whose job was lost (a worker killed mid-send, Redis
    lost after the relay); send_message is idempotent, so a job that was merely slow does no harm."""
    runtime = get_runtime()
    cutoff = utcnow() - STUCK_AFTER
    with runtime.db.transaction() as session:
        query = (
            select(Message)
            .where(
                Message.direction == Direction.OUTBOUND,
                Message.status == MessageStatus.PENDING,
                Message.updated_at < cutoff,
                or_(Message.send_after.is_(None), Message.send_after < cutoff),
            )
            .order_by(Message.id)
            .limit(REQUEUE_BATCH)
            .with_for_update(skip_locked=True)
        )
        messages = list(session.scalars(query))
        for message in messages:
            message.updated_at = utcnow()  # the next sweep waits STUCK_AFTER again
            defer(session, send_message, message.id, queue="sms")
    return {"requeued": len(messages)}
