"""Opening and moving wage cases: open → mediating → recovered / partly recovered / closed unresolved.

Every step locks the case's row and checks its status under the lock, so two agents cannot both move
(or both close) one case: the second sees what the first did and is refused with nothing changed.
Every step is audited with the old and new status and amounts. Plain functions; they flush, never
commit.
"""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from dispatch.models import (
    OPEN_WAGE_CASE_STATUSES,
    Agent,
    Job,
    Ticket,
    TicketOutcome,
    TicketStatus,
    WageCase,
    WageCaseStatus,
    Worker,
)
from dispatch.settings import Settings
from dispatch.sms.services import queue_sms
from dispatch.wages.holds import audit, free_employer, lock_employer
from dispatch.wages.opening import claim_case, open_case

log = logging.getLogger(__name__)
__all__ = ["CaseRefused", "claim_case", "close_case", "correct_owed", "open_case", "start_mediation"]

# The most a case can be about (and a worker be texted): the largest daily pay × days a job may have
# (dispatch.jobs.services.JobRequest.check). Amounts owed never exceed the pay agreed for the job.
LARGEST_CLAIM = 100_000 * 60
CLOSING = (WageCaseStatus.RECOVERED, WageCaseStatus.PARTLY_RECOVERED, WageCaseStatus.CLOSED_UNRESOLVED)


class CaseRefused(Exception):
    """Nothing was changed; `key` names the text under `cases.refused` that says why."""

    def __init__(self, key: str, **details: Any) -> None:
        super().__init__(key)
        self.key = key
        self.details = details


def lock_case(session: Session, case_id: int) -> WageCase:
    query = select(WageCase).where(WageCase.id == case_id).with_for_update()
    return session.scalars(query.execution_options(populate_existing=True)).one()


def _still_open(case: WageCase) -> None:
    if case.status not in OPEN_WAGE_CASE_STATUSES:
        raise CaseRefused("closed", status=case.status.value)


def start_mediation(
    session: Session, agent: Agent, case_id: int, now: datetime, note: str = "", remote_addr: str = ""
) -> WageCase:
    """An agent takes the case up with the employer (调解)."""
    case = lock_case(session, case_id)
    if case.status != WageCaseStatus.OPEN:
        raise CaseRefused("not_open", status=case.status.value)
    case.status, case.updated_at = WageCaseStatus.MEDIATING, now
    _step_audit(session, agent, case, "wage_case.mediate", WageCaseStatus.OPEN, note, remote_addr)
    session.flush()
    return case


def correct_owed(
    session: Session,
    agent: Agent,
    case_id: int,
    amount: int,
    now: datetime,
    note: str = "",
    remote_addr: str = "",
) -> WageCase:
    """The amount still owed as the agent established it (a part-paid worker's claim, most often): more
    than nothing, and no more than the pay agreed for the placement (the claim the case opened with)."""
    case = lock_case(session, case_id)
    _still_open(case)
    agreed = case.daily_pay * case.days
    if not 0 < amount <= agreed:
        raise CaseRefused("owed_range", agreed=agreed)
    old_owed, case.amount_owed, case.updated_at = case.amount_owed, amount, now
    _step_audit(session, agent, case, "wage_case.owed", case.status, note, remote_addr, old_owed=old_owed)
    session.flush()
    return case


def close_case(
    session: Session,
    settings: Settings,
    agent: Agent,
    case_id: int,
    result: WageCaseStatus,
    amount: int | None,
    now: datetime,
    note: str = "",
    remote_addr: str = "",
) -> WageCase:
    """Close the case with its result: the ticket resolves, the employer is freed when it was their
    last open case (their held jobs go to matching), and the worker is told by SMS."""
    if result not in CLOSING:
        raise ValueError(f"{result} does not close a case")
    case = lock_case(session, case_id)
    _still_open(case)
    recovered = _recovered(case, result, amount, note)
    # The employer's row next, before the ticket: the order open_case and a job's cancellation (job,
    # then employer) take them in, so no two of these wait for each other.
    employer = lock_employer(session, case.employer_id)
    before = case.status
    case.status, case.amount_recovered, case.closed_at, case.updated_at = result, recovered, now, now
    if note:
        case.notes = note
    _resolve_ticket(session, agent, case, now, note, remote_addr)
    released = free_employer(session, settings, agent, employer.id, case, now, remote_addr)
    _step_audit(
        session,
        agent,
        case,
        f"wage_case.{result.value}",
        before,
        note,
        remote_addr,
        employer_status=employer.status,
        jobs_released=[job.code for job in released],
    )
    _tell_worker(session, settings, case)
    session.flush()
    return case


def _recovered(case: WageCase, result: WageCaseStatus, amount: int | None, note: str) -> int:
    """What was recovered, checked against the result an agent chose (nothing changed if refused)."""
    if result == WageCaseStatus.CLOSED_UNRESOLVED:
        if not note.strip():
            raise CaseRefused("note_required")
        return 0
    if result == WageCaseStatus.RECOVERED:
        # In full means the amount owed, no more (the worker is texted this figure, the reports sum
        # it): a different amount is corrected first, as the amount owed.
        if amount is not None and amount != case.amount_owed:
            raise CaseRefused("not_owed", owed=case.amount_owed)
        return case.amount_owed
    if amount is None:
        raise CaseRefused("amount_required")
    if not 0 < amount < case.amount_owed:
        raise CaseRefused("partly_range", owed=case.amount_owed)
    return amount


def _step_audit(
    session: Session,
    agent: Agent,
    case: WageCase,
    action: str,
    before: WageCaseStatus,
    note: str,
    remote_addr: str,
    **extra: object,
) -> None:
    audit(
        session,
        agent,
        action,
        case,
        note=note,
        remote_addr=remote_addr,
        old_status=before,
        new_status=case.status,
        amount_owed=case.amount_owed,
        amount_recovered=case.amount_recovered,
        **extra,
    )


def _resolve_ticket(
    session: Session, agent: Agent, case: WageCase, now: datetime, note: str, remote_addr: str
) -> None:
    """The case's ticket is done whoever holds it: the case page, not the ticket, is where it closes."""
    if case.ticket_id is None:
        return
    resolution = (
        f"Wage case {case.id} {case.status.value}: "
        f"{case.amount_recovered} of {case.amount_owed} yuan recovered. {note}"
    ).strip()
    resolved = session.execute(
        update(Ticket)
        .where(Ticket.id == case.ticket_id, Ticket.status != TicketStatus.RESOLVED)
        .values(
            status=TicketStatus.RESOLVED,
            outcome=TicketOutcome.DONE.value,
            resolution=resolution[:4000],
            resolved_by_id=agent.id,
            resolved_at=now,
        )
        .returning(Ticket.id)
        .execution_options(synchronize_session=False)
    ).scalar_one_or_none()
    if resolved is not None:
        ticket = session.get_one(Ticket, resolved)
        session.refresh(ticket)
        audit(
            session, agent, "ticket.resolve", ticket, note=resolution, remote_addr=remote_addr, outcome="done"
        )


def _tell_worker(session: Session, settings: Settings, case: WageCase) -> None:
    worker = session.get_one(Worker, case.worker_id)
    job = session.get_one(Job, case.job_id)
    queue_sms(
        session,
        settings,
        phone=worker.phone,
        template="wage_case_closed",
        kind=f"wage_case.{case.status.value}",
        worker_id=worker.id,
        code=job.code,
        case_result=case.status.value,
        case_amount=case.amount_recovered,
        case_owed=case.amount_owed,
    )
