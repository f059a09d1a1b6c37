"""Wage cases: the list, the case page with its evidence, and the steps of mediation; releasing a held
job for matching after review."""

from __future__ import annotations

from datetime import date, datetime

from flask import Blueprint, current_app, flash, g, redirect, render_template, request, url_for

from dispatch.clock import utcnow
from dispatch.console.auth import agent_page
from dispatch.console.cases import queries, services
from dispatch.console.guards import parse_page
from dispatch.console.i18n import local_date, local_datetime, translate
from dispatch.console.jobs.queries import visible_job
from dispatch.models import Job, JobStatus, Offer, Ticket, WageCase, WageCaseStatus
from dispatch.phones import display
from dispatch.wages import claims
from dispatch.wages.holds import HoldRefused, release_held_job
from dispatch.wages.services import CaseRefused

bp = Blueprint("cases", __name__, url_prefix="/cases", template_folder="templates")


def _settings():
    return current_app.extensions["dispatch.runtime"].settings


@bp.get("/")
@agent_page()
def case_list(db, agent):
    """Wage cases of the agent's sites, open and mediating first."""
    listing = queries.case_list(
        db, agent, request.args.get("status", "active"), parse_page(request.args.get("page"))
    )
    return render_template("console/cases/list.html", listing=listing, filters=list(queries.FILTERS))


@bp.get("/<int:case_id>")
@agent_page()
def case_page(db, agent, case_id: int):
    """One case: the evidence for a mediator, the texts exchanged, the audit trail, the steps."""
    page = queries.case_page(db, agent, queries.visible_case(db, agent, case_id))
    return render_template(
        "console/cases/case.html", page=page, phone=display, Status=WageCaseStatus, steps=services.STEPS
    )


@bp.post("/<int:case_id>/<any(mediate, owed, recovered, partly, unresolved):step>")
@agent_page()
def step(db, agent, case_id: int, step: str):
    """Move the case on (or correct the amount owed); refused steps change nothing."""
    found = queries.visible_case(db, agent, case_id)
    try:
        services.take_step(
            db,
            _settings(),
            agent,
            found,
            step,
            request.form.get("amount"),
            request.form.get("note", ""),
            utcnow(),
            request.remote_addr or "",
        )
    except CaseRefused as refused:
        flash(translate(f"cases.refused.{refused.key}", **refused.details), "error")
    else:
        flash(translate(f"cases.done.{step}"), "success")
    return redirect(url_for("console.cases.case_page", case_id=case_id))


@bp.post("/open")
@agent_page()
def open_case(db, agent):
    """Open a wage case for a worker's placement (from the worker's or the job's page)."""
    offer = db.get(Offer, request.form.get("offer_id", type=int) or 0)
    back = request.form.get("back", "")
    if offer is None:
        flash(translate("cases.refused.not_placed"), "error")
        return redirect(_back(back, None))
    visible_job(db, agent, offer.job_id)  # 404 for a job of a site the agent may not see
    try:
        case, opened = services.open_for_worker(
            db,
            _settings(),
            agent,
            offer,
            request.form.get("paid", ""),
            request.form.get("note", ""),
            utcnow(),
        )
    except CaseRefused as refused:
        flash(translate(f"cases.refused.{refused.key}", **refused.details), "error")
        return redirect(_back(back, offer))
    flash(translate("cases.done.opened" if opened else "cases.done.already_open", number=case.id), "success")
    return redirect(url_for("console.cases.case_page", case_id=case.id))


def _back(back: str, offer: Offer | None) -> str:
    if offer is not None and back == "job":
        return url_for("console.jobs.job_page", job_id=offer.job_id)
    if offer is not None:
        return url_for("console.people.worker_page", worker_id=offer.worker_id)
    return url_for("console.cases.case_list")


@bp.post("/jobs/<int:job_id>/release")
@agent_page()
def release_job(db, agent, job_id: int):
    """Release a held job for matching after the agent's review."""
    job = visible_job(db, agent, job_id)
    note = request.form.get("note", "").strip()[: services.MAX_NOTE]
    try:
        job = release_held_job(db, _settings(), agent, job.id, utcnow(), note, request.remote_addr or "")
    except HoldRefused as refused:
        flash(translate(f"cases.held.refused_{refused.key}"), "error")
    else:
        if job.status == JobStatus.EXPIRED:
            flash(translate("cases.held.expired", code=job.code), "error")
        else:
            flash(translate("cases.held.released", code=job.code), "success")
    return redirect(url_for("console.jobs.job_page", job_id=job.id))


# -- what other pages show of wage cases (the ticket panel, a held job, a person's page) -----------


@bp.app_template_global()
def wage_case_of_ticket(ticket: Ticket) -> WageCase | None:
    """The case behind a wage-case ticket (the ticket page already checked the agent may see it)."""
    case_id = (ticket.details or {}).get("wage_case_id")
    return g.db.get(WageCase, case_id) if isinstance(case_id, int) else None


@bp.app_template_global()
def held_job_cases(job: Job) -> tuple[list[WageCase], int]:
    """Why a held job waits: its employer's open wage cases the agent may see, and the number of the
    others (none at all: the employer was held by hand)."""
    return queries.open_cases(g.db, g.agent, job.employer_id)


@bp.app_template_global()
def wage_cases_of(employer_id: int | None = None, worker_id: int | None = None) -> list[WageCase]:
    return queries.person_cases(g.db, g.agent, employer_id=employer_id, worker_id=worker_id)


@bp.app_template_global()
def claimable_placements(worker_id: int | None = None, job_id: int | None = None) -> list[Offer]:
    """Placements begun and without a case, for the "open a wage case" form of a worker or a job."""
    return claims.claimable(g.db, _settings(), utcnow(), worker_id=worker_id, job_id=job_id)


@bp.app_template_global()
def show_phone_of_case(phone: str) -> str:
    return display(phone)


@bp.app_template_filter()
def evidence_time(value: str | None) -> str:
    """A time kept in a case's evidence (ISO text) as the console shows times."""
    return local_datetime(datetime.fromisoformat(value)) if value else ""


@bp.app_template_filter()
def evidence_date(value: str | None) -> str:
    return local_date(date.fromisoformat(value)) if value else ""
