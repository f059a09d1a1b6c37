""" "Next ticket": the most urgent open ticket the agent may work is claimed and opened, and two agents
pressing at once never get the same one (nor wait on each other's row)."""

from __future__ import annotations

import threading

import pytest
from sqlalchemy import select

from dispatch.console.agents import create_agent
from dispatch.console.tickets.services import next_ticket
from dispatch.models import AuditEvent, Ticket, TicketKind, TicketStatus
from tests.console.helpers import PASSWORD, console_post, csrf_token, make_agent, sign_in
from tests.console.tickets.test_queue import add_ticket


def test_next_takes_priority_then_age_and_skips_claimed_and_other_sites(session, agent):
    town_agent = make_agent(session, "town1", "agent", "LZ-DJ")
    held = add_ticket(session, priority=1, age_minutes=300, summary="held by another")
    held.status, held.claimed_by_id = TicketStatus.CLAIMED, town_agent.id
    other_town = add_ticket(session, site="LZ-XJ", priority=1, age_minutes=200)
    urgent_new = add_ticket(session, site="LZ-DJ", priority=1, age_minutes=2)
    old_routine = add_ticket(session, priority=3, age_minutes=600)
    newer_routine = add_ticket(session, priority=3, age_minutes=60)
    resolved = add_ticket(session, priority=1, age_minutes=900, status=TicketStatus.RESOLVED)
    session.commit()

    # The town agent sees only their town: its urgent ticket, then nothing (the district's are not theirs).
    assert next_ticket(session, town_agent) == urgent_new
    assert next_ticket(session, town_agent) is None

    # The district agent: the other town's urgent one, then the routine ones oldest first.
    taken = [next_ticket(session, agent) for _ in range(4)]
    assert taken == [other_town, old_routine, newer_routine, None]
    for ticket in (other_town, old_routine, newer_routine):
        assert (ticket.status, ticket.claimed_by_id) == (TicketStatus.CLAIMED, agent.id)
    assert (held.claimed_by_id, resolved.status) == (town_agent.id, TicketStatus.RESOLVED)
    claims = session.scalars(
        select(AuditEvent.target_id).where(
            AuditEvent.action == "ticket.claim", AuditEvent.agent_id == agent.id
        )
    ).all()
    assert sorted(claims) == sorted(t.id for t in (other_town, old_routine, newer_routine))


def test_next_button_opens_the_claimed_ticket_or_says_the_queue_is_empty(agent_client, session, agent):
    ticket = add_ticket(session, priority=2, age_minutes=5)
    response = console_post(agent_client, "/console/tickets/next")
    assert response.status_code == 302 and response.location.endswith(f"/console/tickets/{ticket.id}")
    session.refresh(ticket)
    assert (ticket.status, ticket.claimed_by_id) == (TicketStatus.CLAIMED, agent.id)
    response = console_post(agent_client, "/console/tickets/next", follow_redirects=True)
    assert "没有可以认领的待办了" in response.get_data(as_text=True)


@pytest.mark.committed
def test_a_locked_ticket_is_skipped_not_waited_for(committed):
    """An agent whose "next" reads a row another agent's transaction is claiming gets the next one
    at once: SKIP LOCKED, not a wait behind the lock and then a refusal."""
    runtime, _app = committed
    with runtime.db.transaction() as db:
        first, second = (create_agent(db, name, PASSWORD, "agent", "LZ") for name in ("first", "second"))
        tickets = [
            Ticket(kind=TicketKind.VOICEMAIL, priority=2, phone="+8613900000003", summary=str(i))
            for i in (1, 2)
        ]
        db.add_all(tickets)
        db.flush()
        first_id, second_id, ids = first.id, second.id, [t.id for t in tickets]
    with runtime.db.transaction() as holding:
        got = next_ticket(holding, holding.get(type(first), first_id))
        assert got is not None and got.id == ids[0]  # its row stays locked until this block commits
        with runtime.db.transaction() as other:
            other.connection().exec_driver_sql("SET LOCAL lock_timeout = '2s'")  # a wait would fail loudly
            taken = next_ticket(other, other.get(type(first), second_id))
            assert taken is not None and taken.id == ids[1]


@pytest.mark.committed
def test_agents_pressing_next_at_once_get_different_tickets(committed):
    runtime, app = committed
    names = [f"racer{i}" for i in range(4)]
    with runtime.db.transaction() as db:
        for name in names:
            create_agent(db, name, PASSWORD, "agent", "LZ")
        db.add_all(
            Ticket(kind=TicketKind.VOICEMAIL, priority=2, phone="+8613900000004", summary=f"race {i}")
            for i in range(3)
        )
    clients = []
    for name in names:
        client = app.test_client()
        sign_in(client, name)
        clients.append((client, csrf_token(client)))
    barrier = threading.Barrier(len(clients))
    landed: list[str] = [""] * len(clients)

    def press(index: int) -> None:
        client, token = clients[index]
        barrier.wait(timeout=30)
        landed[index] = client.post("/console/tickets/next", data={"csrf_token": token}).location or ""

    threads = [threading.Thread(target=press, args=(i,)) for i in range(len(clients))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    opened = [where for where in landed if where.rstrip("/").split("/")[-1].isdigit()]
    assert len(opened) == 3 and len(set(opened)) == 3  # three tickets, three agents, no two alike
    assert sum(where.endswith("/console/tickets/") for where in landed) == 1  # the fourth: none left
    with runtime.db.transaction() as db:
        claims = db.scalars(select(AuditEvent).where(AuditEvent.action == "ticket.claim")).all()
        assert len(claims) == 3 and len({c.target_id for c in claims}) == 3
        assert all(t.status == TicketStatus.CLAIMED for t in db.scalars(select(Ticket)))
