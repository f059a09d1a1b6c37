"""The people who work the console (agents) and the record of what they changed (the audit log)."""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

from sqlalchemy import Boolean, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from dispatch.clock import utcnow
from dispatch.db import Base
from dispatch.models.places import Site
from dispatch.models.types import JSON, UTCDateTime, str_enum


class AgentRole(enum.StrEnum):
    AGENT = "agent"  # works the queue of their own site and the sites below it
    SUPERVISOR = "supervisor"  # the same, plus the reports
    ADMIN = "admin"  # every site, every page


class Agent(Base):
    """A call-center agent at the district market, a town market or a village station."""

    __tablename__ = "agent"

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    display_name: Mapped[str] = mapped_column(String(64), default="")
    password_hash: Mapped[str] = mapped_column(String(256))
    role: Mapped[AgentRole] = mapped_column(str_enum(AgentRole), default=AgentRole.AGENT)
    site_id: Mapped[int] = mapped_column(ForeignKey("site.id"), index=True)
    language: Mapped[str] = mapped_column(String(2), default="zh")
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_sign_in_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    site: Mapped[Site] = relationship()

    @property
    def label(self) -> str:
        return self.display_name or self.username


class AgentSession(Base):
    """One sign-in. The cookie holds a random token and this row its SHA-256: a cookie is good only
    while its row is open, so signing out (or a password change, or disabling the agent) ends it even
    for a copy re-signed with a known SECRET_KEY."""

    __tablename__ = "agent_session"

    id: Mapped[int] = mapped_column(primary_key=True)
    agent_id: Mapped[int] = mapped_column(ForeignKey("agent.id"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)  # hex SHA-256 of the cookie's token
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_seen_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    address: Mapped[str] = mapped_column(String(64), default="")  # where it signed in from

    agent: Mapped[Agent] = relationship()


class AuditEvent(Base):
    """One change an agent made: who, what, to which row, when, with the values that matter."""

    __tablename__ = "audit_event"
    __table_args__ = (Index("ix_audit_event_target", "target_type", "target_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    agent_id: Mapped[int | None] = mapped_column(ForeignKey("agent.id"), index=True)
    action: Mapped[str] = mapped_column(String(64))  # e.g. ticket.claim, job.cancel, worker.register
    target_type: Mapped[str] = mapped_column(String(32), default="")
    target_id: Mapped[int | None] = mapped_column()
    details: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    remote_addr: Mapped[str] = mapped_column(String(64), default="")
    note: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)

    agent: Mapped[Agent | None] = relationship()
