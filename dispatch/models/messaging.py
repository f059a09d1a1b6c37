"""Every SMS in and out, the numbers we talk to, and SMS dialogues in progress."""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

from sqlalchemy import Boolean, ForeignKey, Index, Integer, String, Text, false
from sqlalchemy.orm import Mapped, mapped_column

from dispatch.clock import utcnow
from dispatch.db import Base
from dispatch.models.types import JSON, UTCDateTime, str_enum


class Direction(enum.StrEnum):
    INBOUND = "inbound"
    OUTBOUND = "outbound"


class MessageStatus(enum.StrEnum):
    # inbound
    RECEIVED = "received"  # stored, not yet handled
    HANDLED = "handled"  # understood and acted on
    UNPARSED = "unparsed"  # nobody could read it: a ticket waits for an agent
    REJECTED = "rejected"  # a required field (From, MessageSid) was missing: kept, not acted on
    # outbound, in the order Twilio reports them; a status never moves backwards
    PENDING = "pending"  # written, waiting for its send job (or for quiet hours to end)
    QUEUED = "queued"
    # Without a provider_sid: handed to the provider by an attempt whose outcome is not recorded yet
    # (never sent again before the provider is asked). With one: Twilio's own "sending".
    SENDING = "sending"
    SENT = "sent"
    DELIVERED = "delivered"
    UNDELIVERED = "undelivered"  # terminal
    FAILED = "failed"  # terminal
    SUPPRESSED = "suppressed"  # terminal: never sent (opted out, undeliverable number)
    # terminal: not sent itself, its content went in another text (Message.merged_into_id), one listing
    # the offers a per-number frequency limit held back (dispatch/sms/merging.py)
    MERGED = "merged"


# Rank of outbound statuses: a callback may only move a message to a higher rank.
OUTBOUND_STATUS_RANK: dict[MessageStatus, int] = {
    MessageStatus.PENDING: 0,
    MessageStatus.QUEUED: 1,
    MessageStatus.SENDING: 2,
    MessageStatus.SENT: 3,
    MessageStatus.DELIVERED: 4,
    MessageStatus.UNDELIVERED: 5,
    MessageStatus.FAILED: 5,
    MessageStatus.SUPPRESSED: 5,
    MessageStatus.MERGED: 5,
}
TERMINAL_STATUSES = frozenset(
    {MessageStatus.UNDELIVERED, MessageStatus.FAILED, MessageStatus.SUPPRESSED, MessageStatus.MERGED}
)


class Message(Base):
    __tablename__ = "message"
    __table_args__ = (Index("ix_message_phone_created_at", "phone", "created_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    direction: Mapped[Direction] = mapped_column(str_enum(Direction, 10))
    # The other party: E.164 when it parses, else what the carrier sent.
    phone: Mapped[str] = mapped_column(String(40))
    # Our side: the number or messaging service it went from or came to.
    service_address: Mapped[str] = mapped_column(String(40), default="")
    body: Mapped[str] = mapped_column(Text, default="")
    provider_sid: Mapped[str | None] = mapped_column(String(64), unique=True)
    status: Mapped[MessageStatus] = mapped_column(str_enum(MessageStatus), index=True)
    error_code: Mapped[int | None] = mapped_column(Integer)
    error_message: Mapped[str] = mapped_column(Text, default="")
    segments: Mapped[int] = mapped_column(Integer, default=1)
    # What the message is for, e.g. registration.ask_trade, help, opt_out.confirm, unparsed.
    kind: Mapped[str] = mapped_column(String(48), default="")
    language: Mapped[str] = mapped_column(String(2), default="zh")
    # A reply to something the person just sent: never held for quiet hours.
    is_reply: Mapped[bool] = mapped_column(Boolean, default=False)
    in_reply_to_id: Mapped[int | None] = mapped_column(ForeignKey("message.id"))
    send_after: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # An offer or reminder for a job starting before quiet hours end: it may go during quiet hours
    # inside URGENT_HOURS (dispatch/quiet_hours.hold_until).
    urgent: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    # Not handed to the provider after this moment (an offer after its job's start says nothing
    # useful): a send due later is suppressed instead.
    not_after: Mapped[datetime | None] = mapped_column(UTCDateTime)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    # When the latest attempt was handed to the provider: a lookup asks for messages since then.
    send_started_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    worker_id: Mapped[int | None] = mapped_column(ForeignKey("worker.id"), index=True)
    employer_id: Mapped[int | None] = mapped_column(ForeignKey("employer.id"), index=True)
    # Everything Twilio posted with an inbound message, for the agent and for audits.
    raw: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    # Outbound: the SMS template the body was rendered from and, when a templated carrier (Alibaba
    # Cloud SMS) is configured, that template's carrier variables, rendered from the same context when
    # the message was queued (config/carrier_templates.toml). None: sent as plain text only.
    template: Mapped[str] = mapped_column(String(48), default="")
    template_params: Mapped[dict[str, str] | None] = mapped_column(JSON)
    # Which of the template's carrier templates (one for each text its conditions make): its text with
    # ${name} variables, which names it whatever its code (the codes come once approved).
    carrier_text: Mapped[str | None] = mapped_column(Text)
    # Outbound: the provider its latest attempt went to (twilio, aliyun, outbox; SMS_TRANSPORT=routed
    # chooses per attempt): a lookup of an unanswered attempt asks that one. None: not attempted yet.
    provider: Mapped[str | None] = mapped_column(String(16))
    # How many times a per-number frequency limit of the provider held it back (dispatch/sms/frequency.py).
    frequency_delays: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    # MERGED: the text that carried it (a plain id, as Contact.question_job_id).
    merged_into_id: Mapped[int | None] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)


class QuestionKind(enum.StrEnum):
    """What the service last asked a number, so that a bare answer (`1`, `好`, `3`) goes to it."""

    OFFER = "offer"  # a job offer (or which of several offers): `1` takes it, `2` declines
    FOLLOW_UP = "follow_up"  # a follow-up (回访) question or its reminder: `1 5`, `3`
    POLICY = "policy"  # the `政策` menu: a digit picks its topic


class Contact(Base):
    """A phone number we exchange SMS with: its language, whether we may text it at all, and the
    question it was last asked (dialogues in progress are Conversations, which come first)."""

    __tablename__ = "contact"

    id: Mapped[int] = mapped_column(primary_key=True)
    phone: Mapped[str] = mapped_column(String(20), unique=True)
    language: Mapped[str] = mapped_column(String(2), default="zh")
    # Set by STOP/退订 (or Twilio's 21610); cleared by START/订阅. While set, nothing is sent.
    opted_out_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Set when the carrier says the number cannot take SMS; cleared when the number texts us.
    undeliverable_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    undeliverable_error: Mapped[int | None] = mapped_column(Integer)
    # Set by 退订活动 (unsubscribe events): no outreach texts, job offers still (dispatch/outreach/).
    events_opted_out_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # The last question we texted this number (dispatch/inbound/questions.py): one per contact, replaced
    # by the next. A plain id, not a foreign key: a job deleted later leaves a question that names nothing.
    question_kind: Mapped[QuestionKind | None] = mapped_column(str_enum(QuestionKind))
    question_job_id: Mapped[int | None] = mapped_column(Integer)
    question_asked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    question_expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    @property
    def may_receive(self) -> bool:
        return self.opted_out_at is None and self.undeliverable_at is None


class Conversation(Base):
    """An SMS dialogue in progress (registration), so a restart or another process can go on with it."""

    __tablename__ = "conversation"

    id: Mapped[int] = mapped_column(primary_key=True)
    phone: Mapped[str] = mapped_column(String(20), unique=True)
    flow: Mapped[str] = mapped_column(String(32))
    step: Mapped[str] = mapped_column(String(32))
    answers: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
