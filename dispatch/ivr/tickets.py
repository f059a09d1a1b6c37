"""What a call leaves for the agents when it ends part-way, and where a late recording goes.

Tickets themselves are made by dispatch.tickets.services.open_ticket (one per call and kind, with
what the call had collected). Plain functions that take a session; they flush, never commit.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from dispatch.callcenter import routing
from dispatch.clock import utcnow
from dispatch.ivr.turn import recording_url
from dispatch.models import Call, CallOutcome, Job, Ticket, TicketKind, WaitStatus
from dispatch.tickets.services import open_ticket
from dispatch.tickets.summaries import Summary

# Outcomes after which nothing is left for an agent to pick up from a hang-up.
SETTLED = frozenset({CallOutcome.JOB, CallOutcome.REGISTRATION, CallOutcome.AGENT, CallOutcome.VOICEMAIL})
INTAKE_FLOWS = frozenset({"job", "register"})


def finish_call(session: Session, call: Call, status: str) -> Ticket | None:
    """The call ended. Part-way through (no job, registration or agent), what it had collected goes to
    a call-back ticket; a caller who hung up at the menu is worth a call back too, at low priority.

    A wait in the agents' queue still open is closed (abandoned, or answered if an agent was bridged):
    the <Enqueue> action that closes it may have been lost, and a caller left "waiting" would be
    offered to agents for ever."""
    call.status = status[:24]
    call.ended_at = call.ended_at or utcnow()
    if call.call_sid and routing.current_wait(session, call.call_sid) is not None:
        routing.caller_left(session, call.call_sid, WaitStatus.ABANDONED, call.ended_at)
    if call.outcome in SETTLED or call.outcome == CallOutcome.CALL_BACK:
        return None
    part_way = call.flow in INTAKE_FLOWS and any(not key.startswith("_") for key in call.answers)
    if not part_way and call.outcome is not None:
        return None  # heard or cancelled their jobs: nothing was left unfinished
    call.outcome = CallOutcome.CALL_BACK
    if part_way:
        text = f"hung up during {call.flow} at {call.step}"
        summary = Summary.of("call_back_part_way", flow=call.flow, step=call.step)
    else:
        text, summary = "hung up at the menu", Summary.of("call_back_at_menu")
    details = {"call_status": status}
    return open_ticket(session, TicketKind.CALL_BACK, call=call, summary=summary, text=text, details=details)


def attach_recording(session: Session, call: Call, purpose: str, form: Mapping[str, str]) -> None:
    """A recording (or its transcription) is ready: keep its URL with the call and its tickets."""
    url = recording_url(form)
    text = (form.get("TranscriptionText") or "").strip()
    extra: dict[str, Any] = {}
    if url:
        extra[f"{purpose}_recording_url"] = url
        if purpose == "voicemail":
            call.recording_url = url
        elif purpose == "description" and not call.answers.get("recording"):
            call.answers = {**call.answers, "recording": url}
        elif purpose == "name" and not call.answers.get("name_recording"):
            call.answers = {**call.answers, "name_recording": url}
    if text:
        extra[f"{purpose}_transcription"] = text[:2000]
    if not extra:
        return
    for ticket in session.scalars(select(Ticket).where(Ticket.call_sid == call.call_sid)):
        ticket.details = {**ticket.details, **extra}
    if purpose == "description" and call.job_id is not None and url:
        job = session.get(Job, call.job_id)
        if job is not None and not job.recording_url:
            job.recording_url = url
    session.flush()
