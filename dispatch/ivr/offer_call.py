"""The market's offer call, once the worker picks up: who is calling, the offer (ivr/offers.py reads
it and acts on 1 and 2), goodbye. The call's state lives in its `Call` row (flow "offer_call") as in
the voice menu, and its steps post to the menu's step URL (flows.take_step), so a step delivered
twice gets the same TwiML and has one effect."""

from __future__ import annotations

import logging
from collections.abc import Mapping

from sqlalchemy.orm import Session
from twilio.twiml.voice_response import VoiceResponse

from dispatch.ivr import offers, prompts
from dispatch.ivr.turn import Turn
from dispatch.models import OPEN_OFFER_STATUSES, Offer
from dispatch.settings import Settings
from dispatch.voice import offer_calls, outbound

log = logging.getLogger(__name__)
FLOW = offer_calls.FLOW


def begin(
    session: Session,
    settings: Settings,
    form: Mapping[str, str],
    base_url: str,
    offer_id: int | None,
    attempt: int,
) -> str:
    """The worker picked up: the offer and its keys (or, should it have closed meanwhile, a goodbye)."""
    sid = form.get("CallSid", "").strip()
    call = outbound.adopt(session, outbound.claim_sid("offer", offer_id or 0, attempt), sid)
    if call is None:
        offer = session.get(Offer, offer_id) if offer_id else None
        if offer is None:
            log.warning("offer call %s for unknown offer %s", sid, offer_id)
            return hang_up(settings, base_url, "zh")
        call, _ = offer_calls.row_for(session, offer, sid, attempt, "in-progress")
    if call.flow != FLOW:
        return hang_up(settings, base_url, call.language)
    if call.last_key or call.turn:
        return call.last_twiml  # delivered again
    call.turn, call.status = 1, (form.get("CallStatus") or "in-progress")[:24]
    turn = Turn(session, settings, call, base_url, form)
    offer = offers.load(session, int(call.answers.get("offer", 0)))
    if offer is None or offer.status not in OPEN_OFFER_STATUSES:
        turn.say("offer_gone")
        turn.response.hangup()
        call.step = "done"
    else:
        turn.say("offer_call_intro")
        call.step = "offer"
        offers.ask_offer(turn, "")
    return remember(turn, "answer:0")


def hang_up(settings: Settings, base_url: str, language: str) -> str:
    """Goodbye without touching the database: for odd requests."""
    response = VoiceResponse()
    prompts.add(response, "call_bye", language, f"{base_url}/ivr/prompts", settings.PROMPTS_DIR)
    response.hangup()
    return str(response)


def remember(turn: Turn, key: str) -> str:
    xml = str(turn.response)
    turn.call.last_key, turn.call.last_twiml = key, xml
    turn.session.flush()
    return xml
