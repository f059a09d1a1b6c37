"""A call while the database cannot be reached, and the voice callbacks that can wait for it.

The caller hears a short apology in Mandarin and may leave a voicemail; neither needs the database.
What the call leaves behind (the call, its voicemail, its status and recording callbacks) is spooled
(dispatch/spool/) and, once the database answers, becomes what an agent works from: the call and a
voicemail ticket with the recording, so somebody calls back. Every piece is idempotent on the CallSid.
"""

from __future__ import annotations

from collections.abc import Mapping

from sqlalchemy.orm import Session
from twilio.twiml.voice_response import VoiceResponse

from dispatch.clock import utcnow
from dispatch.ivr import followup, prompts, services, tickets
from dispatch.ivr.agent import NO_TRANSCRIPTION, VOICEMAIL_SECONDS
from dispatch.models import CallOutcome, TicketKind
from dispatch.runtime import Runtime
from dispatch.settings import Settings
from dispatch.spool.store import SpooledRequest
from dispatch.tickets.services import open_ticket
from dispatch.tickets.summaries import Summary
from dispatch.voice import ring_back

# Kinds of spooled request left by the voice webhooks.
OUTAGE_CALL, OUTAGE_VOICEMAIL = "ivr.outage_call", "ivr.outage_voicemail"
STATUS, RECORDING = "ivr.status", "ivr.recording"
FOLLOW_UP_STATUS = "ivr.followup_status"
ENDED = frozenset({"completed", "busy", "failed", "no-answer", "canceled"})
RECORDING_PURPOSES = frozenset({"voicemail", "description", "name"})
OUTAGE_SUMMARY = "called while the service was down: call back"


def apology(settings: Settings, base_url: str) -> str:
    """Sorry, leave a message (all without the database)."""
    response = VoiceResponse()
    prompts.add(response, "outage", "zh", f"{base_url}/ivr/prompts", settings.PROMPTS_DIR)
    response.record(
        action=f"{base_url}/ivr/outage/voicemail",
        method="POST",
        max_length=VOICEMAIL_SECONDS,
        timeout=10,
        finish_on_key="#",
        play_beep=True,
    )
    # Reached only when the caller said nothing: Twilio skips the action of an empty recording.
    prompts.add(response, "goodbye", "zh", f"{base_url}/ivr/prompts", settings.PROMPTS_DIR)
    response.hangup()
    return str(response)


def thanks(settings: Settings, base_url: str) -> str:
    response = VoiceResponse()
    prompts.add(response, "voicemail_thanks", "zh", f"{base_url}/ivr/prompts", settings.PROMPTS_DIR)
    response.hangup()
    return str(response)


def record_outage_call(session: Session, settings: Settings, form: Mapping[str, str]) -> None:
    """The call, and a voicemail ticket asking an agent to call back (a recording is added if one came).
    A call that had got somewhere (a job posted) keeps its outcome; the ticket is made all the same,
    since the caller was told to expect a call back."""
    call, _ = services.open_call(session, settings, form)
    if call.outcome in (None, CallOutcome.CALL_BACK):
        call.outcome, call.step = CallOutcome.VOICEMAIL, "voicemail"
    details = {"reason": "outage", "transcription": NO_TRANSCRIPTION}
    summary = Summary.of("outage_voicemail")
    open_ticket(
        session, TicketKind.VOICEMAIL, call=call, summary=summary, text=OUTAGE_SUMMARY, details=details
    )


def record_outage_voicemail(session: Session, settings: Settings, form: Mapping[str, str]) -> None:
    record_outage_call(session, settings, form)
    call = services.find_call(session, form["CallSid"])
    assert call is not None
    tickets.attach_recording(session, call, "voicemail", form)


def call_status(session: Session, settings: Settings, form: Mapping[str, str]) -> None:
    """The call's status changed; a call that ended part-way leaves a call-back ticket."""
    sid = (form.get("CallSid") or "").strip()
    call_status = (form.get("CallStatus") or "").strip()
    call = services.find_call(session, sid)
    if call is None:
        return
    if call_status in ENDED:
        if call.ended_at is None:  # a worker who rang once is called back, not left to an agent
            ring_back.rang_once(session, settings, call, form, utcnow())
        tickets.finish_call(session, call, call_status)
    elif call_status and call.ended_at is None:
        call.status = call_status[:24]


def recording(session: Session, form: Mapping[str, str], purpose: str) -> None:
    """A recording or its transcription is ready: it goes with the call's tickets."""
    call = services.find_call(session, (form.get("CallSid") or "").strip())
    if call is not None:
        purpose = purpose if purpose in RECORDING_PURPOSES else "voicemail"
        tickets.attach_recording(session, call, purpose, form)


def follow_up_id(raw: str) -> int | None:
    """The follow-up a follow-up call's URLs name (`?f=`)."""
    return int(raw) if raw.isascii() and raw.isdigit() and len(raw) < 10 else None


def follow_up_status(
    session: Session, settings: Settings, form: Mapping[str, str], args: Mapping[str, str]
) -> None:
    """A follow-up call's final status (completed, no-answer, busy, failed, canceled)."""
    call_status = (form.get("CallStatus") or "").strip()
    call = followup.call_for_status(
        session, (form.get("CallSid") or "").strip(), follow_up_id(args.get("f", ""))
    )
    if call is not None and call_status:
        followup.call_ended(session, settings, call, call_status)


def _in_transaction(runtime: Runtime, request: SpooledRequest) -> None:
    with runtime.db.transaction() as session:
        if request.kind == OUTAGE_CALL:
            record_outage_call(session, runtime.settings, request.form)
        elif request.kind == OUTAGE_VOICEMAIL:
            record_outage_voicemail(session, runtime.settings, request.form)
        elif request.kind == STATUS:
            call_status(session, runtime.settings, request.form)
        elif request.kind == FOLLOW_UP_STATUS:
            follow_up_status(session, runtime.settings, request.form, request.args)
        else:
            recording(session, request.form, request.args.get("purpose", "voicemail"))


REPLAYERS = {
    kind: _in_transaction for kind in (OUTAGE_CALL, OUTAGE_VOICEMAIL, STATUS, RECORDING, FOLLOW_UP_STATUS)
}
