"""Phone calls to the voice menu (IVR): each call's state lives here, so any process takes the next step."""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from dispatch.clock import utcnow
from dispatch.db import Base
from dispatch.models.types import JSON, UTCDateTime, str_enum


class CallOutcome(enum.StrEnum):
    JOB = "job"  # the caller confirmed a job request: job_id is set
    REGISTRATION = "registration"  # a worker registered by keypad (pending until the SMS `1`)
    JOBS_HEARD = "jobs_heard"  # an employer heard the open jobs and changed nothing
    CANCELLED = "cancelled"  # an employer cancelled one of their jobs
    AGENT = "agent"  # put in the agents' call queue: an agent_call ticket
    VOICEMAIL = "voicemail"  # left a message outside opening hours: a voicemail ticket
    CALL_BACK = "call_back"  # hung up part-way: a call_back ticket holds what was collected
    FOLLOW_UP = "follow_up"  # the market's follow-up call (回访) to a worker: the follow-up holds the answers
    WORKER_LINE = "worker_line"  # a worker heard their offers or bookings, or said busy/free, by keypad
    OFFER_CALL = "offer_call"  # the market called a worker who prefers voice with an offer
    NOTICE_CALL = "notice_call"  # the market called an employer who cannot take SMS: who is coming
    POLICY = "policy"  # the caller heard a policy topic (key 6): nothing left for an agent


class Call(Base):
    __tablename__ = "call"
    __table_args__ = (Index("ix_call_phone_created_at", "phone", "created_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    call_sid: Mapped[str] = mapped_column(String(64), unique=True)
    # The caller: E.164 when it parses, else what the carrier sent (may be empty: a withheld number).
    phone: Mapped[str] = mapped_column(String(40), default="")
    flow: Mapped[str] = mapped_column(String(16), default="menu")  # menu, job, register, manage
    step: Mapped[str] = mapped_column(String(32), default="menu")
    language: Mapped[str] = mapped_column(String(2), default="zh")
    # What the caller has keyed so far (trade id, headcount, date ...), kept whatever happens next.
    answers: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    retries: Mapped[int] = mapped_column(Integer, default=0)  # timeouts or wrong keys at the current step
    # Each answered step moves the turn on; an action URL carries the turn it was issued for, so a
    # step delivered twice (or one from an older prompt) is recognised and has one effect only.
    turn: Mapped[int] = mapped_column(Integer, default=0)
    last_key: Mapped[str] = mapped_column(String(48), default="")  # "<step>:<turn>" last answered
    last_twiml: Mapped[str] = mapped_column(Text, default="")  # what that answer returned
    status: Mapped[str] = mapped_column(String(24), default="ringing")  # Twilio's CallStatus
    outcome: Mapped[CallOutcome | None] = mapped_column(str_enum(CallOutcome))
    recording_url: Mapped[str] = mapped_column(String(500), default="")
    job_id: Mapped[int | None] = mapped_column(ForeignKey("job.id"), index=True)
    employer_id: Mapped[int | None] = mapped_column(ForeignKey("employer.id"))
    worker_id: Mapped[int | None] = mapped_column(ForeignKey("worker.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
