"""Follow-up tickets: the questions, and the answers an agent records after calling."""

from __future__ import annotations

from flask import Blueprint, abort, current_app, flash, g, redirect, request, url_for

from dispatch.catalogue import trades_in_menu_order
from dispatch.clock import utcnow
from dispatch.console.access import require_visible
from dispatch.console.auth import agent_page
from dispatch.console.followups import services
from dispatch.console.i18n import translate
from dispatch.console.tickets.pages import unavailable_text
from dispatch.console.tickets.services import TicketUnavailable
from dispatch.db import savepoint
from dispatch.followup.services import BadAnswer
from dispatch.models import FollowUp, Ticket, Worker
from dispatch.workers.services import WorkerDetailsError

bp = Blueprint("followups", __name__, url_prefix="/followups", template_folder="templates")
MAX_NOTE = 1000


@bp.app_context_processor
def _panel_helper() -> dict:
    """The ticket page includes this area's panel; it finds its follow-up through this."""

    def follow_up_panel(ticket: Ticket) -> services.Panel | None:
        return services.panel(g.db, ticket)

    def placement_follow_ups(job_id: int) -> dict[int, dict[str, FollowUp]]:
        return services.placement_follow_ups(g.db, job_id)

    def correction_trades() -> list:
        return trades_in_menu_order(g.db)

    return {
        "follow_up_panel": follow_up_panel,
        "placement_follow_ups": placement_follow_ups,
        "correction_trades": correction_trades,
    }


@bp.post("/<int:follow_up_id>/answer")
@agent_page()
def answer(db, agent, follow_up_id: int):
    """Record the answers the agent heard on the phone; the ticket is resolved as called."""
    follow_up, ticket = _follow_up(db, agent, follow_up_id)
    try:
        paid, stars = services.read_answer(follow_up, request.form)
    except BadAnswer:
        flash(translate("followups.invalid"), "error")
        return redirect(_ticket_url(ticket))
    return _work(
        db,
        agent,
        ticket,
        "followups.answered_flash",
        lambda: services.answer_by_phone(
            db,
            _settings(),
            agent,
            ticket,
            follow_up,
            paid,
            stars,
            _note(),
            utcnow(),
            _address(),
            block=request.form.get("block") == "1",
        ),
    )


@bp.post("/<int:follow_up_id>/no-answer")
@agent_page()
def no_answer(db, agent, follow_up_id: int):
    """Nobody answered the call: the ticket is resolved as no answer."""
    follow_up, ticket = _follow_up(db, agent, follow_up_id)
    return _work(
        db,
        agent,
        ticket,
        "followups.no_answer_flash",
        lambda: services.nobody_answered(db, agent, ticket, follow_up, _note(), _address()),
    )


@bp.post("/<int:follow_up_id>/correct")
@agent_page()
def correct(db, agent, follow_up_id: int):
    """What the call revealed about the worker (a new pay floor, a trade and its years), written on
    the worker's record through the same path and audit as the worker page's edit."""
    follow_up, ticket = _follow_up(db, agent, follow_up_id)
    worker = db.get(Worker, follow_up.worker_id, with_for_update=True)
    if worker is None:
        abort(404)
    min_pay, skill, problem = services.read_correction(db, request.form)
    if problem is None and min_pay is None and skill is None:
        problem = "followups.correction.empty"
    if problem is not None:
        flash(translate(problem, **services.CORRECTION_LIMITS), "error")
        return redirect(_ticket_url(ticket))
    try:
        changed = services.correct_worker(db, agent, worker, follow_up, min_pay, skill, _address())
    except WorkerDetailsError:
        flash(translate("followups.correction.refused", **services.CORRECTION_LIMITS), "error")
        return redirect(_ticket_url(ticket))
    key = "followups.correction.saved" if changed else "followups.correction.unchanged"
    flash(translate(key), "success")
    return redirect(_ticket_url(ticket))


@bp.post("/workers/<int:worker_id>/voice")
@agent_page()
def prefers_voice(db, agent, worker_id: int):
    """Switch a worker's follow-ups between SMS and a phone call with a keypad menu."""
    worker = db.get(Worker, worker_id, with_for_update=True)
    if worker is None:
        abort(404)
    require_visible(db, agent, worker.home_site_id)
    wanted = request.form.get("prefers_voice") == "yes"
    services.set_prefers_voice(db, agent, worker, wanted, _address())
    flash(translate("followups.voice_on" if wanted else "followups.voice_off"), "success")
    return redirect(url_for("console.people.worker_page", worker_id=worker.id))


def _work(db, agent, ticket: Ticket, done_key: str, action):
    """Run the action in a savepoint: another agent holding the ticket (or it being resolved) changes
    nothing, and the ticket page says who has it (as the people pages say why an action was refused)."""
    try:
        with savepoint(db):
            action()
    except TicketUnavailable:
        db.refresh(ticket)
        flash(unavailable_text(ticket), "error")
        return redirect(_ticket_url(ticket))
    flash(translate(done_key, id=ticket.id), "success")
    return redirect(url_for("console.tickets.queue"))


def _follow_up(db, agent, follow_up_id: int) -> tuple[FollowUp, Ticket]:
    """The follow-up and its ticket, or 404 (none, no ticket, or another site's)."""
    follow_up = db.get(FollowUp, follow_up_id)
    ticket = db.get(Ticket, follow_up.ticket_id) if follow_up and follow_up.ticket_id else None
    if follow_up is None or ticket is None:
        abort(404)
    require_visible(db, agent, ticket.site_id)
    return follow_up, ticket


def _ticket_url(ticket: Ticket) -> str:
    return url_for("console.tickets.ticket_page", ticket_id=ticket.id)


def _settings():
    return current_app.extensions["dispatch.runtime"].settings


def _note() -> str:
    return request.form.get("note", "").strip()[:MAX_NOTE]


def _address() -> str:
    return request.remote_addr or ""
