"""The one way a ticket is made, whoever makes it (SMS, the voice menu, matching, follow-ups, wages).

The ticket lands on the queue of the site of whoever it is about, so the agents of that site see it:
the job's site; else, for a call, the site the caller keyed (what they said about this very request);
else the worker's home site; else the employer's site. With none of these it belongs to the district.

Plain functions that take a session; they flush, never commit.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from dispatch.models import (
    Call,
    Employer,
    Job,
    Message,
    Site,
    Ticket,
    TicketKind,
    TicketStatus,
    Trade,
    Worker,
)
from dispatch.tickets.kinds import priority
from dispatch.tickets.summaries import Summary

MAX_TEXT = 500  # the stored words: enough for an SMS body and a reason


def open_ticket(
    session: Session,
    kind: TicketKind,
    *,
    summary: Summary | None = None,
    text: str = "",
    job: Job | None = None,
    worker: Worker | None = None,
    employer: Employer | None = None,
    call: Call | None = None,
    message: Message | None = None,
    phone: str | None = None,
    details: Mapping[str, Any] | None = None,
    urgent: bool = False,
    now: datetime | None = None,
) -> Ticket:
    """A ticket about a job, a person, a call or a text; `summary` is what it says (as data, worded
    in the agent's language), `text` the plain copy kept with it (default: the text's own words).
    A call has one ticket of a kind: a repeated webhook adds its details to the one there is."""
    if call is not None:
        found = session.scalar(select(Ticket).where(Ticket.call_sid == call.call_sid, Ticket.kind == kind))
        if found is not None:
            found.details = {**found.details, **_collected(session, call), **(details or {})}
            session.flush()
            return found
    job = job or _get(session, Job, call.job_id if call else None)
    worker = worker or _get(session, Worker, _first(message, call, "worker_id"))
    employer = employer or _get(session, Employer, _first(message, call, "employer_id"))
    employer = employer or (job.employer if job is not None else None)
    ticket = Ticket(
        kind=kind,
        priority=priority(kind, summary.key if summary else None, urgent),
        site_id=_site_id(job, call, worker, employer),
        phone=phone or _phone(message, call, worker, employer),
        worker_id=worker.id if worker is not None else None,
        employer_id=employer.id if employer is not None else None,
        job_id=job.id if job is not None else None,
        message_id=message.id if message is not None else None,
        call_sid=call.call_sid if call is not None else None,
        summary=(text or (message.body if message is not None else ""))[:MAX_TEXT],
        summary_key=summary.key if summary else None,
        summary_fields=dict(summary.fields) if summary else None,
        details={**(_collected(session, call) if call is not None else {}), **(details or {})},
    )
    if now is not None:
        ticket.created_at = now
    session.add(ticket)
    session.flush()
    return ticket


def has_open_ticket(session: Session, kind: TicketKind, job: Job, worker: Worker) -> bool:
    """Whether a ticket of this kind about this worker on this job still waits for an agent."""
    found = session.scalar(
        select(Ticket.id)
        .where(
            Ticket.kind == kind,
            Ticket.job_id == job.id,
            Ticket.worker_id == worker.id,
            Ticket.status != TicketStatus.RESOLVED,
        )
        .limit(1)
    )
    return found is not None


def _site_id(
    job: Job | None, call: Call | None, worker: Worker | None, employer: Employer | None
) -> int | None:
    if job is not None:
        return job.site_id
    answered = call.answers.get("site") if call is not None else None
    if answered:
        return int(answered)
    if worker is not None and worker.home_site_id is not None:
        return worker.home_site_id
    return employer.site_id if employer is not None else None


def _phone(
    message: Message | None, call: Call | None, worker: Worker | None, employer: Employer | None
) -> str:
    """Whom the agent calls back: who wrote or rang, else the worker, else the employer."""
    for phone in (
        message.phone if message is not None else None,
        call.phone if call is not None else None,
        worker.phone if worker is not None else None,
        employer.phone if employer is not None else None,
    ):
        if phone:
            return phone
    return ""


def _first(message: Message | None, call: Call | None, attribute: str) -> int | None:
    source = message if message is not None else call
    return getattr(source, attribute) if source is not None else None


def _get(session: Session, model: Any, row_id: int | None) -> Any:
    return session.get(model, row_id) if row_id else None


def _collected(session: Session, call: Call) -> dict[str, Any]:
    """What the voice menu had collected, raw and in words, for the agent who picks the ticket up."""
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
