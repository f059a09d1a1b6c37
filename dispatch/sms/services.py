"""SMS domain changes: store what comes in, queue what goes out, apply delivery reports.

Plain functions that take a session; they flush, never commit.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from datetime import datetime
from typing import Any, cast

from sqlalchemy import Table, select
from sqlalchemy.orm import Session

from dispatch.clock import utcnow
from dispatch.db import insert_ignoring_conflicts
from dispatch.models import (
    Contact,
    Direction,
    Message,
    MessageStatus,
    Ticket,
    TicketKind,
    Worker,
    WorkerStatus,
)
from dispatch.models.messaging import OUTBOUND_STATUS_RANK, TERMINAL_STATUSES
from dispatch.phones import try_e164
from dispatch.queue import defer
from dispatch.quiet_hours import quiet_hours_end
from dispatch.settings import Settings
from dispatch.sms.gateway import OPTED_OUT_ERRORS, UNDELIVERABLE_ERRORS
from dispatch.sms.normalize import has_cjk
from dispatch.sms.segments import count_segments
from dispatch.sms.tasks import send_message
from dispatch.sms.texts import render

log = logging.getLogger(__name__)

# The one message an opted-out number still gets: the confirmation that it is opted out.
SENT_WHILE_OPTED_OUT = frozenset({"opt_out.confirm"})
MAX_ID = 2**31 - 1  # ids are PostgreSQL integers: a larger one in a URL is no row, not an error


# -- contacts -----------------------------------------------------------------------------------


def get_or_create_contact(session: Session, phone: str, first_text: str = "") -> Contact:
    """The contact for `phone`; a new one speaks the language of its first message.

    Two messages from a new number may arrive at once: the insert ignores a conflict on the phone,
    then both requests read the one row.
    """
    contact = session.scalar(select(Contact).where(Contact.phone == phone))
    if contact is None:
        values = {"phone": phone, "language": guess_language(first_text), "created_at": utcnow()}
        insert_ignoring_conflicts(session, Contact.__table__, values, "phone")
        contact = session.scalars(select(Contact).where(Contact.phone == phone)).one()
    return contact


def guess_language(text: str) -> str:
    """Chinese unless the text holds an English word; a lone letter (`Y`, `1 a`) says nothing."""
    if has_cjk(text):
        return "zh"
    words = text.split()
    return "en" if any(len(word) >= 2 and word.isascii() and word.isalpha() for word in words) else "zh"


def mark_opted_out(session: Session, phone: str) -> None:
    contact = get_or_create_contact(session, phone)
    if contact.opted_out_at is None:
        contact.opted_out_at = utcnow()
    _set_worker_status(session, phone, WorkerStatus.OPTED_OUT)


def mark_opted_in(session: Session, phone: str) -> None:
    contact = get_or_create_contact(session, phone)
    contact.opted_out_at = None
    worker = session.scalar(select(Worker).where(Worker.phone == phone))
    if worker is not None and worker.status == WorkerStatus.OPTED_OUT:
        worker.status = WorkerStatus.ACTIVE if worker.consent_at else WorkerStatus.PENDING


def mark_undeliverable(session: Session, phone: str, error_code: int) -> None:
    contact = get_or_create_contact(session, phone)
    contact.undeliverable_at = contact.undeliverable_at or utcnow()
    contact.undeliverable_error = error_code
    _set_worker_status(session, phone, WorkerStatus.UNDELIVERABLE)


# A stop an agent or the worker chose outranks what a carrier reports afterwards.
_STATUS_KEPT_OVER = {
    WorkerStatus.OPTED_OUT: {WorkerStatus.BLOCKED},
    WorkerStatus.UNDELIVERABLE: {WorkerStatus.BLOCKED, WorkerStatus.OPTED_OUT},
}


def _set_worker_status(session: Session, phone: str, status: WorkerStatus) -> None:
    worker = session.scalar(select(Worker).where(Worker.phone == phone))
    if worker is not None and worker.status not in _STATUS_KEPT_OVER.get(status, set()):
        worker.status = status


# -- outbound -----------------------------------------------------------------------------------


def queue_sms(
    session: Session,
    settings: Settings,
    *,
    phone: str,
    template: str,
    kind: str,
    language: str | None = None,
    reply_to: Message | None = None,
    worker_id: int | None = None,
    employer_id: int | None = None,
    **context: Any,
) -> Message:
    """Write an outbound Message row and, in the same transaction, the outbox row that sends it.

    Replies to an inbound message go at once; anything else waits out quiet hours. A number that
    opted out or cannot take SMS gets a `suppressed` row and nothing is sent.
    """
    contact = get_or_create_contact(session, phone)
    language = language or contact.language
    signature = settings.SMS_SIGNATURE_EN if language == "en" else settings.SMS_SIGNATURE_ZH
    body = render(template, language, sig=signature, **context)
    now = utcnow()
    send_after = (
        None if reply_to is not None else quiet_hours_end(now, settings.quiet_hours, settings.MARKET_TIMEZONE)
    )
    blocked = contact.undeliverable_at is not None or (
        contact.opted_out_at is not None and kind not in SENT_WHILE_OPTED_OUT
    )
    message = Message(
        direction=Direction.OUTBOUND,
        phone=phone,
        body=body,
        status=MessageStatus.SUPPRESSED if blocked else MessageStatus.PENDING,
        segments=count_segments(body).segments,
        kind=kind,
        language=language,
        is_reply=reply_to is not None,
        in_reply_to_id=reply_to.id if reply_to is not None else None,
        send_after=send_after,
        worker_id=worker_id,
        employer_id=employer_id,
        created_at=now,
    )
    session.add(message)
    session.flush()
    if not blocked:
        defer(session, send_message, message.id, queue="sms", run_at=send_after)
    return message


def reply(
    session: Session, settings: Settings, inbound: Message, template: str, kind: str, **context: Any
) -> Message:
    """Answer an inbound message (not held for quiet hours)."""
    return queue_sms(
        session,
        settings,
        phone=inbound.phone,
        template=template,
        kind=kind,
        reply_to=inbound,
        worker_id=inbound.worker_id,
        employer_id=inbound.employer_id,
        **context,
    )


# -- inbound ------------------------------------------------------------------------------------


def store_inbound(
    session: Session, settings: Settings, form: Mapping[str, str], received_at: datetime | None = None
) -> Message | None:
    """Store an inbound webhook's message before anything else; None if this MessageSid was seen.

    A duplicate delivery, even a concurrent one, finds the unique MessageSid taken and does nothing.
    `received_at`: when it reached us, for a message replayed from the spool after an outage.
    """
    # PostgreSQL text cannot hold NUL; anything else a carrier sends is kept as it came.
    form = {
        str(key).replace("\x00", "\ufffd"): str(value).replace("\x00", "\ufffd")
        for key, value in form.items()
    }
    sid = (form.get("MessageSid") or form.get("SmsSid") or "").strip()[:64] or None
    raw_from = (form.get("From") or "").strip()
    phone = try_e164(raw_from, settings.DEFAULT_REGION)
    values = {
        "direction": Direction.INBOUND,
        "phone": (phone or raw_from)[:40],
        "service_address": (form.get("To") or form.get("MessagingServiceSid") or "")[:40],
        "body": form.get("Body") or "",
        "provider_sid": sid,
        "status": MessageStatus.RECEIVED if sid and phone else MessageStatus.REJECTED,
        "segments": _int_or(form.get("NumSegments"), 1),
        "raw": dict(form),
        "created_at": received_at or utcnow(),
    }
    if sid is None:
        values["error_message"] = "missing MessageSid"
        table = cast(Table, Message.__table__)  # declared a FromClause; a mapped class's is a Table
        message_id = session.scalar(table.insert().values(**values).returning(Message.id))
    else:
        message_id = insert_ignoring_conflicts(session, Message.__table__, values, "provider_sid")
    if message_id is None:
        return None
    message = session.get(Message, message_id)
    assert message is not None
    if phone is None and message.status == MessageStatus.REJECTED:
        problem = f"sender {raw_from!r} is not a valid phone number" if raw_from else "missing From"
        message.error_message = (message.error_message + "; " if message.error_message else "") + problem
    return message


def _int_or(value: str | None, default: int) -> int:
    try:
        number = int(value) if value is not None else default
    except ValueError:
        return default
    return number if 0 < number < 1000 else default


def open_ticket(session: Session, message: Message, kind: TicketKind, summary: str = "") -> Ticket:
    """Put an inbound message on the agents' queue; the site is the worker's home, when known."""
    worker = session.get(Worker, message.worker_id) if message.worker_id else None
    ticket = Ticket(
        kind=kind,
        priority=2 if kind == TicketKind.FAILED_SMS else 3,
        phone=message.phone,
        worker_id=message.worker_id,
        employer_id=message.employer_id,
        message_id=message.id,
        site_id=worker.home_site_id if worker else None,
        summary=summary or message.body[:500],
    )
    session.add(ticket)
    session.flush()
    return ticket


# -- delivery reports ---------------------------------------------------------------------------


def find_reported_message(session: Session, message_id: str, sid: str) -> Message | None:
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
    # isascii: str.isdigit() is also true of "²" and other digits int() refuses; ids are 32-bit.
    if not (message_id.isascii() and message_id.isdigit() and len(message_id) <= 10):
        return None
    if not 0 < int(message_id) <= MAX_ID:
        return None
    # Locking waits for a send job still holding the row; it returns the row as that job committed it.
    message = session.get(Message, int(message_id), with_for_update=True)
    if message is None or message.direction != Direction.OUTBOUND:
        return None
    return message if not sid or message.provider_sid in {None, sid} else None


def apply_status(session: Session, message: Message, status_text: str, error_code: int | None) -> bool:
    """Apply a delivery report; a status never moves backwards (callbacks arrive out of order)."""
    try:
        status = MessageStatus(status_text)
    except ValueError:
        return False
    if message.direction != Direction.OUTBOUND:
        return False
    if status not in OUTBOUND_STATUS_RANK or message.status in TERMINAL_STATUSES:
        return False
    if OUTBOUND_STATUS_RANK[status] <= OUTBOUND_STATUS_RANK.get(message.status, -1):
        return False
    message.status = status
    if error_code is not None:
        message.error_code = error_code
        apply_error_to_contact(session, message.phone, error_code)
    return True


def apply_error_to_contact(session: Session, phone: str, error_code: int) -> None:
    if error_code in OPTED_OUT_ERRORS:
        mark_opted_out(session, phone)
    elif error_code in UNDELIVERABLE_ERRORS:
        mark_undeliverable(session, phone, error_code)
