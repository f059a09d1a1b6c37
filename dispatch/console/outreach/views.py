"""Outreach in the console: /console/outreach/ (events and their sends), /new (the event, the audience,
the count and cost, then schedule), /<id> (an event's sends and sign-ups)."""

from __future__ import annotations

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from sqlalchemy import func, select

from dispatch.catalogue import trades_in_menu_order
from dispatch.clock import utcnow
from dispatch.console.access import may_see, sites_for_choice
from dispatch.console.audit import record
from dispatch.console.auth import agent_page
from dispatch.console.i18n import translate
from dispatch.console.outreach import forms
from dispatch.i18n import market_zone
from dispatch.models import Event, EventKind, EventSignup, Outreach, SignupStatus
from dispatch.outreach import services, signups
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
        audience=outreach.audience,
        planned=outreach.planned,
        segments=outreach.planned_segments,
        send_at=outreach.send_at,
    )
    flash(
        translate("outreach.scheduled", count=outreach.planned, segments=outreach.planned_segments), "success"
    )
    return redirect(url_for("console.outreach.event_page", event_id=event.id))


@bp.get("/<int:event_id>")
@agent_page()
def event_page(db, agent, event_id: int):
    event = db.get(Event, event_id) if event_id < 2**31 else None
    if event is None or not may_see(db, agent, event.site_id):
        abort(404)
    sends = list(db.scalars(select(Outreach).where(Outreach.event_id == event.id).order_by(Outreach.id)))
    return render_template(
        "console/outreach/event.html", event=event, sends=sends, signups=signups.signups(db, event.id)
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
