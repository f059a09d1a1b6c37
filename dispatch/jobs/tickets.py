"""Tickets about a job (and, where there is one, one of its workers) for the agents' queue.

One constructor, so every machine-made ticket of this shape fills the columns the queue page filters
and links on the same way (the job's site, the employer, the number to call), and one check for the
"once per job and worker" rule several kinds follow.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from dispatch.models import Job, Ticket, TicketKind, TicketStatus, Worker


def open_job_ticket(
    session: Session,
    kind: TicketKind,
    job: Job,
    *,
    priority: int,
    summary: str,
    details: dict[str, Any],
    now: datetime,
    worker: Worker | None = None,
    phone: str | None = None,
) -> Ticket:
    """A ticket on the job's site; `phone` is who the agent calls (the worker's, else the employer's)."""
    ticket = Ticket(
        kind=kind,
        priority=priority,
        site_id=job.site_id,
        phone=phone or (worker.phone if worker is not None else job.employer.phone),
        worker_id=worker.id if worker is not None else None,
        employer_id=job.employer_id,
        job_id=job.id,
        summary=summary,
        details=details,
        created_at=now,
    )
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
