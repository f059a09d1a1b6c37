"""Everything the router and the handlers know about one inbound text, read once.

The contact, the worker and the employer of the number and its dialogue in progress come from one
statement; handlers get them from here instead of reading them again (a webhook's cost follows its
PostgreSQL round trips).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import cached_property

from sqlalchemy import String, literal, select
from sqlalchemy.orm import Session

from dispatch.followup.reading import Numbers, read_numbers
from dispatch.inbound.questions import Question, open_question
from dispatch.matching.reading import Reply, read_reply
from dispatch.models import (
    OPEN_OFFER_STATUSES,
    Contact,
    Conversation,
    Employer,
    Message,
    Offer,
    OfferStatus,
    QuestionKind,
    Worker,
)
from dispatch.settings import Settings
from dispatch.sms.parser import Command, CommandKind
from dispatch.sms.services import remember_contact


@dataclass(frozen=True)
class People:
    """Who a phone number is to us; any of them may be missing."""

    contact: Contact | None
    worker: Worker | None
    employer: Employer | None
    dialogue: Conversation | None  # not locked: the dialogue's handler locks it before an answer


def people_of(session: Session, phone: str) -> People:
    """The contact, worker, employer and dialogue of `phone`, in one statement."""
    number = select(literal(phone, String).label("phone")).subquery("number")
    query = (
        select(Contact, Worker, Employer, Conversation)
        .select_from(number)
        .outerjoin(Contact, Contact.phone == number.c.phone)
        .outerjoin(Worker, Worker.phone == number.c.phone)
        .outerjoin(Employer, Employer.phone == number.c.phone)
        .outerjoin(Conversation, Conversation.phone == number.c.phone)
    )
    contact, worker, employer, dialogue = session.execute(query).one()
    if contact is not None:
        remember_contact(session, contact)
    return People(contact=contact, worker=worker, employer=employer, dialogue=dialogue)


# People answer an offer hours late (a text read at lunch): a lone `2` this long after an offer they
# never answered may still be its no.
UNANSWERED_OFFER_HOURS = 6


@dataclass
class Inbound:
    """One stored inbound text on its way through the router."""

    session: Session
    settings: Settings
    message: Message
    command: Command
    contact: Contact
    worker: Worker | None
    employer: Employer | None
    dialogue: Conversation | None
    now: datetime

    @property
    def question(self) -> Question | None:
        """The question the number was last asked, while it still wants an answer."""
        return open_question(self.contact, self.now)

    @cached_property
    def offer_reply(self) -> Reply | None:
        """The text read as an answer to an offer (`1 123`, `好`), once for every row that asks."""
        return read_reply(self.command.text) if self.command.kind == CommandKind.TEXT else None

    @cached_property
    def numbers(self) -> Numbers | None:
        """The text read as follow-up answers (`123 1 5`, `3`), once for every row that asks."""
        return read_numbers(self.command.text) if self.command.kind == CommandKind.TEXT else None

    @cached_property
    def asked_offer_unanswered(self) -> bool:
        """Whether the offer the number was last asked about closed without the worker's answer (filled
        by others, called off, lapsed): a bare `2` may still be meant for it (routes.py)."""
        question = self.question
        if question is None or question.kind != QuestionKind.OFFER or question.job_id is None:
            return False
        if self.worker is None:
            return False
        status = self.session.scalar(
            select(Offer.status)
            .where(Offer.worker_id == self.worker.id, Offer.job_id == question.job_id)
            .order_by(Offer.id.desc())
            .limit(1)
        )
        return status in (OfferStatus.CANCELLED, OfferStatus.EXPIRED)

    @cached_property
    def offer_unanswered_lately(self) -> bool:
        """Whether an offer texted to this worker within UNANSWERED_OFFER_HOURS has had no answer (still
        waiting, or lapsed): a lone `2` may be its no, however long ago the follow-up was asked."""
        if self.worker is None:
            return False
        query = select(Offer.id).where(
            Offer.worker_id == self.worker.id,
            Offer.responded_at.is_(None),
            Offer.sent_at >= self.now - timedelta(hours=UNANSWERED_OFFER_HOURS),
        )
        return self.session.scalar(query.limit(1)) is not None

    @cached_property
    def offer_waiting(self) -> bool:
        """Whether an offer still waits for this worker's answer (read once, and only for a bare
        answer: an offer question whose offer closed, filled or answered elsewhere is asked no more)."""
        if self.worker is None:
            return False
        query = select(Offer.id).where(
            Offer.worker_id == self.worker.id, Offer.status.in_(OPEN_OFFER_STATUSES)
        )
        return self.session.scalar(query.limit(1)) is not None
