"""The SMS webhooks Twilio calls: an inbound message, and a delivery report."""

from __future__ import annotations

import logging

from flask import Blueprint, Response, current_app, request

from dispatch.models import MessageStatus
from dispatch.sms.handlers import handle_stored_inbound
from dispatch.sms.services import apply_status, find_reported_message, store_inbound
from dispatch.twilio_auth import twilio_signed

log = logging.getLogger(__name__)
bp = Blueprint("sms", __name__, url_prefix="/sms")
EMPTY_TWIML = '<?xml version="1.0" encoding="UTF-8"?><Response></Response>'


def _twiml(status: int = 200) -> Response:
    return Response(EMPTY_TWIML, status=status, mimetype="text/xml")


@bp.post("/inbound")
@twilio_signed
def inbound() -> Response:
    """An SMS arrived: store it, then act on it; replies go out through the send queue."""
    runtime = current_app.extensions["dispatch.runtime"]
    form = request.form.to_dict(flat=True)
    with runtime.db.transaction() as session:
        message = store_inbound(session, runtime.settings, form)
        if message is None:
            log.info("duplicate inbound MessageSid %s ignored", form.get("MessageSid"))
            return _twiml()
        if message.status == MessageStatus.REJECTED:
            return Response(message.error_message, status=400, mimetype="text/plain")
        handle_stored_inbound(session, runtime.settings, message)
    return _twiml()


@bp.post("/status")
@twilio_signed
def status() -> Response:
    """A delivery report for one of our messages; reports may arrive in any order."""
    runtime = current_app.extensions["dispatch.runtime"]
    sid = request.form.get("MessageSid", "")
    status_text = request.form.get("MessageStatus") or request.form.get("SmsStatus") or ""
    error_code = _error_code(request.form.get("ErrorCode"))
    with runtime.db.transaction() as session:
        message = find_reported_message(session, request.args.get("m", ""), sid)
        if message is None:
            log.info("status %s for unknown message %s ignored", status_text, sid)
            return _twiml()
        if sid and not message.provider_sid and len(sid) <= 64:
            message.provider_sid = sid
        apply_status(session, message, status_text, error_code)
    return _twiml()


def _error_code(value: str | None) -> int | None:
    try:
        code = int(value) if value else None
    except ValueError:
        return None
    if code is None or not 0 <= code < 2**31:
        return None
    return code
