"""RQ jobs of outbound calls: the follow-up call (回访) to a worker who prefers voice."""

from __future__ import annotations

import logging
from datetime import timedelta

from dispatch.clock import utcnow
from dispatch.models import FollowUp
from dispatch.queue import defer
from dispatch.quiet_hours import quiet_hours_end
from dispatch.runtime import get_runtime
from dispatch.sms.tasks import backoff_seconds
from dispatch.voice import services
from dispatch.voice.gateway import CallError

log = logging.getLogger(__name__)
# Tries at placing one round's call; a worker not reached is reminded, then handed to an agent anyway.
MAX_ATTEMPTS = 4


def call_follow_up(follow_up_id: int, attempt: int = 1) -> dict[str, int]:
    """Call the worker of a voice follow-up with the keypad questions, once per round (asked, reminded).

    Idempotent: a follow-up answered meanwhile, or whose round already has its call, is left alone. The
    follow-up's row lock is held while the call is placed, so a second run of this job waits and then
    finds the call. In quiet hours nobody is rung: the job comes back when they end.
    """
    runtime = get_runtime()
    settings = runtime.settings
    with runtime.db.transaction() as session:
        follow_up = session.get(FollowUp, follow_up_id, with_for_update=True)
        if follow_up is None or not services.callable_follow_up(follow_up):
            return {"skipped": 1}
        if services.called_this_round(session, follow_up):
            return {"skipped": 1}
        now = utcnow()
        morning = quiet_hours_end(now, settings.quiet_hours, settings.MARKET_TIMEZONE)
        if morning is not None:
            defer(session, call_follow_up, follow_up.id, attempt, queue="sms", run_at=morning)
            return {"deferred": 1}
        base_url = settings.PUBLIC_BASE_URL
        to = follow_up.worker.phone
        try:
            sid = runtime.call_transport.place_call(
                to, services.answer_url(base_url, follow_up.id), services.status_url(base_url, follow_up.id)
            )
        except CallError as exc:
            if exc.retryable and attempt < MAX_ATTEMPTS:
                delay = timedelta(seconds=backoff_seconds(attempt))
                log.warning("follow-up %s: call not placed (%s); retrying in %s", follow_up.id, exc, delay)
                defer(session, call_follow_up, follow_up.id, attempt + 1, queue="sms", run_at=now + delay)
                return {"retrying": 1}
            # Left open: the follow-up's reminder, then its agent ticket, still come.
            log.warning("follow-up %s: call to %s failed for good: %s", follow_up.id, to, exc)
            return {"failed": 1}
        follow_up.call_sid = sid
        services.follow_up_call(session, follow_up, sid, "queued")
        log.info("follow-up %s (%s): called %s as %s", follow_up.id, follow_up.status.value, to, sid)
        return {"called": 1}
