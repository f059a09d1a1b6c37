"""A call's ticket turned into a job or a registration: the ticket an intake form was opened from,
what the IVR had collected (to fill the form in), and closing the ticket once the form is done.

The IVR keeps a call's answers in `ticket.details["answers"]` (see dispatch/ivr/tickets.py
`collected`): keypad values as the IVR stores them (`trade` and `site` ids, `date` ISO, `hour` ...).
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from flask import abort
from sqlalchemy.orm import Session

from dispatch.console.access import require_visible
from dispatch.console.guards import parse_id
from dispatch.console.tickets.services import resolve_ticket
from dispatch.models import Agent, Ticket, TicketKind, TicketOutcome, TicketStatus

# The tickets a caller left that an agent may turn into a job or a registration.
INTAKE_KINDS = frozenset({TicketKind.VOICEMAIL, TicketKind.CALL_BACK, TicketKind.AGENT_CALL})
JOB_FIELDS = ("trade", "headcount", "days", "pay", "site")
# Texts a voicemail or call may carry for the agent: a Twilio transcription or the agent's own.
SPOKEN_KEYS = ("transcript", "voicemail_transcription", "description_transcription")
RECORDING_KEYS = ("voicemail_recording_url", "description_recording_url", "name_recording_url")


def intake_ticket(db: Session, agent: Agent, raw_id: str | None, lock: bool = False) -> Ticket | None:
    """The `?ticket=` the form works from; 404 for an unknown id, another kind, or another site's."""
    if not raw_id:
        return None
    ticket_id = parse_id(raw_id)
    if ticket_id is None:
        abort(404)
    ticket = db.get(Ticket, ticket_id, with_for_update=lock)  # locked: nobody resolves it meanwhile
    if ticket is None or ticket.kind not in INTAKE_KINDS:
        abort(404)
    require_visible(db, agent, ticket.site_id)
    return ticket


def unavailable(agent: Agent, ticket: Ticket | None) -> str | None:
    """A text key when the ticket can no longer be worked by this agent (then nothing is created)."""
    if ticket is None:
        return None
    if ticket.status == TicketStatus.RESOLVED:
        return "intake.ticket.resolved"
    if ticket.status == TicketStatus.CLAIMED and ticket.claimed_by_id != agent.id:
        return "intake.ticket.claimed"
    return None


def _answers(ticket: Ticket, flow: str) -> dict[str, Any]:
    """The IVR's answers, when the call was in this flow (a job's answers never fill a registration)."""
    details = ticket.details or {}
    return dict(details.get("answers") or {}) if details.get("flow") == flow else {}


def job_prefill(ticket: Ticket, today: date) -> dict[str, str]:
    """The phone intake form's values from what the caller keyed before hanging up or queueing."""
    answers = _answers(ticket, "job")
    values = {"phone": ticket.phone}
    values.update({key: str(answers[key]) for key in JOB_FIELDS if key in answers})
    if "hour" in answers:
        values["start"] = f"{int(answers['hour']):02d}:{int(answers.get('minute', 0)):02d}"
    if "date" in answers:
        wanted = date.fromisoformat(str(answers["date"]))
        if wanted == today:
            values["day"] = "today"
        elif wanted == today + timedelta(days=1):
            values["day"] = "tomorrow"
        else:
            values.update(day="date", date=wanted.isoformat())
    return values


def job_recording(ticket: Ticket | None) -> str:
    """The spoken description the caller recorded, which the IVR would have put on the job."""
    return str(_answers(ticket, "job").get("recording", "")) if ticket is not None else ""


def worker_prefill(ticket: Ticket) -> dict[str, Any]:
    """The counter form's values from an IVR registration the caller did not finish."""
    answers = _answers(ticket, "register")
    values: dict[str, Any] = {"phone": ticket.phone, "language": (ticket.details or {}).get("language", "zh")}
    if "trade" in answers:
        values["trades"] = [(str(answers["trade"]), "")]
    if "site" in answers:
        values["site"] = str(answers["site"])
    if "pay" in answers:
        values["min_pay"] = str(answers["pay"])
    return values


def spoken(ticket: Ticket) -> dict[str, str]:
    """What the agent can read or play of the call: transcriptions and recording URLs."""
    details = ticket.details or {}
    return {key: str(details[key]) for key in (*SPOKEN_KEYS, *RECORDING_KEYS) if details.get(key)}


def close_ticket(
    db: Session,
    agent: Agent,
    ticket: Ticket,
    outcome: TicketOutcome,
    note: str,
    remote_addr: str,
    *,
    job_id: int | None = None,
    worker_id: int | None = None,
) -> None:
    """Resolve the ticket the form came from, linked to what it became."""
    resolve_ticket(db, agent, ticket, outcome, note, remote_addr)
    ticket.job_id = job_id or ticket.job_id
    ticket.worker_id = worker_id or ticket.worker_id
    db.flush()
