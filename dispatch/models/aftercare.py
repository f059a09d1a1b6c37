"""After the job: follow-ups (回访), wage cases (欠薪调解), day insurance (零工日险) and offers passed on
to a friend (转给朋友)."""

from __future__ import annotations

import enum
from datetime import date, datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import Boolean, Date, ForeignKey, Index, Integer, String, Text, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from dispatch.clock import utcnow
from dispatch.db import Base
from dispatch.models.types import JSON, UTCDateTime, str_enum

if TYPE_CHECKING:
    from dispatch.models.jobs import Job, Offer
    from dispatch.models.people import Employer, Worker
    from dispatch.models.places import Trade


class FollowUpParty(enum.StrEnum):
    WORKER = "worker"  # asked: were you paid in full, and how was the employer (1-5)
    EMPLOYER = "employer"  # asked: how was this worker (1-5, 0 = did not come)


class FollowUpChannel(enum.StrEnum):
    SMS = "sms"
    VOICE = "voice"  # an outbound call with a keypad menu (workers who prefer voice)


class FollowUpStatus(enum.StrEnum):
    ASKED = "asked"  # the questions went out; waiting for the answer
    REMINDED = "reminded"  # no answer after a day: asked once more
    AGENT = "agent"  # still no answer: a follow_up ticket asks an agent to call (回访 by phone)
    ANSWERED = "answered"  # every question answered (by SMS, keypad or an agent)
    # Terminal: chasing ended without every answer (the agent's call found nobody, or a worker who
    # said whether they were paid left the stars out). A late SMS answer naming the job still counts.
    UNANSWERED = "unanswered"


# Follow-ups still waiting for an answer from the person (an agent's ticket included).
OPEN_FOLLOW_UP_STATUSES = frozenset({FollowUpStatus.ASKED, FollowUpStatus.REMINDED, FollowUpStatus.AGENT})


class PaidAnswer(enum.StrEnum):
    FULL = "full"  # `1`: paid in full
    PART = "part"  # `2`: paid in part: a wage case
    NONE = "none"  # `3`: not paid: a wage case


class AnsweredVia(enum.StrEnum):
    SMS = "sms"
    VOICE = "voice"
    AGENT = "agent"


class FollowUp(Base):
    """One side's follow-up of one placement (an accepted offer): one row for the worker, one for the
    employer. Created the morning after the placement's last working day."""

    __tablename__ = "follow_up"
    __table_args__ = (
        UniqueConstraint("offer_id", "party", name="uq_follow_up_offer_party"),
        Index("ix_follow_up_status_asked", "status", "asked_at"),
        Index("ix_follow_up_worker_status", "worker_id", "status"),
        Index("ix_follow_up_employer_status", "employer_id", "status"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    offer_id: Mapped[int] = mapped_column(ForeignKey("offer.id"))
    job_id: Mapped[int] = mapped_column(ForeignKey("job.id"), index=True)
    worker_id: Mapped[int] = mapped_column(ForeignKey("worker.id"))
    employer_id: Mapped[int] = mapped_column(ForeignKey("employer.id"))
    party: Mapped[FollowUpParty] = mapped_column(str_enum(FollowUpParty, 10))
    channel: Mapped[FollowUpChannel] = mapped_column(str_enum(FollowUpChannel, 10))
    status: Mapped[FollowUpStatus] = mapped_column(str_enum(FollowUpStatus), default=FollowUpStatus.ASKED)
    # Employer side: the worker's number among the job's placements, for the reply `123 2 5`.
    seq: Mapped[int] = mapped_column(Integer, default=1)
    # Worker side: were they paid. Null until answered.
    paid: Mapped[PaidAnswer | None] = mapped_column(str_enum(PaidAnswer, 10))
    # Worker side: the employer's stars (1-5). Employer side: the worker's stars (1-5, 0 = no-show).
    stars: Mapped[int | None] = mapped_column(Integer)
    answered_via: Mapped[AnsweredVia | None] = mapped_column(str_enum(AnsweredVia, 10))
    asked_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    reminded_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    answered_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    ticket_id: Mapped[int | None] = mapped_column(ForeignKey("ticket.id"))
    # The last outbound follow-up call, for voice follow-ups.
    call_sid: Mapped[str | None] = mapped_column(String(64), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    offer: Mapped[Offer] = relationship()
    job: Mapped[Job] = relationship()
    worker: Mapped[Worker] = relationship()
    employer: Mapped[Employer] = relationship()


class WageCaseStatus(enum.StrEnum):
    OPEN = "open"  # the worker said they were not (fully) paid; nobody has acted yet
    MEDIATING = "mediating"  # an agent is mediating with the employer (调解)
    RECOVERED = "recovered"  # the wages owed were recovered in full
    PARTLY_RECOVERED = "partly_recovered"  # some of them were recovered; the case is closed
    CLOSED_UNRESOLVED = "closed_unresolved"  # closed with nothing recovered (referred on, withdrawn ...)


OPEN_WAGE_CASE_STATUSES = frozenset({WageCaseStatus.OPEN, WageCaseStatus.MEDIATING})


class CaseOpenedVia(enum.StrEnum):
    FOLLOW_UP = "follow_up"  # the worker's answer 2 or 3 to the follow-up (回访)
    SMS = "sms"  # the worker's `欠薪 101` at any time
    VOICE = "voice"  # the worker's key on their line of the IVR
    AGENT = "agent"  # an agent, from the person's or the job's page (a worker in the hall, on the phone)


class WageCase(Base):
    """A worker's unpaid (or part-paid) wages for one placement, with the evidence an agent needs."""

    __tablename__ = "wage_case"
    __table_args__ = (Index("ix_wage_case_employer_status", "employer_id", "status"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    follow_up_id: Mapped[int | None] = mapped_column(ForeignKey("follow_up.id"), unique=True)
    offer_id: Mapped[int] = mapped_column(ForeignKey("offer.id"), index=True)
    job_id: Mapped[int] = mapped_column(ForeignKey("job.id"), index=True)
    worker_id: Mapped[int] = mapped_column(ForeignKey("worker.id"), index=True)
    employer_id: Mapped[int] = mapped_column(ForeignKey("employer.id"))
    site_id: Mapped[int | None] = mapped_column(ForeignKey("site.id"), index=True)
    ticket_id: Mapped[int | None] = mapped_column(ForeignKey("ticket.id"))
    status: Mapped[WageCaseStatus] = mapped_column(str_enum(WageCaseStatus), default=WageCaseStatus.OPEN)
    paid: Mapped[PaidAnswer] = mapped_column(str_enum(PaidAnswer, 10))  # part or none
    opened_via: Mapped[CaseOpenedVia] = mapped_column(
        str_enum(CaseOpenedVia, 10), default=CaseOpenedVia.FOLLOW_UP, server_default="follow_up"
    )
    # The worker had answered the follow-up "paid in full" (1) before claiming: the mediator asks why.
    after_paid: Mapped[bool] = mapped_column(Boolean, default=False, server_default=text("false"))
    daily_pay: Mapped[int] = mapped_column(Integer)  # yuan, as agreed on the job
    days: Mapped[int] = mapped_column(Integer)
    amount_owed: Mapped[int] = mapped_column(Integer)  # yuan: what the worker says is unpaid
    amount_recovered: Mapped[int] = mapped_column(Integer, default=0)  # yuan
    # The job, both sides' confirmations and the messages exchanged, as they were when it opened.
    evidence: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    notes: Mapped[str] = mapped_column(Text, default="")
    opened_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime, index=True)

    job: Mapped[Job] = relationship()
    worker: Mapped[Worker] = relationship()
    employer: Mapped[Employer] = relationship()
    offer: Mapped[Offer] = relationship()


class EnrolmentStatus(enum.StrEnum):
    ENROLLED = "enrolled"  # insured for that day: goes in the insurer's CSV
    FAILED = "failed"  # the insurer would not take it (see error); a high-risk job is not dispatched
    CANCELLED = "cancelled"  # the place was given back or the job called off before the day


class InsuranceEnrolment(Base):
    """Day insurance (零工日险) for one worker on one working day of one placement."""

    __tablename__ = "insurance_enrolment"
    __table_args__ = (
        UniqueConstraint("offer_id", "work_date", name="uq_insurance_enrolment_offer_date"),
        Index("ix_insurance_enrolment_date_status", "work_date", "status"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    reference: Mapped[str | None] = mapped_column(String(32), unique=True)
    offer_id: Mapped[int] = mapped_column(ForeignKey("offer.id"))
    worker_id: Mapped[int] = mapped_column(ForeignKey("worker.id"), index=True)
    job_id: Mapped[int] = mapped_column(ForeignKey("job.id"), index=True)
    trade_id: Mapped[int] = mapped_column(ForeignKey("trade.id"))
    site_id: Mapped[int | None] = mapped_column(ForeignKey("site.id"))
    work_date: Mapped[date] = mapped_column(Date)
    status: Mapped[EnrolmentStatus] = mapped_column(str_enum(EnrolmentStatus))
    error: Mapped[str] = mapped_column(Text, default="")
    # When the insurer last took it (the export's enrolled_at); null until it is enrolled.
    enrolled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    worker: Mapped[Worker] = relationship()
    job: Mapped[Job] = relationship()
    trade: Mapped[Trade] = relationship()


class ForwardOutcome(enum.StrEnum):
    OFFERED = "offered"  # a registered worker who fits got the offer
    INVITED = "invited"  # an unknown number got an invitation to register
    REFUSED_OPTED_OUT = "refused_opted_out"  # the number opted out of our texts: nothing sent
    REFUSED_NOT_FIT = "refused_not_fit"  # a registered worker who does not fit (trade, status, clash ...)
    REFUSED_LIMIT = "refused_limit"  # the forwarder (or the number) reached the day's limit
    REFUSED_BAD_NUMBER = "refused_bad_number"  # not a mobile number, or the forwarder's own


class OfferForward(Base):
    """A worker passed an offer to someone else (`转 123 13800138000`): kept for the limit and the audit."""

    __tablename__ = "offer_forward"
    __table_args__ = (
        Index("ix_offer_forward_from_created", "from_worker_id", "created_at"),
        Index("ix_offer_forward_to_created", "to_phone", "created_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    offer_id: Mapped[int] = mapped_column(ForeignKey("offer.id"), index=True)  # the forwarder's offer
    job_id: Mapped[int] = mapped_column(ForeignKey("job.id"))
    from_worker_id: Mapped[int] = mapped_column(ForeignKey("worker.id"))
    to_phone: Mapped[str] = mapped_column(String(40))
    to_worker_id: Mapped[int | None] = mapped_column(ForeignKey("worker.id"))
    new_offer_id: Mapped[int | None] = mapped_column(ForeignKey("offer.id"))
    outcome: Mapped[ForwardOutcome] = mapped_column(str_enum(ForwardOutcome, 32))
    # Why, in a word (`trade`, `pay`, `blocked`, `invited_before` ...): for agents. The forwarder is told
    # the reason only when it is about their own input; a refusal about the friend reads the same for all.
    reason: Mapped[str | None] = mapped_column(String(32))
    message_id: Mapped[int | None] = mapped_column(ForeignKey("message.id"))  # the `转 …` text
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    from_worker: Mapped[Worker] = relationship(foreign_keys=[from_worker_id])
