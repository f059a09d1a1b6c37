"""What the service does with each inbound SMS, after it has been stored."""

from __future__ import annotations

import logging

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from dispatch.catalogue import trade_short_name
from dispatch.db import can_wait, savepoint
from dispatch.followup import replies as follow_up_replies
from dispatch.jobs import sms_requests as job_requests
from dispatch.matching import forwarding
from dispatch.matching import replies as offer_replies
from dispatch.models import Contact, Employer, Message, MessageStatus, Site, TicketKind, Worker, WorkerStatus
from dispatch.settings import Settings
from dispatch.sms import registration
from dispatch.sms.parser import Command, CommandKind, parse
from dispatch.sms.services import (
    get_or_create_contact,
    mark_opted_in,
    mark_opted_out,
    reply,
)
from dispatch.tickets.services import open_ticket

log = logging.getLogger(__name__)
HANDLE_ATTEMPTS = 2

# What answers the next message of a dialogue in progress, by the dialogue's flow.
CONVERSATION_FLOWS = {
    registration.FLOW: registration.answer,
    job_requests.FLOW: job_requests.answer,
}


def handle_stored_inbound(session: Session, settings: Settings, message: Message) -> None:
    """Act on a stored message in a savepoint: a failure undoes only the handling, never the message,
    which then goes to an agent."""
    for attempt in range(1, HANDLE_ATTEMPTS + 1):
        try:
            with savepoint(session):
                handle_inbound(session, settings, message)
            return
        except IntegrityError:
            # Another request (e.g. another message from the same new number) created the same row at
            # the same moment. It has committed by now, so another try finds the row.
            session.refresh(message)
            if attempt < HANDLE_ATTEMPTS:
                log.info("inbound message %s raced another request; handling it again", message.id)
                continue
            log.exception("handling inbound message %s failed; it goes to an agent", message.id)
        except Exception as exc:
            if can_wait(exc):
                raise  # not this message's fault: the whole request is kept (spooled) and done again
            session.refresh(message)
            log.exception("handling inbound message %s failed; it goes to an agent", message.id)
        break
    message.status = MessageStatus.UNPARSED
    message.error_message = "handling failed"
    open_ticket(session, TicketKind.FAILED_SMS, message=message)


def handle_inbound(session: Session, settings: Settings, message: Message) -> None:
    """Act on a stored inbound message: a command, a dialogue answer, or a ticket for an agent."""
    command = parse(message.body)
    # One query for a number we know (nearly every message), not a lookup and then another one.
    contact = session.scalar(select(Contact).where(Contact.phone == message.phone))
    is_new_contact = contact is None
    if contact is None:
        # The language is guessed from the person's words, not from a carrier's 【中国移动】 around them.
        contact = get_or_create_contact(session, message.phone, first_text=command.text)
    if is_new_contact and command.kind == CommandKind.OPT_OUT and command.language:
        contact.language = command.language  # `TD` is Chinese, though it is written in Latin letters
    # A number that texts us can take texts: whatever a carrier said before no longer holds.
    contact.undeliverable_at = None
    worker = session.scalar(select(Worker).where(Worker.phone == message.phone))
    employer = session.scalar(select(Employer).where(Employer.phone == message.phone))
    message.worker_id = worker.id if worker else None
    message.employer_id = employer.id if employer else None
    if worker is not None and worker.status == WorkerStatus.UNDELIVERABLE:
        worker.status = WorkerStatus.ACTIVE if worker.consent_at else WorkerStatus.PENDING
    message.kind = command.kind.value
    message.status = MessageStatus.HANDLED

    if command.kind == CommandKind.OPT_OUT:
        already = contact.opted_out_at is not None
        mark_opted_out(session, message.phone)
        registration.drop_conversation(session, message.phone)  # START must not resume a half dialogue
        offer_replies.on_opt_out(session, settings, message)  # a place held: an agent calls
        if not already:  # exactly one confirmation, then silence
            reply(session, settings, message, "opt_out_confirm", "opt_out.confirm")
        return
    if command.kind == CommandKind.OPT_IN:
        mark_opted_in(session, message.phone)
        reply(session, settings, message, "opt_in_confirm", "opt_in.confirm")
        return
    if command.kind == CommandKind.LANGUAGE:
        contact.language = command.language or contact.language
        reply(session, settings, message, "language_set", "language.set")
        return
    if command.kind == CommandKind.HELP:
        reply(session, settings, message, "help", "help")
        return
    if command.kind == CommandKind.REGISTER:
        registration.start(session, settings, message, command.args)
        return
    # Commands win over a dialogue in progress, which goes on afterwards: 我的 or 忙 is never a trade,
    # a place, a wage or a name, and must not count as a wrong answer.
    if command.kind in {CommandKind.PAUSE, CommandKind.RESUME, CommandKind.PROFILE}:
        _worker_command(session, settings, message, command, worker)
        return
    conversation = registration.active_conversation(session, settings, message.phone)
    # -- an offer passed to a friend (`转 123 13800138000`), answers to follow-up questions (`1 5`,
    # `123 2 5`), then offer replies (matching): a reply naming a job code (`1 123`) wins over a dialogue.
    if forwarding.handle_forward(session, settings, message, command):
        return
    if follow_up_replies.handle_follow_up_reply(session, settings, message, command):
        return
    if offer_replies.handle_coded_reply(session, settings, message, command):
        return
    if conversation is not None:
        answer = CONVERSATION_FLOWS.get(conversation.flow)
        if answer is not None:
            answer(session, settings, message, conversation, command.text)
            return
        session.delete(conversation)  # a flow this version does not know: start afresh
    # -- bare offer replies (`1`, `好`, `没空`) and employers' one-line job requests (`招 水电工 2人 ...`)
    if offer_replies.handle_bare_reply(session, settings, message, command):
        return
    if job_requests.handle_job_request(session, settings, message, command):
        return
    _not_understood(session, settings, message)


def _worker_command(
    session: Session, settings: Settings, message: Message, command: Command, worker: Worker | None
) -> None:
    if worker is None:
        reply(session, settings, message, "not_registered", "not_registered")
        return
    if command.kind == CommandKind.PAUSE:
        if worker.status == WorkerStatus.ACTIVE:
            worker.status = WorkerStatus.PAUSED
        reply(session, settings, message, "paused", "worker.paused")
    elif command.kind == CommandKind.RESUME:
        if worker.status == WorkerStatus.PAUSED:
            worker.status = WorkerStatus.ACTIVE
        template = "resumed" if worker.status == WorkerStatus.ACTIVE else "not_active"
        reply(session, settings, message, template, "worker.resumed", status=worker.status.value)
    else:
        contact = get_or_create_contact(session, message.phone)
        language = contact.language
        home: Site | None = worker.home_site
        reply(
            session,
            settings,
            message,
            "profile",
            "worker.profile",
            name=worker.name,
            trade_names=[trade_short_name(wt.trade, language) for wt in worker.trades],
            area=home.name(language) if home else "",
            pay=worker.min_daily_pay,
            status=worker.status.value,
        )


def _not_understood(session: Session, settings: Settings, message: Message) -> None:
    """Never dropped: the message waits on the agents' queue, and the sender gets the help hint."""
    message.status = MessageStatus.UNPARSED
    open_ticket(session, TicketKind.UNPARSED_SMS, message=message)
    reply(session, settings, message, "not_understood", "not_understood")
