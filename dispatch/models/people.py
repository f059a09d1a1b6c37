"""Workers (零工) and employers (用工主体)."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import (
    BigInteger,
    Boolean,
    ForeignKey,
    ForeignKeyConstraint,
    Index,
    Integer,
    String,
    Text,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from dispatch.clock import utcnow
from dispatch.db import Base
from dispatch.models.places import Site, Trade
from dispatch.models.types import UTCDateTime, str_enum


class Language(enum.StrEnum):
    ZH = "zh"  # Chinese, the default
    EN = "en"  # English


class WorkerStatus(enum.StrEnum):
    PENDING = "pending"  # registered, has not confirmed consent: gets no offers
    ACTIVE = "active"  # gets offers
    PAUSED = "paused"  # said 忙/BUSY: no offers until 空/FREE
    OPTED_OUT = "opted_out"  # said STOP/退订 (or Twilio reported 21610): nothing is sent
    UNDELIVERABLE = "undeliverable"  # the number cannot take SMS (21211, 21614, 30006)
    BLOCKED = "blocked"  # an agent stopped offers to this worker


class RegisteredVia(enum.StrEnum):
    SMS = "sms"
    IVR = "ivr"
    COUNTER = "counter"
    AGENT = "agent"


class Worker(Base):
    __tablename__ = "worker"

    id: Mapped[int] = mapped_column(primary_key=True)
    phone: Mapped[str] = mapped_column(String(20), unique=True)
    name: Mapped[str] = mapped_column(String(64), default="")
    home_site_id: Mapped[int | None] = mapped_column(ForeignKey("site.id"), index=True)
    min_daily_pay: Mapped[int] = mapped_column(Integer, default=0)  # yuan
    status: Mapped[WorkerStatus] = mapped_column(str_enum(WorkerStatus), default=WorkerStatus.PENDING)
    consent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    registered_via: Mapped[RegisteredVia] = mapped_column(str_enum(RegisteredVia))
    rating_sum: Mapped[int] = mapped_column(Integer, default=0)
    rating_count: Mapped[int] = mapped_column(Integer, default=0)
    placements_worked: Mapped[int] = mapped_column(Integer, default=0)
    no_shows: Mapped[int] = mapped_column(Integer, default=0)
    # Places the worker took and then gave back (`取消 123`): matching's reliability counts them.
    cancellations: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    # Follow-ups come as a phone call with a keypad menu rather than an SMS (set at registration or by
    # an agent): for workers who cannot read or answer texts easily.
    prefers_voice: Mapped[bool] = mapped_column(Boolean, default=False, server_default=text("false"))
    last_offered_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_placed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    notes: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    home_site: Mapped[Site | None] = relationship()
    trades: Mapped[list[WorkerTrade]] = relationship(
        back_populates="worker", cascade="all, delete-orphan", order_by="WorkerTrade.trade_id"
    )


class WorkerTrade(Base):
    __tablename__ = "worker_trade"

    worker_id: Mapped[int] = mapped_column(ForeignKey("worker.id", ondelete="CASCADE"), primary_key=True)
    trade_id: Mapped[int] = mapped_column(ForeignKey("trade.id"), primary_key=True, index=True)
    years_experience: Mapped[int] = mapped_column(Integer, default=0)

    worker: Mapped[Worker] = relationship(back_populates="trades")
    trade: Mapped[Trade] = relationship()


class MatchPool(Base):
    """One row per worker and trade with everything candidate selection filters and ranks on.

    A copy of `worker` and `worker_trade` kept in step by database triggers (migration 0004), never
    written by the application: one covering index then answers "active workers of this trade near
    here who take this pay" without touching the million-row worker table. Times are epoch seconds
    (0 = never) so that ranking does plain arithmetic.
    """

    __tablename__ = "match_pool"
    __table_args__ = (
        ForeignKeyConstraint(
            ["worker_id", "trade_id"],
            ["worker_trade.worker_id", "worker_trade.trade_id"],
            name="fk_match_pool_worker_trade",
            ondelete="CASCADE",
            onupdate="CASCADE",
        ),
        Index(
            "ix_match_pool_candidates",
            "trade_id",
            "home_site_id",
            "min_daily_pay",
            postgresql_include=[
                "worker_id",
                "years_experience",
                "rating_sum",
                "rating_count",
                "placements_worked",
                "no_shows",
                "cancellations",
                "offered_at_s",
                "placed_at_s",
            ],
            postgresql_where=text("status = 'active'"),
            sqlite_where=text("status = 'active'"),
        ),
    )

    worker_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    trade_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    years_experience: Mapped[int] = mapped_column(Integer)
    home_site_id: Mapped[int | None] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(24))
    min_daily_pay: Mapped[int] = mapped_column(Integer)
    rating_sum: Mapped[int] = mapped_column(Integer)
    rating_count: Mapped[int] = mapped_column(Integer)
    placements_worked: Mapped[int] = mapped_column(Integer)
    no_shows: Mapped[int] = mapped_column(Integer)
    cancellations: Mapped[int] = mapped_column(Integer)
    offered_at_s: Mapped[int] = mapped_column(BigInteger)
    placed_at_s: Mapped[int] = mapped_column(BigInteger)


class EmployerStatus(enum.StrEnum):
    ACTIVE = "active"  # may post jobs
    HELD = "held"  # new jobs wait for an agent's review (e.g. an open wage case)
    BLOCKED = "blocked"  # may not post jobs


class Employer(Base):
    __tablename__ = "employer"

    id: Mapped[int] = mapped_column(primary_key=True)
    phone: Mapped[str] = mapped_column(String(20), unique=True)
    name: Mapped[str] = mapped_column(String(64), default="")
    site_id: Mapped[int | None] = mapped_column(ForeignKey("site.id"), index=True)
    address: Mapped[str] = mapped_column(String(200), default="")
    status: Mapped[EmployerStatus] = mapped_column(str_enum(EmployerStatus), default=EmployerStatus.ACTIVE)
    # Workers' stars for this employer from follow-ups (1-5), and jobs called off late (after workers
    # were confirmed, within LATE_CANCEL_HOURS of the start): shown to agents and in the reports.
    rating_sum: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    rating_count: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    late_cancellations: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    # True while `held` because of open wage cases (dispatch.wages.holds set it): only such a hold is
    # lifted when the last case closes; a hold set by hand stays until lifted by hand.
    held_for_wage_case: Mapped[bool] = mapped_column(Boolean, default=False, server_default=text("false"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    site: Mapped[Site | None] = relationship()


class EmployerBlock(Base):
    """A worker this employer does not want offered their jobs again (or who asked not to work there)."""

    __tablename__ = "employer_block"

    employer_id: Mapped[int] = mapped_column(ForeignKey("employer.id", ondelete="CASCADE"), primary_key=True)
    worker_id: Mapped[int] = mapped_column(
        ForeignKey("worker.id", ondelete="CASCADE"), primary_key=True, index=True
    )
    reason: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
