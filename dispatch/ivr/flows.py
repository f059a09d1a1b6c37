"""The voice menu's state machine: menu, job intake, registration, my jobs, and the agent behind them.

Each webhook is one turn. The call's flow, step, answers and retries live in its `Call` row, so any
process can take the next turn. Every action URL carries the turn it was issued for: a step delivered
twice gets the TwiML it got the first time and has one effect; a step from an older prompt (replayed
out of order) gets the current prompt again and changes nothing.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping

from sqlalchemy import select
from sqlalchemy.orm import Session
from twilio.twiml.voice_response import VoiceResponse

from dispatch.hall import policy_voice
from dispatch.ivr import (
    agent,
    choices,
    enrol,
    intake,
    manage,
    menu,
    notice_call,
    offer_call,
    offers,
    services,
    tickets,
    worker_line,
)
from dispatch.ivr.agent import to_agent
from dispatch.ivr.turn import DONE, INVALID, PAST, TIMEOUT, Step, Turn
from dispatch.models import Call, Contact
from dispatch.settings import Settings
from dispatch.tickets.summaries import Summary

log = logging.getLogger(__name__)
MAX_RETRIES = 2  # a timeout or a wrong key re-prompts twice; the third goes to an agent
STEPS: dict[str, Step] = {
    **menu.STEPS,
    **choices.STEPS,
    **intake.STEPS,
    **enrol.STEPS,
    **manage.STEPS,
    **agent.STEPS,
    **worker_line.STEPS,
    **offers.STEPS,
    **notice_call.STEPS,
    **policy_voice.STEPS,
}
# The market's own calls (an offer, who is coming): nobody there to hand over to, so no agent's queue.
OUTBOUND_FLOWS = frozenset({offer_call.FLOW, notice_call.FLOW})


def begin(session: Session, settings: Settings, form: Mapping[str, str], base_url: str) -> str:
    """A call arrives: greet the caller and read the menu (a repeated delivery gets the same answer)."""
    call, created = services.open_call(session, settings, form)
    if not created:
        log.info("call %s delivered again; answering as before", call.call_sid)
        return call.last_twiml or _current_prompt(session, settings, call, form, base_url)
    contact = session.scalar(select(Contact).where(Contact.phone == call.phone)) if call.phone else None
    if contact is not None:
        call.language = contact.language
    call.turn = 1
    turn = Turn(session, settings, call, base_url, form)
    menu.greet(turn)
    return _remember(turn, "voice:0")


def take_step(
    session: Session, settings: Settings, step: str, turn_param: str, form: Mapping[str, str], base_url: str
) -> str:
    """An answer to `step` (keys, silence, a recording, a queue result) issued at turn `turn_param`."""
    call = services.find_call(session, form.get("CallSid", ""))
    if call is None:
        # No such call here (another deployment's, or its first webhook never reached us): start afresh.
        log.warning("step %s for unknown call %s: starting it afresh", step, form.get("CallSid"))
        return begin(session, settings, form, base_url)
    key = f"{step}:{turn_param}"[:48]
    if key == call.last_key:
        return call.last_twiml
    if call.ended_at is not None:
        return _after_the_end(session, call, step, form)
    if step != call.step or turn_param != str(call.turn) or step not in STEPS:
        log.info("call %s: stale step %s (turn %s); now at %s", call.call_sid, key, turn_param, call.step)
        return call.last_twiml or _current_prompt(session, settings, call, form, base_url)
    call.turn += 1
    call.status = (form.get("CallStatus") or call.status)[:24]
    turn = Turn(session, settings, call, base_url, form)
    digits = (form.get("Digits") or "").strip()[:32]
    result = STEPS[step].answer(turn, digits)
    if result in {INVALID, TIMEOUT, PAST}:
        _retry(turn, step, result)
    elif result != DONE:
        goto(turn, result)
    return _remember(turn, key)


def goto(turn: Turn, step: str) -> None:
    turn.call.step, turn.call.retries = step, 0
    STEPS[step].ask(turn, "")


def _retry(turn: Turn, step: str, reason: str) -> None:
    """Say what went wrong and ask again; the third failure at one step goes to an agent."""
    call = turn.call
    call.retries += 1
    if call.retries > MAX_RETRIES and call.flow in OUTBOUND_FLOWS:
        turn.say("call_bye")
        turn.response.hangup()
        call.step = "done"
        return
    if call.retries > MAX_RETRIES:
        what = {TIMEOUT: "no answer", PAST: "a start time already past"}.get(reason, "wrong keys")
        key = {TIMEOUT: "no_answer_at_step", PAST: "past_time_at_step"}.get(reason, "wrong_keys_at_step")
        summary = Summary.of(key, count=call.retries, flow=call.flow, step=step)
        to_agent(turn, f"{what} {call.retries} times at {call.flow}/{step}", summary)
        return
    STEPS[step].ask(turn, reason)


def hold(session: Session, settings: Settings, form: Mapping[str, str], base_url: str) -> str:
    """The agents' queue's wait music, and the keys pressed during it (a call-back, a voicemail)."""
    call = services.find_call(session, form.get("CallSid", "")) or Call(call_sid="", language="zh")
    turn = Turn(session, settings, call, base_url, form)
    agent.hold(turn)
    return str(turn.response)


def rescue(session: Session, settings: Settings, form: Mapping[str, str], base_url: str, step: str) -> str:
    """A step failed inside: the caller goes to an agent, with a ticket holding the answers so far."""
    call = services.find_call(session, form.get("CallSid", ""))
    if call is None:
        call, _ = services.open_call(session, settings, form)
    call.turn += 1
    turn = Turn(session, settings, call, base_url, form)
    turn.say("sorry")
    to_agent(turn, f"the voice menu failed at {step}", Summary.of("menu_failed", step=step))
    return _remember(turn, f"{step}:failed")


def _current_prompt(
    session: Session, settings: Settings, call: Call, form: Mapping[str, str], base_url: str
) -> str:
    turn = Turn(session, settings, call, base_url, form)
    STEPS.get(call.step, STEPS["menu"]).ask(turn, "")
    return _remember(turn, call.last_key)


def _after_the_end(session: Session, call: Call, step: str, form: Mapping[str, str]) -> str:
    """A webhook after the status callback said the call ended: keep any recording it brings."""
    purpose = {"describe": "description", "name": "name"}.get(step, "voicemail")
    if form.get("RecordingUrl"):
        tickets.attach_recording(session, call, purpose, form)
    response = VoiceResponse()
    response.hangup()
    return str(response)


def _remember(turn: Turn, key: str) -> str:
    xml = str(turn.response)
    turn.call.last_key, turn.call.last_twiml = key, xml
    turn.session.flush()
    return xml
