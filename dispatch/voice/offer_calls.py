"""Offers by phone for workers who prefer voice: besides the offer's SMS (which stays, so that the
code is in writing and a bare `1` still answers it), the market calls and reads the offer; 1 takes it
and 2 declines it through matching.services, as an SMS would (ivr/offers.py).

A bounded number of attempts, a few minutes apart, each only while the offer still waits for an
answer with time left to give one, never in quiet hours (an attempt due then waits for the morning if
the offer is still open by then, else the SMS alone stands), and none once the worker picked up.
The calls are placed by dispatch.voice.tasks.call_offer, deferred through the outbox.

Plain functions that take a session; they flush, never commit.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from dispatch.matching import in_time
from dispatch.models import (
    OPEN_OFFER_STATUSES,
    Call,
    CallOutcome,
    Contact,
    Message,
    Offer,
    Worker,
    WorkerStatus,
)
from dispatch.queue import defer
from dispatch.settings import Settings
from dispatch.sms.gateway import mask_phone
from dispatch.voice import outbound
from dispatch.voice.gateway import CallError
from dispatch.voice.tasks import call_offer

log = logging.getLogger(__name__)
FLOW = "offer_call"  # Call.flow of the market's offer calls
ATTEMPTS = 2  # calls per offer at most
GAP = timedelta(minutes=4)  # between attempts: longer than a call rings unanswered (about a minute)
ANSWER_TIME = timedelta(minutes=2)  # an attempt with less than this left before the expiry is not made


def call_later(session: Session, settings: Settings, offer: Offer, worker: Worker, now: datetime) -> None:
    """When an offer goes out (a wave's, an agent's): a worker who prefers voice is also called, when
    its SMS goes (at once, or when quiet hours end)."""
    if not worker.prefers_voice:
        return
    run_at = offer.sent_at if offer.sent_at is not None and offer.sent_at > now else None
    defer(session, call_offer, offer.id, 1, queue="sms", run_at=run_at)


def answer_url(base_url: str, offer_id: int, attempt: int) -> str:
    """Where Twilio fetches the call's TwiML when the worker picks up (signed with what Twilio sends)."""
    return f"{base_url.rstrip('/')}/ivr/offer?o={offer_id}&a={attempt}"


def status_url(base_url: str) -> str:
    return f"{base_url.rstrip('/')}/ivr/status"


def calls_of(session: Session, offer: Offer) -> list[Call]:
    query = select(Call).where(
        Call.flow == FLOW, Call.job_id == offer.job_id, Call.worker_id == offer.worker_id
    )
    return [call for call in session.scalars(query) if call.answers.get("offer") == offer.id]


def row_for(
    session: Session, offer: Offer, sid: str, attempt: int, status: str = "queued", asked: bool = False
) -> tuple[Call, bool]:
    """The call's row, made (True) or found: the task's claim, or, should the claim be gone, the call's
    first webhook's. The offer's id in it is what its keys act on."""
    language = session.scalar(select(Contact.language).where(Contact.phone == offer.worker.phone)) or "zh"
    return outbound.open_row(
        session,
        sid,
        phone=offer.worker.phone,
        flow=FLOW,
        step="offer",
        language=language,
        answers={"offer": offer.id, "attempt": attempt, "_offers": [offer.id], "_at": 0}
        | ({"asked": True} if asked else {}),
        outcome=CallOutcome.OFFER_CALL,
        job_id=offer.job_id,
        worker_id=offer.worker_id,
        status=status,
    )


def prepare(
    session: Session, settings: Settings, offer_id: int, attempt: int, now: datetime, asked: bool = False
) -> outbound.Plan | str:
    """The call to place for this attempt, claimed; or why none is placed (a word for the job's counts)."""
    offer = session.get(Offer, offer_id)
    if offer is None or offer.status not in OPEN_OFFER_STATUSES:
        return "answered_or_closed"
    worker = offer.worker
    if not (worker.prefers_voice or asked) or worker.status != WorkerStatus.ACTIVE:
        return "not_called"
    deadline = offer.expires_at
    if deadline is not None and deadline - ANSWER_TIME <= now:
        return "expired"
    if outbound.picked_up(calls_of(session, offer)):
        return "picked_up"
    # Not in quiet hours, except inside the urgent hours for an offer whose text is urgent (a job that
    # starts before quiet hours end: dispatch/matching/in_time.py): the call keeps its text's hours.
    message = session.get(Message, offer.message_id) if offer.message_id is not None else None
    allowed = in_time.send_after(settings, now, urgent=bool(message is not None and message.urgent))
    if allowed > now:
        if deadline is None or allowed < deadline - ANSWER_TIME:
            defer(session, call_offer, offer.id, attempt, asked, queue="sms", run_at=allowed)
            return "deferred"
        return "quiet_hours"  # it lapses before the calls may ring: its SMS stands
    claim = outbound.claim_sid("offer", offer.id, attempt)
    _, created = row_for(session, offer, claim, attempt, asked=asked)
    if not created:
        return "claimed"
    base = settings.PUBLIC_BASE_URL
    return outbound.Plan(worker.phone, answer_url(base, offer.id, attempt), status_url(base), claim)


def placed(
    session: Session, settings: Settings, offer_id: int, attempt: int, claim: str, sid: str, now: datetime
) -> None:
    """The call rings: its row takes the sid, and the next attempt is due (it rings only if nobody
    picked this one up and the offer still waits)."""
    outbound.adopt(session, claim, sid)
    log.info("offer %s: call attempt %s placed as %s", offer_id, attempt, sid)
    _next_attempt(session, offer_id, attempt, now)


def not_placed(
    session: Session, offer_id: int, attempt: int, claim: str, exc: CallError, now: datetime
) -> None:
    """Twilio refused, or perhaps placed it: a call that may be ringing is never tried again (better no
    second call than two at once); a sure refusal leaves the next attempt to try."""
    offer = session.get(Offer, offer_id)
    whom = mask_phone(offer.worker.phone) if offer is not None else "?"
    if exc.unknown_outcome:
        log.error(
            "offer %s: the call to %s may or may not ring (%s); no further attempt",
            offer_id,
            whom,
            exc.describe(),
        )
        return
    outbound.not_placed(session, claim)
    log.warning("offer %s: call to %s not placed: %s", offer_id, whom, exc.describe())
    _next_attempt(session, offer_id, attempt, now)


def _next_attempt(session: Session, offer_id: int, attempt: int, now: datetime) -> None:
    offer = session.get(Offer, offer_id)
    if offer is None or attempt >= ATTEMPTS:
        return
    at = now + GAP
    if offer.expires_at is None or at + ANSWER_TIME < offer.expires_at:
        defer(session, call_offer, offer_id, attempt + 1, queue="sms", run_at=at)
