"""The console's phone: presence, the softphone's token, answering the next caller, calling out, the
screen pop with its wrap-up, and the call-back list. phone.js calls these with fetch (JSON); the forms
also work without it (a redirect back)."""

from __future__ import annotations

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    g,
    jsonify,
    redirect,
    render_template,
    request,
    url_for,
)

from dispatch.callcenter import calls
from dispatch.callcenter.presence import PresenceError, presence_of, set_presence
from dispatch.callcenter.routing import callers_for
from dispatch.callcenter.screen import screen_pop
from dispatch.callcenter.stuck import abandon
from dispatch.clock import utcnow
from dispatch.console.access import may_see
from dispatch.console.audit import record
from dispatch.console.auth import agent_page, safe_next
from dispatch.console.guards import parse_id
from dispatch.console.i18n import current_language, translate
from dispatch.console.phone import away, vendor
from dispatch.console.phone.services import (
    DIAL_FIELDS,
    NothingToDial,
    call_backs,
    dial_target,
    named_answers,
    phone_state,
)
from dispatch.console.phone.tokens import OFFLINE, can_take_calls, phone_mode, voice_token
from dispatch.models import AgentCall, AgentRole, Presence, TicketOutcome, TicketStatus
from dispatch.phones import InvalidPhoneNumber

bp = Blueprint("phone", __name__, url_prefix="/phone", template_folder="templates")
# What the browser may say about how a call ended (offline mode: the simulator has no Twilio status).
DIAL_STATUSES = frozenset({"completed", "busy", "no-answer", "failed", "canceled"})
# Busy or wrapping up: finish that call first (answering or dialling would leave its outcome unwritten).
ON_A_CALL = frozenset({Presence.BUSY, Presence.WRAP_UP})
CHOOSABLE = {status.value: status for status in (Presence.AVAILABLE, Presence.AWAY)}
# The offline softphone (cc-offline's phone_offline.js): loaded only where it is installed.
OFFLINE_DEVICE = vendor.STATIC_DIR / "phone_offline.js"


def _runtime():
    return current_app.extensions["dispatch.runtime"]


def _address() -> str:
    return request.remote_addr or ""


def _state(db, agent) -> dict:
    """The phone bar's JSON: the agent's presence and how many callers they could take now."""
    state = phone_state(db, agent)
    waiting = len(callers_for(db, agent, _runtime().settings, utcnow()))
    call_id = state.agent_call_id
    return {
        "status": state.status.value,
        "label": translate(f"phone.status.{state.status.value}"),
        "agent_call_id": call_id,
        "pop_url": url_for(".screen", agent_call_id=call_id) if call_id else "",
        "waiting": waiting,
        "waiting_label": translate("phone.bar.waiting", count=waiting),
    }


def _refused(key: str, status: int = 409, **fields):
    return jsonify({"error": translate(key, **fields)}), status


def _wants_json() -> bool:
    return request.accept_mimetypes.best == "application/json"


@bp.get("/state")
@agent_page()
def state(db, agent):
    """The phone bar's state (phone.js polls it)."""
    return jsonify(_state(db, agent))


@bp.post("/presence")
@agent_page()
def choose_presence(db, agent):
    """The agent sets themself available or away."""
    wanted = CHOOSABLE.get(request.form.get("status", ""))
    if wanted is None:
        abort(400)
    if wanted == Presence.AVAILABLE and not can_take_calls(_runtime().settings):
        # No softphone: a caller held for this agent would wait for someone who cannot answer.
        return _refused("phone.error.unconfigured")
    before = presence_of(db, agent).status
    try:
        set_presence(db, agent, wanted, utcnow())
    except PresenceError:
        return _refused("phone.error.on_a_call")
    away.forget(_runtime().redis, agent)
    if before != wanted:
        record(db, agent, "phone.presence", agent, remote_addr=_address(), status=wanted, was=before)
    if _wants_json():
        return jsonify(_state(db, agent))
    return redirect(safe_next(request.form.get("next")))


@bp.post("/heartbeat")
@agent_page()
def beat(db, agent):
    """The console is open (every ~30 s from phone.js, and at each page's load)."""
    away.page_open(db, _runtime().redis, agent, utcnow())
    return jsonify(_state(db, agent))


@bp.post("/left")
@agent_page()
def left(db, agent):
    """A console page closed (navigator.sendBeacon on pagehide)."""
    away.page_left(db, _runtime().redis, agent, utcnow())
    return "", 204


@bp.get("/token")
@agent_page()
def token(db, agent):
    """A short-lived Voice SDK token for this agent; without a Twilio API key {"mode": "offline"} on a
    first run (the simulator), else {"mode": "unconfigured"}."""
    return jsonify(voice_token(_runtime().settings, agent))


@bp.post("/next")
@agent_page()
def answer_next(db, agent):
    """Take the longest-waiting caller of the agent's sites; the softphone then connects to them."""
    if not can_take_calls(_runtime().settings):
        return _refused("phone.error.unconfigured")
    if presence_of(db, agent).status in ON_A_CALL:
        return _refused("phone.error.on_a_call")
    try:
        agent_call = calls.answer_next(db, agent, _runtime().settings, utcnow())
    except PresenceError:
        return _refused("phone.error.on_a_call")
    if agent_call is None:
        return jsonify({"none": True, "message": translate("phone.next.none")})
    return jsonify(_connect(agent_call, "answer"))


@bp.post("/dial")
@agent_page()
def dial(db, agent):
    """Call the person behind a ticket, worker, employer or job: the number is looked up here."""
    chosen = [(field, parse_id(request.form.get(field))) for field in DIAL_FIELDS if request.form.get(field)]
    if len(chosen) != 1 or chosen[0][1] is None:
        abort(400)
    field, row_id = chosen[0]
    assert row_id is not None
    if not can_take_calls(_runtime().settings):
        return _refused("phone.error.unconfigured")
    try:
        target = dial_target(db, agent, field, row_id)
    except NothingToDial:
        return _refused("phone.error.no_number")
    if presence_of(db, agent).status in ON_A_CALL:
        return _refused("phone.error.on_a_call")
    try:
        agent_call = calls.start_outbound(db, agent, phone=target.phone, now=utcnow(), **target.links())
    except PresenceError:
        return _refused("phone.error.on_a_call")
    except (InvalidPhoneNumber, calls.CallError):
        return _refused("phone.error.bad_number")
    return jsonify(_connect(agent_call, "dial"))


def _connect(agent_call: AgentCall, param: str) -> dict:
    """What phone.js passes to device.connect: the TwiML App (/voice/agent) reads the call's id."""
    return {
        "agent_call_id": agent_call.id,
        "params": {param: str(agent_call.id)},
        "pop_url": url_for(".screen", agent_call_id=agent_call.id),
        "ended_url": url_for(".ended", agent_call_id=agent_call.id),
        "abandon_url": url_for(".abandoned", agent_call_id=agent_call.id),
    }


def _agent_call(db, agent, agent_call_id: int, *, own: bool) -> AgentCall:
    """The call, if it is the agent's own (or, to look at, a supervisor's of its agent's site); else 404."""
    agent_call = db.get(AgentCall, agent_call_id)
    if agent_call is None:
        abort(404)
    if agent_call.agent_id == agent.id:
        return agent_call
    supervises = agent.role in (AgentRole.SUPERVISOR, AgentRole.ADMIN)
    if own or not supervises or not may_see(db, agent, agent_call.agent.site_id):
        abort(404)
    return agent_call


@bp.get("/calls/<int:agent_call_id>")
@agent_page()
def screen(db, agent, agent_call_id: int):
    """The screen pop: who is calling, what the IVR collected, their open work, and the wrap-up form."""
    agent_call = _agent_call(db, agent, agent_call_id, own=False)
    pop = screen_pop(db, agent_call)
    template = "console/phone/_pop.html" if request.args.get("part") else "console/phone/pop.html"
    return render_template(
        template,
        pop=pop,
        agent_call=agent_call,
        answers=named_answers(db, pop.ivr_answers, current_language()),
        outcomes=list(TicketOutcome),
        jobs_by_id={job.id: job for job in pop.jobs},
        mine=agent_call.agent_id == agent.id,
    )


@bp.post("/calls/<int:agent_call_id>/wrap-up")
@agent_page()
def wrap_up(db, agent, agent_call_id: int):
    """The call's outcome and note on its ticket; resolved or left open; the agent available again."""
    agent_call = _agent_call(db, agent, agent_call_id, own=True)
    try:
        outcome = TicketOutcome(request.form.get("outcome", ""))
    except ValueError:
        return _refused("phone.error.choose_outcome", 400)
    resolve = request.form.get("resolve") == "1"
    ticket = calls.finish_call(
        db,
        agent,
        agent_call,
        outcome=outcome,
        note=request.form.get("note", ""),
        resolve=resolve,
        now=utcnow(),
    )
    resolved = ticket.status == TicketStatus.RESOLVED
    message = translate("phone.wrap.resolved" if resolved else "phone.wrap.left_open", ticket=ticket.id)
    if _wants_json():
        return jsonify(
            {"ticket_id": ticket.id, "resolved": resolved, "message": message, **_state(db, agent)}
        )
    flash(message, "success")
    return redirect(url_for("console.tickets.ticket_page", ticket_id=ticket.id))


@bp.post("/calls/<int:agent_call_id>/ended")
@agent_page()
def ended(db, agent, agent_call_id: int):
    """Offline mode: the softphone says the call is over (with Twilio, the dial-status callback does)."""
    agent_call = _agent_call(db, agent, agent_call_id, own=True)
    if phone_mode(_runtime().settings) != OFFLINE:
        return _refused("phone.error.twilio_reports_the_end")
    status = request.form.get("dial_status", "")
    if status not in DIAL_STATUSES:
        abort(400)
    now = utcnow()
    # The duration is the server's own reckoning from the bridge, never a number from the browser.
    talked = int((now - agent_call.answered_at).total_seconds()) if agent_call.answered_at else 0
    calls.call_ended(db, agent_call, dial_status=status, duration_seconds=talked, now=now)
    return jsonify(_state(db, agent))


@bp.post("/calls/<int:agent_call_id>/abandon")
@agent_page()
def abandoned(db, agent, agent_call_id: int):
    """The softphone could not place the call (no SDK, the microphone refused, a token failure, the
    page closing): a call Twilio never had a leg of ends as failed, the reserved caller waits again and
    the agent wraps up. Once Twilio has the call, its dial status reports the end instead. Both modes."""
    agent_call = _agent_call(db, agent, agent_call_id, own=True)
    abandon(db, agent_call, utcnow())
    return jsonify(_state(db, agent))


@bp.get("/call-backs")
@agent_page()
def call_back_list(db, agent):
    """Open call-back tickets in the order their callers queued, to be worked from the top."""
    return render_template("console/phone/call_backs.html", rows=call_backs(db, agent))


@bp.app_template_global()
def phone_bar() -> dict:
    """The phone bar of the page (base.html): the agent's presence and the softphone's mode and scripts."""
    state = phone_state(g.db, g.agent)
    return {
        "status": state.status,
        "agent_call_id": state.agent_call_id,
        "mode": phone_mode(_runtime().settings),
        "twilio_sdk": vendor.sdk_available(),
        "offline_device": OFFLINE_DEVICE.is_file(),
    }


@bp.app_template_global()
def phone_can_call() -> bool:
    """Whether the console's phone can place calls (click-to-call buttons are shown)."""
    return can_take_calls(_runtime().settings)
