"""The queue page and the actions on one ticket."""

from __future__ import annotations

from collections.abc import Callable

from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for

from dispatch.console.access import visible_row
from dispatch.console.auth import agent_page
from dispatch.console.canned.views import bp as canned_bp
from dispatch.console.i18n import translate
from dispatch.console.tickets import work
from dispatch.console.tickets.pages import may_work, render_ticket, unavailable_text
from dispatch.console.tickets.queries import VIEWS, QueueFilter, open_counts, queue_tickets
from dispatch.console.tickets.services import (
    ClosesWithCase,
    ClosesWithJob,
    TicketUnavailable,
    claim_ticket,
    next_ticket,
    release_ticket,
    resolve_ticket,
)
from dispatch.console.tickets.timers import ticket_wait
from dispatch.db import savepoint
from dispatch.models import MessageStatus, Ticket, TicketKind, TicketOutcome

bp = Blueprint("tickets", __name__, url_prefix="/tickets", template_folder="templates")
bp.register_blueprint(canned_bp)  # /console/tickets/canned: the replies are the queue's tools
bp.add_app_template_global(ticket_wait)
POLL_SECONDS = 3


@bp.get("/")
@agent_page()
def queue(db, agent):
    """Open tickets by priority and age; the rows refresh themselves every few seconds."""
    chosen = QueueFilter.from_args(request.args)
    return render_template(
        "console/tickets/queue.html",
        tickets=queue_tickets(db, agent, chosen),
        counts=open_counts(db, agent),
        chosen=chosen,
        views=VIEWS,
        kinds=list(TicketKind),
        poll_seconds=POLL_SECONDS,
    )


@bp.get("/rows")
@agent_page()
def rows(db, agent):
    """The queue's rows alone, for the page's polling."""
    chosen = QueueFilter.from_args(request.args)
    return render_template(
        "console/tickets/rows.html", tickets=queue_tickets(db, agent, chosen), counts=open_counts(db, agent)
    )


@bp.post("/next")
@agent_page()
def next_one(db, agent):
    """Claim the most urgent open ticket this agent may work and open it (key `n`)."""
    ticket = next_ticket(db, agent, _address())
    if ticket is None:
        flash(translate("tickets.nothing_next"), "success")
        return redirect(url_for(".queue"))
    return redirect(url_for(".ticket_page", ticket_id=ticket.id))


@bp.get("/<int:ticket_id>")
@agent_page()
def ticket_page(db, agent, ticket_id: int):
    """One ticket with what the machine collected and the actions for its kind."""
    return render_ticket(db, agent, _ticket(db, agent, ticket_id))


@bp.post("/<int:ticket_id>/claim")
@agent_page()
def claim(db, agent, ticket_id: int):
    """Take the ticket; if another agent was faster, say who has it."""
    ticket = _ticket(db, agent, ticket_id)
    try:
        claim_ticket(db, agent, ticket, _address())
    except TicketUnavailable:
        return render_ticket(db, agent, ticket, 409, unavailable_text(ticket))
    return redirect(url_for(".ticket_page", ticket_id=ticket.id))


@bp.post("/<int:ticket_id>/release")
@agent_page()
def release(db, agent, ticket_id: int):
    """Give the ticket back to the queue (its holder, or a supervisor)."""
    return _act(
        db,
        agent,
        ticket_id,
        "tickets.released",
        lambda ticket: release_ticket(db, agent, ticket, request.form.get("note", ""), _address()),
        needs_work=False,
    )


@bp.post("/<int:ticket_id>/resolve")
@agent_page()
def resolve(db, agent, ticket_id: int):
    """Close the ticket with an outcome and a note."""
    try:
        outcome = TicketOutcome(request.form.get("outcome", ""))
    except ValueError:
        return render_ticket(
            db, agent, _ticket(db, agent, ticket_id), 400, translate("tickets.choose_outcome")
        )
    return _act(
        db,
        agent,
        ticket_id,
        "tickets.resolved_flash",
        lambda ticket: resolve_ticket(db, agent, ticket, outcome, request.form.get("note", ""), _address()),
        needs_work=False,
    )


@bp.post("/<int:ticket_id>/reread")
@agent_page()
def reread(db, agent, ticket_id: int):
    """Handle an unreadable SMS as the agent reads it (e.g. `1 123`, `退订`, `注册 ...`)."""
    return _act(
        db,
        agent,
        ticket_id,
        "tickets.reread_done",
        lambda ticket: work.reread_message(
            db, _settings(), agent, ticket, request.form.get("text", ""), _address()
        ),
    )


@bp.post("/<int:ticket_id>/reply")
@agent_page()
def reply(db, agent, ticket_id: int):
    """Answer the sender by SMS in the agent's own words (quiet hours and opt-outs respected)."""

    def send(ticket: Ticket) -> str:
        sent = work.reply_to_sender(db, _settings(), agent, ticket, request.form.get("text", ""), _address())
        return "tickets.reply_suppressed" if sent.status == MessageStatus.SUPPRESSED else "tickets.replied"

    return _act(db, agent, ticket_id, "tickets.replied", send, nothing_key="tickets.no_phone")


@bp.post("/<int:ticket_id>/transcript")
@agent_page()
def transcript(db, agent, ticket_id: int):
    """Keep what the agent heard on a voicemail or call with the ticket."""
    return _act(
        db,
        agent,
        ticket_id,
        "tickets.transcript_saved",
        lambda ticket: work.save_transcript(
            db, agent, ticket, request.form.get("transcript", ""), _address()
        ),
        back_to_ticket=True,
    )


@bp.post("/<int:ticket_id>/name")
@agent_page()
def recorded_name(db, agent, ticket_id: int):
    """Type the name a worker spoke when registering by phone, or the full name day insurance needs."""
    return _act(
        db,
        agent,
        ticket_id,
        "tickets.name_saved",
        lambda ticket: work.type_recorded_name(
            db, _settings(), agent, ticket, request.form.get("name", ""), _address()
        ),
        nothing_key="tickets.name_needed",
    )


def _act(
    db,
    agent,
    ticket_id: int,
    done_key: str,
    action: Callable[[Ticket], object],  # may return the key of a different success text
    *,
    needs_work: bool = True,
    nothing_key: str = "tickets.nothing_to_do",
    back_to_ticket: bool = False,
):
    """Run one action on a visible ticket: a refusal re-shows the ticket with why and changes nothing
    (the action's savepoint is rolled back, whatever it had done), success flashes `done_key` and
    goes back to the queue (or the ticket)."""
    ticket = _ticket(db, agent, ticket_id)
    try:
        if needs_work and not may_work(agent, ticket):
            raise TicketUnavailable(ticket)
        with savepoint(db):
            said = action(ticket)
    except (
        TicketUnavailable,
        ClosesWithCase,
        ClosesWithJob,
        work.StillUnreadable,
        work.DraftRefused,
        work.NothingToDo,
    ) as refusal:
        db.refresh(ticket)  # as it is now that the action's savepoint is undone
        status, text = _refusal_answer(refusal, ticket, nothing_key)
        return render_ticket(db, agent, ticket, status, text)
    flash(translate(said if isinstance(said, str) else done_key, id=ticket.id), "success")
    if back_to_ticket:
        return redirect(url_for(".ticket_page", ticket_id=ticket.id))
    return redirect(url_for(".queue"))


def _refusal_answer(refusal: Exception, ticket: Ticket, nothing_key: str) -> tuple[int, str]:
    if isinstance(refusal, TicketUnavailable):
        return 409, unavailable_text(ticket)
    if isinstance(refusal, ClosesWithCase):
        case_id = (ticket.details or {}).get("wage_case_id", "")
        return 409, translate("cases.panel.resolve_on_case_page", number=case_id)
    if isinstance(refusal, ClosesWithJob):
        return 409, translate(
            "tickets.held_job_closes_with_job", code=(ticket.details or {}).get("job_code", "")
        )
    if isinstance(refusal, work.StillUnreadable):
        return 422, translate("tickets.still_unreadable")
    if isinstance(refusal, work.DraftRefused):
        return 422, translate(f"tickets.reply_refused_{refusal.draft.refusal}")
    return 400, translate(nothing_key)


def _ticket(db, agent, ticket_id: int) -> Ticket:
    return visible_row(db, agent, Ticket, ticket_id)


def _settings():
    return current_app.extensions["dispatch.runtime"].settings


def _address() -> str:
    return request.remote_addr or ""
