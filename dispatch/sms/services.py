"""SMS domain changes: store what comes in, queue what goes out, apply delivery reports.

Plain functions that take a session; they flush, never commit.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from dispatch.clock import utcnow
from dispatch.db import insert_ignoring_conflicts, insert_returning
from dispatch.i18n import render_sms as render
from dispatch.inbound.questions import Question, ask
from dispatch.models import (
    Contact,
    Direction,
    Employer,
    Message,
    MessageStatus,
    Worker,
    WorkerStatus,
)
from dispatch.models.messaging import OUTBOUND_STATUS_RANK, TERMINAL_STATUSES
from dispatch.phones import try_e164
from dispatch.queue import defer
from dispatch.quiet_hours import hold_until
from dispatch.settings import Settings
from dispatch.sms.carrier_templates import load_registry
from dispatch.sms.gateway import OPTED_OUT_ERRORS, UNDELIVERABLE_ERRORS, mask_phone
from dispatch.sms.normalize import has_cjk
from dispatch.sms.segments import count_segments
from dispatch.sms.tasks import send_message

log = logging.getLogger(__name__)
# Numbers that take no SMS but do take calls: not a mobile (21614), a landline or a carrier that will
# not text it (30006). An invalid number (21211) takes neither.
CALLABLE_ERRORS = frozenset({21614, 30006})

# The one message an opted-out number still gets: the confirmation that it is opted out.
SENT_WHILE_OPTED_OUT = frozenset({"opt_out.confirm"})
MAX_ID = 2**31 - 1  # ids are PostgreSQL integers: a larger one in a URL is no row, not an error
# Why a text with a `not_after` was never sent.
TOO_LATE = "not sent: past its deadline (not_after)"


# -- contacts -----------------------------------------------------------------------------------


def get_or_create_contact(session: Session, phone: str, first_text: str = "") -> Contact:
    """The contact for `phone`; a new one speaks the language of its first message.

    Read once per session: an inbound text's contact, read with its worker and employer, is asked for
    again by every reply and notice. Two messages from a new number may arrive at once: the insert
    ignores a conflict on the phone, then both requests read the one row.
    """
    known = session.info.get(_CONTACTS, {}).get(phone)
    if known is not None and known in session:
        return known
    contact = session.scalar(select(Contact).where(Contact.phone == phone))
    if contact is None:
        values = {"phone": phone, "language": guess_language(first_text), "created_at": utcnow()}
        insert_ignoring_conflicts(session, Contact.__table__, values, "phone")
        contact = session.scalars(select(Contact).where(Contact.phone == phone)).one()
    return remember_contact(session, contact)


_CONTACTS = "dispatch.contacts"  # session.info: phone -> Contact already read in this session


def remember_contact(session: Session, contact: Contact) -> Contact:
    """Keep `contact` for the rest of this session, so nothing reads it again."""
    session.info.setdefault(_CONTACTS, {})[contact.phone] = contact
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
    if contact.undeliverable_at is None:
        _call_employer_instead(session, phone)
    contact.undeliverable_at = contact.undeliverable_at or utcnow()
    contact.undeliverable_error = error_code
    worker = session.scalar(select(Worker).where(Worker.phone == phone))
    if worker is not None and error_code in CALLABLE_ERRORS:
        # A landline (or a number the carriers will not text): the worker is called with offers and
        # follow-ups instead, and stays active; dispatch/voice/offer_calls.py.
        if not worker.prefers_voice:
            masked = mask_phone(phone)
            log.info("worker %s: %s takes no SMS (%s): offers by phone call", worker.id, masked, error_code)
        worker.prefers_voice = True
        return
    _set_worker_status(session, phone, WorkerStatus.UNDELIVERABLE)


def _call_employer_instead(session: Session, phone: str) -> None:
    """An employer's number found unable to take SMS: whoever is placed with them is told by phone
    (the notice that failed may have been the one saying so)."""
    from dispatch.voice import notice_calls  # voice builds on SMS

    employer = session.scalar(select(Employer).where(Employer.phone == phone))
    if employer is not None:
        notice_calls.call_later(session, employer, utcnow())


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
    asks: Question | None = None,
    urgent: bool = False,
    not_after: datetime | None = None,
    at_once: bool = False,
    **context: Any,
) -> Message:
    """Write an outbound Message row and, in the same transaction, the outbox row that sends it.

    Replies to an inbound message go at once; anything else waits out quiet hours. A number that
    opted out or cannot take SMS gets a `suppressed` row and nothing is sent. `asks`: the question
    this text puts to the person, which their next bare answer (`1`) goes to (dispatch/inbound/).
    `urgent`: it may go inside URGENT_HOURS during quiet hours (an offer for a job starting before they
    end). `not_after`: it is not sent after then (suppressed). `at_once`: an answer to something the
    person just did other than a text (a call they just made): like a reply, never held.
    """
    contact = get_or_create_contact(session, phone)
    language = language or contact.language
    signature = settings.SMS_SIGNATURE_EN if language == "en" else settings.SMS_SIGNATURE_ZH
    body = render(template, language, sig=signature, **context)
    carrier = carrier_template(settings, template, language, {"sig": signature, **context})
    now = utcnow()
    is_reply = reply_to is not None or at_once
    window = settings.urgent_hours if urgent else None
    send_after = None if is_reply else hold_until(now, settings.quiet_hours, settings.MARKET_TIMEZONE, window)
    # A `not_after` is checked when the text is sent (sms/delivery.py), as quiet hours are.
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
        template=template,
        template_params=carrier[1] if carrier is not None else None,
        carrier_text=carrier[0] if carrier is not None else None,
        language=language,
        is_reply=is_reply,
        in_reply_to_id=reply_to.id if reply_to is not None else None,
        send_after=send_after,
        urgent=urgent,
        not_after=not_after,
        worker_id=worker_id,
        employer_id=employer_id,
        created_at=now,
    )
    session.add(message)
    session.flush()
    if asks is not None and not blocked:
        ask(contact, asks)
    if not blocked:
        defer(session, send_message, message.id, queue="sms", run_at=send_after)
    return message


def carrier_template(
    settings: Settings, template: str, language: str, context: dict[str, Any]
) -> tuple[str, dict[str, str]] | None:
    """The carrier template (its text) and variables of the message, when a templated carrier sends
    it; None: no carrier, or none of its templates says this text (the send then fails, logged)."""
    if not settings.sends_with_aliyun:
        return None
    chosen = load_registry(settings.CONFIG_DIR).choose(template, language, context)
    if chosen is None:
        return None
    carrier, rendered = chosen
    return carrier.text, rendered.params


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
    session: Session,
    settings: Settings,
    form: Mapping[str, str],
    received_at: datetime | None = None,
    handled_as: str | None = None,
) -> Message | None:
    """Store an inbound webhook's message before anything else; None if this MessageSid was seen.

    A duplicate delivery, even a concurrent one, finds the unique MessageSid taken and does nothing.
    `received_at`: when it reached us, for a message replayed from the spool after an outage.
    `handled_as`: the kind of text it is, when it is about to be handled in this same transaction:
    the row is written as handled, with its sender's worker and employer ids, in the one INSERT (no
    UPDATE afterwards; a handling that fails rolls the row back with it).
    """
    # PostgreSQL text cannot hold NUL; anything else a carrier sends is kept as it came.
    form = {
        str(key).replace("\x00", "\ufffd"): str(value).replace("\x00", "\ufffd")
        for key, value in form.items()
    }
    sid = (form.get("MessageSid") or form.get("SmsSid") or "").strip()[:64] or None
    raw_from = (form.get("From") or "").strip()
    phone = try_e164(raw_from, settings.DEFAULT_REGION)
    values: dict[str, Any] = {
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
    problems = [] if sid else ["missing MessageSid"]
    if phone is None:
        problems.append(f"sender {raw_from!r} is not a valid phone number" if raw_from else "missing From")
    if problems:
        values["error_message"] = "; ".join(problems)
    elif handled_as is not None:
        values["status"], values["kind"] = MessageStatus.HANDLED, handled_as
        values["worker_id"] = select(Worker.id).where(Worker.phone == phone).scalar_subquery()
        values["employer_id"] = select(Employer.id).where(Employer.phone == phone).scalar_subquery()
    # One statement: INSERT ... ON CONFLICT DO NOTHING RETURNING the whole row, as an ORM object.
    return insert_returning(session, Message, values, "provider_sid" if sid is not None else None)


def _int_or(value: str | None, default: int) -> int:
    try:
        number = int(value) if value is not None else default
    except ValueError:
        return default
    return number if 0 < number < 1000 else default


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
