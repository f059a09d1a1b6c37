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

# The wrap-up lives in its own module; calls.finish_call is the name the interface gives it.
from dispatch.callcenter.wrapup import CallError, finish_call
from dispatch.console.audit import record
from dispatch.models import (
    Agent,
    AgentCall,
    Call,
    CallDirection,
    Presence,
    QueuedCall,
    Ticket,
    WaitStatus,
)
from dispatch.phones import to_e164
from dispatch.settings import Settings

log = logging.getLogger(__name__)
# The end the service gave a call on its own (the softphone never connected, or the agent wrapped up
# before Twilio said): Twilio's own dial status, should it come later, replaces it.
ABANDONED_STATUS = "failed"
UNCONFIRMED = ("",)


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
            # answered_at waits for the bridge (bind_answered): the speed of answer is the caller's
            # wait until they hear an agent, not until an agent pressed the button.
            .values(status=WaitStatus.ANSWERED, answered_by_id=agent.id)
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
    if target is None or target.id == agent_call.queued_call_id:
        _bridged(agent_call, target, now)
        session.flush()
        return agent_call
    mine = session.get(QueuedCall, agent_call.queued_call_id) if agent_call.queued_call_id else None
    # Both rows locked, in id order, so two binds crossing each other wait rather than deadlock.
    for row in sorted(filter(None, (mine, target)), key=lambda row: row.id):
        session.refresh(row, with_for_update=True)
    # Then this agent call, read again under its lock: a crossing bind that committed while this one
    # waited for the rows may have swapped its reservation (A had X, B's bind gave A caller Y). Going
    # on with the stale one would put X, on the line with B, back to waiting.
    session.refresh(agent_call, with_for_update=True)
    if agent_call.queued_call_id == target.id:
        _bridged(agent_call, target, now)
        session.flush()
        return agent_call
    if (agent_call.queued_call_id or None) != (mine.id if mine is not None else None):
        mine = session.get(QueuedCall, agent_call.queued_call_id) if agent_call.queued_call_id else None
        if mine is not None:
            session.refresh(mine, with_for_update=True)
    if agent_call.answered_at is None:
        agent_call.answered_at = now
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


def _bridged(agent_call: AgentCall, target: QueuedCall | None, now: datetime) -> None:
    """The agent call is connected to the caller it had reserved (or to an unknown one)."""
    if agent_call.answered_at is None:
        agent_call.answered_at = now
    if target is None or target.left_at is not None:
        return
    if target.status == WaitStatus.WAITING or (
        target.status == WaitStatus.ANSWERED and target.answered_at is None
    ):
        _reserve(target, agent_call.agent_id, now)


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
    reserved for it but never bridged goes back to waiting, at the place they had. Said twice, once.

    A call already ended without Twilio's word (wrapped up while busy, or ended by the sweep of calls
    that never connected) still gets Twilio's status and duration when they come, and nothing else:
    the agent has moved on."""
    if agent_call.ended_at is not None:
        if dial_status and agent_call.dial_status in ("", *UNCONFIRMED):
            agent_call.dial_status = dial_status[:16]
            if duration_seconds is not None:
                agent_call.duration_seconds = max(0, int(duration_seconds))
            session.flush()
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


__all__ = [
    "CallError",
    "answer_next",
    "bind_answered",
    "bridged",
    "call_ended",
    "finish_call",
    "start_outbound",
]
