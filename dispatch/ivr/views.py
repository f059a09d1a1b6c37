"""The voice webhooks Twilio calls: a call arrives, each step's answer, a recording, the call's status;
and those of the market's own follow-up calls (回访) to workers who prefer voice (see followup.py).

Each validates the Twilio signature first, runs in one transaction, and answers TwiML: bad input gets a
4xx with a message or a prompt that leads on, never a 5xx.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path

from flask import Blueprint, Response, abort, current_app, request, send_from_directory
from sqlalchemy.orm import Session
from twilio.twiml.voice_response import VoiceResponse

from dispatch.ivr import flows, followup, prompts, services, tickets
from dispatch.ivr.agent import HOLD_PAUSE_SECONDS
from dispatch.ivr.prompts import AUDIO_SUFFIXES
from dispatch.runtime import Runtime
from dispatch.twilio_auth import public_url, twilio_signed

log = logging.getLogger(__name__)
bp = Blueprint("ivr", __name__, url_prefix="/ivr")
EMPTY_TWIML = '<?xml version="1.0" encoding="UTF-8"?><Response></Response>'
ENDED = frozenset({"completed", "busy", "failed", "no-answer", "canceled"})
RECORDING_PURPOSES = frozenset({"voicemail", "description", "name"})


def _runtime() -> Runtime:
    return current_app.extensions["dispatch.runtime"]


def _twiml(xml: str, status: int = 200) -> Response:
    return Response(xml, status=status, mimetype="text/xml")


def _base_url() -> str:
    """Where Twilio reaches us: PUBLIC_BASE_URL, else this request's own root (proxy aware)."""
    query = request.query_string.decode("latin-1")
    own = request.path + (f"?{query}" if query else "")
    full = public_url(request, _runtime().settings.PUBLIC_BASE_URL)
    return full[: len(full) - len(own)] if full.endswith(own) else full


def _call_sid() -> str:
    sid = (request.form.get("CallSid") or "").strip()
    if not sid:
        abort(400, description="missing CallSid")
    return sid


def _respond(step: str, work: Callable[[Session], str]) -> Response:
    """Run one turn; should it fail, the caller goes to an agent with what was collected, and should
    even that fail, to the agents' queue with nothing stored (the caller is never left in silence)."""
    runtime = _runtime()
    form = request.form.to_dict(flat=True)
    base_url = _base_url()
    try:
        with runtime.db.transaction() as session:
            try:
                with session.begin_nested():
                    return _twiml(work(session))
            except Exception:
                log.exception("voice step %s failed for call %s", step, form.get("CallSid"))
                # Outbox rows the failed step wrote are gone with its savepoint: relay none of them.
                events = session.info.get("outbox_events", [])
                events[:] = [event for event in events if event in session]
            return _twiml(flows.rescue(session, runtime.settings, form, base_url, step))
    except Exception:
        log.exception("voice step %s could not even be rescued for call %s", step, form.get("CallSid"))
    # Nothing could be stored: in opening hours an agent may still take the call, else an apology.
    response = VoiceResponse()
    prompts.add(response, "sorry", "zh", f"{base_url}/ivr/prompts", runtime.settings.PROMPTS_DIR)
    if services.agents_available(runtime.settings):
        response.enqueue(runtime.settings.AGENT_QUEUE)
    else:
        prompts.add(response, "goodbye", "zh", f"{base_url}/ivr/prompts", runtime.settings.PROMPTS_DIR)
        response.hangup()
    return _twiml(str(response))


def _hold(form: dict[str, str], base_url: str) -> Response:
    """The queue's wait music. A waitUrl may only answer Say, Play, Pause, Leave, Hangup or Redirect, so
    should this fail the caller hears the hold prompt and waits on (never an <Enqueue>)."""
    runtime = _runtime()
    try:
        with runtime.db.transaction() as session:
            return _twiml(flows.hold(session, runtime.settings, form, base_url))
    except Exception:
        log.exception("queue hold failed for call %s", form.get("CallSid"))
    response = VoiceResponse()
    prompts.add(response, "hold", "zh", f"{base_url}/ivr/prompts", runtime.settings.PROMPTS_DIR)
    response.pause(length=HOLD_PAUSE_SECONDS)
    return _twiml(str(response))


def _acknowledged(what: str, sid: str, work: Callable[[Session], None]) -> Response:
    """A callback that answers nothing to the caller (a recording, a status): its work in one
    transaction; should that fail, it is logged and Twilio still gets an empty 200, never a 500."""
    try:
        with _runtime().db.transaction() as session:
            work(session)
    except Exception:
        log.exception("%s callback failed for call %s", what, sid)
    return _twiml(EMPTY_TWIML)


@bp.post("/voice")
@twilio_signed
def voice() -> Response:
    """A call arrives: the welcome and the main menu."""
    _call_sid()
    settings, form, base_url = _runtime().settings, request.form.to_dict(flat=True), _base_url()
    return _respond("voice", lambda session: flows.begin(session, settings, form, base_url))


@bp.post("/step/<step>")
@twilio_signed
def step(step: str) -> Response:
    """An answer to one step (keys, silence, a recording, a queue result), or the queue's wait music."""
    _call_sid()
    step = step[:32]
    settings, form, base_url = _runtime().settings, request.form.to_dict(flat=True), _base_url()
    if step == "hold":
        return _hold(form, base_url)
    turn = request.args.get("t", "")[:12]
    return _respond(step, lambda session: flows.take_step(session, settings, step, turn, form, base_url))


@bp.post("/recording")
@twilio_signed
def recording() -> Response:
    """A recording or its transcription is ready (a voicemail, mostly): it goes with the call's tickets."""
    sid = _call_sid()
    purpose = request.args.get("purpose", "voicemail")
    purpose = purpose if purpose in RECORDING_PURPOSES else "voicemail"
    form = request.form.to_dict(flat=True)

    def work(session: Session) -> None:
        call = services.find_call(session, sid)
        if call is None:
            log.info("recording for unknown call %s ignored", sid)
            return
        tickets.attach_recording(session, call, purpose, form)

    return _acknowledged("recording", sid, work)


@bp.post("/status")
@twilio_signed
def status() -> Response:
    """The call's status changed; a call that ended part-way leaves a call-back ticket."""
    sid = _call_sid()
    call_status = (request.form.get("CallStatus") or "").strip()

    def work(session: Session) -> None:
        call = services.find_call(session, sid)
        if call is None:
            log.info("status %s for unknown call %s ignored", call_status, sid)
        elif call_status in ENDED:
            tickets.finish_call(session, call, call_status)
        elif call_status and call.ended_at is None:
            call.status = call_status[:24]

    return _acknowledged("status", sid, work)


def _follow_up_turn(step: str, work: Callable[[Session], str]) -> Response:
    """One turn of a follow-up call; should it fail, the worker hears goodbye and the follow-up stays
    open (its reminder and agent ticket take over)."""
    runtime = _runtime()
    base_url = _base_url()
    try:
        with runtime.db.transaction() as session:
            return _twiml(work(session))
    except Exception:
        log.exception("follow-up call step %s failed for call %s", step, request.form.get("CallSid"))
    return _twiml(followup.hang_up(runtime.settings, base_url, "zh"))


def _follow_up_id() -> int | None:
    raw = request.args.get("f", "")
    return int(raw) if raw.isascii() and raw.isdigit() and len(raw) < 10 else None


@bp.post("/followup")
@twilio_signed
def followup_answer() -> Response:
    """The worker picked up the market's follow-up call: the job, and the first question."""
    _call_sid()
    settings, form, base_url = _runtime().settings, request.form.to_dict(), _base_url()
    follow_up_id = _follow_up_id()
    return _follow_up_turn(
        "answer", lambda session: followup.begin(session, settings, form, base_url, follow_up_id)
    )


@bp.post("/followup/step/<step>")
@twilio_signed
def followup_step(step: str) -> Response:
    """The keys (or silence) answering one question of a follow-up call."""
    _call_sid()
    step, turn = step[:32], request.args.get("t", "")[:12]
    settings, form, base_url = _runtime().settings, request.form.to_dict(), _base_url()
    return _follow_up_turn(
        step, lambda session: followup.take_step(session, settings, step, turn, form, base_url)
    )


@bp.post("/followup/status")
@twilio_signed
def followup_status() -> Response:
    """A follow-up call's final status (completed, no-answer, busy, failed, canceled)."""
    sid = _call_sid()
    call_status = (request.form.get("CallStatus") or "").strip()
    settings, follow_up_id = _runtime().settings, _follow_up_id()

    def work(session: Session) -> None:
        call = followup.call_for_status(session, sid, follow_up_id)
        if call is None:
            log.info("status %s for unknown follow-up call %s ignored", call_status, sid)
        elif call_status:
            followup.call_ended(session, settings, call, call_status)

    return _acknowledged("follow-up status", sid, work)


@bp.get("/prompts/<path:name>")
def prompt_audio(name: str) -> Response:
    """A recorded prompt a market dropped into PROMPTS_DIR, for <Play> (public audio, not a webhook)."""
    if Path(name).suffix.lower() not in AUDIO_SUFFIXES:
        abort(404)
    return send_from_directory(_runtime().settings.PROMPTS_DIR, name, max_age=3600)
