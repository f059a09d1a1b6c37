"""What the reports read: each figure counted in SQL, grouped by site and week.

A week is a CASE over the weeks' UTC bounds, computed in a subquery and grouped on outside: the same
SQL on PostgreSQL and SQLite (no date_trunc, no time zone arithmetic in the database), and GROUP BY
names a column rather than repeating an expression whose bound parameters PostgreSQL would not
recognise as the same. Only the times to fill are brought back row by row, for their median and p90.

Rows without a site (a wage case or enrolment whose job never said where) count for the district
market, as everywhere in the console: only agents who may see the district see them.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import ColumnElement, Select, and_, case, func, literal_column, select
from sqlalchemy.orm import Session

from dispatch.console.access import sites_for_choice
from dispatch.console.reports.figures import Figures, total
from dispatch.console.reports.periods import Week
from dispatch.models import (
    Agent,
    EnrolmentStatus,
    FollowUp,
    FollowUpParty,
    InsuranceEnrolment,
    Job,
    JobStatus,
    Site,
    SiteLevel,
    WageCase,
)


@dataclass
class Report:
    weeks: list[Week]  # oldest first
    sites: list[Site]  # in the order of the 1+17+N list
    cells: dict[tuple[int, int], Figures] = field(default_factory=dict)  # (site id, week index)

    def cell(self, site_id: int, week: int) -> Figures:
        return self.cells.setdefault((site_id, week), Figures())

    def week_total(self, week: int) -> Figures:
        return total([self.cell(site.id, week) for site in self.sites])

    def site_total(self, site_id: int) -> Figures:
        return total([self.cell(site_id, week) for week in range(len(self.weeks))])


def report_sites(db: Session, agent: Agent, chosen: Site | None) -> list[Site]:
    """The sites the agent may see; with a chosen site, that site and the sites below it."""
    sites = sites_for_choice(db, agent)
    if chosen is None:
        return sites
    below = {chosen.id}
    for site in sorted(sites, key=lambda site: site.level != SiteLevel.DISTRICT):  # parents first
        if site.parent_id in below:
            below.add(site.id)
    return [site for site in sites if site.id in below]


def build(db: Session, sites: list[Site], weeks: list[Week]) -> Report:
    report = Report(weeks, sites)
    if not sites or not weeks:
        return report
    scope = _Scope(db, [site.id for site in sites], weeks)
    _jobs(db, scope, report)
    _times_to_fill(db, scope, report)
    _follow_ups(db, scope, report)
    _wage_cases(db, scope, report)
    _insured_days(db, scope, report)
    return report


class _Scope:
    def __init__(self, db: Session, site_ids: list[int], weeks: list[Week]) -> None:
        self.site_ids = site_ids
        self.weeks = weeks
        self.start, self.end = weeks[0].start, weeks[-1].end
        self.district_id = db.scalar(select(Site.id).where(Site.level == SiteLevel.DISTRICT).limit(1))

    def week(self, column: Any, dates: bool = False) -> ColumnElement[Any]:
        """The index of the week `column` falls in (a timestamp, or with `dates` a local date)."""
        whens: list[tuple[ColumnElement[bool], ColumnElement[Any]]] = [
            (
                and_(column >= week.monday, column < week.next_monday)
                if dates
                else and_(column >= week.start, column < week.end),
                literal_column(str(index)),
            )
            for index, week in enumerate(self.weeks)
        ]
        return case(*whens, else_=None)

    def in_period(self, column: Any) -> ColumnElement[bool]:
        return and_(column >= self.start, column < self.end)

    def site(self, column: Any) -> ColumnElement[Any]:
        """A row's site; no site means the district's."""
        return func.coalesce(column, self.district_id) if self.district_id else column


def _grouped(db: Session, inner: Select, *aggregates: Callable[[Any], Any]) -> Iterable[Any]:
    """`inner` (a select with `site` and `week` columns) summed per site and week; each aggregate is
    made from the subquery's columns."""
    sub = inner.subquery()
    columns = [aggregate(sub.c) for aggregate in aggregates]
    return db.execute(select(sub.c.site, sub.c.week, *columns).group_by(sub.c.site, sub.c.week))


def _count(columns: Any) -> ColumnElement[int]:
    return func.count()


def _sum(column: Any) -> ColumnElement[int]:
    return func.coalesce(func.sum(column), 0)


def _jobs_posted(scope: _Scope, *columns: Any):
    return select(Job.site_id.label("site"), scope.week(Job.created_at).label("week"), *columns).where(
        Job.status != JobStatus.DRAFT, scope.in_period(Job.created_at), Job.site_id.in_(scope.site_ids)
    )


def _jobs(db: Session, scope: _Scope, report: Report) -> None:
    inner = _jobs_posted(scope, Job.headcount.label("headcount"), Job.filled.label("filled"))
    rows = _grouped(db, inner, _count, lambda c: _sum(c.headcount), lambda c: _sum(c.filled))
    for site, week, jobs, asked, filled in rows:
        cell = report.cell(site, week)
        cell.jobs, cell.places_asked, cell.places_filled = jobs, int(asked), int(filled)


def _times_to_fill(db: Session, scope: _Scope, report: Report) -> None:
    # Jobs filled now (a place given back clears filled_at), by the week they were posted in.
    query = _jobs_posted(scope, Job.created_at, Job.filled_at).where(Job.filled_at.is_not(None))
    for site, week, created_at, filled_at in db.execute(query):
        report.cell(site, week).fill_seconds.append(max(0.0, (filled_at - created_at).total_seconds()))


def _follow_ups(db: Session, scope: _Scope, report: Report) -> None:
    # By the week they were asked in: "of the follow-ups sent that week, how many were answered".
    inner = (
        select(
            Job.site_id.label("site"),
            scope.week(FollowUp.asked_at).label("week"),
            FollowUp.party.label("party"),
            FollowUp.answered_at.label("answered_at"),
            FollowUp.stars.label("stars"),
        )
        .join(Job, Job.id == FollowUp.job_id)
        .where(scope.in_period(FollowUp.asked_at), Job.site_id.in_(scope.site_ids))
    )
    sub = inner.subquery()
    rated = sub.c.stars.between(1, 5)
    query = select(
        sub.c.site,
        sub.c.week,
        sub.c.party,
        func.count(),
        func.count(sub.c.answered_at),
        _sum(case((rated, sub.c.stars), else_=0)),
        _sum(case((rated, 1), else_=0)),
        _sum(case((sub.c.stars == 0, 1), else_=0)),
    ).group_by(sub.c.site, sub.c.week, sub.c.party)
    for site, week, party, asked, answered, stars, rated_count, zeros in db.execute(query):
        cell = report.cell(site, week)
        cell.follow_ups_asked += asked
        cell.follow_ups_answered += answered
        if party == FollowUpParty.EMPLOYER:  # the employer rated the worker; 0 = did not come
            cell.worker_stars, cell.workers_rated, cell.no_shows = int(stars), int(rated_count), int(zeros)
        else:
            cell.employer_stars, cell.employers_rated = int(stars), int(rated_count)


def _wage_cases(db: Session, scope: _Scope, report: Report) -> None:
    site = scope.site(WageCase.site_id)
    opened = select(
        site.label("site"), scope.week(WageCase.opened_at).label("week"), WageCase.amount_owed.label("owed")
    ).where(scope.in_period(WageCase.opened_at), site.in_(scope.site_ids))
    for site_id, week, count, owed in _grouped(db, opened, _count, lambda c: _sum(c.owed)):
        cell = report.cell(site_id, week)
        cell.cases_opened, cell.amount_owed = count, int(owed)
    # Recovered money counts in the week the case closed, when the amount is final.
    closed = select(
        site.label("site"),
        scope.week(WageCase.closed_at).label("week"),
        WageCase.amount_recovered.label("recovered"),
    ).where(WageCase.closed_at.is_not(None), scope.in_period(WageCase.closed_at), site.in_(scope.site_ids))
    for site_id, week, count, recovered in _grouped(db, closed, _count, lambda c: _sum(c.recovered)):
        cell = report.cell(site_id, week)
        cell.cases_closed, cell.amount_recovered = count, int(recovered)


def _insured_days(db: Session, scope: _Scope, report: Report) -> None:
    site = scope.site(InsuranceEnrolment.site_id)
    day = InsuranceEnrolment.work_date
    inner = select(site.label("site"), scope.week(day, dates=True).label("week")).where(
        InsuranceEnrolment.status == EnrolmentStatus.ENROLLED,
        day >= scope.weeks[0].monday,
        day < scope.weeks[-1].next_monday,
        site.in_(scope.site_ids),
    )
    for site_id, week, count in _grouped(db, inner, _count):
        report.cell(site_id, week).insured_days = count
