"""The end of an agent's call: its outcome and note on a ticket, the attempt kept, audited.

A call ends on a ticket, made if the call had none (an agent_call ticket for a caller, a call_back
ticket for a call out), so every conversation leaves something an agent can find again.
"""

from __future__ import annotations

import logging
from datetime import datetime

from sqlalchemy.orm import Session

from dispatch.callcenter import presence as presences
from dispatch.console.audit import record
from dispatch.models import (
    Agent,
    AgentCall,
    Call,
    CallDirection,
    Employer,
    Job,
    Presence,
    QueuedCall,
    Ticket,
    TicketKind,
    TicketOutcome,
    TicketStatus,
    Worker,
)
from dispatch.tickets.services import open_ticket

log = logging.getLogger(__name__)

MAX_NOTE = 4000
MAX_ATTEMPTS_KEPT = 20  # on the ticket's details; every attempt stays an agent_call row


class CallError(ValueError):
    """The call cannot do that: another agent's call, or an agent already on a call."""


def finish_call(
    session: Session,
    agent: Agent,
    agent_call: AgentCall,
    *,
    outcome: TicketOutcome,
    note: str,
    resolve: bool,
    now: datetime,
) -> Ticket:
    """The call's outcome and note on its ticket (one made if the call had none), the attempt kept on
    the ticket, the ticket resolved when `resolve` (else left open, e.g. a call-back nobody answered),
    audited; the agent is available again."""
    from dispatch.callcenter.calls import CallError, call_ended  # calls re-exports finish_call
    from dispatch.console.tickets import services as ticket_services  # console builds on services

    if agent_call.agent_id != agent.id:
        raise CallError("another agent's call")
    if agent_call.outcome:  # wrapped up already (a form sent twice): nothing more to do
        ticket = session.get(Ticket, agent_call.ticket_id) if agent_call.ticket_id else None
        if ticket is not None:
            return ticket
    if agent_call.ended_at is None:
        # Wrapped up while still busy (Twilio has not said the call is over, or never will: the
        # softphone did not connect): ended as any call ends, so a caller reserved and never bridged
        # waits again; Twilio's dial status, if it comes, fills in the status and duration.
        talked = int((now - agent_call.answered_at).total_seconds()) if agent_call.answered_at else None
        call_ended(session, agent_call, dial_status="", duration_seconds=talked, now=now)
    note = (note or "")[:MAX_NOTE]
    ticket = _ticket_of(session, agent_call, note, now)
    agent_call.ticket_id = ticket.id
    agent_call.outcome = outcome.value
    agent_call.note = note
    attempt = {
        "agent_call": agent_call.id,
        "agent": agent.id,
        "direction": agent_call.direction.value,
        "at": now.isoformat(),
        "dial_status": agent_call.dial_status,
        "duration_seconds": agent_call.duration_seconds,
        "outcome": outcome.value,
    }
    attempts = [*ticket.details.get("call_attempts", []), attempt][-MAX_ATTEMPTS_KEPT:]
    ticket.details = {**ticket.details, "call_attempts": attempts}
    session.flush()
    resolved = False
    if resolve and ticket.status != TicketStatus.RESOLVED:
        try:
            ticket_services.resolve_ticket(session, agent, ticket, outcome, note)
            resolved = True
        except (
            ticket_services.TicketUnavailable,
            ticket_services.ClosesWithCase,
            ticket_services.ClosesWithJob,
        ) as exc:
            # The call happened all the same: its outcome stays on the call and in the audit log.
            log.info("call %s: ticket %s left as it is (%s)", agent_call.id, ticket.id, type(exc).__name__)
    record(
        session,
        agent,
        "call.finish",
        agent_call,
        note=note,
        outcome=outcome,
        ticket=ticket.id,
        resolved=resolved,
        direction=agent_call.direction,
        dial_status=agent_call.dial_status,
    )
    presence = presences.presence_of(session, agent)
    if presence.agent_call_id == agent_call.id:
        presence.seen_at = now
        presence.status, presence.changed_at, presence.agent_call_id = Presence.AVAILABLE, now, None
    session.flush()
    return ticket


def _ticket_of(session: Session, agent_call: AgentCall, note: str, now: datetime) -> Ticket:
    ticket = session.get(Ticket, agent_call.ticket_id) if agent_call.ticket_id else None
    if ticket is not None:
        return ticket
    queued = session.get(QueuedCall, agent_call.queued_call_id) if agent_call.queued_call_id else None
    call = session.get(Call, queued.call_id) if queued is not None else None
    kind = TicketKind.AGENT_CALL if agent_call.direction == CallDirection.INBOUND else TicketKind.CALL_BACK
    return open_ticket(
        session,
        kind,
        text=note,
        call=call,
        job=session.get(Job, agent_call.job_id) if agent_call.job_id else None,
        worker=session.get(Worker, agent_call.worker_id) if agent_call.worker_id else None,
        employer=session.get(Employer, agent_call.employer_id) if agent_call.employer_id else None,
        phone=agent_call.phone or None,
        details={"agent_call": agent_call.id},
        now=now,
    )
