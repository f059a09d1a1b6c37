"""Phone intake (a job taken by an agent on the phone) and counter registration (a walk-in worker)."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for

from dispatch.console.auth import agent_page
from dispatch.console.i18n import translate
from dispatch.console.intake import forms, pages, services, tickets
from dispatch.ivr.services import market_today
from dispatch.models import JobStatus, MessageStatus, TicketOutcome

bp = Blueprint("intake", __name__, url_prefix="/intake", template_folder="templates")
INVALID = 422  # a form shown again with its problems


@bp.route("/job", methods=["GET", "POST"])
@agent_page()
def job_form(db, agent):
    """The phone intake form: the fields the IVR asks, one job on submit."""
    settings = pages.settings()
    ticket = tickets.intake_ticket(db, agent, request.args.get("ticket"), lock=request.method == "POST")
    if request.method == "GET":
        values = tickets.job_prefill(ticket, market_today(settings)) if ticket else {}
        values = pages.with_employer_defaults(db, agent, values)
        return render_template(
            "console/intake/job_form.html", **pages.job_context(db, agent, ticket, values, {})
        )
    values = request.form.to_dict()
    problems: forms.Problems = {}
    entry = None
    if taken := tickets.unavailable(agent, ticket):
        problems["form"] = forms.Problem(taken)
    else:
        entry, problems = forms.read_job(db, settings, agent, request.form, tickets.job_recording(ticket))
    if entry is None:
        context = pages.job_context(db, agent, ticket, values, problems)
        return render_template("console/intake/job_form.html", **context), INVALID
    language = ticket.details.get("language") if ticket is not None and ticket.details else None
    remote = request.remote_addr or ""
    job = services.post_job(db, settings, agent, entry, language, remote, ticket.id if ticket else None)
    if ticket is not None:
        note = translate("intake.ticket.job_note", code=job.code, url=pages.job_url(job.id))
        tickets.close_ticket(db, agent, ticket, TicketOutcome.JOB_CREATED, note, remote, job_id=job.id)
    flash(translate("intake.job.created", code=job.code), "success")
    if job.status == JobStatus.HELD:
        flash(translate("intake.job.held"), "warning")
    return redirect(pages.job_url(job.id))


@bp.route("/employer", methods=["GET", "POST"])
@agent_page()
def employer_lookup(db, agent):
    """The employer behind the phone number typed (an htmx fragment of the intake form)."""
    # The form POSTs it as the agent types, so that the number is in no URL (nor the access log).
    phone = request.form.get("phone", "") if request.method == "POST" else request.args.get("phone", "")
    card = pages.employer_card(db, agent, phone)
    return render_template("console/intake/_employer.html", card=card)


@bp.route("/worker", methods=["GET", "POST"])
@agent_page()
def worker_form(db, agent):
    """The counter registration form: a pending worker, and the SMS asking them to reply 1."""
    settings = pages.settings()
    ticket = tickets.intake_ticket(db, agent, request.args.get("ticket"), lock=request.method == "POST")
    if request.method == "GET":
        values = tickets.worker_prefill(ticket) if ticket else {"language": "zh"}
        context = pages.worker_context(db, agent, ticket, values, {})
        return render_template("console/intake/worker_form.html", **context)
    values = {**request.form.to_dict(), "trades": forms.trade_rows(request.form)}
    problems: forms.Problems = {}
    entry = None
    if taken := tickets.unavailable(agent, ticket):
        problems["form"] = forms.Problem(taken)
    else:
        entry, problems = forms.read_worker(db, settings, agent, request.form)
    if entry is None:
        context = pages.worker_context(db, agent, ticket, values, problems)
        return render_template("console/intake/worker_form.html", **context), INVALID
    remote = request.remote_addr or ""
    worker, sms = services.register_worker(db, settings, agent, entry, remote, ticket.id if ticket else None)
    if ticket is not None:
        note = translate("intake.ticket.worker_note", name=worker.name, url=pages.worker_url(worker.id))
        outcome = TicketOutcome.WORKER_REGISTERED
        tickets.close_ticket(db, agent, ticket, outcome, note, remote, worker_id=worker.id)
    flash(translate("intake.worker.registered", name=worker.name), "success")
    if sms.status == MessageStatus.SUPPRESSED:
        flash(translate("intake.worker.sms_suppressed"), "warning")
    return redirect(url_for("console.intake.worker_form", done=worker.id))
