"""The work of the SMS webhooks, one transaction each: used by the views and by the spool's replay."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.exc import IntegrityError

from dispatch.db import can_wait
from dispatch.inbound.handling import hand_failed_to_agent, handle_inbound
from dispatch.models import MessageStatus
from dispatch.runtime import Runtime
from dispatch.sms.parser import parse
from dispatch.sms.services import apply_status, find_reported_message, store_inbound
from dispatch.spool.store import SpooledRequest

log = logging.getLogger(__name__)
INBOUND, STATUS = "sms.inbound", "sms.status"  # the kinds of spooled request these webhooks leave
HANDLE_ATTEMPTS = 2


@dataclass(frozen=True)
class InboundOutcome:
    duplicate: bool = False
    rejected: str = ""  # why the message could not be acted on (kept all the same)


def receive_inbound(
    runtime: Runtime, form: Mapping[str, str], received_at: datetime | None = None
) -> InboundOutcome:
    """Store an inbound SMS, then act on it, in one transaction; replies go out through the send queue.

    No savepoint between the two (two round trips a text): when acting on it fails, the transaction is
    rolled back and the message stored again in one of its own, for an agent.
    """
    for attempt in range(1, HANDLE_ATTEMPTS + 1):
        try:
            with runtime.db.transaction() as session:
                command = parse(form.get("Body") or "")
                message = store_inbound(
                    session, runtime.settings, form, received_at=received_at, handled_as=command.kind.value
                )
                if message is None:
                    log.info("duplicate inbound MessageSid %s ignored", form.get("MessageSid"))
                    return InboundOutcome(duplicate=True)
                if message.status == MessageStatus.REJECTED:
                    return InboundOutcome(rejected=message.error_message or "rejected")
                handle_inbound(session, runtime.settings, message, command)
            return InboundOutcome()
        except IntegrityError:
            # Another request (another message from the same new number) created the same row at the
            # same moment. It has committed by now, so another try finds the row.
            if attempt < HANDLE_ATTEMPTS:
                log.info(
                    "inbound message %s raced another request; handling it again", form.get("MessageSid")
                )
                continue
            log.exception("handling inbound message %s failed; it goes to an agent", form.get("MessageSid"))
        except Exception as exc:
            if can_wait(exc):
                raise  # not this message's fault: the whole request is kept (spooled) and done again
            log.exception("handling inbound message %s failed; it goes to an agent", form.get("MessageSid"))
        break
    with runtime.db.transaction() as session:
        message = store_inbound(session, runtime.settings, form, received_at=received_at)
        if message is None:
            return InboundOutcome(duplicate=True)
        if message.status != MessageStatus.REJECTED:
            hand_failed_to_agent(session, message)
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
