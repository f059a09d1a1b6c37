"""Reports for supervisors: per site and week, as tables, charts and CSV."""

from __future__ import annotations

from dataclasses import dataclass
from zoneinfo import ZoneInfo

from flask import Blueprint, Response, abort, current_app, render_template, request
from sqlalchemy import select
from sqlalchemy.orm import Session

from dispatch.clock import utcnow
from dispatch.console.access import may_see, sites_for_choice
from dispatch.console.audit import record
from dispatch.console.auth import agent_page
from dispatch.console.i18n import current_language, translate
from dispatch.console.reports import events, periods, present, queries
from dispatch.i18n import market_zone
from dispatch.models import Agent, AgentRole, Site

bp = Blueprint(
    "reports",
    __name__,
    url_prefix="/reports",
    template_folder="templates",
    static_folder="static",
    static_url_path="/static",
)


@dataclass
class Choice:
    """What the filter form asked for, checked: the weeks (oldest first) and the sites to report."""

    week: str  # the last week, as the form shows it: 2026-W48
    count: int
    site: Site | None  # None: every site the agent sees
    weeks: list[periods.Week]
    sites: list[Site]

    def args(self) -> dict[str, object]:
        return {"week": self.week, "weeks": self.count, **({"site": self.site.code} if self.site else {})}


class Refused(Exception):
    """The query string names a week that does not exist (400) or a site the agent cannot see (404)."""

    def __init__(self, status: int, key: str) -> None:
        super().__init__(key)
        self.status, self.key = status, key


def _zone() -> ZoneInfo:
    return market_zone(current_app.extensions["dispatch.runtime"].settings)


def _choice(db: Session, agent: Agent) -> Choice:
    zone = _zone()
    raw_week = request.args.get("week", "").strip()
    last = periods.parse_week(raw_week, zone) if raw_week else periods.week_of(utcnow(), zone)
    if last is None:
        raise Refused(400, "reports.error.week")
    count = periods.parse_count(request.args.get("weeks", ""))
    code = request.args.get("site", "").strip()[:64]
    site = db.scalar(select(Site).where(Site.code == code)) if code else None
    if code and (site is None or not may_see(db, agent, site.id)):
        raise Refused(404, "reports.error.site")  # unknown and not yours read the same
    weeks = periods.weeks_ending(last, count, zone)
    return Choice(last.label, count, site, weeks, queries.report_sites(db, agent, site))


@bp.get("/")
@agent_page(AgentRole.SUPERVISOR)
def weekly(db, agent):
    """The weeks' figures per site: a filter form, fill-rate charts and a table per week."""
    options = sites_for_choice(db, agent)
    try:
        choice = _choice(db, agent)
    except Refused as refused:
        page = render_template(
            "console/reports/weekly.html",
            error=refused.key,
            form=request.args,
            options=options,
            max_weeks=periods.MAX_WEEKS,
        )
        return page, refused.status
    report = queries.build(db, choice.sites, choice.weeks)
    return render_template(
        "console/reports/weekly.html",
        error=None,
        choice=choice,
        form={"week": choice.week, "weeks": choice.count, "site": choice.site.code if choice.site else ""},
        options=options,
        max_weeks=periods.MAX_WEEKS,
        report=report,
        present=present,
    )


@bp.get("/weekly.csv")
@agent_page(AgentRole.SUPERVISOR)
def weekly_csv(db, agent):
    """The same figures as a CSV download (UTF-8 with BOM, headers in the agent's language)."""
    try:
        choice = _choice(db, agent)
    except Refused as refused:
        abort(refused.status, description=translate(refused.key))
    report = queries.build(db, choice.sites, choice.weeks)
    language = current_language()
    record(
        db,
        agent,
        "report.export",
        remote_addr=request.remote_addr or "",
        week=choice.week,
        weeks=choice.count,
        site=choice.site.code if choice.site else "",
        sites=len(choice.sites),
    )
    filename = f"report-{choice.weeks[0].label}-{choice.weeks[-1].label}.csv"
    return Response(
        present.csv_bytes(report, language),
        mimetype="text/csv",
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )


@bp.get("/events")
@agent_page(AgentRole.SUPERVISOR)
def events_report(db, agent):
    """The hall's events per site and kind over the chosen weeks: texts, sign-ups, attendance."""
    options = sites_for_choice(db, agent)
    try:
        choice = _choice(db, agent)
    except Refused as refused:
        abort(refused.status, description=translate(refused.key))
    report = events.build(db, choice.sites, choice.weeks[0].start, choice.weeks[-1].end)
    return render_template(
        "console/reports/events.html",
        choice=choice,
        form={"week": choice.week, "weeks": choice.count, "site": choice.site.code if choice.site else ""},
        options=options,
        max_weeks=periods.MAX_WEEKS,
        report=report,
    )
