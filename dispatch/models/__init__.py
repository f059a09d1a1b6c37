"""Typed SQLAlchemy 2.x models, split by domain; import them from here."""

from dispatch.db import Base
from dispatch.models.calls import Call, CallOutcome
from dispatch.models.console import Agent, AgentRole, AuditEvent
from dispatch.models.jobs import (
    ACTIVE_JOB_STATUSES,
    OPEN_OFFER_STATUSES,
    Job,
    JobSource,
    JobStatus,
    Offer,
    OfferStatus,
)
from dispatch.models.messaging import (
    Contact,
    Conversation,
    Direction,
    Message,
    MessageStatus,
)
from dispatch.models.operations import OutboxEvent, Ticket, TicketKind, TicketOutcome, TicketStatus
from dispatch.models.people import (
    Employer,
    EmployerBlock,
    EmployerStatus,
    Language,
    RegisteredVia,
    Worker,
    WorkerStatus,
    WorkerTrade,
)
from dispatch.models.places import Site, SiteLevel, Trade

__all__ = [
    "ACTIVE_JOB_STATUSES",
    "OPEN_OFFER_STATUSES",
    "Agent",
    "AgentRole",
    "AuditEvent",
    "Base",
    "Call",
    "CallOutcome",
    "Contact",
    "Conversation",
    "Direction",
    "Employer",
    "EmployerBlock",
    "EmployerStatus",
    "Job",
    "JobSource",
    "JobStatus",
    "Language",
    "Message",
    "MessageStatus",
    "Offer",
    "OfferStatus",
    "OutboxEvent",
    "RegisteredVia",
    "Site",
    "SiteLevel",
    "Ticket",
    "TicketKind",
    "TicketOutcome",
    "TicketStatus",
    "Trade",
    "Worker",
    "WorkerStatus",
    "WorkerTrade",
]
