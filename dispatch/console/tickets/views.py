"""The queue page and the actions on one ticket."""

from __future__ import annotations

import logging

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from sqlalchemy import select

from dispatch.console.access import require_visible
from dispatch.console.auth import agent_page
from dispatch.console.i18n import translate
from dispatch.console.tickets import work
from dispatch.console.tickets.queries import VIEWS, QueueFilter, open_counts, queue_tickets
from dispatch.console.tickets.services import (
    TicketUnavailable,
    claim_ticket,
    release_ticket,
    resolve_ticket,
)
from dispatch.models import (
    Call,
    Employer,
    Job,
    Message,
    MessageStatus,
    Ticket,
    TicketKind,
    TicketOutcome,
    TicketStatus,
    Worker,
)

log = logging.getLogger(__name__)
bp = Blueprint("tickets", __name__, url_prefix="/tickets", template_folder="templates")
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


def _ticket(db, agent, ticket_id: int) -> Ticket:
    ticket = db.get(Ticket, ticket_id)
    if ticket is None:
        abort(404)
    require_visible(db, agent, ticket.site_id)
    return ticket


@bp.get("/<int:ticket_id>")
@agent_page()
def ticket_page(db, agent, ticket_id: int):
    """One ticket with what the machine collected and the actions for its kind."""
    ticket = _ticket(db, agent, ticket_id)
    return _render_ticket(db, agent, ticket)


def _render_ticket(db, agent, ticket: Ticket, status: int = 200, error: str = ""):
    message = db.get(Message, ticket.message_id) if ticket.message_id else None
    worker = db.get(Worker, ticket.worker_id) if ticket.worker_id else None
    employer = db.get(Employer, ticket.employer_id) if ticket.employer_id else None
    job = db.get(Job, ticket.job_id) if ticket.job_id else None
    call = db.scalar(select(Call).where(Call.call_sid == ticket.call_sid)) if ticket.call_sid else None
    return render_template(
        "console/tickets/ticket.html",
        ticket=ticket,
        message=message,
        worker=worker,
        employer=employer,
        job=job,
        call=call,
        recordings=_recordings(ticket, call),
        outcomes=list(TicketOutcome),
        holds_it=ticket.status == TicketStatus.CLAIMED and ticket.claimed_by_id == agent.id,
        error=error,
    ), status


def _recordings(ticket: Ticket, call: Call | None) -> list[tuple[str, str]]:
    """(what, url) of every recording the ticket or its call holds: voicemail, name, description."""
    found = [
        (key.removesuffix("_recording_url"), value)
        for key, value in sorted(ticket.details.items())
        if key.endswith("_recording_url") and isinstance(value, str)
    ]
    if call is not None and call.recording_url and all(url != call.recording_url for _, url in found):
        found.append(("voicemail", call.recording_url))
    return found


@bp.post("/<int:ticket_id>/claim")
@agent_page()
def claim(db, agent, ticket_id: int):
    """Take the ticket; if another agent was faster, say who has it."""
    ticket = _ticket(db, agent, ticket_id)
    try:
        claim_ticket(db, agent, ticket, request.remote_addr or "")
    except TicketUnavailable:
        return _render_ticket(db, agent, ticket, 409, _unavailable_text(ticket))
    return redirect(url_for(".ticket_page", ticket_id=ticket.id))


@bp.post("/<int:ticket_id>/release")
@agent_page()
def release(db, agent, ticket_id: int):
    """Give the ticket back to the queue."""
    ticket = _ticket(db, agent, ticket_id)
    try:
        release_ticket(db, agent, ticket, request.form.get("note", ""), request.remote_addr or "")
    except TicketUnavailable:
        return _render_ticket(db, agent, ticket, 409, _unavailable_text(ticket))
    flash(translate("tickets.released", id=ticket.id), "success")
    return redirect(url_for(".queue"))


@bp.post("/<int:ticket_id>/resolve")
@agent_page()
def resolve(db, agent, ticket_id: int):
    """Close the ticket with an outcome and a note."""
    ticket = _ticket(db, agent, ticket_id)
    try:
        outcome = TicketOutcome(request.form.get("outcome", ""))
    except ValueError:
        return _render_ticket(db, agent, ticket, 400, translate("tickets.choose_outcome"))
    try:
        resolve_ticket(db, agent, ticket, outcome, request.form.get("note", ""), request.remote_addr or "")
    except TicketUnavailable:
        return _render_ticket(db, agent, ticket, 409, _unavailable_text(ticket))
    flash(translate("tickets.resolved_flash", id=ticket.id), "success")
    return redirect(url_for(".queue"))


@bp.post("/<int:ticket_id>/reread")
@agent_page()
def reread(db, agent, ticket_id: int):
    """Handle an unreadable SMS as the agent reads it (e.g. `1 123`, `退订`, `注册 ...`)."""
    ticket = _ticket(db, agent, ticket_id)
    if not _may_work(agent, ticket):
        return _render_ticket(db, agent, ticket, 409, _unavailable_text(ticket))
    settings = current_app.extensions["dispatch.runtime"].settings
    try:
        work.reread_message(
            db, settings, agent, ticket, request.form.get("text", ""), request.remote_addr or ""
        )
    except TicketUnavailable:
        return _render_ticket(db, agent, ticket, 409, _unavailable_text(ticket))
    except work.StillUnreadable:
        return _render_ticket(db, agent, ticket, 422, translate("tickets.still_unreadable"))
    except work.NothingToDo:
        return _render_ticket(db, agent, ticket, 400, translate("tickets.nothing_to_do"))
    flash(translate("tickets.reread_done", id=ticket.id), "success")
    return redirect(url_for(".queue"))


@bp.post("/<int:ticket_id>/reply")
@agent_page()
def reply(db, agent, ticket_id: int):
    """Answer the sender by SMS in the agent's own words (quiet hours and opt-outs respected)."""
    ticket = _ticket(db, agent, ticket_id)
    if not _may_work(agent, ticket):
        return _render_ticket(db, agent, ticket, 409, _unavailable_text(ticket))
    settings = current_app.extensions["dispatch.runtime"].settings
    try:
        sent = work.reply_to_sender(
            db, settings, agent, ticket, request.form.get("text", ""), request.remote_addr or ""
        )
    except TicketUnavailable:
        return _render_ticket(db, agent, ticket, 409, _unavailable_text(ticket))
    except work.NothingToDo:
        return _render_ticket(db, agent, ticket, 400, translate("tickets.no_phone"))
    if not isinstance(sent, Message):
        return _render_ticket(db, agent, ticket, 422, translate(f"tickets.reply_refused_{sent.refusal}"))
    key = "tickets.reply_suppressed" if sent.status == MessageStatus.SUPPRESSED else "tickets.replied"
    flash(translate(key, id=ticket.id), "success")
    return redirect(url_for(".queue"))


@bp.post("/<int:ticket_id>/transcript")
@agent_page()
def transcript(db, agent, ticket_id: int):
    """Keep what the agent heard on a voicemail or call with the ticket."""
    ticket = _ticket(db, agent, ticket_id)
    if not _may_work(agent, ticket):
        return _render_ticket(db, agent, ticket, 409, _unavailable_text(ticket))
    try:
        work.save_transcript(db, agent, ticket, request.form.get("transcript", ""), request.remote_addr or "")
    except TicketUnavailable:
        return _render_ticket(db, agent, ticket, 409, _unavailable_text(ticket))
    flash(translate("tickets.transcript_saved"), "success")
    return redirect(url_for(".ticket_page", ticket_id=ticket.id))


@bp.post("/<int:ticket_id>/name")
@agent_page()
def recorded_name(db, agent, ticket_id: int):
    """Type the name a worker spoke when registering by phone."""
    ticket = _ticket(db, agent, ticket_id)
    if not _may_work(agent, ticket):
        return _render_ticket(db, agent, ticket, 409, _unavailable_text(ticket))
    try:
        work.type_recorded_name(db, agent, ticket, request.form.get("name", ""), request.remote_addr or "")
    except TicketUnavailable:
        return _render_ticket(db, agent, ticket, 409, _unavailable_text(ticket))
    except work.NothingToDo:
        return _render_ticket(db, agent, ticket, 400, translate("tickets.name_needed"))
    flash(translate("tickets.name_saved", id=ticket.id), "success")
    return redirect(url_for(".queue"))


def _may_work(agent, ticket: Ticket) -> bool:
    """Work on a ticket needs it open (claimed by the same stroke) or held by this agent."""
    return ticket.status == TicketStatus.OPEN or (
        ticket.status == TicketStatus.CLAIMED and ticket.claimed_by_id == agent.id
    )


def _unavailable_text(ticket: Ticket) -> str:
    if ticket.status == TicketStatus.RESOLVED:
        return translate("tickets.already_resolved")
    holder = ticket.claimed_by.label if ticket.claimed_by else "?"
    return translate("tickets.claimed_by_other", agent=holder)
