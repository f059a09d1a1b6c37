"""Workers registered by phone: the same Worker the SMS dialogue makes, pending until the worker
confirms by SMS, with a ticket asking an agent to type the spoken name.

The SMS confirmation is the SMS registration dialogue itself, started at its confirm step: the worker's
`1` goes through `dispatch.sms.registration.answer` like any SMS registration (consent, then active),
and `2` starts the SMS dialogue afresh.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from dispatch.catalogue import trade_short_name
from dispatch.clock import utcnow
from dispatch.models import (
    Call,
    CallOutcome,
    Conversation,
    RegisteredVia,
    Site,
    Ticket,
    TicketKind,
    Trade,
    Worker,
    WorkerStatus,
    WorkerTrade,
)
from dispatch.settings import Settings
from dispatch.sms import registration
from dispatch.sms.services import get_or_create_contact, queue_sms
from dispatch.tickets.services import open_ticket
from dispatch.tickets.summaries import Summary


def register_worker(session: Session, settings: Settings, call: Call) -> Worker:
    """Write the worker (pending), start the SMS confirmation and ask an agent to type the name."""
    answers = call.answers
    trade_id, site_id, pay = int(answers["trade"]), int(answers["site"]), int(answers["pay"])
    worker = session.scalar(select(Worker).where(Worker.phone == call.phone))
    if worker is None:
        # A new worker has what was keyed at once; an existing one changes only when they confirm.
        worker = Worker(
            phone=call.phone,
            name="",
            registered_via=RegisteredVia.IVR,
            status=WorkerStatus.PENDING,
            home_site_id=site_id,
            min_daily_pay=pay,
            trades=[WorkerTrade(trade_id=trade_id)],
        )
        session.add(worker)
        session.flush()
    contact = get_or_create_contact(session, call.phone)
    contact.language = call.language  # the language the caller chose on the phone
    conversation = session.scalar(select(Conversation).where(Conversation.phone == call.phone))
    if conversation is None:
        conversation = Conversation(phone=call.phone)
        session.add(conversation)
    conversation.flow, conversation.step = registration.FLOW, "confirm"
    conversation.answers = {"trade": [trade_id], "area": site_id, "pay": pay, "name": worker.name}
    conversation.updated_at = utcnow()
    call.worker_id, call.outcome = worker.id, CallOutcome.REGISTRATION
    open_ticket(
        session,
        TicketKind.RECORDED_NAME,
        call=call,
        summary=Summary.of("recorded_name"),
        text="type the name the worker spoke",
        details={"name_recording_url": answers.get("name_recording", "")},
    )
    trade, site = session.get(Trade, trade_id), session.get(Site, site_id)
    queue_sms(
        session,
        settings,
        phone=call.phone,
        template="ivr_reg_confirm",
        kind="registration.ivr_confirm",
        language=call.language,
        worker_id=worker.id,
        trade=trade_short_name(trade, call.language) if trade else "",
        area=site.name(call.language) if site else "",
        pay=pay,
    )
    session.flush()
    return worker


def set_recorded_name(session: Session, ticket: Ticket, name: str) -> Worker | None:
    """An agent typed the name a worker spoke: it goes on the worker, and into a confirmation still
    waiting for the worker's `1` (which would otherwise write the name the dialogue held). The console
    resolves the ticket (with the agent and the audit log)."""
    worker = session.get(Worker, ticket.worker_id) if ticket.worker_id else None
    if worker is None:
        return None
    worker.name = name.strip()[: registration.MAX_NAME * 2]
    conversation = session.scalar(select(Conversation).where(Conversation.phone == worker.phone))
    if conversation is not None and conversation.flow == registration.FLOW:
        conversation.answers = {**conversation.answers, "name": worker.name}
    session.flush()
    return worker
