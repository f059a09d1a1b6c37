"""Two agents pressing "answer next" at once never take one caller: committed transactions racing."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from sqlalchemy import select

from dispatch.callcenter import calls
from dispatch.models import Agent, QueuedCall, WaitStatus
from tests.callcenter.helpers import agent_at, waiting_at
from tests.factories import NOW, Market
from tests.helpers import waiting_on_a_lock


@pytest.mark.committed
@pytest.mark.parametrize("callers", [1, 2])
def test_two_agents_answering_at_once_take_different_callers(committed, callers) -> None:
    """Agent one's reservation holds the caller's row; agent two, reading the same waiting caller,
    waits on it, finds it answered once one commits, and takes the next caller (or none)."""
    runtime, _ = committed
    settings = runtime.settings
    at = NOW + timedelta(seconds=10)
    with runtime.db.transaction() as session:
        market = Market(session)
        one = agent_at(session, market, "LZ-TX", available_at=NOW).id
        two = agent_at(session, market, "LZ-TX", available_at=NOW).id
        queued = [waiting_at(session, market, "LZ-TX", NOW + timedelta(seconds=i)).id for i in range(callers)]

    first = runtime.db.sessionmaker()
    results: list[object] = []

    def answer_two() -> None:
        try:
            with runtime.db.transaction() as session:
                agent_call = calls.answer_next(session, session.get(Agent, two), settings, at)
                results.append(agent_call.queued_call_id if agent_call else None)
        except BaseException as exc:  # reported by the assertion below
            results.append(exc)

    try:
        taken = calls.answer_next(first, first.get(Agent, one), settings, at)
        assert taken is not None and taken.queued_call_id == queued[0]
        thread = threading.Thread(target=answer_two)
        thread.start()
        assert waiting_on_a_lock(runtime)  # on the first caller's row, which agent one holds
        first.commit()
    finally:
        first.close()
    thread.join(timeout=60)
    assert not thread.is_alive()

    assert results == [queued[1] if callers == 2 else None]
    with runtime.db.transaction() as session:
        rows = session.scalars(select(QueuedCall).order_by(QueuedCall.id)).all()
        assert [(row.status, row.answered_by_id) for row in rows] == [
            (WaitStatus.ANSWERED, one),
            *([(WaitStatus.ANSWERED, two)] if callers == 2 else []),
        ]


@pytest.mark.committed
def test_crossing_binds_leave_no_bridged_caller_waiting(committed) -> None:
    """A reserved X, B reserved Y; Twilio gives X to B and Y to A. A's bind read its agent call (X)
    before B's bind swapped it (A now has Y) and committed: A's bind, reading its call again under the
    lock, leaves X (on the line with B) answered, never waiting."""
    from dispatch.models import AgentCall

    runtime, _ = committed
    settings = runtime.settings
    with runtime.db.transaction() as session:
        market = Market(session)
        a = agent_at(session, market, "LZ-TX", available_at=NOW).id
        b = agent_at(session, market, "LZ-TX", available_at=NOW).id
        x = waiting_at(session, market, "LZ-TX", NOW)
        y = waiting_at(session, market, "LZ-TX", NOW + timedelta(seconds=1))
        x_id, y_id, x_sid, y_sid = x.id, y.id, x.call_sid, y.call_sid
    with runtime.db.transaction() as session:
        call_a = calls.answer_next(session, session.get(Agent, a), settings, NOW + timedelta(seconds=5))
        assert call_a is not None and call_a.queued_call_id == x_id
        call_a_id = call_a.id
    with runtime.db.transaction() as session:
        call_b = calls.answer_next(session, session.get(Agent, b), settings, NOW + timedelta(seconds=6))
        assert call_b is not None and call_b.queued_call_id == y_id
        call_b_id = call_b.id

    first = runtime.db.sessionmaker()
    try:
        stale = first.get(AgentCall, call_a_id)  # A's bind has read its call: reserved X
        assert stale is not None and stale.queued_call_id == x_id
        with runtime.db.transaction() as session:  # B's bind (Twilio gave B caller X) commits
            calls.bind_answered(session, session.get(AgentCall, call_b_id), x_sid, NOW + timedelta(seconds=8))
        calls.bind_answered(first, stale, y_sid, NOW + timedelta(seconds=8))  # Twilio gave A caller Y
        first.commit()
    finally:
        first.close()

    with runtime.db.transaction() as session:
        rows = {row.id: (row.status, row.answered_by_id) for row in session.scalars(select(QueuedCall))}
        assert rows == {x_id: (WaitStatus.ANSWERED, b), y_id: (WaitStatus.ANSWERED, a)}
        bound = {row.id: row.queued_call_id for row in session.scalars(select(AgentCall))}
        assert bound == {call_a_id: y_id, call_b_id: x_id}
