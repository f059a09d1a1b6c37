"""Act on a stored inbound text: read who sent it (once), note what it is, and route it."""

from __future__ import annotations

from sqlalchemy.orm import Session

from dispatch.clock import utcnow
from dispatch.inbound.context import Inbound, people_of
from dispatch.inbound.routes import route
from dispatch.models import Message, MessageStatus, TicketKind, WorkerStatus
from dispatch.settings import Settings
from dispatch.sms.parser import Command, CommandKind, parse
from dispatch.sms.services import get_or_create_contact
from dispatch.tickets.services import open_ticket


def handle_inbound(
    session: Session, settings: Settings, message: Message, command: Command | None = None
) -> str:
    """Act on a stored inbound message (`command`: its body, parsed); returns the name of the route
    that took it."""
    command = command or parse(message.body)
    people = people_of(session, message.phone)
    contact = people.contact
    if contact is None:
        # The language is guessed from the person's words, not from a carrier's 【中国移动】 around them.
        contact = get_or_create_contact(session, message.phone, first_text=command.text)
        if command.kind == CommandKind.OPT_OUT and command.language:
            contact.language = command.language  # `TD` is Chinese, though it is written in Latin letters
    # A number that texts us can take texts: whatever a carrier said before no longer holds.
    contact.undeliverable_at = None
    worker, employer = people.worker, people.employer
    message.worker_id = worker.id if worker else None
    message.employer_id = employer.id if employer else None
    if worker is not None and worker.status == WorkerStatus.UNDELIVERABLE:
        worker.status = WorkerStatus.ACTIVE if worker.consent_at else WorkerStatus.PENDING
    message.kind = command.kind.value
    message.status = MessageStatus.HANDLED
    inbound = Inbound(
        session=session,
        settings=settings,
        message=message,
        command=command,
        contact=contact,
        worker=worker,
        employer=employer,
        dialogue=people.dialogue,
        now=utcnow(),
    )
    return route(inbound)


def hand_failed_to_agent(session: Session, message: Message) -> None:
    """A message whose handling failed: kept, and put on the agents' queue."""
    message.status = MessageStatus.UNPARSED
    message.error_message = "handling failed"
    open_ticket(session, TicketKind.FAILED_SMS, message=message)
