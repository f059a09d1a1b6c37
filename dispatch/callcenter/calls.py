"""Agents' calls: answering the next caller, calling out, the call's end, and its outcome on a ticket.

Answering reserves a caller with a conditional UPDATE (waiting -> answered), so two agents pressing
"answer next" at once never take one caller: the second's UPDATE finds the row answered and moves on.
Twilio's <Dial><Queue> then bridges the front of the site's queue, which may be another caller than
the one reserved; `bind_answered` swaps the reservations so each agent call names the caller it has.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from dispatch.callcenter import presence as presences
from dispatch.callcenter.presence import PresenceError
from dispatch.callcenter.routing import callers_for
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
    WaitStatus,
    Worker,
)
from dispatch.phones import to_e164
from dispatch.settings import Settings
from dispatch.tickets.services import open_ticket

log = logging.getLogger(__name__)

MAX_NOTE = 4000
MAX_ATTEMPTS_KEPT = 20  # on the ticket's details; every attempt stays an agent_call row


class CallError(ValueError):
    """The call cannot do that: another agent's call, or an agent already on a call."""


def answer_next(session: Session, agent: Agent, settings: Settings, now: datetime) -> AgentCall | None:
    """Reserve the longest-waiting caller this agent may take and start the agent's call to them;
    None when there is nobody to take."""
    presence = presences.presence_of(session, agent)
    if presence.status == Presence.BUSY:
        raise PresenceError(presence.status, Presence.BUSY)
    for candidate in callers_for(session, agent, settings, now):
        taken = session.execute(
            update(QueuedCall)
            .where(QueuedCall.id == candidate.id, QueuedCall.status == WaitStatus.WAITING)
            .values(status=WaitStatus.ANSWERED, answered_by_id=agent.id, answered_at=now)
            .returning(QueuedCall.id)
            .execution_options(synchronize_session=False)
        ).scalar_one_or_none()
        if taken is None:
            continue  # another agent took this one first
        session.refresh(candidate)
        call = session.get(Call, candidate.call_id)
        agent_call = AgentCall(
            agent_id=agent.id,
            direction=CallDirection.INBOUND,
            queued_call_id=candidate.id,
            started_at=now,
        )
        _about(agent_call, candidate, call)
        session.add(agent_call)
        session.flush()
        presences.mark_busy(presence, agent_call.id, now)
        record(
            session, agent, "call.answer", agent_call, queued_call=candidate.id, ticket=agent_call.ticket_id
        )
        session.flush()
        log.info("agent %s answers queued call %s", agent.id, candidate.id)
        return agent_call
    return None


def _about(agent_call: AgentCall, queued: QueuedCall, call: Call | None) -> None:
    """The agent call is about this caller: their ticket, number and who they are."""
    agent_call.queued_call_id = queued.id
    agent_call.ticket_id = queued.ticket_id
    agent_call.phone = call.phone if call is not None else ""
    agent_call.worker_id = call.worker_id if call is not None else None
    agent_call.employer_id = call.employer_id if call is not None else None
    agent_call.job_id = call.job_id if call is not None else None


def bridged(session: Session, queued: QueuedCall) -> bool:
    """Whether an agent's call was really connected to this caller (not only reserved)."""
    found = session.scalar(
        select(AgentCall.id)
        .where(AgentCall.queued_call_id == queued.id, AgentCall.answered_at.is_not(None))
        .limit(1)
    )
    return found is not None


def bind_answered(session: Session, agent_call: AgentCall, caller_call_sid: str, now: datetime) -> AgentCall:
    """Twilio bridged this agent call to `caller_call_sid`: that caller becomes the call's caller. If
    another agent had reserved that caller, the two reservations swap; if nobody had, the caller
    reserved for this call goes back to waiting."""
    target = session.scalars(
        select(QueuedCall)
        .where(QueuedCall.call_sid == caller_call_sid.strip()[:64])
        .order_by(QueuedCall.queued_at.desc(), QueuedCall.id.desc())
        .limit(1)
    ).first()
    if agent_call.answered_at is None:
        agent_call.answered_at = now
    if target is None or target.id == agent_call.queued_call_id:
        if target is not None and target.status == WaitStatus.WAITING:
            _reserve(target, agent_call.agent_id, now)
        session.flush()
        return agent_call
    mine = session.get(QueuedCall, agent_call.queued_call_id) if agent_call.queued_call_id else None
    # Both rows locked, in id order, so two binds crossing each other wait rather than deadlock.
    for row in sorted(filter(None, (mine, target)), key=lambda row: row.id):
        session.refresh(row, with_for_update=True)
    other = session.scalars(
        select(AgentCall)
        .where(
            AgentCall.queued_call_id == target.id,
            AgentCall.id != agent_call.id,
            AgentCall.ended_at.is_(None),
        )
        .with_for_update()
    ).first()
    if other is not None and mine is not None:
        # The other agent gets the caller reserved for this one (Twilio will bridge them to it).
        _about(other, mine, session.get(Call, mine.call_id))
        mine.answered_by_id = other.agent_id
    elif other is not None:
        other.queued_call_id = None  # it had reserved no one else: it answers the next caller anew
    if other is None and mine is not None and mine.status == WaitStatus.ANSWERED and mine.left_at is None:
        _unreserve(mine)
    _reserve(target, agent_call.agent_id, now)
    _about(agent_call, target, session.get(Call, target.call_id))
    session.flush()
    log.info("agent call %s bridged to queued call %s (swapped)", agent_call.id, target.id)
    return agent_call


def _reserve(queued: QueuedCall, agent_id: int, now: datetime) -> None:
    if queued.status == WaitStatus.WAITING:
        queued.status = WaitStatus.ANSWERED
    if queued.answered_at is None:
        queued.answered_at = now
    queued.answered_by_id = agent_id


def _unreserve(queued: QueuedCall) -> None:
    queued.status = WaitStatus.WAITING
    queued.answered_by_id = None
    queued.answered_at = None


def start_outbound(
    session: Session,
    agent: Agent,
    *,
    phone: str,
    ticket_id: int | None = None,
    worker_id: int | None = None,
    employer_id: int | None = None,
    job_id: int | None = None,
    now: datetime,
) -> AgentCall:
    """The agent calls someone (click-to-call, a call-back): busy until the call ends. `phone` must be
    E.164 (InvalidPhoneNumber otherwise); a ticket's person and job are taken when not given."""
    number = to_e164(phone, "CN")
    if number != phone.strip():
        raise CallError("the number to call must be E.164")
    presence = presences.presence_of(session, agent)
    if presence.status == Presence.BUSY:
        raise PresenceError(presence.status, Presence.BUSY)
    ticket = session.get(Ticket, ticket_id) if ticket_id is not None else None
    if ticket_id is not None and ticket is None:
        raise CallError(f"no ticket {ticket_id}")
    agent_call = AgentCall(
        agent_id=agent.id,
        direction=CallDirection.OUTBOUND,
        ticket_id=ticket_id,
        phone=number,
        worker_id=worker_id if worker_id is not None else (ticket.worker_id if ticket else None),
        employer_id=employer_id if employer_id is not None else (ticket.employer_id if ticket else None),
        job_id=job_id if job_id is not None else (ticket.job_id if ticket else None),
        started_at=now,
    )
    session.add(agent_call)
    session.flush()
    presences.mark_busy(presence, agent_call.id, now)
    record(session, agent, "call.dial", agent_call, ticket=ticket_id)
    session.flush()
    return agent_call


def call_ended(
    session: Session, agent_call: AgentCall, *, dial_status: str, duration_seconds: int | None, now: datetime
) -> AgentCall:
    """The agent's call is over (Twilio's dial status, or the simulator): the agent wraps up. A caller
    reserved for it but never bridged goes back to waiting, at the place they had. Said twice, once."""
    if agent_call.ended_at is not None:
        return agent_call
    agent_call.ended_at = now
    agent_call.dial_status = (dial_status or "")[:16]
    agent_call.duration_seconds = max(0, int(duration_seconds)) if duration_seconds is not None else None
    if (
        agent_call.direction == CallDirection.OUTBOUND
        and agent_call.answered_at is None
        and agent_call.dial_status == "completed"
    ):
        agent_call.answered_at = now - timedelta(seconds=agent_call.duration_seconds or 0)
    if agent_call.direction == CallDirection.INBOUND and agent_call.answered_at is None:
        queued = session.get(QueuedCall, agent_call.queued_call_id) if agent_call.queued_call_id else None
        if queued is not None:
            session.refresh(queued, with_for_update=True)
            if (
                queued.status == WaitStatus.ANSWERED
                and queued.answered_by_id == agent_call.agent_id
                and queued.left_at is None
            ):
                _unreserve(queued)
                log.info("queued call %s was never bridged: waiting again", queued.id)
    presence = presences.presence_of(session, agent_call.agent)
    if presence.agent_call_id == agent_call.id and presence.status == Presence.BUSY:
        presence.status, presence.changed_at = Presence.WRAP_UP, now
    session.flush()
    return agent_call


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
    from dispatch.console.tickets import services as ticket_services  # console builds on services

    if agent_call.agent_id != agent.id:
        raise CallError("another agent's call")
    if agent_call.outcome:  # wrapped up already (a form sent twice): nothing more to do
        ticket = session.get(Ticket, agent_call.ticket_id) if agent_call.ticket_id else None
        if ticket is not None:
            return ticket
    if agent_call.ended_at is None:
        agent_call.ended_at = now
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
