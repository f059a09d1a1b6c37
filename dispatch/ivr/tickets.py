"""The tickets a call leaves for the agents, and what happens when a call ends or a recording arrives.

Plain functions that take a session; they flush, never commit.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from dispatch.clock import utcnow
from dispatch.ivr.turn import recording_url
from dispatch.models import Call, CallOutcome, Job, Site, Ticket, TicketKind, Trade

# Outcomes after which nothing is left for an agent to pick up from a hang-up.
SETTLED = frozenset({CallOutcome.JOB, CallOutcome.REGISTRATION, CallOutcome.AGENT, CallOutcome.VOICEMAIL})
INTAKE_FLOWS = frozenset({"job", "register"})


def call_ticket(
    session: Session, call: Call, kind: TicketKind, priority: int, summary: str, **details: Any
) -> Ticket:
    """The call's ticket of this kind, made once (a repeated webhook adds to it instead)."""
    ticket = session.scalar(select(Ticket).where(Ticket.call_sid == call.call_sid, Ticket.kind == kind))
    if ticket is None:
        site_id = call.answers.get("site")
        ticket = Ticket(
            kind=kind,
            priority=priority,
            phone=call.phone,
            call_sid=call.call_sid,
            employer_id=call.employer_id,
            worker_id=call.worker_id,
            job_id=call.job_id,
            site_id=int(site_id) if site_id else None,
            summary=summary,
            details={},
        )
        session.add(ticket)
    ticket.details = {**ticket.details, **collected(session, call), **details}
    session.flush()
    return ticket


def collected(session: Session, call: Call) -> dict[str, Any]:
    """What the IVR had collected, raw and in words, for the agent who picks the ticket up."""
    answers = {key: value for key, value in call.answers.items() if not key.startswith("_")}
    readable: dict[str, Any] = dict(answers)
    if "trade" in answers and (trade := session.get(Trade, int(answers["trade"]))) is not None:
        readable["trade"] = trade.name_zh
    if "site" in answers and (site := session.get(Site, int(answers["site"]))) is not None:
        readable["site"] = site.name_zh
    return {
        "flow": call.flow,
        "step": call.step,
        "language": call.language,
        "answers": answers,
        "readable": readable,
    }


def finish_call(session: Session, call: Call, status: str) -> Ticket | None:
    """The call ended. Part-way through (no job, registration or agent), what it had collected goes to
    a call-back ticket; a caller who hung up at the menu is worth a call back too, at low priority."""
    call.status = status[:24]
    call.ended_at = call.ended_at or utcnow()
    if call.outcome in SETTLED or call.outcome == CallOutcome.CALL_BACK:
        return None
    part_way = call.flow in INTAKE_FLOWS and any(not key.startswith("_") for key in call.answers)
    if not part_way and call.outcome is not None:
        return None  # heard or cancelled their jobs: nothing was left unfinished
    call.outcome = CallOutcome.CALL_BACK
    summary = f"hung up during {call.flow} at {call.step}" if part_way else "hung up at the menu"
    return call_ticket(session, call, TicketKind.CALL_BACK, 2 if part_way else 4, summary, call_status=status)


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
