"""Canned replies: the common answers to a kind of ticket, kept by supervisors, in Chinese and English."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from dispatch.clock import utcnow
from dispatch.db import Base
from dispatch.models.types import UTCDateTime


class CannedReply(Base):
    """One answer an agent can drop into a ticket's reply box (Alt+1..9 in the order of `position`).

    Stored in the database rather than a file under config/ so a supervisor edits it from the console
    at once, on every web process, with the edit audited; both texts are checked as SMS when saved.
    """

    __tablename__ = "canned_reply"
    __table_args__ = (Index("ix_canned_reply_kind_position", "kind", "position"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(32))  # a TicketKind value
    position: Mapped[int] = mapped_column(Integer, default=1)
    title: Mapped[str] = mapped_column(String(64), default="")  # what the list shows the agent
    text_zh: Mapped[str] = mapped_column(Text, default="")
    text_en: Mapped[str] = mapped_column(Text, default="")
    updated_by_id: Mapped[int | None] = mapped_column(ForeignKey("agent.id"))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    def text(self, language: str) -> str:
        return self.text_en if language == "en" and self.text_en else self.text_zh
