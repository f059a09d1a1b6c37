"""Supervisors keep the canned replies of each ticket kind (agents insert them with Alt+1..9)."""

from __future__ import annotations

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for

from dispatch.console.auth import agent_page
from dispatch.console.canned.services import (
    MAX_PER_KIND,
    CannedForm,
    CannedRefused,
    all_replies,
    delete_reply,
    save_reply,
)
from dispatch.console.i18n import translate
from dispatch.models import AgentRole, CannedReply, TicketKind

bp = Blueprint("canned", __name__, url_prefix="/canned", template_folder="templates")
KEEPERS = (AgentRole.SUPERVISOR, AgentRole.ADMIN)


@bp.get("/")
@agent_page(*KEEPERS)
def canned_list(db, agent):
    """Every kind's replies, each editable, and a form to add one."""
    return _page(db)


@bp.post("/")
@agent_page(*KEEPERS)
def add(db, agent):
    """Add a reply to a kind (refused with why when too long or empty)."""
    form = CannedForm.from_form(request.form)
    try:
        save_reply(db, _settings(), agent, form, remote_addr=request.remote_addr or "")
    except CannedRefused as refused:
        return _page(db, refused, form, None)
    flash(translate("canned.saved"), "success")
    return redirect(url_for(".canned_list"))


@bp.post("/<int:reply_id>")
@agent_page(*KEEPERS)
def edit(db, agent, reply_id: int):
    """Change a reply's title, texts or place."""
    reply = db.get(CannedReply, reply_id) or abort(404)
    form = CannedForm.from_form(request.form)
    try:
        save_reply(db, _settings(), agent, form, reply, remote_addr=request.remote_addr or "")
    except CannedRefused as refused:
        db.refresh(reply)
        return _page(db, refused, form, reply_id)
    flash(translate("canned.saved"), "success")
    return redirect(url_for(".canned_list"))


@bp.post("/<int:reply_id>/delete")
@agent_page(*KEEPERS)
def delete(db, agent, reply_id: int):
    """Remove a reply (the audit log keeps its texts)."""
    delete_reply(db, agent, db.get(CannedReply, reply_id) or abort(404), request.remote_addr or "")
    flash(translate("canned.deleted"), "success")
    return redirect(url_for(".canned_list"))


def _page(
    db, refused: CannedRefused | None = None, form: CannedForm | None = None, editing: int | None = None
):
    errors = (
        [translate(f"canned.refused_{key}", **fields) for key, fields in refused.problems] if refused else []
    )
    return render_template(
        "console/canned/list.html",
        replies=all_replies(db),
        kinds=list(TicketKind),
        errors=errors,
        form=form,
        editing=editing,
        max_per_kind=MAX_PER_KIND,
    ), (422 if refused else 200)


def _settings():
    return current_app.extensions["dispatch.runtime"].settings
