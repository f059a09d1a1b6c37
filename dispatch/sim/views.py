"""The phone simulator at /sim (development and test only): call and text the service from a browser.

Every call and text goes to the app's own webhooks, signed with the app's TWILIO_AUTH_TOKEN on the
server (the token never reaches the browser); dispatch.sim.services reads the TwiML that comes back,
and dispatch.sim.pages gathers what the pages show.
"""

from __future__ import annotations

import logging
from typing import Any

from flask import (
    Blueprint,
    Response,
    abort,
    jsonify,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from redis.exceptions import RedisError
from werkzeug.wrappers import Response as BaseResponse

from dispatch import demo
from dispatch.console import security_headers
from dispatch.console.csrf import check_csrf, csrf_token
from dispatch.console.i18n import TEMPLATE_GLOBALS
from dispatch.i18n import pick_language
from dispatch.phones import display, try_e164
from dispatch.sim import carrier_pages, pages
from dispatch.sim.services import RECORDING_KEY, SMS_PATH, Screen, inbound_sms
from dispatch.sim.switchboard import switchboard
from dispatch.sim.twiml import SimError
from dispatch.sms.gateway import mask_phone

log = logging.getLogger(__name__)
bp = Blueprint(
    "sim",
    __name__,
    url_prefix="/sim",
    template_folder="templates",
    static_folder="static",
    static_url_path="/static",
)
MAX_SMS_CHARS = 1600
bp.after_request(security_headers)  # the console's: the simulator's pages show numbers and texts too


@bp.before_request
def development_only() -> None:
    # create_app registers the simulator only outside production; this keeps it shut should it ever
    # be registered there all the same.
    if not pages.runtime().settings.is_first_run:
        abort(404)
    check_csrf()


@bp.context_processor
def texts() -> dict[str, Any]:
    return {**TEMPLATE_GLOBALS, "csrf_token": csrf_token}


# -- pages ------------------------------------------------------------------------------------------


@bp.get("/")
def index() -> str:
    """Choose a number: a seeded employer, a worker (those with an offer waiting first) or a new one."""
    with pages.runtime().db.transaction() as db:
        return render_template(
            "sim/index.html",
            **pages.choices(db),
            demo=demo,
            display=display,
            error=request.args.get("error", ""),
        )


@bp.get("/open")
def open_number() -> BaseResponse:
    """The "another number" form: to that number's phone, or back with an error."""
    phone = try_e164(request.args.get("phone", ""), pages.runtime().settings.DEFAULT_REGION)
    if phone is None:
        return redirect(url_for("sim.index", error="phone"))
    return redirect(url_for("sim.phone_page", phone=phone))


@bp.get("/phone/<phone>")
def phone_page(phone: str) -> str:
    """One phone: call the service (keypad, recording, queue) and text it (a live chat)."""
    number = pages.phone_number(phone)
    with pages.runtime().db.transaction() as db:
        return render_template(
            "sim/phone.html",
            shown=display(number),
            **pages.person(db, number),
            service=display(pages.service_number()),
            call_texts=pages.call_texts(),
            carrier_mode=carrier_pages.carried(number),
            **pages.messages(db, number),
        )


# -- the SMS chat ----------------------------------------------------------------------------------


@bp.get("/phone/<phone>/messages")
def messages(phone: str) -> Response | str:
    """The chat's messages (polled every second); 204 when nothing changed since `v`. In carrier mode
    the phone got the texts the carrier took: their delivery reports are pushed first."""
    number = pages.phone_number(phone)
    if pages.runtime().settings.sim_carrier:
        carrier_pages.report_delivered(number)
    with pages.runtime().db.transaction() as db:
        context = pages.messages(db, number)
        if request.args.get("v") == context["version"]:
            return Response(status=204)
        return render_template("sim/_messages.html", **context)


@bp.post("/phone/<phone>/sms")
def send_sms(phone: str) -> str:
    """Text the service from this phone: a signed inbound-SMS webhook, as Twilio posts it (in carrier
    mode, a mainland mobile's text is the carrier's uplink push)."""
    number = pages.phone_number(phone)
    body = request.form.get("body", "").strip()[:MAX_SMS_CHARS]
    failed = False
    if body and carrier_pages.carried(number):
        failed = not carrier_pages.reply(number, body)
    elif body:
        form = inbound_sms(number, body, pages.service_number())
        try:
            posted = pages.poster()("POST", pages.root() + SMS_PATH, form)
        except SimError as exc:
            abort(400, description=str(exc))
        if posted.status != 200:
            log.warning(
                "simulated SMS from %s answered %s: %s", mask_phone(number), posted.status, posted.body[:200]
            )
            failed = True
    with pages.runtime().db.transaction() as db:
        return render_template("sim/_messages.html", failed=failed, **pages.messages(db, number))


# -- the call ---------------------------------------------------------------------------------------


@bp.post("/call/<action>")
def call(action: str) -> Response | tuple[Response, int]:
    """One thing the caller does (dial, press keys, speak, wait in the queue, hang up); answers what the
    app's TwiML does next, as JSON for the page's script."""
    caller = pages.phone_call()
    form = request.form
    twiml, url, index = form.get("twiml", ""), form.get("url", ""), pages.int_field("index")
    try:
        if action == "dial":
            screen: Screen = caller.dial()
        elif action == "press":
            screen = caller.press(twiml, url, index, form.get("keys", "")[:64], form.get("timed_out") == "1")
        elif action == "record":
            screen = caller.record(twiml, url, index, form.get("said", "")[:2000])
        elif action == "queue":
            outcome, waited = form.get("outcome", ""), pages.int_field("queue_time")
            screen = caller.queue(twiml, url, index, outcome, waited, pages.int_field("seconds"))
        elif action == "hold_press":
            hold = (form.get("hold_twiml", ""), form.get("hold_url", ""), pages.int_field("hold_index"))
            keys = form.get("keys", "")[:64]
            screen = caller.press_on_hold(twiml, url, index, hold, keys, pages.int_field("queue_time"))
        elif action == "hangup":
            line = switchboard().line_of_call(caller.call_sid)
            if line is not None and line.state != "ended":
                # On a line with an agent (the page's beacon as the tab closes): both sides end.
                ended = pages.end_line(line.id, "caller")
                return jsonify(call_sid=caller.call_sid, **((ended and ended.after) or {}))
            duration, waited = pages.int_field("duration"), pages.int_field("queue_time")
            screen = caller.hang_up(twiml, url, index if twiml else None, duration, waited)
        else:
            abort(404)
    except SimError as exc:
        return jsonify(error=str(exc)), 400
    return jsonify(call_sid=caller.call_sid, **screen.as_json())


@bp.get("/recordings/<sid>")
def recording(sid: str) -> Response:
    """A simulated recording: the words the caller typed (stands in for the audio file)."""
    try:
        text = pages.runtime().redis.get(RECORDING_KEY.format(sid[:40]))
    except RedisError:
        text = None
    if text is None:
        abort(404)
    return Response(text, mimetype="text/plain; charset=utf-8")


@bp.post("/language")
def language() -> BaseResponse:
    """Switch the simulator (and the console) between Chinese and English."""
    session["lang"] = pick_language(request.form.get("lang"))
    back = request.form.get("next", "")
    return redirect(back if back.startswith("/sim") and "//" not in back else url_for("sim.index"))
