"""The live call center: agents' presence, callers waiting for a person, and the calls agents are on.

Twilio holds the audio; these rows hold what the service decides with: who may take which caller
(presence and the site tree), how long each caller has waited, and what each agent call came to.
"""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from dispatch.clock import utcnow
from dispatch.db import Base
from dispatch.models.console import Agent
from dispatch.models.types import UTCDateTime, str_enum


class Presence(enum.StrEnum):
    AVAILABLE = "available"  # signed in, free: may be offered the next caller
    BUSY = "busy"  # on a call (answered from the queue or dialled out)
    WRAP_UP = "wrap_up"  # the call ended; writing the outcome (not offered callers until done)
    AWAY = "away"  # signed out, console closed or idle, or set by the agent


class AgentPresence(Base):
    """One row per agent who has ever opened the console's phone. An agent works at one site (their
    own); a caller is offered to the available agents of the caller's site, then, after a wait, its
    town's and the district's (dispatch/callcenter/routing.py)."""

    __tablename__ = "agent_presence"
    __table_args__ = (Index("ix_agent_presence_site_status", "site_id", "status"),)

    agent_id: Mapped[int] = mapped_column(ForeignKey("agent.id"), primary_key=True)
    site_id: Mapped[int] = mapped_column(ForeignKey("site.id"))
    status: Mapped[Presence] = mapped_column(str_enum(Presence), default=Presence.AWAY)
    changed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # The console's last heartbeat: an agent not seen for CONSOLE_IDLE_SECONDS is set away.
    seen_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # The agent call in progress while busy or wrapping up.
    agent_call_id: Mapped[int | None] = mapped_column(ForeignKey("agent_call.id"))

    agent: Mapped[Agent] = relationship()


class WaitStatus(enum.StrEnum):
    WAITING = "waiting"  # in the Twilio queue, hearing the hold prompt
    ANSWERED = "answered"  # an agent took the call
    CALL_BACK = "call_back"  # pressed the call-back key (or chose it when nobody was there): a ticket
    VOICEMAIL = "voicemail"  # left the queue for a voicemail
    ABANDONED = "abandoned"  # hung up while waiting


class QueuedCall(Base):
    """A caller who asked for a person: one row per time in the queue. The Twilio queue is the
    caller's site's (`queue_name`), so `<Dial><Queue>` takes that site's longest waiter."""

    __tablename__ = "queued_call"
    __table_args__ = (Index("ix_queued_call_status_queued_at", "status", "queued_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    call_id: Mapped[int] = mapped_column(ForeignKey("call.id"), index=True)
    call_sid: Mapped[str] = mapped_column(String(64), index=True)
    site_id: Mapped[int] = mapped_column(ForeignKey("site.id"))  # where the routing chain starts
    queue_name: Mapped[str] = mapped_column(String(64))
    ticket_id: Mapped[int | None] = mapped_column(ForeignKey("ticket.id"))  # the agent_call ticket
    status: Mapped[WaitStatus] = mapped_column(str_enum(WaitStatus), default=WaitStatus.WAITING)
    queued_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    left_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    answered_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    answered_by_id: Mapped[int | None] = mapped_column(ForeignKey("agent.id"))


class CallDirection(enum.StrEnum):
    INBOUND = "inbound"  # a queued caller the agent answered
    OUTBOUND = "outbound"  # the agent called someone (click-to-call, a call-back)


class AgentCall(Base):
    """One call an agent was on, answered or dialled: attempts, durations and outcomes kept whether
    the other side answered or not."""

    __tablename__ = "agent_call"
    __table_args__ = (Index("ix_agent_call_agent_started", "agent_id", "started_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    agent_id: Mapped[int] = mapped_column(ForeignKey("agent.id"))
    direction: Mapped[CallDirection] = mapped_column(str_enum(CallDirection))
    # The agent's leg (the softphone's call to the TwiML App, or the simulator's id offline).
    call_sid: Mapped[str | None] = mapped_column(String(64), unique=True)
    queued_call_id: Mapped[int | None] = mapped_column(ForeignKey("queued_call.id"))
    ticket_id: Mapped[int | None] = mapped_column(ForeignKey("ticket.id"), index=True)
    phone: Mapped[str] = mapped_column(String(40), default="")  # the other party, E.164
    worker_id: Mapped[int | None] = mapped_column(ForeignKey("worker.id"))
    employer_id: Mapped[int | None] = mapped_column(ForeignKey("employer.id"))
    job_id: Mapped[int | None] = mapped_column(ForeignKey("job.id"))
    started_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    answered_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    duration_seconds: Mapped[int | None] = mapped_column(Integer)
    # Twilio's DialCallStatus (completed, busy, no-answer, failed, canceled), or "" while ringing.
    dial_status: Mapped[str] = mapped_column(String(16), default="")
    outcome: Mapped[str] = mapped_column(String(32), default="")  # a TicketOutcome value, set at wrap-up
    note: Mapped[str] = mapped_column(Text, default="")

    agent: Mapped[Agent] = relationship()
