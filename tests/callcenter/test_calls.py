"""Agents' calls: answering the next caller, Twilio's bridge, the call's end, its outcome on a ticket."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from dispatch.callcenter import calls, routing
from dispatch.callcenter.presence import PresenceError, presence_of, set_presence
from dispatch.models import (
    AgentCall,
    AuditEvent,
    Call,
    CallDirection,
    Presence,
    Ticket,
    TicketKind,
    TicketOutcome,
    TicketStatus,
    WaitStatus,
)
from dispatch.phones import InvalidPhoneNumber
from dispatch.tickets.services import open_ticket
from tests.callcenter.helpers import a_call, agent_at, waiting_at
from tests.factories import NOW

LATER = NOW + timedelta(seconds=10)


def _actions(session, agent) -> list[str]:
    query = select(AuditEvent.action).where(AuditEvent.agent_id == agent.id).order_by(AuditEvent.id)
    return list(session.scalars(query))


def test_answer_next_reserves_the_longest_waiting_caller_of_the_agents_sites(session, market, runtime):
    settings = runtime.settings
    worker = market.worker(site="LZ-TX")
    job = market.job(site="LZ-TX")
    agent = agent_at(session, market, "LZ-TX", available_at=NOW)
    elsewhere = waiting_at(session, market, "LZ-DJ", NOW - timedelta(seconds=30))  # another town's
    call = a_call(session, phone=worker.phone, worker_id=worker.id, job_id=job.id)
    ticket = open_ticket(session, TicketKind.AGENT_CALL, call=call)
    older = routing.queue_caller(session, call, ticket, NOW)
    newer = waiting_at(session, market, "LZ-TX", NOW + timedelta(seconds=5))

    agent_call = calls.answer_next(session, agent, settings, LATER)

    assert agent_call is not None
    assert (agent_call.direction, agent_call.queued_call_id, agent_call.ticket_id) == (
        CallDirection.INBOUND,
        older.id,
        ticket.id,
    )
    assert (agent_call.phone, agent_call.worker_id, agent_call.job_id) == (worker.phone, worker.id, job.id)
    # Reserved, not yet answered: the speed of answer runs until the bridge (bind_answered).
    assert (older.status, older.answered_by_id, older.answered_at) == (WaitStatus.ANSWERED, agent.id, None)
    assert newer.status == elsewhere.status == WaitStatus.WAITING
    presence = presence_of(session, agent)
    assert (presence.status, presence.agent_call_id) == (Presence.BUSY, agent_call.id)
    assert _actions(session, agent) == ["call.answer"]
    with pytest.raises(PresenceError):  # one call at a time
        calls.answer_next(session, agent, settings, LATER)


def test_answer_next_with_nobody_to_take_is_none(session, market, runtime):
    agent = agent_at(session, market, "LZ-TX", available_at=NOW)
    agent_at(session, market, "LZ-TX-WYM", available_at=NOW)  # the village's own agent, on duty
    waiting_at(session, market, "LZ-TX-WYM", NOW)  # below: not before it overflows
    assert calls.answer_next(session, agent, runtime.settings, NOW + timedelta(seconds=1)) is None
    assert presence_of(session, agent).status == Presence.AVAILABLE


def test_bind_to_the_reserved_caller_marks_the_call_answered(session, market, runtime):
    agent = agent_at(session, market, "LZ-TX", available_at=NOW)
    queued = waiting_at(session, market, "LZ-TX", NOW)
    agent_call = calls.answer_next(session, agent, runtime.settings, LATER)
    assert agent_call is not None
    calls.bind_answered(session, agent_call, queued.call_sid, LATER + timedelta(seconds=2))
    assert agent_call.answered_at == LATER + timedelta(seconds=2)
    assert agent_call.queued_call_id == queued.id


def test_bind_swaps_reservations_when_twilio_bridges_the_other_agents_caller(session, market, runtime):
    settings = runtime.settings
    first = waiting_at(session, market, "LZ-TX", NOW)
    second = waiting_at(session, market, "LZ-TX", NOW + timedelta(seconds=1))
    one = agent_at(session, market, "LZ-TX", available_at=NOW)
    two = agent_at(session, market, "LZ-TX", available_at=NOW)
    call_one = calls.answer_next(session, one, settings, LATER)
    call_two = calls.answer_next(session, two, settings, LATER)
    assert call_one is not None and call_two is not None
    assert (call_one.queued_call_id, call_two.queued_call_id) == (first.id, second.id)

    # Agent two's <Dial><Queue> was served first: Twilio gave them the front of the queue.
    calls.bind_answered(session, call_two, first.call_sid, LATER)

    assert (call_two.queued_call_id, call_one.queued_call_id) == (first.id, second.id)
    assert (first.answered_by_id, second.answered_by_id) == (two.id, one.id)
    assert call_two.phone == routing_call_phone(session, first)
    assert call_one.phone == routing_call_phone(session, second)
    assert first.status == second.status == WaitStatus.ANSWERED
    assert call_two.answered_at == LATER and call_one.answered_at is None
    calls.bind_answered(session, call_one, second.call_sid, LATER)
    assert call_one.answered_at == LATER and call_one.queued_call_id == second.id


def routing_call_phone(session, queued) -> str:
    call = session.get(Call, queued.call_id)
    assert call is not None
    return call.phone


def test_bind_to_an_unreserved_caller_gives_the_reserved_one_back(session, market, runtime):
    agent = agent_at(session, market, "LZ-TX", available_at=NOW)
    reserved = waiting_at(session, market, "LZ-TX", NOW)
    agent_call = calls.answer_next(session, agent, runtime.settings, LATER)
    assert agent_call is not None
    other = waiting_at(session, market, "LZ-TX", NOW + timedelta(seconds=3))
    calls.bind_answered(session, agent_call, other.call_sid, LATER)
    assert agent_call.queued_call_id == other.id
    assert (other.status, other.answered_by_id) == (WaitStatus.ANSWERED, agent.id)
    assert (reserved.status, reserved.answered_by_id, reserved.answered_at) == (
        WaitStatus.WAITING,
        None,
        None,
    )


def test_a_reserved_caller_never_bridged_goes_back_to_waiting_in_their_place(session, market, runtime):
    settings = runtime.settings
    agent = agent_at(session, market, "LZ-TX", available_at=NOW)
    queued = waiting_at(session, market, "LZ-TX", NOW)
    behind = waiting_at(session, market, "LZ-TX", NOW + timedelta(seconds=4))
    agent_call = calls.answer_next(session, agent, settings, LATER)
    assert agent_call is not None
    calls.call_ended(session, agent_call, dial_status="failed", duration_seconds=0, now=LATER)
    assert (queued.status, queued.answered_by_id, queued.left_at) == (WaitStatus.WAITING, None, None)
    assert routing.place_in_queue(session, queued, settings, LATER) == 1
    assert routing.place_in_queue(session, behind, settings, LATER) == 2
    assert (agent_call.ended_at, agent_call.dial_status, agent_call.duration_seconds) == (LATER, "failed", 0)
    assert presence_of(session, agent).status == Presence.WRAP_UP
    # Said twice (a repeated callback): once.
    calls.call_ended(session, agent_call, dial_status="completed", duration_seconds=9, now=LATER)
    assert agent_call.dial_status == "failed"


def test_a_bridged_caller_is_not_given_back_at_the_end(session, market, runtime):
    agent = agent_at(session, market, "LZ-TX", available_at=NOW)
    queued = waiting_at(session, market, "LZ-TX", NOW)
    agent_call = calls.answer_next(session, agent, runtime.settings, LATER)
    assert agent_call is not None
    calls.bind_answered(session, agent_call, queued.call_sid, LATER)
    calls.call_ended(session, agent_call, dial_status="completed", duration_seconds=95, now=LATER)
    assert (queued.status, queued.answered_by_id) == (WaitStatus.ANSWERED, agent.id)
    # The caller's <Enqueue> action after the talk: a hang-up after an answer stays answered.
    assert routing.caller_left(session, queued.call_sid, WaitStatus.ABANDONED, LATER) is queued
    assert (queued.status, queued.left_at) == (WaitStatus.ANSWERED, LATER)


def test_a_caller_who_hangs_up_while_reserved_is_abandoned_not_requeued(session, market, runtime):
    agent = agent_at(session, market, "LZ-TX", available_at=NOW)
    queued = waiting_at(session, market, "LZ-TX", NOW)
    agent_call = calls.answer_next(session, agent, runtime.settings, LATER)
    assert agent_call is not None
    routing.caller_left(session, queued.call_sid, WaitStatus.ABANDONED, LATER)
    calls.call_ended(session, agent_call, dial_status="completed", duration_seconds=1, now=LATER)
    assert (queued.status, queued.left_at) == (WaitStatus.ABANDONED, LATER)


def test_inbound_call_finished_on_its_own_ticket_resolved_and_audited(session, market, runtime, clock):
    agent = agent_at(session, market, "LZ-TX", available_at=NOW)
    call = a_call(session, site=market.site("LZ-TX").id)
    ticket = open_ticket(session, TicketKind.AGENT_CALL, call=call)
    queued = routing.queue_caller(session, call, ticket, NOW)
    agent_call = calls.answer_next(session, agent, runtime.settings, LATER)
    assert agent_call is not None
    calls.bind_answered(session, agent_call, queued.call_sid, LATER)
    calls.call_ended(session, agent_call, dial_status="completed", duration_seconds=60, now=LATER)

    finished = calls.finish_call(
        session,
        agent,
        agent_call,
        outcome=TicketOutcome.JOB_CREATED,
        note="登记了一个活",
        resolve=True,
        now=LATER,
    )

    assert finished.id == ticket.id
    assert (ticket.status, ticket.outcome, ticket.resolution) == (
        TicketStatus.RESOLVED,
        "job_created",
        "登记了一个活",
    )
    assert (agent_call.outcome, agent_call.note) == ("job_created", "登记了一个活")
    [attempt] = ticket.details["call_attempts"]
    assert attempt["agent_call"] == agent_call.id and attempt["duration_seconds"] == 60
    presence = presence_of(session, agent)
    assert (presence.status, presence.agent_call_id) == (Presence.AVAILABLE, None)
    assert _actions(session, agent) == ["call.answer", "ticket.resolve", "call.finish"]
    event = session.scalars(select(AuditEvent).where(AuditEvent.action == "call.finish")).one()
    assert (event.target_type, event.target_id, event.note) == ("agent_call", agent_call.id, "登记了一个活")
    assert event.details["resolved"] is True and event.details["ticket"] == ticket.id


def test_an_outbound_call_without_a_ticket_gets_a_call_back_ticket(session, market, runtime, clock):
    worker = market.worker(site="LZ-TX-WYM")
    agent = agent_at(session, market, "LZ-TX", available_at=NOW)
    agent_call = calls.start_outbound(session, agent, phone=worker.phone, worker_id=worker.id, now=NOW)
    assert (agent_call.direction, agent_call.phone) == (CallDirection.OUTBOUND, worker.phone)
    assert presence_of(session, agent).status == Presence.BUSY
    calls.call_ended(session, agent_call, dial_status="completed", duration_seconds=30, now=LATER)
    assert agent_call.answered_at == LATER - timedelta(seconds=30)

    ticket = calls.finish_call(
        session, agent, agent_call, outcome=TicketOutcome.CALLED, note="问过了", resolve=True, now=LATER
    )

    assert (ticket.kind, ticket.worker_id, ticket.phone) == (TicketKind.CALL_BACK, worker.id, worker.phone)
    assert ticket.site_id == market.site("LZ-TX-WYM").id
    assert ticket.status == TicketStatus.RESOLVED and agent_call.ticket_id == ticket.id
    assert _actions(session, agent) == ["call.dial", "ticket.resolve", "call.finish"]


def test_a_failed_call_back_leaves_its_ticket_open_with_the_attempt(session, market, runtime, clock):
    agent = agent_at(session, market, "LZ-TX", available_at=NOW)
    ticket = open_ticket(session, TicketKind.CALL_BACK, phone="+8613700009999", text="请回电")
    agent_call = calls.start_outbound(session, agent, phone=ticket.phone, ticket_id=ticket.id, now=NOW)
    calls.call_ended(session, agent_call, dial_status="no-answer", duration_seconds=0, now=LATER)
    assert agent_call.answered_at is None

    returned = calls.finish_call(
        session, agent, agent_call, outcome=TicketOutcome.NO_ANSWER, note="没人接", resolve=False, now=LATER
    )

    assert returned.id == ticket.id and ticket.status == TicketStatus.OPEN
    [attempt] = ticket.details["call_attempts"]
    assert (attempt["dial_status"], attempt["outcome"], attempt["agent"]) == (
        "no-answer",
        "no_answer",
        agent.id,
    )
    assert agent_call.outcome == "no_answer"
    assert presence_of(session, agent).status == Presence.AVAILABLE
    assert _actions(session, agent) == ["call.dial", "call.finish"]

    # The second try, answered: the ticket closes, both attempts on record.
    again = calls.start_outbound(session, agent, phone=ticket.phone, ticket_id=ticket.id, now=LATER)
    calls.call_ended(session, again, dial_status="completed", duration_seconds=40, now=LATER)
    calls.finish_call(session, agent, again, outcome=TicketOutcome.CALLED, note="", resolve=True, now=LATER)
    assert ticket.status == TicketStatus.RESOLVED
    assert [a["dial_status"] for a in ticket.details["call_attempts"]] == ["no-answer", "completed"]
    calls_on_ticket = session.scalars(select(AgentCall).where(AgentCall.ticket_id == ticket.id)).all()
    assert len(calls_on_ticket) == 2


def test_finishing_twice_changes_nothing(session, market, runtime, clock):
    agent = agent_at(session, market, "LZ-TX", available_at=NOW)
    agent_call = calls.start_outbound(session, agent, phone="+8613700001234", now=NOW)
    first = calls.finish_call(
        session, agent, agent_call, outcome=TicketOutcome.CALLED, note="a", resolve=True, now=NOW
    )
    second = calls.finish_call(
        session, agent, agent_call, outcome=TicketOutcome.NO_ANSWER, note="b", resolve=False, now=NOW
    )
    assert first.id == second.id and agent_call.outcome == "called"
    assert session.scalars(select(Ticket).where(Ticket.id == first.id)).one().details["call_attempts"][0][
        "outcome"
    ] == ("called")


def test_another_agents_call_is_not_finished(session, market, runtime):
    agent = agent_at(session, market, "LZ-TX", available_at=NOW)
    other = agent_at(session, market, "LZ-TX", available_at=NOW)
    agent_call = calls.start_outbound(session, agent, phone="+8613700001235", now=NOW)
    with pytest.raises(calls.CallError):
        calls.finish_call(
            session, other, agent_call, outcome=TicketOutcome.CALLED, note="", resolve=True, now=NOW
        )


@pytest.mark.parametrize("phone", ["13700001236", "+86 137 0000 1236", "not a number"])
def test_outbound_needs_an_e164_number(session, market, phone):
    agent = agent_at(session, market, "LZ-TX", available_at=NOW)
    with pytest.raises((calls.CallError, InvalidPhoneNumber)):
        calls.start_outbound(session, agent, phone=phone, now=NOW)
    assert presence_of(session, agent).status == Presence.AVAILABLE


def test_a_ticket_that_closes_elsewhere_stays_open_but_the_call_is_finished(session, market, runtime, clock):
    agent = agent_at(session, market, "LZ-TX", available_at=NOW)
    ticket = open_ticket(session, TicketKind.WAGE_CASE, phone="+8613700004321", text="欠薪")
    agent_call = calls.start_outbound(session, agent, phone=ticket.phone, ticket_id=ticket.id, now=NOW)
    calls.finish_call(
        session, agent, agent_call, outcome=TicketOutcome.CALLED, note="调解中", resolve=True, now=NOW
    )
    assert ticket.status == TicketStatus.OPEN and agent_call.outcome == "called"
    assert presence_of(session, agent).status == Presence.AVAILABLE


def test_wrap_up_may_be_skipped_to_available(session, market):
    agent = agent_at(session, market, "LZ-TX", available_at=NOW)
    agent_call = calls.start_outbound(session, agent, phone="+8613700001237", now=NOW)
    calls.call_ended(session, agent_call, dial_status="busy", duration_seconds=0, now=LATER)
    assert presence_of(session, agent).status == Presence.WRAP_UP
    presence = set_presence(session, agent, Presence.AVAILABLE, LATER)
    assert (presence.status, presence.agent_call_id) == (Presence.AVAILABLE, None)


def test_an_inbound_call_without_a_ticket_gets_the_calls_agent_call_ticket(session, market, runtime, clock):
    agent = agent_at(session, market, "LZ-TX", available_at=NOW)
    call = a_call(session, site=market.site("LZ-TX").id)
    routing.queue_caller(session, call, None, NOW)
    agent_call = calls.answer_next(session, agent, runtime.settings, LATER)
    assert agent_call is not None and agent_call.ticket_id is None
    ticket = calls.finish_call(
        session, agent, agent_call, outcome=TicketOutcome.DONE, note="问工价", resolve=True, now=LATER
    )
    assert (ticket.kind, ticket.call_sid, ticket.site_id) == (
        TicketKind.AGENT_CALL,
        call.call_sid,
        market.site("LZ-TX").id,
    )
    assert ticket.status == TicketStatus.RESOLVED and agent_call.ended_at == LATER
