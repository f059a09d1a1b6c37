"""Holding an employer with an open wage case, and freeing them (and their held jobs) when the last one
closes. Plain functions on a session; they flush, never commit.

The employer's row lock orders everything that decides their status: a case opening, a case closing,
and two cases of one employer closing at once (each would otherwise see the other still open and
neither would free the employer).
"""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from dispatch.i18n import market_zone
from dispatch.jobs.held import close_held_job_tickets
from dispatch.jobs.services import start_matching
from dispatch.matching.waves import last_day_starts
from dispatch.models import (
    OPEN_WAGE_CASE_STATUSES,
    Agent,
    AuditEvent,
    Employer,
    EmployerStatus,
    Job,
    JobStatus,
    TicketOutcome,
    WageCase,
)
from dispatch.settings import Settings

log = logging.getLogger(__name__)


class HoldRefused(Exception):
    """Nothing was changed; `key` names why (the console shows its text)."""

    def __init__(self, key: str) -> None:
        super().__init__(key)
        self.key = key


def audit(
    session: Session,
    agent: Agent | None,
    action: str,
    target: Any,
    note: str = "",
    remote_addr: str = "",
    **details: Any,
) -> AuditEvent:
    """An audit row (agent None: the system did it, e.g. a case opened by the worker's reply).

    Written here rather than through dispatch.console.audit: this package runs inside SMS webhooks
    and jobs, and importing the console package from there would import every console view.
    """
    event = AuditEvent(
        agent_id=agent.id if agent else None,
        action=action,
        target_type=target.__tablename__,
        target_id=target.id,
        details={key: value.value if hasattr(value, "value") else value for key, value in details.items()},
        note=note,
        remote_addr=remote_addr[:64],
    )
    session.add(event)
    return event


def lock_employer(session: Session, employer_id: int) -> Employer:
    """FOR NO KEY UPDATE, as matching locks its rows: it waits for (and is waited for by) a job being
    created for this employer, which reads their status FOR SHARE (dispatch.jobs.services), and it
    leaves alone the key-share locks of rows merely pointing at the employer (a new job, a text)."""
    query = select(Employer).where(Employer.id == employer_id).with_for_update(key_share=True)
    return session.scalars(query.execution_options(populate_existing=True)).one()


def hold_employer(session: Session, employer: Employer, case: WageCase, agent: Agent | None = None) -> bool:
    """New jobs of an active employer wait for an agent while the case is open; a blocked employer
    stays blocked (a case never un-blocks anyone), and one already held (by hand) is left as it is:
    only a hold the cases set is marked, so only that one is lifted when they close. Call with the
    employer's row locked."""
    if employer.status != EmployerStatus.ACTIVE:
        return False
    employer.status, employer.held_for_wage_case = EmployerStatus.HELD, True
    details: dict[str, Any] = {"old_status": "active", "new_status": "held", "wage_case_id": case.id}
    audit(session, agent, "employer.hold", employer, **details)
    return True


def open_cases_of(session: Session, employer_id: int) -> list[WageCase]:
    return list(
        session.scalars(
            select(WageCase)
            .where(WageCase.employer_id == employer_id, WageCase.status.in_(OPEN_WAGE_CASE_STATUSES))
            .order_by(WageCase.opened_at, WageCase.id)
        )
    )


def free_employer(
    session: Session,
    settings: Settings,
    agent: Agent | None,
    employer_id: int,
    case: WageCase,
    now: datetime,
    remote_addr: str = "",
) -> list[Job]:
    """After `case` closed: with no other open case, an employer the cases held is active again and
    their held jobs go to matching (those whose last day has begun expire instead). Returns the jobs
    released. The caller holds the employer's row lock (lock_employer) since before the case closed."""
    employer = lock_employer(session, employer_id)
    still_open = session.scalar(
        select(func.count())
        .select_from(WageCase)
        .where(WageCase.employer_id == employer_id, WageCase.status.in_(OPEN_WAGE_CASE_STATUSES))
    )
    if still_open:
        return []
    held_by_cases, employer.held_for_wage_case = employer.held_for_wage_case, False
    if employer.status == EmployerStatus.HELD and held_by_cases:
        employer.status = EmployerStatus.ACTIVE
        audit(
            session,
            agent,
            "employer.release",
            employer,
            remote_addr=remote_addr,
            old_status="held",
            new_status="active",
            wage_case_id=case.id,
        )
    if employer.status != EmployerStatus.ACTIVE:
        return []
    held = session.scalars(
        select(Job)
        .where(Job.employer_id == employer_id, Job.status == JobStatus.HELD)
        .order_by(Job.id)
        .with_for_update(key_share=True)
    )
    released = []
    for job in held:
        if _over(settings, job, now):
            _expire(session, agent, job, now, remote_addr, automatic=True, wage_case_id=case.id)
            continue
        start_matching(session, job)
        audit(
            session, agent, "job.release", job, remote_addr=remote_addr, automatic=True, wage_case_id=case.id
        )
        why = f"job {job.code} released: wage case {case.id}, the employer's last open case, closed"
        _settle(session, agent, job, TicketOutcome.DONE, why, now, remote_addr)
        released.append(job)
    session.flush()
    log.info("employer %s freed by wage case %s: %s held jobs released", employer_id, case.id, len(released))
    return released


def _over(settings: Settings, job: Job, now: datetime) -> bool:
    """Too late to match: its last working day has begun (matching's own rule: a wave sent now would
    reach nobody in time, so matching would only hand it to an agent)."""
    return now >= last_day_starts(settings, job)


def _expire(
    session: Session, agent: Agent | None, job: Job, now: datetime, remote_addr: str, **details: Any
) -> None:
    """A held job whose days went by while it waited: it is over, no longer one of the employer's
    active jobs (their IVR list, the sweeps), and nothing is left to review."""
    job.status = JobStatus.EXPIRED
    audit(session, agent, "job.expire", job, remote_addr=remote_addr, reason="held_past_its_days", **details)
    why = f"job {job.code} expired while held: its last day began before it was released"
    _settle(session, agent, job, TicketOutcome.JOB_CLOSED, why, now, remote_addr)


def _settle(
    session: Session,
    agent: Agent | None,
    job: Job,
    outcome: TicketOutcome,
    resolution: str,
    now: datetime,
    remote_addr: str,
) -> None:
    """The job left `held`: its review ticket on the queue is resolved, by whoever moved the job (None:
    the system, e.g. the sweep)."""
    agent_id = agent.id if agent else None
    for ticket in close_held_job_tickets(session, job, outcome, resolution, now, agent_id):
        audit(session, agent, "ticket.resolve", ticket, resolution, remote_addr, outcome=outcome)


def expire_overdue_held_jobs(session: Session, settings: Settings, now: datetime, limit: int = 100) -> int:
    """Held jobs nobody released before their last day began (an employer whose case stays open, or
    held by hand): they are over. Run by its own periodic job (dispatch.wages.tasks.expire_held_jobs);
    returns how many expired."""
    today = now.astimezone(market_zone(settings)).date()
    candidates = session.scalars(
        select(Job)
        .where(Job.status == JobStatus.HELD, Job.end_date <= today)
        .order_by(Job.end_date, Job.id)
        .limit(limit)
        .with_for_update(key_share=True, skip_locked=True)
    ).all()
    expired = 0
    for job in candidates:
        if _over(settings, job, now):
            _expire(session, None, job, now, "", by="sweep")
            expired += 1
    session.flush()
    return expired


def release_held_job(
    session: Session,
    settings: Settings,
    agent: Agent,
    job_id: int,
    now: datetime,
    note: str = "",
    remote_addr: str = "",
) -> Job:
    """An agent reviewed a held job and lets it go to matching, whatever its employer's cases. A job
    whose last day has begun cannot be matched any more: it expires instead (look at job.status)."""
    query = select(Job).where(Job.id == job_id).with_for_update(key_share=True)
    job = session.scalars(query.execution_options(populate_existing=True)).one()
    if job.status != JobStatus.HELD:
        raise HoldRefused("not_held")
    if _over(settings, job, now):
        _expire(session, agent, job, now, remote_addr, automatic=False, note=note)
        session.flush()
        return job
    start_matching(session, job)
    open_ids = [case.id for case in open_cases_of(session, job.employer_id)]
    audit(
        session,
        agent,
        "job.release",
        job,
        note=note,
        remote_addr=remote_addr,
        automatic=False,
        open_cases=open_ids,
    )
    why = f"job {job.code} released after review" + (f": {note}" if note else "")
    _settle(session, agent, job, TicketOutcome.DONE, why, now, remote_addr)
    session.flush()
    return job
