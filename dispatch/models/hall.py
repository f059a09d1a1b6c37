"""The hall's services beyond jobs: policy answers on demand (政策) and what was asked of them."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, Integer, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column

from dispatch.clock import utcnow
from dispatch.db import Base
from dispatch.models.types import UTCDateTime

# Menu numbers a topic may have: 0 and 9 are the voice menu's back and repeat keys.
POLICY_POSITIONS = range(1, 9)


class PolicyTopic(Base):
    """One entry of the `政策` menu: its number, its title and the text sent or read aloud, in Chinese
    and English. Retired topics are kept (the counts of what was asked refer to them)."""

    __tablename__ = "policy_topic"
    __table_args__ = (
        # One live topic per menu number; a retired one gives its number up.
        Index(
            "uq_policy_topic_position_live",
            "position",
            unique=True,
            postgresql_where=text("retired_at IS NULL"),
            sqlite_where=text("retired_at IS NULL"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    position: Mapped[int] = mapped_column(Integer)
    title_zh: Mapped[str] = mapped_column(String(40))
    title_en: Mapped[str] = mapped_column(String(60))
    body_zh: Mapped[str] = mapped_column(Text)
    body_en: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    retired_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    def title(self, language: str) -> str:
        return self.title_en if language == "en" else self.title_zh

    def body(self, language: str) -> str:
        return self.body_en if language == "en" else self.body_zh


class PolicyAsk(Base):
    """One time someone asked: the menu (no topic) or a topic, by SMS or by phone; the reports count
    these rows. No phone number is kept: the count is what the market needs."""

    __tablename__ = "policy_ask"

    id: Mapped[int] = mapped_column(primary_key=True)
    topic_id: Mapped[int | None] = mapped_column(ForeignKey("policy_topic.id"), index=True)
    channel: Mapped[str] = mapped_column(String(8))  # sms | voice
    language: Mapped[str] = mapped_column(String(2), default="zh")
    asked_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
