"""The transactional outbox and the agents' queue of tickets."""

from __future__ import annotations

import enum
from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import ForeignKey, Index, Integer, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from dispatch.clock import utcnow
from dispatch.db import Base
from dispatch.models.types import JSON, UTCDateTime, str_enum

if TYPE_CHECKING:
    from dispatch.models.console import Agent
    from dispatch.models.people import Employer, Worker
    from dispatch.models.places import Site


class OutboxEvent(Base):
    """A job that must run: written in the request's transaction, relayed to RQ after commit."""

    __tablename__ = "outbox_event"
    __table_args__ = (
        Index("ix_outbox_event_unrelayed", "relayed_at", "created_at"),
        # The lost-job sweep reads the relayed jobs not known to be done: few at any time.
        Index(
            "ix_outbox_event_unfinished",
            "relayed_at",
            postgresql_where=text("completed_at IS NULL AND relayed_at IS NOT NULL"),
            sqlite_where=text("completed_at IS NULL AND relayed_at IS NOT NULL"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    task: Mapped[str] = mapped_column(String(128))  # dotted path of a function in <area>/tasks.py
    args: Mapped[list[Any]] = mapped_column(JSON, default=list)
    queue: Mapped[str] = mapped_column(String(32), default="default")
    run_at: Mapped[datetime | None] = mapped_column(UTCDateTime)  # None: as soon as possible
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    relayed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    relay_attempts: Mapped[int] = mapped_column(Integer, default=0)
    # The RQ job it was relayed as (a lost job is relayed again under a new id), and when that job was
    # seen done (finished, or failed for good) by the lost-job sweep.
    job_id: Mapped[str | None] = mapped_column(String(64))
    completed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    @property
    def rq_job_id(self) -> str:
        """The RQ job this row was (or will be) relayed as: `outbox-<id>` until a lost one is relayed
        again (a row written already marked relayed stores no id: it has none before its INSERT)."""
        return self.job_id or f"outbox-{self.id}"


class TicketKind(enum.StrEnum):
    UNPARSED_SMS = "unparsed_sms"  # an SMS the parser could not read
    FAILED_SMS = "failed_sms"  # an inbound SMS whose handling raised: kept for an agent
    UNFILLED_JOB = "unfilled_job"  # matching ran out of waves or candidates
    VOICEMAIL = "voicemail"  # a caller left a message outside opening hours
    AGENT_CALL = "agent_call"  # a caller waits in (or left) the agents' call queue
    CALL_BACK = "call_back"  # a call ended part-way: call the person back with what was collected
    RECORDED_NAME = "recorded_name"  # a worker registered by phone: type the spoken name
    FOLLOW_UP = "follow_up"  # a follow-up (回访) nobody answered: call and ask the questions
    WAGE_CASE = "wage_case"  # a dispute: a worker was not (fully) paid; mediate (调解)
    INSURANCE = "insurance"  # a placement the insurer would not cover: fix the worker's details or re-staff
    HELD_JOB = "held_job"  # a job of a held employer waits for an agent's review before any offer


class TicketOutcome(enum.StrEnum):
    DONE = "done"  # the agent finished what the machine could not (job made, name typed, answered)
    JOB_CREATED = "job_created"  # a voicemail or call turned into a job
    WORKER_REGISTERED = "worker_registered"  # a voicemail or call turned into a registration
    REPLIED = "replied"  # the agent answered the person by SMS
    CALLED = "called"  # the agent phoned the person
    NO_ANSWER = "no_answer"  # called, nobody answered
    NOT_NEEDED = "not_needed"  # nothing to do (spam, duplicate, resolved elsewhere)
    JOB_CLOSED = "job_closed"  # an unfilled job was cancelled


class TicketStatus(enum.StrEnum):
    OPEN = "open"  # waiting for an agent
    CLAIMED = "claimed"  # an agent is working it
    RESOLVED = "resolved"  # done, with a resolution


class Ticket(Base):
    """An item on the agents' queue page: whatever a machine could not finish."""

    __tablename__ = "ticket"
    __table_args__ = (Index("ix_ticket_status_priority", "status", "priority", "created_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(32))
    priority: Mapped[int] = mapped_column(Integer, default=3)  # 1 most urgent
    status: Mapped[TicketStatus] = mapped_column(str_enum(TicketStatus), default=TicketStatus.OPEN)
    site_id: Mapped[int | None] = mapped_column(ForeignKey("site.id"), index=True)
    phone: Mapped[str] = mapped_column(String(40), default="")
    worker_id: Mapped[int | None] = mapped_column(ForeignKey("worker.id"))
    employer_id: Mapped[int | None] = mapped_column(ForeignKey("employer.id"))
    message_id: Mapped[int | None] = mapped_column(ForeignKey("message.id"))
    job_id: Mapped[int | None] = mapped_column(ForeignKey("job.id"), index=True)
    call_sid: Mapped[str | None] = mapped_column(String(64), index=True)
    # What a machine had collected before it gave up (IVR answers, a recording URL ...).
    details: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    # The plain words kept for logs and audits, or the person's own words (an SMS, what a caller said).
    summary: Mapped[str] = mapped_column(Text, default="")
    # What a machine-made summary says, as data: a key of the console's `tickets.summary.*` texts and
    # the fields they are filled with, worded when shown in the agent's language
    # (dispatch/tickets/summaries.py). None for a person's own words and for tickets made before 0010.
    summary_key: Mapped[str | None] = mapped_column(String(48))
    summary_fields: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    # The agent working it; claimed with a conditional UPDATE so two agents never hold one ticket.
    claimed_by_id: Mapped[int | None] = mapped_column(ForeignKey("agent.id"), index=True)
    claimed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    outcome: Mapped[str] = mapped_column(
        String(32), default="", server_default=""
    )  # a TicketOutcome value once resolved
    resolution: Mapped[str] = mapped_column(Text, default="")  # the agent's note
    resolved_by_id: Mapped[int | None] = mapped_column(ForeignKey("agent.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    resolved_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    claimed_by: Mapped[Agent | None] = relationship(foreign_keys=[claimed_by_id])
    resolved_by: Mapped[Agent | None] = relationship(foreign_keys=[resolved_by_id])
    site: Mapped[Site | None] = relationship()
    worker: Mapped[Worker | None] = relationship()
    employer: Mapped[Employer | None] = relationship()
