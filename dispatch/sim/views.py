"""The phone simulator at /sim (development and test only): call and text the service from a browser.

Every call and text goes to the app's own webhooks, signed with the app's TWILIO_AUTH_TOKEN on the
server (the token never reaches the browser); dispatch.sim.services reads the TwiML that comes back.
"""

from __future__ import annotations

import hashlib
import logging
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from flask import (
    Blueprint,
    Response,
    abort,
    current_app,
    jsonify,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from redis.exceptions import RedisError
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from dispatch import demo
from dispatch.console.csrf import check_csrf, csrf_token
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
from dispatch.phones import display, try_e164
from dispatch.runtime import Runtime
from dispatch.sim import i18n
from dispatch.sim.services import (
    RECORDING_KEY,
    RECORDING_TTL,
    SERVICE_NUMBER,
    SMS_PATH,
    PhoneCall,
    Screen,
    flask_poster,
    inbound_sms,
)
from dispatch.sim.twiml import SimError
from dispatch.twilio_auth import public_url

log = logging.getLogger(__name__)
bp = Blueprint(
    "sim",
    __name__,
    url_prefix="/sim",
    template_folder="templates",
    static_folder="static",
    static_url_path="/static",
)
MESSAGES_SHOWN = 200
LISTED = 30
MAX_SMS_CHARS = 1600


@bp.before_request
def development_only() -> None:
    # create_app registers the simulator only outside production; this keeps it shut should it ever
    # be registered there all the same.
    if not _runtime().settings.is_first_run:
        abort(404)
    check_csrf()


@bp.context_processor
def texts() -> dict[str, Any]:
    return {"t": i18n.translate, "current_language": i18n.current_language, "csrf_token": csrf_token}


def _runtime() -> Runtime:
    return current_app.extensions["dispatch.runtime"]


def _root() -> str:
    """Where the app is reached: PUBLIC_BASE_URL, else this request's scheme, host and prefix."""
    query = request.query_string.decode("latin-1")
    own = request.path + (f"?{query}" if query else "")
    full = public_url(request, _runtime().settings.PUBLIC_BASE_URL)
    return full[: len(full) - len(own)] if full.endswith(own) else full


def _phone(raw: str) -> str:
    phone = try_e164(raw, _runtime().settings.DEFAULT_REGION)
    if phone is None:
        abort(404, description="not a phone number")
    return phone


def _service_number() -> str:
    return _runtime().settings.TWILIO_FROM_NUMBER or SERVICE_NUMBER


# -- pages ------------------------------------------------------------------------------------------


@bp.get("/")
def index() -> str:
    """Choose a number: a seeded employer, a worker (those with an offer waiting first) or a new one."""
    with _runtime().db.transaction() as db:
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
                select(Worker)
                .where(Worker.status == WorkerStatus.ACTIVE)
                .order_by(Worker.id)
                .limit(LISTED // 2)
            )
        )
        demo_agent = db.scalar(select(Agent.id).where(Agent.username == demo.AGENT_USERNAME)) is not None
        return render_template(
            "sim/index.html",
            employers=employers,
            offered=offered,
            workers=workers,
            demo_agent=demo_agent,
            demo=demo,
            display=display,
            error=request.args.get("error", ""),
        )


@bp.get("/open")
def open_number() -> Response:
    """The "another number" form: to that number's phone, or back with an error."""
    phone = try_e164(request.args.get("phone", ""), _runtime().settings.DEFAULT_REGION)
    if phone is None:
        return redirect(url_for("sim.index", error="phone"))
    return redirect(url_for("sim.phone_page", phone=phone))


@bp.get("/phone/<phone>")
def phone_page(phone: str) -> str:
    """One phone: call the service (keypad, recording, queue) and text it (a live chat)."""
    number = _phone(phone)
    with _runtime().db.transaction() as db:
        worker = db.scalar(select(Worker).where(Worker.phone == number))
        employer = db.scalar(select(Employer).where(Employer.phone == number))
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
        return render_template(
            "sim/phone.html",
            shown=display(number),
            worker=worker,
            employer=employer,
            jobs=jobs,
            service=display(_service_number()),
            call_texts=_call_texts(),
            **_messages(db, number),
        )


def _call_texts() -> dict[str, str]:
    """The labels the call's script shows, in the page's language (no text in the script itself)."""
    prefix = "call_js."
    return {
        key[len(prefix) :]: text
        for key, text in i18n.catalogue(i18n.current_language()).items()
        if key.startswith(prefix)
    }


# -- the SMS chat ----------------------------------------------------------------------------------


def _messages(db: Session, phone: str) -> dict[str, Any]:
    query = (
        select(Message)
        .where(Message.phone == phone)
        .order_by(Message.created_at.desc(), Message.id.desc())
        .limit(MESSAGES_SHOWN)
    )
    messages = list(reversed(db.scalars(query).all()))
    state = ";".join(f"{m.id}:{m.status.value}" for m in messages)
    zone = ZoneInfo(_runtime().settings.MARKET_TIMEZONE)
    return {
        "messages": messages,
        "version": hashlib.sha1(state.encode()).hexdigest()[:16],
        "local": lambda moment: _local(moment, zone),
        "Direction": Direction,
        "MessageStatus": MessageStatus,
        "phone": phone,
    }


def _local(moment: datetime | None, zone: ZoneInfo) -> str:
    return moment.astimezone(zone).strftime("%m-%d %H:%M:%S") if moment else ""


@bp.get("/phone/<phone>/messages")
def messages(phone: str) -> Response | str:
    """The chat's messages (polled every second); 204 when nothing changed since `v`."""
    number = _phone(phone)
    with _runtime().db.transaction() as db:
        context = _messages(db, number)
        if request.args.get("v") == context["version"]:
            return Response(status=204)
        return render_template("sim/_messages.html", **context)


@bp.post("/phone/<phone>/sms")
def send_sms(phone: str) -> str:
    """Text the service from this phone: a signed inbound-SMS webhook, as Twilio posts it."""
    number = _phone(phone)
    body = request.form.get("body", "").strip()[:MAX_SMS_CHARS]
    failed = False
    if body:
        try:
            posted = _poster()("POST", _root() + SMS_PATH, inbound_sms(number, body, _service_number()))
        except SimError as exc:
            abort(400, description=str(exc))
        if posted.status != 200:
            log.warning("simulated SMS from %s answered %s: %s", number, posted.status, posted.body[:200])
            failed = True
    with _runtime().db.transaction() as db:
        return render_template("sim/_messages.html", failed=failed, **_messages(db, number))


# -- the call ---------------------------------------------------------------------------------------


def _poster():
    settings = _runtime().settings
    return flask_poster(
        current_app._get_current_object(),  # type: ignore[attr-defined]
        _root(),
        settings.TWILIO_AUTH_TOKEN,
        settings.PUBLIC_BASE_URL,
    )


def _store_recording(sid: str, text: str) -> str:
    """What the caller typed at a <Record> stands in for the audio: kept in Redis, served at a URL."""
    try:
        _runtime().redis.set(RECORDING_KEY.format(sid), text.encode(), ex=RECORDING_TTL)
    except RedisError as exc:
        log.warning("simulated recording %s not kept: %s", sid, exc)
    return _root() + url_for("sim.recording", sid=sid)


def _call() -> PhoneCall:
    form = request.form
    sid = form.get("call_sid", "").strip()[:64] or PhoneCall.new_sid()
    return PhoneCall(
        post=_poster(),
        root=_root(),
        call_sid=sid,
        phone=_phone(form.get("phone", "")),
        to=_service_number(),
        store_recording=_store_recording,
    )


def _int_field(name: str, default: int = 0) -> int:
    value = request.form.get(name, "")
    return int(value) if value.isascii() and value.isdigit() and len(value) < 9 else default


@bp.post("/call/<action>")
def call(action: str) -> Response | tuple[Response, int]:
    """One thing the caller does (dial, press keys, speak, wait in the queue, hang up); answers what the
    app's TwiML does next, as JSON for the page's script."""
    caller = _call()
    form = request.form
    twiml, url, index = form.get("twiml", ""), form.get("url", ""), _int_field("index")
    try:
        if action == "dial":
            screen: Screen = caller.dial()
        elif action == "press":
            screen = caller.press(twiml, url, index, form.get("keys", "")[:64], form.get("timed_out") == "1")
        elif action == "record":
            screen = caller.record(twiml, url, index, form.get("said", "")[:2000])
        elif action == "queue":
            screen = caller.queue(twiml, url, index, form.get("outcome", ""), _int_field("queue_time"))
        elif action == "hangup":
            screen = caller.hang_up(twiml, url, index if twiml else None, _int_field("duration"))
        else:
            abort(404)
    except SimError as exc:
        return jsonify(error=str(exc)), 400
    return jsonify(call_sid=caller.call_sid, **screen.as_json())


@bp.get("/recordings/<sid>")
def recording(sid: str) -> Response:
    """A simulated recording: the words the caller typed (stands in for the audio file)."""
    try:
        text = _runtime().redis.get(RECORDING_KEY.format(sid[:40]))
    except RedisError:
        text = None
    if text is None:
        abort(404)
    return Response(text, mimetype="text/plain; charset=utf-8")


@bp.post("/language")
def language() -> Response:
    """Switch the simulator (and the console) between Chinese and English."""
    chosen = request.form.get("lang", "zh")
    session["lang"] = chosen if chosen in i18n.LANGUAGES else "zh"
    back = request.form.get("next", "")
    return redirect(back if back.startswith("/sim") and "//" not in back else url_for("sim.index"))
