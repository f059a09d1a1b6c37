"""Search, and the page of a worker or an employer with their conversation."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for

from dispatch.catalogue import trades_in_menu_order
from dispatch.console.access import require_visible, visible_site_ids
from dispatch.console.auth import agent_page
from dispatch.console.i18n import local_datetime, translate
from dispatch.console.intake.forms import LIMITS, trade_rows
from dispatch.console.intake.sites import site_groups
from dispatch.console.people import editing, history, services
from dispatch.console.people.search import parse_query, single_exact_hit
from dispatch.console.people.search import search as find
from dispatch.models import Employer, Job, Worker
from dispatch.phones import display
from dispatch.workers import limits

bp = Blueprint("people", __name__, url_prefix="/people", template_folder="templates")

KINDS = {"workers": Worker, "employers": Employer}
PERSON = "<any(workers, employers):kind>/<int:person_id>"


@bp.context_processor
def _helpers() -> dict:
    return {"show_phone": display, "max_segments": services.MAX_AGENT_SEGMENTS}


@bp.route("/search", methods=["GET", "POST"])
@agent_page()
def search(db, agent):
    """Find a worker, employer or job by phone, name or code."""
    # The forms POST, so that a number searched for is in no URL (access log, browser history);
    # `?q=` still works for a link.
    typed = request.form.get("q", "") if request.method == "POST" else request.args.get("q", "")
    query = parse_query(typed, _settings().DEFAULT_REGION)
    results = find(db, agent, query)
    hit = single_exact_hit(query, results)
    if hit is not None:
        return redirect(_page_url(hit))
    return render_template("console/people/search.html", query=query, results=results)


@bp.get("/workers/<int:worker_id>")
@agent_page()
def worker_page(db, agent, worker_id):
    """A worker: details, offers and placements, every SMS and call, and the actions."""
    return _person_page(db, agent, _person(db, agent, "workers", worker_id))


@bp.get("/employers/<int:employer_id>")
@agent_page()
def employer_page(db, agent, employer_id):
    """An employer: details, jobs, every SMS and call."""
    return _person_page(db, agent, _person(db, agent, "employers", employer_id))


@bp.get(f"/{PERSON}/timeline")
@agent_page()
def timeline(db, agent, kind, person_id):
    """The timeline fragment (htmx refreshes it)."""
    person = _person(db, agent, kind, person_id)
    return render_template("console/people/_timeline.html", person=person, timeline=_timeline(db, person))


@bp.post(f"/{PERSON}/sms/count")
@agent_page()
def sms_count(db, agent, kind, person_id):
    """How many SMS parts the text being typed will cost (htmx, as the agent types)."""
    person = _person(db, agent, kind, person_id)
    draft = services.draft_sms(db, _settings(), person.phone, request.form.get("text", ""))
    return render_template("console/people/_sms_count.html", draft=draft)


@bp.post(f"/{PERSON}/sms")
@agent_page()
def send_sms(db, agent, kind, person_id):
    """Send the text the agent typed, through the one outbound path (quiet hours, opt-outs)."""
    person = _person(db, agent, kind, person_id)
    typed = request.form.get("text", "")
    result = services.send_agent_sms(db, _settings(), agent, person, typed, request.remote_addr or "")
    if isinstance(result, services.SmsDraft):
        notice: tuple[str, str, dict[str, Any]] = (
            "error",
            f"people.sms.refused.{result.refusal}",
            {"max": services.MAX_AGENT_SEGMENTS},
        )
        if request.headers.get("HX-Request"):
            return render_template("console/people/_sms_panel.html", person=person, text=typed, notice=notice)
        return _person_page(db, agent, person, sms_text=typed, sms_notice=notice, status=422)
    outcome = services.sms_outcome(db, result)
    category = "error" if outcome in {"opted_out", "undeliverable"} else "success"
    fields: dict[str, Any] = {"segments": result.segments, "when": local_datetime(result.send_after)}
    notice = (category, f"people.sms.outcome.{outcome}", fields)
    if request.headers.get("HX-Request"):
        return render_template(
            "console/people/_sms_sent.html", person=person, notice=notice, timeline=_timeline(db, person)
        )
    flash(translate(notice[1], **fields), category)
    return redirect(_page_url(person))


@bp.post("/workers/<int:worker_id>/<any(pause, resume, block, unblock, notes):action>")
@agent_page()
def worker_action(db, agent, worker_id, action):
    """Pause or resume offers, block or unblock, or edit the notes of a worker."""
    worker = _person(db, agent, "workers", worker_id, lock=True)
    assert isinstance(worker, Worker)  # the "workers" kind
    remote_addr = request.remote_addr or ""
    try:
        if action == "pause":
            services.pause_offers(db, agent, worker, remote_addr)
        elif action == "resume":
            services.resume_offers(db, agent, worker, remote_addr)
        elif action == "block":
            services.block_worker(db, agent, worker, request.form.get("reason", ""), remote_addr)
        elif action == "unblock":
            services.unblock_worker(db, agent, worker, remote_addr)
        else:
            services.edit_notes(db, agent, worker, request.form.get("notes", ""), remote_addr)
    except services.ActionRefused as refused:
        flash(translate(f"people.action.refused.{refused.key}"), "error")
    else:
        flash(translate(f"people.action.done.{action}"), "success")
    return redirect(_page_url(worker))


@bp.post("/workers/<int:worker_id>/edit")
@agent_page()
def edit_worker(db, agent, worker_id):
    """Correct the worker's record (name, trades and years, pay floor, home site, language, voice)."""
    worker = _person(db, agent, "workers", worker_id, lock=True)
    assert isinstance(worker, Worker)
    edit, problems = editing.read_worker_edit(db, agent, worker, request.form)
    if edit is None:
        values = {**request.form.to_dict(), "trades": trade_rows(request.form)}
        return _person_page(db, agent, worker, edit_values=values, edit_problems=problems, status=422)
    changed = editing.edit_worker(db, agent, worker, edit, request.remote_addr or "")
    flash(translate("people.edit.saved" if changed else "people.edit.unchanged"), "success")
    return redirect(_page_url(worker))


@bp.post("/employers/<int:employer_id>/edit")
@agent_page()
def edit_employer(db, agent, employer_id):
    """Correct the employer's name, site and address."""
    employer = _person(db, agent, "employers", employer_id, lock=True)
    assert isinstance(employer, Employer)
    edit, problems = editing.read_employer_edit(db, agent, request.form)
    if edit is None:
        values = request.form.to_dict()
        return _person_page(db, agent, employer, edit_values=values, edit_problems=problems, status=422)
    changed = editing.edit_employer(db, agent, employer, edit, request.remote_addr or "")
    flash(translate("people.edit.saved" if changed else "people.edit.unchanged"), "success")
    return redirect(_page_url(employer))


# -- helpers of these views -----------------------------------------------------------------------


def _settings():
    return current_app.extensions["dispatch.runtime"].settings


def _person(db, agent, kind: str, person_id: int, lock: bool = False) -> Worker | Employer:
    """The worker or employer, or 404 when there is none or it belongs to another site."""
    model = KINDS[kind]
    person = db.get(model, person_id, with_for_update=lock)
    if person is None:
        abort(404)
    require_visible(db, agent, person.home_site_id if isinstance(person, Worker) else person.site_id)
    return person


def _timeline(db, person: Worker | Employer) -> history.Timeline:
    if isinstance(person, Worker):
        return history.worker_timeline(db, person)
    return history.employer_timeline(db, person)


def _page_url(row: Worker | Employer | Job) -> str:
    if isinstance(row, Worker):
        return url_for("console.people.worker_page", worker_id=row.id)
    if isinstance(row, Employer):
        return url_for("console.people.employer_page", employer_id=row.id)
    return f"{url_for('console.jobs.job_list')}{row.id}"


def _person_page(
    db,
    agent,
    person,
    sms_text: str = "",
    sms_notice=None,
    status: int = 200,
    edit_values: dict | None = None,
    edit_problems: dict | None = None,
):
    context = {
        "person": person,
        "contact": history.contact_of(db, person.phone),
        "timeline": _timeline(db, person),
        "visible_sites": visible_site_ids(db, agent),
        "text": sms_text,
        "notice": sms_notice,
        # The edit form: the record as it is, or what was typed and what is wrong with it.
        "site_groups": site_groups(db, agent),
        "edit_problems": edit_problems or {},
        "limits": LIMITS | {"max_typed_name": limits.TYPED_NAME_MAX_LENGTH},
    }
    if isinstance(person, Worker):
        values = edit_values or editing.worker_values(db, person)
        rows = list(values.get("trades") or [])[: limits.MAX_TRADES]
        context.update(
            edit_values=values,
            edit_rows=rows + [("", "")] * (limits.MAX_TRADES - len(rows)),
            edit_trades=trades_in_menu_order(db),
        )
    else:
        context.update(edit_values=edit_values or editing.employer_values(person))
    if isinstance(person, Worker):
        offers = history.worker_offers(db, person)
        context.update(
            offers=offers, placements=history.placements(offers), rating=history.worker_rating(person)
        )
        return render_template("console/people/worker.html", **context), status
    context.update(jobs=history.employer_jobs(db, agent, person))
    return render_template("console/people/employer.html", **context), status


# Per-employer blocks: their routes live in blocks.py, on this blueprint.
from dispatch.console.people import blocks as _blocks  # noqa: E402, F401
