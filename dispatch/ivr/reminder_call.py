"""The market's reminder call, once the worker picks up: who is calling, the places they hold (the
reminded one among them, read as the worker line's 2 reads them), then the worker line's menu, so the
worker can hear them again, say they have arrived, or reach an agent to give a place back by voice.
The call's state lives in its `Call` row (flow "reminder_call" until picked up, then the worker line's),
and a first webhook delivered twice gets the same TwiML."""

from __future__ import annotations

import logging
from collections.abc import Mapping

from sqlalchemy.orm import Session

from dispatch.ivr import offers, worker_line
from dispatch.ivr.offer_call import hang_up, remember
from dispatch.ivr.turn import Turn
from dispatch.models import Offer, OfferStatus, Worker
from dispatch.settings import Settings
from dispatch.voice import outbound, reminder_calls

log = logging.getLogger(__name__)


def begin(
    session: Session,
    settings: Settings,
    form: Mapping[str, str],
    base_url: str,
    offer_id: int | None,
    soon: int,
) -> str:
    sid = form.get("CallSid", "").strip()
    call = outbound.adopt(session, outbound.claim_sid("reminder", f"{offer_id or 0}-{soon}", 1), sid)
    if call is None:
        log.warning("reminder call %s for offer %s has no claim: goodbye", sid, offer_id)
        return hang_up(settings, base_url, "zh")
    if call.last_key or call.turn:
        return call.last_twiml  # delivered again
    if call.flow != reminder_calls.FLOW:
        return hang_up(settings, base_url, call.language)
    call.turn, call.status = 1, (form.get("CallStatus") or "in-progress")[:24]
    turn = Turn(session, settings, call, base_url, form)
    offer = session.get(Offer, int(call.answers.get("reminder", 0)))
    worker = session.get(Worker, call.worker_id) if call.worker_id else None
    if offer is None or worker is None or offer.status != OfferStatus.ACCEPTED:
        turn.say("call_bye")
        turn.response.hangup()
        call.step = "done"
        return remember(turn, "answer:0")
    turn.say("reminder_call_intro", soon=bool(soon))
    call.flow = offers.LINE_FLOW
    worker_line.read_bookings(turn, worker)
    call.step = "worker_menu"
    worker_line.ask_menu(turn, "")
    return remember(turn, "answer:0")
