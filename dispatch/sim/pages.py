"""What the simulator's pages need besides their routes: where the app is reached, the numbers, the
rows a page lists, the SMS chat's messages, and the call driven by the request's form.
"""

from __future__ import annotations

import hashlib
import logging
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from flask import abort, current_app, request, url_for
from redis.exceptions import RedisError
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from dispatch import demo, i18n
from dispatch.clock import utcnow
from dispatch.console.i18n import current_language
from dispatch.models import (
    ACTIVE_JOB_STATUSES,
    Agent,
    Direction,
    Employer,
    Job,
    Message,
    MessageStatus,
    Offer,
    OfferStatus,
    Worker,
    WorkerStatus,
)
from dispatch.phones import try_e164
from dispatch.runtime import Runtime
from dispatch.sim import holding, lines
from dispatch.sim.services import (
    RECORDING_KEY,
    RECORDING_TTL,
    SERVICE_NUMBER,
    PhoneCall,
    Poster,
    flask_poster,
)
from dispatch.sim.switchboard import Line, switchboard
from dispatch.twilio_auth import public_url

log = logging.getLogger(__name__)
MESSAGES_SHOWN = 200
LISTED = 30


def runtime() -> Runtime:
    return current_app.extensions["dispatch.runtime"]


def root() -> str:
    """Where the app is reached: PUBLIC_BASE_URL, else this request's scheme, host and prefix."""
    query = request.query_string.decode("latin-1")
    own = request.path + (f"?{query}" if query else "")
    full = public_url(request, runtime().settings.PUBLIC_BASE_URL)
    return full[: len(full) - len(own)] if full.endswith(own) else full


def phone_number(raw: str) -> str:
    """The number in a URL or form, in E.164; 404 when it is not a phone number."""
    phone = try_e164(raw, runtime().settings.DEFAULT_REGION)
    if phone is None:
        abort(404, description="not a phone number")
    return phone


def service_number() -> str:
    return runtime().settings.TWILIO_FROM_NUMBER or SERVICE_NUMBER


# -- pages ------------------------------------------------------------------------------------------


def choices(db: Session) -> dict[str, Any]:
    """The numbers to choose from: seeded employers with their open jobs, workers with an offer
    waiting, a few active workers; and whether the demo agent exists."""
    open_jobs = (
        select(Job.employer_id, func.count(Job.id).label("jobs"))
        .where(Job.status.in_(ACTIVE_JOB_STATUSES))
        .group_by(Job.employer_id)
        .subquery()
    )
    employers = db.execute(
        select(Employer, func.coalesce(open_jobs.c.jobs, 0))
        .outerjoin(open_jobs, open_jobs.c.employer_id == Employer.id)
        .order_by(Employer.id)
        .limit(LISTED)
    ).all()
    offered = db.execute(
        select(Worker, Job)
        .join(Offer, Offer.worker_id == Worker.id)
        .join(Job, Job.id == Offer.job_id)
        .where(Offer.status == OfferStatus.SENT)
        .order_by(Offer.id.desc())
        .limit(LISTED)
    ).all()
    workers = list(
        db.scalars(
            select(Worker).where(Worker.status == WorkerStatus.ACTIVE).order_by(Worker.id).limit(LISTED // 2)
        )
    )
    demo_agent = db.scalar(select(Agent.id).where(Agent.username == demo.AGENT_USERNAME)) is not None
    return {"employers": employers, "offered": offered, "workers": workers, "demo_agent": demo_agent}


def person(db: Session, phone: str) -> dict[str, Any]:
    """Who has this number (a worker, an employer, both or neither) and the employer's open jobs."""
    worker = db.scalar(select(Worker).where(Worker.phone == phone))
    employer = db.scalar(select(Employer).where(Employer.phone == phone))
    jobs = []
    if employer is not None:
        jobs = list(
            db.scalars(
                select(Job)
                .where(Job.employer_id == employer.id, Job.status.in_(ACTIVE_JOB_STATUSES))
                .order_by(Job.id.desc())
                .limit(5)
            )
        )
    return {"worker": worker, "employer": employer, "jobs": jobs}


def call_texts() -> dict[str, str]:
    """The labels the call's script shows, in the page's language (no text in the script itself)."""
    return catalogue("call_js.")


def catalogue(prefix: str) -> dict[str, str]:
    """The texts of one section, keyed without the section, in the page's (or agent's) language."""
    return {
        key[len(prefix) :]: text
        for key, text in i18n.catalogue(current_language()).items()
        if key.startswith(prefix)
    }


# -- the SMS chat ----------------------------------------------------------------------------------


def messages(db: Session, phone: str) -> dict[str, Any]:
    """The chat's latest messages, with a version that changes whenever one is added or changes."""
    query = (
        select(Message)
        .where(Message.phone == phone)
        .order_by(Message.created_at.desc(), Message.id.desc())
        .limit(MESSAGES_SHOWN)
    )
    shown = list(reversed(db.scalars(query).all()))
    state = ";".join(f"{m.id}:{m.status.value}" for m in shown)
    zone = i18n.market_zone(runtime().settings)
    return {
        "messages": shown,
        "version": hashlib.sha1(state.encode()).hexdigest()[:16],
        "local": lambda moment: _local(moment, zone),
        "Direction": Direction,
        "MessageStatus": MessageStatus,
        "phone": phone,
    }


def _local(moment: datetime | None, zone: ZoneInfo) -> str:
    return moment.astimezone(zone).strftime("%m-%d %H:%M:%S") if moment else ""


# -- the call ---------------------------------------------------------------------------------------


def poster() -> Poster:
    settings = runtime().settings
    return flask_poster(
        current_app._get_current_object(),  # type: ignore[attr-defined]
        root(),
        settings.TWILIO_AUTH_TOKEN,
        settings.PUBLIC_BASE_URL,
    )


def store_recording(sid: str, text: str) -> str:
    """What the caller typed at a <Record> stands in for the audio: kept in Redis, served at a URL."""
    try:
        runtime().redis.set(RECORDING_KEY.format(sid), text.encode(), ex=RECORDING_TTL)
    except RedisError as exc:
        log.warning("simulated recording %s not kept: %s", sid, exc)
    return root() + url_for("sim.recording", sid=sid)


def phone_call(phone: str = "", call_sid: str = "") -> PhoneCall:
    """The call the request's form continues (or a new one), from the form's phone to the service;
    or, given, that phone's call `call_sid` (a line's caller, when the agent hangs up)."""
    form = request.form
    sid = call_sid or form.get("call_sid", "").strip()[:64] or PhoneCall.new_sid()
    return PhoneCall(
        post=poster(),
        root=root(),
        call_sid=sid,
        phone=phone or phone_number(form.get("phone", "")),
        to=service_number(),
        store_recording=store_recording,
        switch=switchboard(),
    )


def int_field(name: str, default: int = 0) -> int:
    value = request.form.get(name, "")
    return int(value) if value.isascii() and value.isdigit() and len(value) < 9 else default


def end_line(line_id: int, by: str) -> Line | None:
    """End a line for both sides; then (committed first: the webhook writes rows of its own) the
    caller's <Enqueue> action hears `bridged`, and what it answers is what the caller's phone shows."""
    now = utcnow()
    with runtime().db.transaction() as db:
        line = lines.hang_up(db, switchboard(), line_id, by, now)
    if line is None or line.waiter is None:
        return line
    caller = phone_call(line.phone, line.call_sid)
    waited = lines.queue_seconds(line)
    screen = holding.after_bridge(
        caller, line.waiter, waited, by == "caller", waited + lines.talk_seconds(line)
    )
    line.after = {"call_sid": line.call_sid, **screen.as_json()}
    return line
