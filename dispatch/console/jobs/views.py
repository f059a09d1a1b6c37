"""The job list and the job page: offers by wave, confirmed workers, and the actions that rescue a job."""

from __future__ import annotations

from collections.abc import Callable

from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for

from dispatch.clock import utcnow
from dispatch.console.access import may_see
from dispatch.console.auth import agent_page
from dispatch.console.guards import parse_id, parse_page
from dispatch.console.i18n import translate
from dispatch.console.jobs import queries, services
from dispatch.console.jobs.services import JobActionRefused
from dispatch.matching.services import Outcome
from dispatch.models import JobStatus, OfferStatus, Worker
from dispatch.phones import display

bp = Blueprint("jobs", __name__, url_prefix="/jobs", template_folder="templates")


def _settings():
    return current_app.extensions["dispatch.runtime"].settings


@bp.get("/")
@agent_page()
def job_list(db, agent):
    """Jobs of the agent's sites, filtered by status, most urgent and newest first."""
    listing = queries.job_list(
        db, agent, request.args.get("status", "active"), parse_page(request.args.get("page"))
    )
    return render_template(
        "console/jobs/list.html", listing=listing, filters=list(queries.FILTERS), phone=display
    )


@bp.get("/<int:job_id>")
@agent_page()
def job_page(db, agent, job_id: int):
    """One job: details, offers by wave with their scores, confirmed workers, tickets, actions."""
    job = queries.visible_job(db, agent, job_id)
    return render_template(
        "console/jobs/job.html",
        page=queries.job_page(db, agent, _settings(), job, utcnow()),
        phone=display,
        JobStatus=JobStatus,
        OfferStatus=OfferStatus,
    )


def _act(job_id: int, action: Callable[[], str]):
    """Run an action; tell the agent what it did or why it could not (nothing changed then)."""
    try:
        flash(action(), "success")
    except JobActionRefused as refused:
        flash(translate(f"jobs.refused.{refused.key}", **refused.details), "error")
    return redirect(url_for("console.jobs.job_page", job_id=job_id))


def _worker(db, agent) -> Worker:
    """The worker the form names: a candidate's id, or a phone number typed by the agent; only a
    worker the agent may see (another town's worker is "not found", as on their page)."""
    worker_id = parse_id(request.form.get("worker_id"))
    worker = db.get(Worker, worker_id) if worker_id else None
    if worker is None:
        worker = services.worker_by_phone(db, request.form.get("phone", ""))
    if not may_see(db, agent, worker.home_site_id):
        raise services.JobActionRefused("no_worker", phone=request.form.get("phone", "")[:20])
    return worker


def _remote() -> str:
    return request.remote_addr or ""


@bp.post("/<int:job_id>/next-wave")
@agent_page()
def next_wave(db, agent, job_id: int):
    """Send the next wave of offers now."""
    job = queries.visible_job(db, agent, job_id)

    def action() -> str:
        offers = services.send_next_wave(db, agent, _settings(), job, utcnow(), _remote())
        return translate("jobs.done.wave", count=len(offers))

    return _act(job.id, action)


@bp.post("/<int:job_id>/widen")
@agent_page()
def widen(db, agent, job_id: int):
    """Send a wave now to every town of the market."""
    job = queries.visible_job(db, agent, job_id)

    def action() -> str:
        offers = services.widen_search(db, agent, _settings(), job, utcnow(), _remote())
        return translate("jobs.done.widen", count=len(offers))

    return _act(job.id, action)


@bp.post("/<int:job_id>/offer")
@agent_page()
def offer(db, agent, job_id: int):
    """Offer the job by SMS to one chosen worker."""
    job = queries.visible_job(db, agent, job_id)

    def action() -> str:
        worker = _worker(db, agent)
        services.offer_to_worker(db, agent, _settings(), job, worker, utcnow(), _remote())
        return translate("jobs.done.offer", name=worker.name, phone=display(worker.phone))

    return _act(job.id, action)


@bp.post("/<int:job_id>/confirm")
@agent_page()
def confirm(db, agent, job_id: int):
    """Book a worker who said yes on the phone."""
    job = queries.visible_job(db, agent, job_id)

    def action() -> str:
        worker = _worker(db, agent)
        note = request.form.get("note", "").strip()
        outcome = services.confirm_by_phone(db, agent, _settings(), job, worker, utcnow(), note, _remote())
        if outcome != Outcome.PLACED:
            raise JobActionRefused(f"outcome_{outcome.value}")
        return translate("jobs.done.confirm", name=worker.name, filled=job.filled, headcount=job.headcount)

    return _act(job.id, action)


@bp.post("/<int:job_id>/pay")
@agent_page()
def raise_pay(db, agent, job_id: int):
    """Raise the daily pay with the employer's consent; matching then runs again."""
    job = queries.visible_job(db, agent, job_id)

    def action() -> str:
        new_pay = services.parse_pay(request.form.get("daily_pay", ""))
        offers = services.raise_pay(
            db,
            agent,
            _settings(),
            job,
            new_pay,
            request.form.get("employer_agreed") == "yes",
            utcnow(),
            request.form.get("note", "").strip(),
            _remote(),
        )
        return translate("jobs.done.pay", pay=new_pay, count=len(offers))

    return _act(job.id, action)


@bp.post("/<int:job_id>/cancel")
@agent_page()
def cancel(db, agent, job_id: int):
    """Cancel the job; the workers it concerned are texted."""
    job = queries.visible_job(db, agent, job_id)

    def action() -> str:
        note = request.form.get("note", "").strip()
        told = services.cancel_job(db, agent, _settings(), job, utcnow(), note, _remote())
        return translate("jobs.done.cancel", count=len(told))

    return _act(job.id, action)
