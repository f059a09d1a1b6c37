"""The SMS webhooks Twilio calls: an inbound message, and a delivery report."""

from __future__ import annotations

import logging

from flask import Blueprint, Response, current_app, request
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from dispatch.models import Direction, Message, MessageStatus, TicketKind
from dispatch.settings import Settings
from dispatch.sms.handlers import handle_inbound
from dispatch.sms.services import apply_status, open_ticket, store_inbound
from dispatch.twilio_auth import twilio_signed

log = logging.getLogger(__name__)
bp = Blueprint("sms", __name__, url_prefix="/sms")
HANDLE_ATTEMPTS = 2
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
        _handle(session, runtime.settings, message)
    return _twiml()


def _handle(session: Session, settings: Settings, message: Message) -> None:
    """Act on a stored message in a savepoint: a failure undoes only the handling, never the message."""
    for attempt in range(1, HANDLE_ATTEMPTS + 1):
        try:
            with session.begin_nested():
                handle_inbound(session, settings, message)
            return
        except IntegrityError:
            # Another request (another message from the same new number) created the same contact or
            # dialogue row at the same moment. It has committed by now, so another try finds the row.
            _forget_handling(session, message)
            if attempt < HANDLE_ATTEMPTS:
                log.info("inbound message %s raced another request; handling it again", message.id)
                continue
            log.exception("handling inbound message %s failed; it goes to an agent", message.id)
        except Exception:
            _forget_handling(session, message)
            log.exception("handling inbound message %s failed; it goes to an agent", message.id)
        break
    message.status = MessageStatus.UNPARSED
    message.error_message = "handling failed"
    open_ticket(session, message, TicketKind.FAILED_SMS)


def _forget_handling(session: Session, message: Message) -> None:
    """After the savepoint's rollback: reload the message, and drop outbox rows that no longer exist
    (else their ids would be relayed after commit)."""
    session.refresh(message)
    events = session.info.get("outbox_events", [])
    events[:] = [event for event in events if event in session]


@bp.post("/status")
@twilio_signed
def status() -> Response:
    """A delivery report for one of our messages; reports may arrive in any order."""
    runtime = current_app.extensions["dispatch.runtime"]
    sid = request.form.get("MessageSid", "")
    status_text = request.form.get("MessageStatus") or request.form.get("SmsStatus") or ""
    error_code = _error_code(request.form.get("ErrorCode"))
    with runtime.db.transaction() as session:
        message = _find_message(session, request.args.get("m", ""), sid)
        if message is None:
            log.info("status %s for unknown message %s ignored", status_text, sid)
            return _twiml()
        if sid and not message.provider_sid:
            message.provider_sid = sid
        apply_status(session, message, status_text, error_code)
    return _twiml()


def _find_message(session: Session, message_id: str, sid: str) -> Message | None:
    """Our outbound message the report is about: by its Sid, else by the ?m= id we put in its callback
    URL (the send job may not have stored the Sid yet). Inbound messages have no delivery reports."""
    if sid:
        message = session.scalar(
            select(Message)
            .where(Message.provider_sid == sid, Message.direction == Direction.OUTBOUND)
            .with_for_update()
        )
        if message is not None:
            return message
    # isascii: str.isdigit() is also true of "²" and other digits int() refuses.
    if not (message_id.isascii() and message_id.isdigit() and len(message_id) < 18):
        return None
    # Locking waits for a send job still holding the row; it returns the row as that job committed it.
    message = session.get(Message, int(message_id), with_for_update=True)
    if message is None or message.direction != Direction.OUTBOUND:
        return None
    return message if not sid or message.provider_sid in {None, sid} else None


def _error_code(value: str | None) -> int | None:
    try:
        code = int(value) if value else None
    except ValueError:
        return None
    if code is None or not 0 <= code < 2**31:
        return None
    return code
