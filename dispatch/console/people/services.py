"""What an agent changes from a person's page: an SMS typed by hand, and a worker's offer status and notes.

Plain functions that take a session and the acting agent; each writes its audit event; flush, never commit.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from dispatch.clock import utcnow
from dispatch.console.audit import record
from dispatch.i18n import render_sms as render
from dispatch.models import Agent, Contact, Employer, Message, MessageStatus, Worker, WorkerStatus
from dispatch.settings import Settings
from dispatch.sms.normalize import has_cjk
from dispatch.sms.segments import SegmentCount, count_segments
from dispatch.sms.services import guess_language, queue_sms
from dispatch.workers import services as workers

AGENT_TEXT_TEMPLATE = "agent_text"  # the signature around the agent's words, nothing else
AGENT_TEXT_KIND = "agent.text"
MAX_AGENT_SEGMENTS = 6  # beyond this a text is a letter: phone the person instead
MAX_NOTES = 4000
MAX_BLOCK_REASON = 500


class SmsRefusal(enum.StrEnum):
    """Why an agent's text was not queued at all (the key of the text the agent is shown)."""

    EMPTY = "empty"
    TOO_LONG = "too_long"


@dataclass(frozen=True)
class SmsDraft:
    """The agent's text as the person's phone will get it, and what it costs."""

    text: str
    language: str
    body: str
    count: SegmentCount

    @property
    def refusal(self) -> SmsRefusal | None:
        if not self.text:
            return SmsRefusal.EMPTY
        if self.count.segments > MAX_AGENT_SEGMENTS:
            return SmsRefusal.TOO_LONG
        return None


def draft_sms(session: Session, settings: Settings, phone: str, typed: str) -> SmsDraft:
    """Measure what `typed` becomes once sent: the signature is part of the cost."""
    # PostgreSQL text cannot hold NUL; line ends as the browser sends them (\r\n) would cost two.
    text = typed.replace("\x00", "").replace("\r\n", "\n").strip()
    # Read, not created: measuring a draft changes nothing.
    contact = session.scalar(select(Contact).where(Contact.phone == phone))
    language = _language_for(text, contact.language if contact is not None else "zh")
    body = render(AGENT_TEXT_TEMPLATE, language, sig=_signature(settings, language), text=text)
    return SmsDraft(text=text, language=language, body=body, count=count_segments(body))


def send_agent_sms(
    session: Session,
    settings: Settings,
    agent: Agent,
    person: Worker | Employer,
    typed: str,
    remote_addr: str = "",
) -> SmsDraft | Message:
    """Queue the agent's text to a worker or employer; the draft if refused."""
    is_worker = isinstance(person, Worker)
    return send_agent_text(
        session,
        settings,
        agent,
        person.phone,
        typed,
        target=person,
        worker_id=person.id if is_worker else None,
        employer_id=None if is_worker else person.id,
        remote_addr=remote_addr,
    )


def send_agent_text(
    session: Session,
    settings: Settings,
    agent: Agent,
    phone: str,
    typed: str,
    *,
    target: object = None,
    worker_id: int | None = None,
    employer_id: int | None = None,
    remote_addr: str = "",
) -> SmsDraft | Message:
    """Queue the agent's text to a number through the one outbound path (quiet hours, opt-outs); the
    draft if refused. `target` is the row the audit log files it under (a person, or a ticket).

    An opted-out or undeliverable number gets a `suppressed` row and nothing is sent: the agent sees
    why on the page and in the timeline.
    """
    draft = draft_sms(session, settings, phone, typed)
    if draft.refusal is not None:
        return draft
    message = queue_sms(
        session,
        settings,
        phone=phone,
        template=AGENT_TEXT_TEMPLATE,
        kind=AGENT_TEXT_KIND,
        language=draft.language,
        worker_id=worker_id,
        employer_id=employer_id,
        text=draft.text,
    )
    record(
        session,
        agent,
        "sms.send",
        target,
        remote_addr=remote_addr,
        phone=phone,
        message_id=message.id,
        segments=message.segments,
        status=message.status,
        send_after=message.send_after,
    )
    return message


def sms_outcome(session: Session, message: Message) -> str:
    """What became of a queued text: queued, held (quiet hours), opted_out or undeliverable."""
    if message.status != MessageStatus.SUPPRESSED:
        return "held" if message.send_after is not None else "queued"
    contact = session.scalar(select(Contact).where(Contact.phone == message.phone))
    return "opted_out" if contact is not None and contact.opted_out_at is not None else "undeliverable"


def _language_for(text: str, contact_language: str) -> str:
    """The signature follows the words: Chinese text gets 【…】, English text the English signature."""
    if has_cjk(text):
        return "zh"
    return "en" if contact_language == "en" else guess_language(text)


def _signature(settings: Settings, language: str) -> str:
    return settings.SMS_SIGNATURE_EN if language == "en" else settings.SMS_SIGNATURE_ZH


# -- worker actions -------------------------------------------------------------------------------


class ActionRefused(Exception):
    """The worker's status does not allow the action; `key` names the text the agent is shown."""

    def __init__(self, key: str) -> None:
        super().__init__(key)
        self.key = key


def pause_offers(session: Session, agent: Agent, worker: Worker, remote_addr: str = "") -> None:
    """What the worker's own `忙` does: no offers until resumed."""
    if worker.status != WorkerStatus.ACTIVE:
        raise ActionRefused("not_active")
    _set_status(session, agent, worker, WorkerStatus.PAUSED, "worker.pause", remote_addr)


def resume_offers(session: Session, agent: Agent, worker: Worker, remote_addr: str = "") -> None:
    """What the worker's own `空` does."""
    if worker.status != WorkerStatus.PAUSED:
        raise ActionRefused("not_paused")
    _set_status(session, agent, worker, WorkerStatus.ACTIVE, "worker.resume", remote_addr)


def block_worker(session: Session, agent: Agent, worker: Worker, reason: str, remote_addr: str = "") -> None:
    """No more offers (open ones close when the worker answers); the reason goes into the notes."""
    reason = " ".join(reason.split())[:MAX_BLOCK_REASON]
    if not reason:
        raise ActionRefused("reason_needed")
    if worker.status == WorkerStatus.BLOCKED:
        raise ActionRefused("already_blocked")
    stamp = utcnow().strftime("%Y-%m-%d %H:%M UTC")
    worker.notes = _bounded_notes(f"{worker.notes}\n[{stamp} {agent.username}] {reason}".strip())
    _set_status(session, agent, worker, WorkerStatus.BLOCKED, "worker.block", remote_addr, note=reason)


def unblock_worker(session: Session, agent: Agent, worker: Worker, remote_addr: str = "") -> None:
    """Back to what the worker's answers and the carrier say: opted out, undeliverable, active, pending."""
    if worker.status != WorkerStatus.BLOCKED:
        raise ActionRefused("not_blocked")
    _set_status(session, agent, worker, workers.usual_status(session, worker), "worker.unblock", remote_addr)


def edit_notes(session: Session, agent: Agent, worker: Worker, notes: str, remote_addr: str = "") -> None:
    notes = _bounded_notes(notes.replace("\x00", "").replace("\r\n", "\n").strip())
    if notes == worker.notes:
        return
    record(session, agent, "worker.notes", worker, remote_addr=remote_addr, before=worker.notes, after=notes)
    worker.notes = notes
    session.flush()


def _bounded_notes(notes: str) -> str:
    # The newest lines matter most (a block reason is appended): drop from the start.
    return notes[-MAX_NOTES:]


def _set_status(
    session: Session,
    agent: Agent,
    worker: Worker,
    status: WorkerStatus,
    action: str,
    remote_addr: str,
    note: str = "",
) -> None:
    record(
        session, agent, action, worker, note=note, remote_addr=remote_addr, before=worker.status, after=status
    )
    worker.status = status
    session.flush()
