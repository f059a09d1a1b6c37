"""RQ jobs of the SMS channel: sending (at most once to the provider), reconciling, recovering.

No transaction is open while the provider is called: the attempt is committed as `sending` first, and
its outcome is recorded in a transaction of its own afterwards (see delivery.py for the life of a
message). A worker that dies in between leaves the row `sending`; the recovery sweep finds it once its
lease ran out, and the provider is asked before anything is sent again.
"""

from __future__ import annotations

import logging
import time
from datetime import timedelta

from sqlalchemy import or_, select

from dispatch.clock import utcnow
from dispatch.models import Direction, Message, MessageStatus
from dispatch.queue import defer, task
from dispatch.runtime import get_runtime
from dispatch.sms.gateway import ProviderLookupError, SendError, SendResult, Templated
from dispatch.sms.rate_limit import SendRateLimiter

log = logging.getLogger(__name__)
# A pending message untouched this long, and not waiting for a later time, lost its send job. The
# outbox's lost-job sweep (dispatch.tasks.recover_lost_jobs) finds such jobs within a minute; this is
# the backstop for anything it cannot see.
STUCK_AFTER = timedelta(minutes=15)
REQUEUE_BATCH = 500
LOOKUP_RETRY_SECONDS = 10
# delivery is imported inside the tasks: see "The task registry" in dispatch/queue.py.


@task("sms")
def send_message(message_id: int) -> dict[str, int]:
    """Send one pending outbound message through the configured transport, within the send rate.

    Idempotent: a message that is no longer pending (sent, suppressed, failed) is left alone, and one
    handed to the provider by an attempt that never recorded its outcome is reconciled, not resent.
    The wait for a rate slot happens outside any transaction; the attempt is committed (and the opt-out
    re-read under the row's lock, so a STOP committed while this job waited is respected) before the
    provider is called.
    """
    from dispatch.sms import delivery, frequency, merging

    runtime = get_runtime()
    settings = runtime.settings
    with runtime.db.transaction() as session:
        message = session.get(Message, message_id)
        if message is None:
            return {"skipped": 1}
        in_flight = delivery.in_flight(message)
        if not in_flight:
            if message.status != MessageStatus.PENDING:
                return {"skipped": 1}
            outcome = delivery.hold_or_suppress(session, settings, message, utcnow())
            if outcome:
                return outcome
            segments = message.segments
            phone, has_template = message.phone, message.template_params is not None
    if in_flight:  # e.g. a lost job relayed again: ask the provider (with no transaction open)
        return reconcile_message(message_id)
    from dispatch.sms.routing import Router  # a service: imported in the task (dispatch/queue.py)

    router = Router.for_runtime(runtime)
    choice = router.choose(phone, has_template, utcnow())
    limiter = SendRateLimiter(runtime.redis, settings.SMS_SEND_RATE)
    reserved, wait = limiter.reserve(choice.transport.sender, settings.SMS_MAX_RATE_WAIT, segments)
    if not reserved:
        with runtime.db.transaction() as session:
            message = session.get(Message, message_id, with_for_update=True)
            if message is not None and message.status == MessageStatus.PENDING:
                message.send_after = utcnow() + timedelta(seconds=wait)
                delivery.schedule_send(session, message, message.send_after)
        return {"rate_limited": 1}
    if wait > 0:
        time.sleep(wait)
    with runtime.db.transaction() as session:
        message = session.get(Message, message_id, with_for_update=True)
        if message is None or message.status != MessageStatus.PENDING:
            return {"skipped": 1}
        now = utcnow()
        allowed = None
        if delivery.hold_until_for(message, now, settings) is None:
            allowed = frequency.next_allowed(session, settings, message, choice.provider, now)
            if allowed is not None:
                frequency.hold(message, choice.provider, allowed)
            elif (merged := merging.merge_held(session, settings, message, choice.provider, now)) is not None:
                # Offers held back for this number go with this one, as one text in its place.
                first, message, message_id = message.id, merged, merged.id
                allowed = frequency.next_allowed(session, settings, message, choice.provider, now, first)
                if allowed is not None:
                    frequency.hold(message, choice.provider, allowed)
        outcome = delivery.hold_or_suppress(session, settings, message, now)
        if outcome:
            return {**outcome, "frequency_held": 1} if allowed is not None else outcome
        attempt = delivery.start_attempt(message, now)
        message.provider = choice.provider  # committed before the call: a lookup asks this one
        to, body, templated = message.phone, message.body, templated_form(message)
    # The id in the URL lets the callback find the message even before its Sid is committed.
    base_url = settings.PUBLIC_BASE_URL.rstrip("/")
    callback = f"{base_url}/sms/status?m={message_id}" if base_url else None
    result: SendResult | SendError
    try:
        result = choice.transport.send_sms(to, body, status_callback=callback, templated=templated)
    except SendError as exc:
        result = exc
    router.record(choice, result, utcnow())
    with runtime.db.transaction() as session:
        message = session.get(Message, message_id, with_for_update=True)
        assert message is not None
        if isinstance(result, SendResult):
            return delivery.took(session, message, attempt, result)
        if message.attempts != attempt or not delivery.in_flight(message):
            return {"superseded": 1}  # the lease ran out and a lookup decided meanwhile
        if result.ambiguous:
            return delivery.unanswered(session, settings, message, result)
        return delivery.refused(session, settings.SMS_MAX_ATTEMPTS, message, result)


def templated_form(message: Message) -> Templated:
    """What a templated carrier sends instead of the body (see carrier_templates.py)."""
    params = dict(message.template_params) if message.template_params is not None else None
    return Templated(
        message.id, message.template or message.kind, message.language, params, message.carrier_text
    )


@task("sms")
def reconcile_message(message_id: int) -> dict[str, int]:
    """Ask the provider whether it holds a message whose attempt has no recorded outcome: adopt the Sid
    it has, or, when it has none SEND_RECONCILE_AFTER seconds after the attempt, send it again."""
    from dispatch.sms import delivery

    runtime = get_runtime()
    settings = runtime.settings
    grace = timedelta(seconds=settings.SEND_RECONCILE_AFTER)
    with runtime.db.transaction() as session:
        message = session.get(Message, message_id)
        if message is None or not delivery.in_flight(message):
            return {"skipped": 1}
        started = message.send_started_at or message.updated_at
        if utcnow() < started + grace:
            delivery.schedule_reconcile(session, settings, message)  # too early: it may still appear
            return {"waiting": 1}
        attempt, to, body, templated = message.attempts, message.phone, message.body, templated_form(message)
        from dispatch.sms.routing import Router

        transport = Router.for_runtime(runtime).transport(message.provider)
    try:
        found = transport.find_sent(to, body, since=started - delivery.CLOCK_SKEW, templated=templated)
    except ProviderLookupError as exc:
        log.warning("SMS %s: cannot look it up yet (%s); trying again", message_id, exc)  # no number in it
        with runtime.db.transaction() as session:
            message = session.get(Message, message_id, with_for_update=True)
            if message is not None and delivery.in_flight(message) and message.attempts == attempt:
                run_at = utcnow() + timedelta(seconds=LOOKUP_RETRY_SECONDS)
                defer(session, reconcile_message, message_id, queue="sms", run_at=run_at)
        return {"lookup_failed": 1}
    with runtime.db.transaction() as session:
        message = session.get(Message, message_id, with_for_update=True)
        if message is None or not delivery.in_flight(message) or message.attempts != attempt:
            return {"skipped": 1}
        sent = delivery.unclaimed(session, found)
        if sent is not None:
            sid = sent.provider_sid
            log.warning("SMS %s: found at the provider as %s; not sending it again", message_id, sid)
            delivery.adopt(session, message, sent.provider_sid, sent.status)
            return {"adopted": 1}
        return delivery.not_at_provider(session, settings.SMS_MAX_ATTEMPTS, message)


@task("sms")
def requeue_stuck_messages() -> dict[str, int]:
    """Recover sends whose worker or job was lost.

    - `sending` with no Sid for longer than SEND_LEASE_SECONDS: the worker died during (or right
      after) the provider call. Reconcile it: never sent again blindly.
    - `pending`, due, untouched for STUCK_AFTER: its send job is gone (the backstop; lost jobs are
      usually found by the outbox's lost-job sweep within a minute). send_message is idempotent, so a
      job that was merely slow does no harm.
    """
    from dispatch.sms import delivery

    runtime = get_runtime()
    now = utcnow()
    lease = now - timedelta(seconds=runtime.settings.SEND_LEASE_SECONDS)
    cutoff = now - STUCK_AFTER
    with runtime.db.transaction() as session:
        in_flight = session.scalars(
            select(Message)
            .where(
                Message.direction == Direction.OUTBOUND,
                Message.status == MessageStatus.SENDING,
                Message.provider_sid.is_(None),
                Message.updated_at < lease,
            )
            .order_by(Message.id)
            .limit(REQUEUE_BATCH)
            .with_for_update(skip_locked=True)
        ).all()
        for message in in_flight:
            message.updated_at = now  # the next sweep waits a lease again
            defer(session, reconcile_message, message.id, queue="sms")
        pending = session.scalars(
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
        ).all()
        for message in pending:
            message.updated_at = now  # the next sweep waits STUCK_AFTER again
            delivery.schedule_send(session, message)
    counts = {"requeued": len(pending)}
    if in_flight:
        counts["reconciling"] = len(in_flight)
    return counts
