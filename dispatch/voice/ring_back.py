"""Ringing once (响一声): a worker rings the market's number and hangs up at once, the free way of saying
"call me". The market calls back with their offer (the one waiting for their answer, or, with none, the
nearest open job that fits, made an offer as `找活` makes them), as an offer call (voice/offer_calls.py: 1
takes it under the first-come rules, quiet hours kept); at most once a number in RING_BACK_HOURS (the
market's own offer calls do not count), so a habit cannot become a stream of calls. Anything else about
a short call (a stranger, a worker with nothing to offer, the limit reached) is left to the call-back
ticket as before.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from dispatch.ivr import worker_line
from dispatch.models import Call, CallOutcome, Offer
from dispatch.queue import defer
from dispatch.settings import Settings
from dispatch.voice import offer_calls
from dispatch.voice.tasks import call_offer

log = logging.getLogger(__name__)
RING_ONCE_SECONDS = 5  # a call this short, hung up before choosing anything, is a ring
RING_BACK_HOURS = 6  # one call back a number in this long


def rang_once(
    session: Session, settings: Settings, call: Call, form: Mapping[str, str], now: datetime
) -> bool:
    """The call that just ended was a worker ringing once: a call back is on its way (True), and the
    call needs no agent's ticket. False: not a ring, or nothing to call back with."""
    if call.flow != worker_line.FLOW or call.turn > 1 or _seconds(form) > RING_ONCE_SECONDS:
        return False
    worker = worker_line.worker_for(session, call.phone)
    if worker is None or _called_lately(session, call.phone, now):
        return False
    waiting = worker_line.open_offers(session, worker, now)
    offers = waiting or worker_line.pulled_offers(session, settings, worker, now)
    offer = next((one for one in offers if _time_to_answer(one, now)), None)
    if offer is None:
        return False
    attempt = len(offer_calls.calls_of(session, offer)) + 1
    defer(session, call_offer, offer.id, attempt, True, queue="sms")
    call.outcome = CallOutcome.OFFER_CALL  # settled: the call back is the answer, not a ticket
    log.info("call %s: worker %s rang once; calling back with offer %s", call.call_sid, worker.id, offer.id)
    return True


def _seconds(form: Mapping[str, str]) -> int:
    raw = (form.get("CallDuration") or "0").strip()
    return int(raw) if raw.isascii() and raw.isdigit() and len(raw) < 7 else RING_ONCE_SECONDS + 1


def _called_lately(session: Session, phone: str, now: datetime) -> bool:
    """A call back to this number in the last RING_BACK_HOURS. Only calls back count: a worker who
    missed the market's own offer call and rings once is asking for exactly that call again."""
    since = now - timedelta(hours=RING_BACK_HOURS)
    query = select(Call.answers).where(
        Call.phone == phone, Call.flow == offer_calls.FLOW, Call.created_at > since
    )
    return any(answers.get("asked") for answers in session.scalars(query))


def _time_to_answer(offer: Offer, now: datetime) -> bool:
    return offer.expires_at is None or offer.expires_at - offer_calls.ANSWER_TIME > now
