"""The hall's services beyond jobs: policy answers on demand (政策) and what was asked of them, and
outreach (events, their texts and sign-ups)."""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

from sqlalchemy import Boolean, ForeignKey, Index, Integer, String, Text, UniqueConstraint, false, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from dispatch.clock import utcnow
from dispatch.db import Base
from dispatch.models.people import Worker
from dispatch.models.places import Site, Trade
from dispatch.models.types import JSON, UTCDateTime, str_enum

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


# -- outreach (issue 18, part 3): events, the texts that announce them, and their sign-ups ------------


class EventKind(enum.StrEnum):
    TRAINING = "training"  # a training camp (技能培训、求职能力训练营)
    POLICY_TALK = "policy_talk"  # a policy talk (政策宣讲)
    JOB_FAIR = "job_fair"  # a job fair (招聘会)
    ANNOUNCEMENT = "announcement"  # a plain announcement: no time, place or sign-up


class OutreachStatus(enum.StrEnum):
    SCHEDULED = "scheduled"  # waits for its send_at; the job is in the outbox
    SENT = "sent"  # the texts are queued (each still waits out quiet hours on its own)
    CANCELLED = "cancelled"


class SignupStatus(enum.StrEnum):
    BOOKED = "booked"  # has a place
    WAITING = "waiting"  # on the waiting list, in the order they texted
    CANCELLED = "cancelled"  # `取消报名 7` or an agent: the place went to the first waiting


class Event(Base):
    """Something the market invites workers to (a training camp, a policy talk, a job fair), or a plain
    announcement. Its id is what a worker texts to sign up (`报名 7`)."""

    __tablename__ = "event"

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[EventKind] = mapped_column(str_enum(EventKind))
    title_zh: Mapped[str] = mapped_column(String(40))
    title_en: Mapped[str] = mapped_column(String(60))
    site_id: Mapped[int] = mapped_column(ForeignKey("site.id"), index=True)
    starts_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    place_zh: Mapped[str] = mapped_column(String(40), default="")
    place_en: Mapped[str] = mapped_column(String(60), default="")
    capacity: Mapped[int | None] = mapped_column(Integer)  # None: no sign-up (an announcement)
    # A training's trade: completing it adds the trade to the worker (attendance at the counter).
    trade_id: Mapped[int | None] = mapped_column(ForeignKey("trade.id"))
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("agent.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    site: Mapped[Site] = relationship()
    trade: Mapped[Trade | None] = relationship()

    def title(self, language: str) -> str:
        return self.title_en if language == "en" else self.title_zh

    def place(self, language: str) -> str:
        return self.place_en if language == "en" else self.place_zh


class Outreach(Base):
    """One send of an event's text to an audience, scheduled; what was planned and what went."""

    __tablename__ = "outreach"

    id: Mapped[int] = mapped_column(primary_key=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("event.id"), index=True)
    audience: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)  # audience.Audience.to_json()
    send_at: Mapped[datetime] = mapped_column(UTCDateTime)
    status: Mapped[OutreachStatus] = mapped_column(str_enum(OutreachStatus), default=OutreachStatus.SCHEDULED)
    planned: Mapped[int] = mapped_column(Integer, default=0)  # the count shown before it was scheduled
    planned_segments: Mapped[int] = mapped_column(Integer, default=0)
    sent: Mapped[int] = mapped_column(Integer, default=0)
    skipped_cap: Mapped[int] = mapped_column(Integer, default=0)  # had a non-job text this week
    skipped_opted_out: Mapped[int] = mapped_column(Integer, default=0)  # 退订活动 or 退订
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("agent.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    event: Mapped[Event] = relationship()


class EventSignup(Base):
    """A worker's `报名 7`: a place while there is one, else the waiting list."""

    __tablename__ = "event_signup"
    __table_args__ = (UniqueConstraint("event_id", "worker_id", name="uq_event_signup_worker"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("event.id"), index=True)
    worker_id: Mapped[int] = mapped_column(ForeignKey("worker.id"), index=True)
    status: Mapped[SignupStatus] = mapped_column(str_enum(SignupStatus))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    reminded_at: Mapped[datetime | None] = mapped_column(UTCDateTime)  # the evening before
    # Taken at the counter: came (attended), and for a training finished it (completed); a walk-in
    # was added there without having signed up.
    attended_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    completed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    cancelled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    walk_in: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())

    worker: Mapped[Worker] = relationship()
    event: Mapped[Event] = relationship()
