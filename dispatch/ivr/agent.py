"""Where a call goes when the menu cannot help: the agents' queue in opening hours, else voicemail.

Either way a ticket holds the caller's number and whatever the call had collected, before the caller
hears a word, so a hang-up in the queue or before the beep loses nothing.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping

from dispatch.ivr import services, tickets
from dispatch.ivr.turn import DONE, INVALID, Step, Turn
from dispatch.models import CallOutcome, TicketKind
from dispatch.settings import parse_quiet_hours
from dispatch.tickets.services import open_ticket
from dispatch.tickets.summaries import Summary

log = logging.getLogger(__name__)
VOICEMAIL_SECONDS = 120  # Twilio transcribes recordings of up to two minutes
HOLD_PAUSE_SECONDS = 20  # the hold prompt, then this long a pause, over and over
HOLD_LIMIT_SECONDS = 180  # after this long in the queue the caller leaves a voicemail instead
# <Enqueue> results after which the caller is still on the line and nobody answered (`leave`: the hold
# step gave up waiting).
NO_TRANSCRIPTION = "none: Twilio transcribes English only; listen to the recording"
QUEUE_FAILURES = frozenset({"queue-full", "error", "system-error", "leave"})


def to_agent(turn: Turn, reason: str, summary: Summary) -> str:
    """Put the caller in the agents' queue, or, outside opening hours, take a voicemail. `reason` is
    the plain words kept with the ticket, `summary` what the agent reads."""
    if not services.agents_available(turn.settings):
        return voicemail(turn, reason, summary)
    call = turn.call
    details = {"reason": reason}
    open_ticket(turn.session, TicketKind.AGENT_CALL, call=call, summary=summary, text=reason, details=details)
    call.outcome, call.step, call.retries = CallOutcome.AGENT, "queue_result", 0
    turn.say("to_agent")
    turn.response.enqueue(
        turn.settings.AGENT_QUEUE,
        action=turn.step_url("queue_result"),
        method="POST",
        wait_url=turn.url("/ivr/step/hold"),
        wait_url_method="POST",
    )
    log.info("call %s queued for an agent: %s", call.call_sid, reason)
    return DONE


def voicemail(turn: Turn, reason: str, summary: Summary, busy: bool = False) -> str:
    """A voicemail, outside opening hours or when the queue failed. Twilio transcribes English only: an
    English voicemail asks for a transcription; for any other the ticket says there will be none."""
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


def hold(turn: Turn) -> None:
    """What a caller hears while waiting in the queue (Twilio plays it again when it ends); after
    HOLD_LIMIT_SECONDS the caller leaves the queue, and the <Enqueue> action takes a voicemail."""
    if queue_time(turn.form) >= HOLD_LIMIT_SECONDS:
        log.info(
            "call %s waited %ss for an agent: leaving the queue", turn.call.call_sid, queue_time(turn.form)
        )
        turn.response.leave()
        return
    turn.say("hold")
    turn.response.pause(length=HOLD_PAUSE_SECONDS)


def queue_time(form: Mapping[str, str]) -> int:
    """Seconds the caller has waited in the queue, as Twilio's waitUrl request says (0 if unreadable)."""
    raw = (form.get("QueueTime") or "").strip()
    return int(raw) if raw.isascii() and raw.isdigit() and len(raw) < 9 else 0


def _ask_voicemail(turn: Turn, retry: str) -> None:
    voicemail(turn, "voicemail asked again", Summary.of("voicemail_asked_again"))


def _answer_voicemail(turn: Turn, digits: str) -> str:
    tickets.attach_recording(turn.session, turn.call, "voicemail", turn.form)
    turn.say("voicemail_thanks")
    turn.response.hangup()
    return DONE


def _ask_queue_result(turn: Turn, retry: str) -> None:
    to_agent(turn, "queue asked again", Summary.of("agent_asked_again"))


def _answer_queue_result(turn: Turn, digits: str) -> str:
    """The caller left the queue: answered and done, hung up, or the queue failed them."""
    result = (turn.form.get("QueueResult") or "").strip()[:32]
    details = {"queue_result": result}
    ticket = open_ticket(turn.session, TicketKind.AGENT_CALL, call=turn.call, details=details)
    if result in QUEUE_FAILURES:
        log.warning("call %s: agent queue failed (%s); taking a voicemail", turn.call.call_sid, result)
        failed = Summary.of("agent_queue_failed", queue_result=result, ticket=ticket.id)
        return voicemail(turn, f"agent queue {result}; ticket {ticket.id}", failed, busy=True)
    if not result:
        return INVALID
    turn.response.hangup()
    return DONE


STEPS = {
    "voicemail": Step(_ask_voicemail, _answer_voicemail),
    "queue_result": Step(_ask_queue_result, _answer_queue_result),
}
