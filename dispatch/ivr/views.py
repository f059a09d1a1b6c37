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

from dispatch.db import is_database_unavailable
from dispatch.ivr import flows, followup, notice_call, offer_call, outage, prompts, reminder_call
from dispatch.ivr.agent import HOLD_PAUSE_SECONDS
from dispatch.ivr.prompts import AUDIO_SUFFIXES
from dispatch.runtime import Runtime
from dispatch.spool.guard import now_or_spooled
from dispatch.spool.store import SpooledRequest
from dispatch.twilio_auth import public_url, twilio_signed

log = logging.getLogger(__name__)
bp = Blueprint("ivr", __name__, url_prefix="/ivr")
EMPTY_TWIML = '<?xml version="1.0" encoding="UTF-8"?><Response></Response>'


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


def _form() -> dict[str, str]:
    """The webhook's form (first value of each field). PostgreSQL text cannot hold NUL, so a NUL
    becomes U+FFFD, as in a stored SMS: the call is still found, stored and answered."""
    return {
        key.replace("\x00", "\ufffd"): value.replace("\x00", "\ufffd") for key, value in request.form.items()
    }


def _call_sid() -> str:
    sid = (request.form.get("CallSid") or "").strip()
    if not sid:
        abort(400, description="missing CallSid")
    return sid


def _respond(step: str, work: Callable[[Session], str]) -> Response:
    """Run one turn; should it fail, the caller goes to an agent with what was collected, and should
    even that fail, to the agents' queue with nothing stored (the caller is never left in silence)."""
    runtime = _runtime()
    form = _form()
    base_url = _base_url()
    if runtime.database_failed_recently():
        # This process found the database unavailable a moment ago: no caller waits on it again.
        return _outage(form, base_url)
    try:
        with runtime.db.transaction() as session:
            try:
                with session.begin_nested():
                    return _twiml(work(session))
            except Exception as exc:
                if is_database_unavailable(exc):
                    raise  # no rescue can store anything either: the outage answer below
                log.exception("voice step %s failed for call %s", step, form.get("CallSid"))
                # Outbox rows the failed step wrote are gone with its savepoint: relay none of them.
                events = session.info.get("outbox_events", [])
                events[:] = [event for event in events if event in session]
            return _twiml(flows.rescue(session, runtime.settings, form, base_url, step))
    except Exception as exc:
        if is_database_unavailable(exc):
            runtime.database_failed()
            log.warning("voice step %s: database unavailable (%s)", step, type(exc).__name__)
        else:
            log.exception("voice step %s could not even be rescued for call %s", step, form.get("CallSid"))
    return _outage(form, base_url)


def _outage(form: dict[str, str], base_url: str) -> Response:
    """Nothing can be stored now: an apology and a voicemail; the call is kept in the spool, so that
    an agent calls back once the database is back (ivr/outage.py)."""
    runtime = _runtime()
    try:
        runtime.spool.write(SpooledRequest(kind=outage.OUTAGE_CALL, form=form))
    except OSError:
        log.exception("call %s could not be spooled either", form.get("CallSid"))
    return _twiml(outage.apology(runtime.settings, base_url))


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


def _acknowledged(kind: str, work: Callable[[Session], None], args: dict[str, str] | None = None) -> Response:
    """A callback that answers nothing to the caller (a recording, a status): its work in one
    transaction, or, should that fail, kept in the spool for later; Twilio gets an empty 200."""
    runtime, form = _runtime(), _form()

    def in_transaction() -> None:
        with runtime.db.transaction() as session:
            work(session)

    now_or_spooled(runtime, kind, form, in_transaction, args=args)
    return _twiml(EMPTY_TWIML)


@bp.post("/voice")
@twilio_signed
def voice() -> Response:
    """A call arrives: the welcome and the main menu."""
    _call_sid()
    settings, form, base_url = _runtime().settings, _form(), _base_url()
    return _respond("voice", lambda session: flows.begin(session, settings, form, base_url))


@bp.post("/step/<step>")
@twilio_signed
def step(step: str) -> Response:
    """An answer to one step (keys, silence, a recording, a queue result), or the queue's wait music."""
    _call_sid()
    step = step[:32]
    settings, form, base_url = _runtime().settings, _form(), _base_url()
    if step == "hold":
        return _hold(form, base_url)
    turn = request.args.get("t", "")[:12]
    return _respond(step, lambda session: flows.take_step(session, settings, step, turn, form, base_url))


@bp.post("/recording")
@twilio_signed
def recording() -> Response:
    """A recording or its transcription is ready (a voicemail, mostly): it goes with the call's tickets."""
    _call_sid()
    purpose = request.args.get("purpose", "voicemail")
    purpose = purpose if purpose in outage.RECORDING_PURPOSES else "voicemail"
    form = _form()
    return _acknowledged(
        outage.RECORDING, lambda session: outage.recording(session, form, purpose), {"purpose": purpose}
    )


@bp.post("/status")
@twilio_signed
def status() -> Response:
    """The call's status changed; a call that ended part-way leaves a call-back ticket."""
    _call_sid()
    form = _form()
    settings = _runtime().settings
    return _acknowledged(outage.STATUS, lambda session: outage.call_status(session, settings, form))


@bp.post("/outage/voicemail")
@twilio_signed
def outage_voicemail() -> Response:
    """The voicemail of a call taken while the database was unavailable (or spooled, if it still is)."""
    _call_sid()
    runtime, form, base_url = _runtime(), _form(), _base_url()

    def in_transaction() -> None:
        with runtime.db.transaction() as session:
            outage.record_outage_voicemail(session, runtime.settings, form)

    now_or_spooled(runtime, outage.OUTAGE_VOICEMAIL, form, in_transaction)
    return _twiml(outage.thanks(runtime.settings, base_url))


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
    return outage.follow_up_id(request.args.get("f", ""))


@bp.post("/followup")
@twilio_signed
def followup_answer() -> Response:
    """The worker picked up the market's follow-up call: the job, and the first question."""
    _call_sid()
    settings, form, base_url = _runtime().settings, _form(), _base_url()
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
    settings, form, base_url = _runtime().settings, _form(), _base_url()
    return _follow_up_turn(
        step, lambda session: followup.take_step(session, settings, step, turn, form, base_url)
    )


@bp.post("/followup/status")
@twilio_signed
def followup_status() -> Response:
    """A follow-up call's final status (completed, no-answer, busy, failed, canceled)."""
    _call_sid()
    form, settings = _form(), _runtime().settings
    args = {"f": request.args.get("f", "")}
    return _acknowledged(
        outage.FOLLOW_UP_STATUS, lambda session: outage.follow_up_status(session, settings, form, args), args
    )


def _id(name: str) -> int | None:
    """A positive id from the URL's query (`?o=`, `?e=`, ...); None when absent or odd."""
    raw = request.args.get(name, "")
    return int(raw) if raw.isascii() and raw.isdigit() and 0 < len(raw) < 10 else None


@bp.post("/offer")
@twilio_signed
def offer_answer() -> Response:
    """A worker picked up the market's offer call: the offer, 1 to take it, 2 to decline."""
    _call_sid()
    settings, form, base_url = _runtime().settings, _form(), _base_url()
    offer_id, attempt = _id("o"), _id("a") or 1
    return _respond(
        "offer", lambda session: offer_call.begin(session, settings, form, base_url, offer_id, attempt)
    )


@bp.post("/reminder")
@twilio_signed
def reminder_answer() -> Response:
    """A worker who prefers voice picked up the market's reminder call: their bookings, then their menu."""
    _call_sid()
    settings, form, base_url = _runtime().settings, _form(), _base_url()
    offer_id, soon = _id("o"), 1 if request.args.get("s") == "1" else 0
    return _respond(
        "reminder", lambda session: reminder_call.begin(session, settings, form, base_url, offer_id, soon)
    )


@bp.post("/notice")
@twilio_signed
def notice_answer() -> Response:
    """An employer who cannot take SMS picked up the market's call: who is coming."""
    _call_sid()
    settings, form, base_url = _runtime().settings, _form(), _base_url()
    employer_id, key, attempt = _id("e"), _id("k") or 0, _id("a") or 1
    return _respond(
        "notice",
        lambda session: notice_call.begin(session, settings, form, base_url, employer_id, key, attempt),
    )


@bp.get("/prompts/<path:name>")
def prompt_audio(name: str) -> Response:
    """A recorded prompt a market dropped into PROMPTS_DIR, for <Play> (public audio, not a webhook)."""
    if Path(name).suffix.lower() not in AUDIO_SUFFIXES:
        abort(404)
    return send_from_directory(_runtime().settings.PROMPTS_DIR, name, max_age=3600)
