"""Workers registered by phone: the same Worker the SMS dialogue makes, pending until the worker
confirms by SMS, with a ticket asking an agent to type the spoken name.

The registration goes through dispatch.workers like the SMS dialogue's and the counter's; the worker's
`1` to the SMS sent here confirms it through the SMS registration dialogue (consent, then active), and
`2` starts the SMS dialogue afresh.
"""

from __future__ import annotations

from sqlalchemy.orm import Session

from dispatch.catalogue import trade_short_name
from dispatch.models import (
    Call,
    CallOutcome,
    RegisteredVia,
    Site,
    Ticket,
    TicketKind,
    Trade,
    Worker,
)
from dispatch.settings import Settings
from dispatch.sms.services import queue_sms
from dispatch.tickets.services import open_ticket
from dispatch.tickets.summaries import Summary
from dispatch.workers import consent
from dispatch.workers import services as workers
from dispatch.workers.services import Skill, WorkerDetails


def register_worker(session: Session, settings: Settings, call: Call) -> Worker:
    """Write the worker (pending), start the SMS confirmation and ask an agent to type the name."""
    answers = call.answers
    trade_id, site_id, pay = int(answers["trade"]), int(answers["site"]), int(answers["pay"])
    details = WorkerDetails(
        phone=call.phone,
        trades=(Skill(trade_id),),
        home_site_id=site_id,
        min_daily_pay=pay,
        name=None,  # spoken: an agent types it onto the worker, and the worker's `1` keeps it
        language=call.language,  # the language the caller chose on the phone
    )
    # A new worker has what was keyed at once; an existing one changes only when they confirm.
    worker = consent.register_pending(session, details, RegisteredVia.IVR)
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
    """An agent typed the name a worker spoke: it goes on the worker, which a confirmation still waiting
    for the worker's `1` keeps (it holds no name of its own). The console resolves the ticket (with the
    agent and the audit log)."""
    worker = session.get(Worker, ticket.worker_id) if ticket.worker_id else None
    if worker is None:
        return None
    workers.rename(session, worker, name)
    return worker
