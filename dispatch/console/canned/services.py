"""Canned replies: kept by supervisors per ticket kind, checked as SMS before they are saved, audited.

A reply an agent inserts still goes through the ordinary reply path (draft_sms), so these checks are
the supervisor's early warning, not the only guard: Chinese in at most 2 UCS-2 parts, English in at
most 2 GSM-7 parts (an English text that needs UCS-2 would cost far more than it looks), each counted
as sent, with the signature the agent_text template puts around it.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from dispatch.clock import utcnow
from dispatch.console.audit import record
from dispatch.console.people.services import AGENT_TEXT_TEMPLATE
from dispatch.i18n import render_sms
from dispatch.models import Agent, CannedReply, TicketKind
from dispatch.settings import Settings
from dispatch.sms.segments import SegmentCount, count_segments

MAX_SEGMENTS = 2
MAX_PER_KIND = 9  # Alt+1..9
MAX_TITLE = 64


@dataclass(frozen=True)
class CannedForm:
    kind: str
    title: str
    text_zh: str
    text_en: str
    position: int = 0  # 0: after the kind's last one

    @classmethod
    def from_form(cls, form) -> CannedForm:
        position = str(form.get("position", "")).strip()
        return cls(
            kind=str(form.get("kind", "")).strip(),
            title=str(form.get("title", "")).strip(),
            text_zh=str(form.get("text_zh", "")).strip(),
            text_en=str(form.get("text_en", "")).strip(),
            position=int(position) if position.isdigit() else 0,
        )


class CannedRefused(Exception):
    """The reply was not saved; `problems` are keys of the `canned.refused_*` texts with their fields."""

    def __init__(self, problems: list[tuple[str, dict[str, int]]]) -> None:
        super().__init__(", ".join(key for key, _ in problems))
        self.problems = problems


def as_sent(settings: Settings, text: str, language: str) -> SegmentCount:
    """What the text costs once the service has signed it (as an agent's reply is sent)."""
    signature = settings.SMS_SIGNATURE_EN if language == "en" else settings.SMS_SIGNATURE_ZH
    return count_segments(render_sms(AGENT_TEXT_TEMPLATE, language, sig=signature, text=text))


def problems_with(
    db: Session, settings: Settings, form: CannedForm, editing: CannedReply | None = None
) -> list[tuple[str, dict]]:
    """Why the form cannot be saved (empty when it can)."""
    found: list[tuple[str, dict]] = []
    if form.kind not in {kind.value for kind in TicketKind}:
        found.append(("kind", {}))
    if not form.title or len(form.title) > MAX_TITLE:
        found.append(("title", {"max": MAX_TITLE}))
    if not form.text_zh or not form.text_en:
        found.append(("empty", {}))
    zh, en = as_sent(settings, form.text_zh, "zh"), as_sent(settings, form.text_en, "en")
    if form.text_zh and zh.segments > MAX_SEGMENTS:
        found.append(("zh_long", {"segments": zh.segments, "units": zh.units, "max": MAX_SEGMENTS}))
    if form.text_en and en.encoding != "GSM-7":
        found.append(("en_not_gsm", {}))
    elif form.text_en and en.segments > MAX_SEGMENTS:
        found.append(("en_long", {"segments": en.segments, "units": en.units, "max": MAX_SEGMENTS}))
    if editing is None and len(replies_for(db, form.kind)) >= MAX_PER_KIND:
        found.append(("too_many", {"max": MAX_PER_KIND}))
    return found


def replies_for(db: Session, kind: str) -> list[CannedReply]:
    """The kind's replies in their order (Alt+1 is the first)."""
    return list(
        db.scalars(
            select(CannedReply).where(CannedReply.kind == kind).order_by(CannedReply.position, CannedReply.id)
        )
    )


def all_replies(db: Session) -> list[CannedReply]:
    return list(
        db.scalars(select(CannedReply).order_by(CannedReply.kind, CannedReply.position, CannedReply.id))
    )


def save_reply(
    db: Session,
    settings: Settings,
    agent: Agent,
    form: CannedForm,
    editing: CannedReply | None = None,
    remote_addr: str = "",
) -> CannedReply:
    """Add a reply, or change one; the audit entry keeps the texts before and after."""
    problems = problems_with(db, settings, form, editing)
    if problems:
        raise CannedRefused(problems)
    before = _texts(editing) if editing is not None else None
    reply = editing or CannedReply(kind=form.kind, position=_next_position(db, form.kind))
    reply.kind, reply.title, reply.text_zh, reply.text_en = form.kind, form.title, form.text_zh, form.text_en
    if form.position:
        reply.position = form.position
    reply.updated_by_id, reply.updated_at = agent.id, utcnow()
    db.add(reply)
    db.flush()
    action = "canned.add" if before is None else "canned.edit"
    record(db, agent, action, reply, remote_addr=remote_addr, before=before, after=_texts(reply))
    return reply


def delete_reply(db: Session, agent: Agent, reply: CannedReply, remote_addr: str = "") -> None:
    record(db, agent, "canned.delete", reply, remote_addr=remote_addr, before=_texts(reply))
    db.delete(reply)
    db.flush()


def _next_position(db: Session, kind: str) -> int:
    return max((reply.position for reply in replies_for(db, kind)), default=0) + 1


def _texts(reply: CannedReply) -> dict[str, object]:
    return {
        "kind": reply.kind,
        "position": reply.position,
        "title": reply.title,
        "zh": reply.text_zh,
        "en": reply.text_en,
    }
