"""Typed SQLAlchemy 2.x models, split by domain; import them from here."""

from dispatch.db import Base
from dispatch.models.messaging import (
    Contact,
    Conversation,
    Direction,
    Message,
    MessageStatus,
)
from dispatch.models.operations import OutboxEvent, Ticket, TicketKind, TicketStatus
from dispatch.models.people import (
    Employer,
    EmployerStatus,
    Language,
    RegisteredVia,
    Worker,
    WorkerStatus,
    WorkerTrade,
)
from dispatch.models.places import Site, SiteLevel, Trade

__all__ = [
    "Base",
    "Contact",
    "Conversation",
    "Direction",
    "Employer",
    "EmployerStatus",
    "Language",
    "Message",
    "MessageStatus",
    "OutboxEvent",
    "RegisteredVia",
    "Site",
    "SiteLevel",
    "Ticket",
    "TicketKind",
    "TicketStatus",
    "Trade",
    "Worker",
    "WorkerStatus",
    "WorkerTrade",
]
