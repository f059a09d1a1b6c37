"""Sign-in, sign-out and the language switch."""

from __future__ import annotations

from flask import current_app, g, redirect, render_template, request, session, url_for

from dispatch.console import bp
from dispatch.console.audit import record
from dispatch.console.auth import (
    agent_page,
    authenticate,
    end_session,
    safe_next,
    sign_in_succeeded,
    start_session,
    take_sign_in_attempt,
)
from dispatch.i18n import pick_language


@bp.get("/")
def index():
    """The console opens on the queue."""
    return redirect(url_for("console.tickets.queue"))


@bp.route("/sign-in", methods=["GET", "POST"])
def sign_in():
    """The sign-in form; wrong passwords are throttled per username and per address."""
    error = ""
    status = 200
    username = request.form.get("username", "").strip()[:64]
    if request.method == "POST":
        if not take_sign_in_attempt(username):
            error, status = "sign_in.locked", 429
        else:
            runtime = current_app.extensions["dispatch.runtime"]
            with runtime.db.transaction() as db:
                password = request.form.get("password", "")
                agent = authenticate(db, username, password, production=runtime.settings.is_production)
                if agent is not None:
                    start_session(db, agent)
                    record(db, agent, "agent.sign_in", agent, remote_addr=request.remote_addr or "")
                    sign_in_succeeded(username)
                    return redirect(safe_next(request.form.get("next")))
            error, status = "sign_in.wrong", 401
    next_url = request.values.get("next", "")
    return render_template("console/sign_in.html", error=error, username=username, next=next_url), status


@bp.post("/sign-out")
@agent_page()
def sign_out(db, agent):
    """End the session."""
    record(db, agent, "agent.sign_out", agent, remote_addr=request.remote_addr or "")
    end_session(g.agent_session)
    return redirect(url_for("console.sign_in"))


@bp.post("/language")
def language():
    """Switch the console between Chinese and English (kept in the session)."""
    session["lang"] = pick_language(request.form.get("lang"))
    return redirect(safe_next(request.form.get("next")))
