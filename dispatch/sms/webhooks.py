"""The work of the SMS webhooks, one transaction each: used by the views and by the spool's replay."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime

from dispatch.models import MessageStatus
from dispatch.runtime import Runtime
from dispatch.sms.handlers import handle_stored_inbound
from dispatch.sms.services import apply_status, find_reported_message, store_inbound
from dispatch.spool.store import SpooledRequest

log = logging.getLogger(__name__)
INBOUND, STATUS = "sms.inbound", "sms.status"  # the kinds of spooled request these webhooks leave


@dataclass(frozen=True)
class InboundOutcome:
    duplicate: bool = False
    rejected: str = ""  # why the message could not be acted on (kept all the same)


def receive_inbound(
    runtime: Runtime, form: Mapping[str, str], received_at: datetime | None = None
) -> InboundOutcome:
    """Store an inbound SMS, then act on it; replies go out through the send queue."""
    with runtime.db.transaction() as session:
        message = store_inbound(session, runtime.settings, form, received_at=received_at)
        if message is None:
            log.info("duplicate inbound MessageSid %s ignored", form.get("MessageSid"))
            return InboundOutcome(duplicate=True)
        if message.status == MessageStatus.REJECTED:
            return InboundOutcome(rejected=message.error_message or "rejected")
        handle_stored_inbound(session, runtime.settings, message)
    return InboundOutcome()


def receive_status(runtime: Runtime, form: Mapping[str, str], args: Mapping[str, str]) -> None:
    """A delivery report for one of our messages; reports may arrive in any order."""
    sid = form.get("MessageSid", "")
    status_text = form.get("MessageStatus") or form.get("SmsStatus") or ""
    error_code = _error_code(form.get("ErrorCode"))
    with runtime.db.transaction() as session:
        message = find_reported_message(session, args.get("m", ""), sid)
        if message is None:
            log.info("status %s for unknown message %s ignored", status_text, sid)
            return
        if sid and not message.provider_sid and len(sid) <= 64:
            message.provider_sid = sid
        apply_status(session, message, status_text, error_code)


def _error_code(value: str | None) -> int | None:
    try:
        code = int(value) if value else None
    except ValueError:
        return None
    if code is None or not 0 <= code < 2**31:
        return None
    return code


def _replay_inbound(runtime: Runtime, request: SpooledRequest) -> None:
    receive_inbound(runtime, request.form, received_at=request.received_at)


def _replay_status(runtime: Runtime, request: SpooledRequest) -> None:
    receive_status(runtime, request.form, request.args)


REPLAYERS = {INBOUND: _replay_inbound, STATUS: _replay_status}
