"""Outreach in the console: /console/outreach/ (events and their sends), /new (the event, the audience,
the count and cost, then schedule), /<id> (an event's sends and sign-ups), /<id>/counter (attendance
taken at the counter: who came, who finished a training, walk-ins; sign-ups cancelled)."""

from __future__ import annotations

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from dispatch.catalogue import trades_in_menu_order
from dispatch.clock import utcnow
from dispatch.console.access import may_see, sites_for_choice
from dispatch.console.audit import record
from dispatch.console.auth import agent_page
from dispatch.console.i18n import current_language, translate
from dispatch.console.outreach import counter, forms
from dispatch.i18n import market_zone
from dispatch.models import Event, EventKind, EventSignup, Outreach, SignupStatus, Worker
from dispatch.outreach import attendance, services, signups
from dispatch.settings import Settings

bp = Blueprint("outreach", __name__, url_prefix="/outreach", template_folder="templates")
LISTED = 50


def _settings() -> Settings:
    return current_app.extensions["dispatch.runtime"].settings


@bp.get("/")
@agent_page()
def events(db, agent):
    """The latest events the agent's sites hold, with their sends and sign-ups."""
    latest = db.scalars(select(Event).order_by(Event.id.desc()).limit(LISTED))
    rows = [event for event in latest if may_see(db, agent, event.site_id)]
    ids = [event.id for event in rows]
    sends = list(db.scalars(select(Outreach).where(Outreach.event_id.in_(ids)).order_by(Outreach.id)))
    booked = (
        select(EventSignup.event_id, func.count())
        .where(EventSignup.event_id.in_(ids), EventSignup.status == SignupStatus.BOOKED)
        .group_by(EventSignup.event_id)
    )
    counts = {event_id: count for event_id, count in db.execute(booked)}
    return render_template("console/outreach/events.html", events=rows, sends=sends, booked=counts)


def _form_page(db, agent, preview=None, error: str = "", status: int = 200, **fields):
    page = render_template(
        "console/outreach/new.html",
        form=request.form,
        chosen_trades=request.form.getlist("trades"),
        kinds=list(EventKind),
        sites=sites_for_choice(db, agent),
        trades=trades_in_menu_order(db),
        preview=preview,
        error=translate(error, **fields) if error else "",
    )
    return page, status


@bp.get("/new")
@agent_page()
def new(db, agent):
    return _form_page(db, agent)


@bp.post("/new")
@agent_page()
def create(db, agent):
    """`preview`: the count and the SMS cost; `schedule`: keep the event and its send (audited)."""
    settings, now = _settings(), utcnow()
    try:
        read = forms.read(db, agent, request.form, request.form.getlist("trades"), market_zone(settings))
        if read.event.kind == EventKind.ANNOUNCEMENT:
            read.event.capacity, read.event.starts_at = None, None
        services.check_event(settings, read.event)
        shown = services.preview(db, settings, read.event, read.audience, now)
        if request.form.get("action") != "schedule":
            return _form_page(db, agent, shown)
        event = services.create_event(db, settings, read.event, agent)
        outreach = services.schedule(db, settings, agent, event, read.audience, read.send_at or now, now)
    except services.OutreachRefused as refused:
        return _form_page(db, agent, None, refused.key, 400, **refused.fields)
    record(
        db,
        agent,
        "outreach.schedule",
        outreach,
        remote_addr=request.remote_addr or "",
        event_id=event.id,
        kind=event.kind,
        title=event.title_zh,
        trade_id=event.trade_id,
        audience=outreach.audience,
        planned=outreach.planned,
        segments=outreach.planned_segments,
        send_at=outreach.send_at,
    )
    flash(
        translate("outreach.scheduled", count=outreach.planned, segments=outreach.planned_segments), "success"
    )
    return redirect(url_for("console.outreach.event_page", event_id=event.id))


def _event(db: Session, agent, event_id: int) -> Event:
    event = db.get(Event, event_id) if event_id < 2**31 else None
    if event is None or not may_see(db, agent, event.site_id):
        abort(404)
    return event


@bp.get("/<int:event_id>")
@agent_page()
def event_page(db, agent, event_id: int):
    event = _event(db, agent, event_id)
    sends = list(db.scalars(select(Outreach).where(Outreach.event_id == event.id).order_by(Outreach.id)))
    return render_template(
        "console/outreach/event.html",
        event=event,
        sends=sends,
        signups=signups.signups(db, event.id),
        tally=counter.tally(db, event.id),
    )


@bp.post("/sends/<int:outreach_id>/cancel")
@agent_page()
def cancel(db, agent, outreach_id: int):
    """A send not yet gone is cancelled (its job then finds it so and sends nothing)."""
    outreach = db.get(Outreach, outreach_id) if outreach_id < 2**31 else None
    if outreach is None or not may_see(db, agent, outreach.event.site_id):
        abort(404)
    if services.cancel(db, outreach):
        record(db, agent, "outreach.cancel", outreach, remote_addr=request.remote_addr or "")
        flash(translate("outreach.cancelled"), "success")
    return redirect(url_for("console.outreach.event_page", event_id=outreach.event_id))


# -- the counter: attendance, walk-ins, cancellations ----------------------------------------------


@bp.get("/<int:event_id>/counter")
@agent_page()
def counter_page(db, agent, event_id: int):
    """The list to take attendance from: `q` (a name, or the last digits of a phone) narrows it and
    finds workers to add as walk-ins; with one row found its first button has the focus (Enter)."""
    event = _event(db, agent, event_id)
    query = request.args.get("q", "")
    region = _settings().DEFAULT_REGION
    rows = counter.matching_signups(db, event.id, query, region)
    found = counter.walk_in_candidates(db, agent, event.id, query, region)
    return render_template(
        "console/outreach/counter.html",
        event=event,
        rows=rows,
        walk_ins=found,
        q=query,
        tally=counter.tally(db, event.id),
        may_complete=attendance.may_complete(event),
    )


@bp.post("/<int:event_id>/counter/<int:signup_id>")
@agent_page()
def mark(db, agent, event_id: int, signup_id: int):
    event = _event(db, agent, event_id)
    signup = db.get(EventSignup, signup_id) if signup_id < 2**31 else None
    if signup is None or signup.event_id != event.id:
        abort(404)
    try:
        how = attendance.Mark(request.form.get("mark", ""))
    except ValueError:
        abort(400)
    if how == attendance.Mark.COMPLETED and not attendance.may_complete(event):
        how = attendance.Mark.CAME  # only a training is completed (the audit says what was marked)
    marked = attendance.mark(db, signup, how, utcnow())
    added = marked.trade_added
    record(
        db,
        agent,
        "outreach.attendance",
        signup,
        remote_addr=request.remote_addr or "",
        event_id=event.id,
        worker_id=signup.worker_id,
        mark=how,
        trade_added=added.code if added else None,
    )
    name = signup.worker.name or str(signup.worker_id)
    flash(translate(f"outreach.marked.{how.value}", name=name), "success")
    if added is not None:
        flash(translate("outreach.trade_added", name=name, trade=added.name(current_language())), "success")
    return redirect(url_for("console.outreach.counter_page", event_id=event.id))


@bp.post("/<int:event_id>/counter/walk-in")
@agent_page()
def walk_in(db, agent, event_id: int):
    event = _event(db, agent, event_id)
    raw = request.form.get("worker_id", "")
    worker = db.get(Worker, int(raw)) if raw.isascii() and raw.isdigit() and len(raw) <= 9 else None
    if worker is None or not may_see(db, agent, worker.home_site_id):
        abort(404)
    signup = attendance.walk_in(db, event, worker, utcnow())
    record(
        db,
        agent,
        "outreach.walk_in",
        signup,
        remote_addr=request.remote_addr or "",
        event_id=event.id,
        worker_id=worker.id,
    )
    flash(translate("outreach.marked.came", name=worker.name or str(worker.id)), "success")
    return redirect(url_for("console.outreach.counter_page", event_id=event.id))


@bp.post("/signups/<int:signup_id>/cancel")
@agent_page()
def cancel_signup(db, agent, signup_id: int):
    """An agent cancels a sign-up (the worker called): the place goes to the first waiting (texted)."""
    signup = db.get(EventSignup, signup_id) if signup_id < 2**31 else None
    if signup is None or not may_see(db, agent, signup.event.site_id):
        abort(404)
    cancelled = signups.cancel(db, _settings(), signup, utcnow())
    if cancelled.signup is not None:
        moved = cancelled.moved_up
        record(
            db,
            agent,
            "outreach.signup_cancel",
            signup,
            remote_addr=request.remote_addr or "",
            event_id=signup.event_id,
            worker_id=signup.worker_id,
            moved_up_worker_id=moved.worker_id if moved else None,
        )
        signups.tell_cancelled(db, _settings(), signup)
        flash(
            translate("outreach.signup_cancelled", name=signup.worker.name or str(signup.worker_id)),
            "success",
        )
        if moved is not None:
            flash(translate("outreach.moved_up", name=moved.worker.name or str(moved.worker_id)), "success")
    page = "counter_page" if request.form.get("next") == "counter" else "event_page"
    return redirect(url_for(f"console.outreach.{page}", event_id=signup.event_id))
