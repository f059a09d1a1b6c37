"""Jobs (岗位) employers ask for, and the offers the matcher sends to workers."""

from __future__ import annotations

import enum
from datetime import date, datetime, time, timedelta
from typing import Any

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    Date,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    Time,
    UniqueConstraint,
    false,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from dispatch.clock import utcnow
from dispatch.db import Base
from dispatch.models.people import Employer, Worker
from dispatch.models.places import Site, Trade
from dispatch.models.types import JSON, UTCDateTime, str_enum


class JobStatus(enum.StrEnum):
    DRAFT = "draft"  # being put together (an SMS request waiting for the employer's `1`)
    HELD = "held"  # waits for an agent's review before any offer goes out
    OPEN = "open"  # matching: offers go out in waves
    FILLED = "filled"  # every place is taken
    CANCELLED = "cancelled"  # the employer (or an agent) called it off
    EXPIRED = "expired"  # its day passed with places still open
    ESCALATED = "escalated"  # the machine gave up: an `unfilled job` ticket waits for an agent


class JobSource(enum.StrEnum):
    IVR = "ivr"
    SMS = "sms"
    AGENT = "agent"
    API = "api"


# Statuses in which a job still wants workers.
ACTIVE_JOB_STATUSES = frozenset({JobStatus.OPEN, JobStatus.ESCALATED, JobStatus.HELD})


class Job(Base):
    __tablename__ = "job"
    __table_args__ = (
        Index("ix_job_status_trade", "status", "trade_id"),
        Index("ix_job_employer_created", "employer_id", "created_at"),
        # Matching's overlap check: jobs still running on or after a date.
        Index("ix_job_end_date", "end_date"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    # What SMS replies carry (`1 123`): short, numeric, unique.
    code: Mapped[str | None] = mapped_column(String(8), unique=True)
    employer_id: Mapped[int] = mapped_column(ForeignKey("employer.id"))
    trade_id: Mapped[int] = mapped_column(ForeignKey("trade.id"))
    headcount: Mapped[int] = mapped_column(Integer)
    filled: Mapped[int] = mapped_column(Integer, default=0)
    work_date: Mapped[date] = mapped_column(Date)
    start_time: Mapped[time] = mapped_column(Time)
    days: Mapped[int] = mapped_column(Integer, default=1)
    # The last working day (work_date + days - 1), stored so overlap checks can use an index.
    end_date: Mapped[date] = mapped_column(Date)
    daily_pay: Mapped[int] = mapped_column(Integer)  # yuan a day
    site_id: Mapped[int] = mapped_column(ForeignKey("site.id"), index=True)
    address: Mapped[str] = mapped_column(String(200), default="")
    notes: Mapped[str] = mapped_column(Text, default="")
    # A short spoken description recorded in the IVR.
    recording_url: Mapped[str] = mapped_column(String(500), default="")
    status: Mapped[JobStatus] = mapped_column(str_enum(JobStatus), default=JobStatus.OPEN)
    source: Mapped[JobSource] = mapped_column(str_enum(JobSource))
    urgency: Mapped[int] = mapped_column(Integer, default=0)  # 0 normal; higher is more urgent
    # Matching's progress: the last wave sent, and the state matching keeps between waves (the seed,
    # each wave's radius and expiry, when the employer's notice is due). Facts about one offer are
    # columns of Offer, not entries here.
    wave: Mapped[int] = mapped_column(Integer, default=0)
    matching: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
    filled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    cancelled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    employer: Mapped[Employer] = relationship()
    trade: Mapped[Trade] = relationship()
    site: Mapped[Site] = relationship()
    offers: Mapped[list[Offer]] = relationship(back_populates="job", order_by="Offer.id")

    @property
    def remaining(self) -> int:
        return max(0, self.headcount - self.filled)

    @staticmethod
    def last_day(work_date: date, days: int) -> date:
        return work_date + timedelta(days=max(1, days) - 1)


class OfferStatus(enum.StrEnum):
    QUEUED = "queued"  # chosen for a wave, SMS not yet sent
    SENT = "sent"  # the SMS went out; waiting for the worker's answer
    ACCEPTED = "accepted"  # the worker took a place (a placement)
    DECLINED = "declined"  # the worker said no
    EXPIRED = "expired"  # no answer before expires_at
    LATE = "late"  # said yes after the places were gone (名额已满)
    STANDBY = "standby"  # said yes when full; first in line if a place reopens
    CANCELLED = "cancelled"  # the job was cancelled or filled, or the worker gave the place back


# Offers still waiting for an answer.
OPEN_OFFER_STATUSES = frozenset({OfferStatus.QUEUED, OfferStatus.SENT})


class Offer(Base):
    __tablename__ = "offer"
    __table_args__ = (
        UniqueConstraint("job_id", "worker_id", name="uq_offer_job_worker"),
        Index("ix_offer_worker_status", "worker_id", "status"),
        Index("ix_offer_job_status", "job_id", "status"),
        # The expiry sweep: offers still waiting for an answer, by when they lapse.
        Index(
            "ix_offer_open_expiry",
            "expires_at",
            postgresql_where=text("status IN ('queued', 'sent')"),
            sqlite_where=text("status IN ('queued', 'sent')"),
        ),
        # Only a place given back can have been given back too late (ck_offer_cancelled_late_given_back).
        CheckConstraint("NOT cancelled_late OR given_back_at IS NOT NULL", name="cancelled_late_given_back"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    job_id: Mapped[int] = mapped_column(ForeignKey("job.id"))
    worker_id: Mapped[int] = mapped_column(ForeignKey("worker.id"))
    wave: Mapped[int] = mapped_column(Integer, default=1)
    status: Mapped[OfferStatus] = mapped_column(str_enum(OfferStatus), default=OfferStatus.QUEUED)
    score: Mapped[float] = mapped_column(Float, default=0.0)
    # Each ranking factor's share of the score, for the agent's job page.
    explanation: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    message_id: Mapped[int | None] = mapped_column(ForeignKey("message.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    responded_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # What happened to the offer besides its status (which a later answer overwrites). Written under
    # the job's row lock, like the status.
    # When the placed worker last gave the place back (`取消 123`): a later yes to it takes nothing. It
    # stays set if an agent books the worker again by phone.
    given_back_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Given back too late for the employer to find someone else: counted as a no-show then, so the
    # employer's `0` in the follow-up does not count it twice.
    cancelled_late: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    # The insurer would not cover the worker on this high-risk job, so the offer was closed: once the
    # worker's details are fixed a yes to it may still take a place (it counts only while the offer is
    # cancelled and not given back); the worker's no to the closed offer clears it.
    uninsured: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    # When the employer was texted this worker's name and number (one SMS or a summary): they hear of
    # the worker giving the place back too, and are not told of the worker twice.
    employer_told_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # When the placed worker was reminded of the job (dispatch/matching/reminders.py): the evening
    # before, and shortly before its start. Set once; a reminder is never sent twice.
    reminded_evening_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    reminded_soon_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # The day itself (dispatch/matching/attendance.py): when the worker texted `到` (arrived), and when
    # the employer said they did not come (`没来 101`: the place was freed then).
    arrived_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    no_show_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    job: Mapped[Job] = relationship(back_populates="offers")
    worker: Mapped[Worker] = relationship()
