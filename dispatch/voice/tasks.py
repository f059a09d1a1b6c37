"""RQ jobs of outbound calls: the follow-up call (回访) to a worker who prefers voice, an offer or a
reminder to one, and who is coming to an employer who cannot take SMS."""

from __future__ import annotations

import logging
from datetime import timedelta

from sqlalchemy.orm import Session

from dispatch.clock import utcnow
from dispatch.models import FollowUp, FollowUpStatus
from dispatch.queue import defer, task
from dispatch.quiet_hours import quiet_hours_end
from dispatch.runtime import get_runtime
from dispatch.sms.gateway import mask_phone
from dispatch.voice.gateway import CallError

log = logging.getLogger(__name__)
# Tries at placing one round's call; a worker not reached is reminded, then handed to an agent anyway.
MAX_ATTEMPTS = 4
# The services are imported inside the tasks: see "The task registry" in dispatch/queue.py.


@task("sms")
def call_follow_up(follow_up_id: int, attempt: int = 1) -> dict[str, int]:
    """Call the worker of a voice follow-up with the keypad questions, once per round (asked, reminded).

    Three short transactions, none open while Twilio is asked (up to its HTTP timeout): an answer by
    SMS or from the console must not wait on this job for the follow-up's row. The first claims the
    round (see services.claim), so a second run of this job, concurrent or later, finds it taken and
    rings nobody; the call is placed; the last stores its sid and row. A round claimed whose sid never
    came (a crash, a lost answer from Twilio) stays claimed: the reminder round, then an agent, follow.
    In quiet hours nobody is rung: the job comes back when they end.
    """
    from dispatch.followup import texts
    from dispatch.voice import services

    runtime = get_runtime()
    settings = runtime.settings
    transport = runtime.call_transport
    with runtime.db.transaction() as session:
        follow_up = _locked(session, follow_up_id)
        if follow_up is None or not services.callable_follow_up(follow_up):
            return {"skipped": 1}
        if services.called_this_round(session, follow_up):
            return {"skipped": 1}
        now = utcnow()
        morning = quiet_hours_end(now, settings.quiet_hours, settings.MARKET_TIMEZONE)
        if morning is not None:
            defer(session, call_follow_up, follow_up.id, attempt, queue="sms", run_at=morning)
            return {"deferred": 1}
        if not transport.can_place_calls:
            # Twilio with a messaging service only: no number to call from. The question goes by text
            # (answerable like any follow-up SMS) rather than never at all.
            log.error(
                "follow-up %s: TWILIO_FROM_NUMBER is not set, so no call can be placed; asked by SMS",
                follow_up.id,
            )
            services.claim(follow_up, services.TEXTED)
            if follow_up.status == FollowUpStatus.REMINDED:
                texts.remind(session, settings, follow_up)
            else:
                texts.ask(session, settings, follow_up)
            return {"texted": 1}
        previous, round_ = follow_up.call_sid, services.round_of(follow_up)
        services.claim(follow_up)
        claimed = follow_up.call_sid
        to = follow_up.worker.phone
        url = services.answer_url(settings.PUBLIC_BASE_URL, follow_up.id)
        status_url = services.status_url(settings.PUBLIC_BASE_URL, follow_up.id)

    try:
        sid = transport.place_call(to, url, status_url)
    except CallError as exc:
        return _not_placed(follow_up_id, attempt, (claimed, previous), to, exc)

    with runtime.db.transaction() as session:
        follow_up = _locked(session, follow_up_id)
        assert follow_up is not None  # follow-ups are never deleted
        if follow_up.call_sid == claimed:
            follow_up.call_sid = sid
        services.follow_up_call(session, follow_up, sid, "queued", round_)
        log.info("follow-up %s (%s): called %s as %s", follow_up_id, round_, mask_phone(to), sid)
    return {"called": 1}


def _not_placed(
    follow_up_id: int, attempt: int, claim: tuple[str | None, str | None], to: str, exc: CallError
) -> dict[str, int]:
    """Twilio refused or did not answer. Surely not placed: the claim is given back (and a retryable
    refusal tried again later). Perhaps placed: the round stays claimed and is not tried again."""
    from dispatch.sms.delivery import backoff_seconds

    runtime = get_runtime()
    if exc.unknown_outcome:
        log.error(
            "follow-up %s: the call to %s may or may not have been placed (%s); not retried, so as not to "
            "ring twice: the follow-up's next round (a reminder, then an agent) takes over",
            follow_up_id,
            mask_phone(to),
            exc.describe(),
        )
        return {"unknown": 1}
    with runtime.db.transaction() as session:
        follow_up = _locked(session, follow_up_id)
        assert follow_up is not None
        claimed, previous = claim
        if follow_up.call_sid == claimed:
            follow_up.call_sid = previous
        if exc.retryable and attempt < MAX_ATTEMPTS:
            delay = timedelta(seconds=backoff_seconds(attempt))
            log.warning(
                "follow-up %s: call not placed (%s); retrying in %s", follow_up_id, exc.describe(), delay
            )
            defer(session, call_follow_up, follow_up_id, attempt + 1, queue="sms", run_at=utcnow() + delay)
            return {"retrying": 1}
    # Left open: the follow-up's reminder, then its agent ticket, still come.
    log.warning("follow-up %s: call to %s failed for good: %s", follow_up_id, mask_phone(to), exc.describe())
    return {"failed": 1}


def _locked(session: Session, follow_up_id: int) -> FollowUp | None:
    return session.get(FollowUp, follow_up_id, with_for_update=True)


@task("sms")
def call_offer(offer_id: int, attempt: int = 1, asked: bool = False) -> dict[str, int]:
    """Call a worker who prefers voice with an offer (1 takes it, 2 declines): one attempt, claimed
    before it rings, placed with no transaction open (see voice/offer_calls.py). `asked`: the worker
    rang us once and hung up (voice/ring_back.py), whatever their preference."""
    from dispatch.voice import offer_calls

    runtime = get_runtime()
    settings, transport = runtime.settings, runtime.call_transport
    if not transport.can_place_calls:
        return {"no_caller": 1}  # the offer's SMS stands alone
    with runtime.db.transaction() as session:
        plan = offer_calls.prepare(session, settings, offer_id, attempt, utcnow(), asked=asked)
    if isinstance(plan, str):
        return {plan: 1}
    try:
        sid = transport.place_call(plan.to, plan.url, plan.status_url)
    except CallError as exc:
        with runtime.db.transaction() as session:
            offer_calls.not_placed(session, offer_id, attempt, plan.claim, exc, utcnow())
        return {"not_placed": 1}
    with runtime.db.transaction() as session:
        offer_calls.placed(session, settings, offer_id, attempt, plan.claim, sid, utcnow())
    return {"called": 1}


@task("sms")
def call_reminder(offer_id: int, soon: int) -> dict[str, int]:
    """Call a worker who prefers voice with a reminder of their booking: one attempt, claimed before it
    rings, placed with no transaction open (see voice/reminder_calls.py)."""
    from dispatch.voice import outbound, reminder_calls

    runtime = get_runtime()
    settings, transport = runtime.settings, runtime.call_transport
    if not transport.can_place_calls:
        return {"no_caller": 1}
    with runtime.db.transaction() as session:
        plan = reminder_calls.prepare(session, settings, offer_id, soon, utcnow())
    if isinstance(plan, str):
        return {plan: 1}
    try:
        sid = transport.place_call(plan.to, plan.url, plan.status_url)
    except CallError as exc:
        log.warning("reminder call for offer %s not placed: %s", offer_id, exc.describe())
        with runtime.db.transaction() as session:
            if not exc.unknown_outcome:
                outbound.not_placed(session, plan.claim)
        return {"not_placed": 1}
    with runtime.db.transaction() as session:
        outbound.adopt(session, plan.claim, sid)
    return {"called": 1}


@task("sms")
def call_employer(employer_id: int, key: int, attempt: int = 1) -> dict[str, int]:
    """Call an employer who cannot take SMS with who is coming; after the last attempt, a ticket if
    nobody picked up (see voice/notice_calls.py)."""
    from dispatch.voice import notice_calls

    runtime = get_runtime()
    settings, transport = runtime.settings, runtime.call_transport
    with runtime.db.transaction() as session:
        now = utcnow()
        plan = notice_calls.prepare(
            session, settings, employer_id, key, attempt, now, transport.can_place_calls
        )
    if isinstance(plan, str):
        return {plan: 1}
    try:
        sid = transport.place_call(plan.to, plan.url, plan.status_url)
    except CallError as exc:
        with runtime.db.transaction() as session:
            notice_calls.not_placed(session, employer_id, key, attempt, plan.claim, exc, utcnow())
        return {"not_placed": 1}
    with runtime.db.transaction() as session:
        notice_calls.placed(session, employer_id, key, attempt, plan.claim, sid, utcnow())
    return {"called": 1}
