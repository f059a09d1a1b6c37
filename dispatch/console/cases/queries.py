"""What the case pages read: the list of the agent's sites' wage cases, one case with its ticket and
audit trail, and the short case lists other pages show (a held job's reasons, a person's cases)."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import case as when
from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session, joinedload

from dispatch.console.access import site_filter, visible_row
from dispatch.console.listing import status_page
from dispatch.models import (
    OPEN_WAGE_CASE_STATUSES,
    Agent,
    AuditEvent,
    Job,
    Ticket,
    WageCase,
    WageCaseStatus,
)

PAGE_SIZE = 50
# The list's tabs: cases still being worked first (the default), then each status, then all.
FILTERS: dict[str, tuple[WageCaseStatus, ...]] = {
    "active": tuple(status for status in WageCaseStatus if status in OPEN_WAGE_CASE_STATUSES),
    **{status.value: (status,) for status in WageCaseStatus},
    "all": (),
}
PERSON_CASES = 20  # a person's page lists their latest cases


@dataclass
class CaseList:
    cases: list[WageCase]
    chosen: str
    page: int
    has_next: bool
    counts: dict[str, int]


def _with_people(query):
    return query.options(
        joinedload(WageCase.worker),
        joinedload(WageCase.employer),
        joinedload(WageCase.job).joinedload(Job.trade),
    )


def _open_first(query):
    still_open = when((WageCase.status.in_(OPEN_WAGE_CASE_STATUSES), 0), else_=1)
    return query.order_by(still_open, WageCase.opened_at.desc(), WageCase.id.desc())


def case_list(db: Session, agent: Agent, chosen: str, page: int) -> CaseList:
    """A page of the agent's sites' cases: open and mediating first, newest first within."""
    chosen = chosen if chosen in FILTERS else "active"
    page = max(page, 1)
    visible = site_filter(db, agent, WageCase.site_id)
    query = _open_first(_with_people(select(WageCase).where(visible)))
    rows, has_next, counts = status_page(
        db, query, WageCase.status, visible, FILTERS, chosen, page, PAGE_SIZE
    )
    return CaseList(rows, chosen, page, has_next, counts)


def visible_case(db: Session, agent: Agent, case_id: int) -> WageCase:
    """The case, or 404 if there is none or it belongs to a site the agent does not work for."""
    return visible_row(db, agent, WageCase, case_id)


@dataclass
class CasePage:
    case: WageCase
    ticket: Ticket | None
    trail: list[AuditEvent]
    other_open: list[WageCase]  # the employer's other open cases: they keep the employer held
    other_sites: int  # ... and how many of those belong to sites the agent does not work for


def case_page(db: Session, agent: Agent, found: WageCase) -> CasePage:
    targets = [(AuditEvent.target_type == "wage_case") & (AuditEvent.target_id == found.id)]
    if found.ticket_id is not None:
        targets.append((AuditEvent.target_type == "ticket") & (AuditEvent.target_id == found.ticket_id))
    trail = list(
        db.scalars(
            select(AuditEvent)
            .where(or_(*targets))
            .options(joinedload(AuditEvent.agent))
            .order_by(AuditEvent.created_at, AuditEvent.id)
        )
    )
    visible, elsewhere = open_cases(db, agent, found.employer_id)
    return CasePage(
        case=found,
        ticket=db.get(Ticket, found.ticket_id) if found.ticket_id else None,
        trail=trail,
        other_open=[row for row in visible if row.id != found.id],
        other_sites=elsewhere,
    )


def open_cases(db: Session, agent: Agent, employer_id: int) -> tuple[list[WageCase], int]:
    """The employer's open cases (why their new jobs are held) among the agent's sites, and only the
    number of the others: another town's workers and claims are not this agent's to read."""
    of_employer = (WageCase.employer_id == employer_id) & WageCase.status.in_(OPEN_WAGE_CASE_STATUSES)
    visible = site_filter(db, agent, WageCase.site_id)
    query = _with_people(select(WageCase).where(of_employer, visible))
    shown = list(db.scalars(query.order_by(WageCase.opened_at, WageCase.id)))
    total = db.scalar(select(func.count()).select_from(WageCase).where(of_employer)) or 0
    return shown, total - len(shown)


def person_cases(db: Session, agent: Agent, *, employer_id: int | None = None, worker_id: int | None = None):
    """A worker's or an employer's latest cases, among the sites the agent may see."""
    query = select(WageCase).where(site_filter(db, agent, WageCase.site_id))
    if employer_id is not None:
        query = query.where(WageCase.employer_id == employer_id)
    if worker_id is not None:
        query = query.where(WageCase.worker_id == worker_id)
    return list(db.scalars(_open_first(_with_people(query)).limit(PERSON_CASES)))
