"""Agents' calls: answering, binding, ending, finishing with an outcome on a ticket."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from dispatch.callcenter import calls
from dispatch.callcenter.presence import presence_of
from dispatch.models import AuditEvent, Presence, TicketKind, TicketOutcome, TicketStatus, WaitStatus
from tests.callcenter.helpers import agent_at, waiting_at
from tests.factories import NOW


def test_answer_next_takes_the_longest_waiting_and_finish_makes_a_ticket(session, market, runtime, clock):
    settings = runtime.settings
    agent = agent_at(session, market, "LZ-TX", available_at=NOW)
    older = waiting_at(session, market, "LZ-TX", NOW)
    newer = waiting_at(session, market, "LZ-TX", NOW + timedelta(seconds=5))
    at = NOW + timedelta(seconds=10)
    agent_call = calls.answer_next(session, agent, settings, at)
    assert agent_call is not None and agent_call.queued_call_id == older.id
    assert (older.status, older.answered_by_id) == (WaitStatus.ANSWERED, agent.id)
    assert newer.status == WaitStatus.WAITING
    assert presence_of(session, agent).status == Presence.BUSY
    calls.bind_answered(session, agent_call, older.call_sid, at)
    calls.call_ended(session, agent_call, dial_status="completed", duration_seconds=60, now=at)
    assert presence_of(session, agent).status == Presence.WRAP_UP
    ticket = calls.finish_call(
        session, agent, agent_call, outcome=TicketOutcome.DONE, note="好了", resolve=True, now=at
    )
    assert ticket.kind == TicketKind.AGENT_CALL and ticket.status == TicketStatus.RESOLVED
    assert presence_of(session, agent).status == Presence.AVAILABLE
    actions = session.scalars(select(AuditEvent.action).where(AuditEvent.agent_id == agent.id)).all()
    assert {"call.answer", "call.finish", "ticket.resolve"} <= set(actions)
