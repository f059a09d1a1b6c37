"""Where a call goes when the menu cannot help: an agent of the caller's site (or, after a wait, of its
town or the district), a call-back or a voicemail when nobody is there, and voicemail outside opening
hours.

Either way a ticket holds the caller's number and whatever the call had collected, before the caller
hears a word, so a hang-up in the queue or before the beep loses nothing. The hold itself (place in
the queue, the call-back key) is in queue.py.
"""

from __future__ import annotations

import logging

from dispatch.callcenter import routing
from dispatch.clock import utcnow
from dispatch.ivr import queue, services, tickets
from dispatch.ivr.queue import (
    CALL_BACK_KEY,
    HOLD_PAUSE_SECONDS,
    VOICEMAIL_KEY,
    hold,
    queue_time,
)
from dispatch.ivr.turn import DONE, INVALID, Step, Turn
from dispatch.models import CallOutcome, TicketKind, WaitStatus
from dispatch.settings import parse_quiet_hours
from dispatch.tickets.services import open_ticket
from dispatch.tickets.summaries import Summary

__all__ = ["HOLD_PAUSE_SECONDS", "STEPS", "hold", "queue_time", "to_agent", "voicemail"]

log = logging.getLogger(__name__)
VOICEMAIL_SECONDS = 120  # Twilio transcribes recordings of up to two minutes
NO_TRANSCRIPTION = "none: Twilio transcribes English only; listen to the recording"
# <Enqueue> results after which the caller is still on the line and nobody answered (`leave`: the hold
# gave up waiting, or the caller chose a voicemail there).
QUEUE_FAILURES = frozenset({"queue-full", "error", "system-error", "leave"})
# Results after which the caller talked to an agent (the action comes once both have hung up).
BRIDGED = frozenset({"bridged", "bridging-in-process", "redirected-from-bridged"})


def to_agent(turn: Turn, reason: str, summary: Summary) -> str:
    """Put the caller in their site's agents' queue (agents on a call count: they free up); with no
    agent on duty anywhere in the caller's chain (all away or signed out), no hold: a call-back or a
    voicemail at once; outside opening hours a voicemail. `reason` is the plain words kept with the
    ticket, `summary` what the agent reads."""
    if not services.agents_available(turn.settings):
        return voicemail(turn, reason, summary)
    session, call, now = turn.session, turn.call, utcnow()
    site = routing.caller_site(session, call)
    details: dict[str, object] = {"reason": reason}
    if routing.agents_reachable(session, site.id, turn.settings, waited_seconds=None) == 0:
        # The ticket first: a caller who hangs up while choosing is called back all the same.
        details["nobody_available"] = True
        open_ticket(session, TicketKind.CALL_BACK, call=call, summary=summary, text=reason, details=details)
        call.outcome, call.step, call.retries = CallOutcome.CALL_BACK, "no_agent", 0
        _ask_no_agent(turn, "")
        log.info(
            "call %s: no agent on duty anywhere for %s; call-back or voicemail", call.call_sid, site.code
        )
        return DONE
    ticket = open_ticket(
        session, TicketKind.AGENT_CALL, call=call, summary=summary, text=reason, details=details
    )
    queued = routing.queue_caller(session, call, ticket, now)
    call.outcome, call.step, call.retries = CallOutcome.AGENT, "queue_result", 0
    turn.say("to_agent")
    turn.response.enqueue(
        queued.queue_name,
        action=turn.step_url("queue_result"),
        method="POST",
        wait_url=turn.url("/ivr/step/hold"),
        wait_url_method="POST",
    )
    log.info("call %s queued for an agent at %s: %s", call.call_sid, queued.queue_name, reason)
    return DONE


def voicemail(turn: Turn, reason: str, summary: Summary, busy: bool = False) -> str:
    """A voicemail, outside opening hours, when the queue failed, or chosen. Twilio transcribes English
    only: an English voicemail asks for a transcription; for any other the ticket says there will be
    none."""
    call = turn.call
    english = call.language == "en"
    details = {"reason": reason} | ({} if english else {"transcription": NO_TRANSCRIPTION})
    open_ticket(turn.session, TicketKind.VOICEMAIL, call=call, summary=summary, text=reason, details=details)
    call.outcome, call.step, call.retries = CallOutcome.VOICEMAIL, "voicemail", 0
    start, end = parse_quiet_hours(turn.settings.OPENING_HOURS) or (None, None)  # same HH:MM-HH:MM shape
    turn.say("voicemail", start=start, end=end, busy=busy)
    callback = turn.url("/ivr/recording", purpose="voicemail")
    transcription = {"transcribe": True, "transcribe_callback": callback} if english else {}
    turn.response.record(
        action=turn.step_url("voicemail"),
        method="POST",
        max_length=VOICEMAIL_SECONDS,
        timeout=10,
        finish_on_key="#",
        play_beep=True,
        **transcription,
        recording_status_callback=callback,
        recording_status_callback_method="POST",
    )
    # Reached only when the caller said nothing: Twilio skips the action of an empty recording.
    turn.say("goodbye")
    turn.response.hangup()
    return DONE


def _ask_voicemail(turn: Turn, retry: str) -> None:
    voicemail(turn, "voicemail asked again", Summary.of("voicemail_asked_again"))


def _answer_voicemail(turn: Turn, digits: str) -> str:
    tickets.attach_recording(turn.session, turn.call, "voicemail", turn.form)
    turn.say("voicemail_thanks")
    turn.response.hangup()
    return DONE


def _ask_no_agent(turn: Turn, retry: str) -> None:
    """Nobody can take the call: 1 for a call-back, 2 (or silence) for a voicemail."""
    turn.say("no_agent_choice", turn.gather("no_agent", retry))


def _answer_no_agent(turn: Turn, digits: str) -> str:
    if digits == CALL_BACK_KEY:
        log.info("call %s: nobody available; the caller asked for a call-back", turn.call.call_sid)
        turn.say("call_back_promised")
        turn.response.hangup()
        return DONE
    if digits in {VOICEMAIL_KEY, ""} or turn.call.retries >= 1:
        # Silence, or wrong keys twice: a voicemail, which keeps whatever the caller says.
        ticket = queue.call_ticket(turn.session, turn.call, TicketKind.CALL_BACK)
        if ticket is not None:  # the call-back ticket becomes the voicemail's: one ticket per caller
            queue.retype(turn.session, ticket, TicketKind.VOICEMAIL, {"chose": "voicemail"})
        return voicemail(turn, "nobody available; voicemail", Summary.of("agent_asked"))
    return INVALID


def _ask_queue_result(turn: Turn, retry: str) -> None:
    to_agent(turn, "queue asked again", Summary.of("agent_asked_again"))


def _answer_queue_result(turn: Turn, digits: str) -> str:
    """The caller left the queue: answered and done, hung up, out for a call-back they asked for in the
    hold, or the queue failed them (or they chose a voicemail there)."""
    result = (turn.form.get("QueueResult") or "").strip()[:32]
    if not result:
        return INVALID
    session, call, now = turn.session, turn.call, utcnow()
    details = {"queue_result": result}
    if call.outcome == CallOutcome.CALL_BACK and result not in BRIDGED:
        routing.caller_left(session, call.call_sid, WaitStatus.CALL_BACK, now)  # done at the key already
        open_ticket(session, TicketKind.CALL_BACK, call=call, details=details)  # the one the key made
        if result != "hangup":
            turn.say("call_back_promised")
        turn.response.hangup()
        return DONE
    if call.outcome == CallOutcome.VOICEMAIL and result not in BRIDGED:
        # Chosen in the hold when nobody was left: the queue's ticket becomes the voicemail's.
        routing.caller_left(session, call.call_sid, WaitStatus.VOICEMAIL, now)
        ticket = queue.call_ticket(session, call, TicketKind.AGENT_CALL)
        if ticket is not None:
            queue.retype(session, ticket, TicketKind.VOICEMAIL, {"chose": "voicemail", **details})
        if result == "hangup":
            turn.response.hangup()
            return DONE
        return voicemail(turn, "chose a voicemail while waiting", Summary.of("agent_asked"), busy=True)
    if result in BRIDGED:
        routing.caller_left(session, call.call_sid, WaitStatus.ANSWERED, now)
    elif result in QUEUE_FAILURES:
        routing.caller_left(session, call.call_sid, WaitStatus.VOICEMAIL, now)
    else:  # hung up (or taken out of the queue by someone else): a ticket to call them back
        routing.caller_left(session, call.call_sid, WaitStatus.ABANDONED, now)
    ticket = open_ticket(session, TicketKind.AGENT_CALL, call=call, details=details)
    if result in QUEUE_FAILURES:
        log.warning("call %s: agent queue ended in %s; taking a voicemail", call.call_sid, result)
        failed = Summary.of("agent_queue_failed", queue_result=result, ticket=ticket.id)
        return voicemail(turn, f"agent queue {result}; ticket {ticket.id}", failed, busy=True)
    turn.response.hangup()
    return DONE


STEPS = {
    "voicemail": Step(_ask_voicemail, _answer_voicemail),
    "queue_result": Step(_ask_queue_result, _answer_queue_result),
    "no_agent": Step(_ask_no_agent, _answer_no_agent),
}
