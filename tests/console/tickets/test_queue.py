"""The queue page: what it lists and in which order, live rows, claims, release, resolve, scope."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from sqlalchemy import select

from dispatch.clock import utcnow
from dispatch.console.agents import create_agent
from dispatch.models import AuditEvent, Site, Ticket, TicketKind, TicketStatus
from tests.console.helpers import PASSWORD, console_post, csrf_token, make_agent, sign_in
from tests.helpers import text_in


def site_id(session, code: str) -> int:
    return session.scalar(select(Site.id).where(Site.code == code))


def add_ticket(session, kind=TicketKind.VOICEMAIL, site="LZ", priority=3, age_minutes=0, **fields) -> Ticket:
    ticket = Ticket(
        kind=kind,
        priority=priority,
        site_id=site_id(session, site) if site else None,
        phone=fields.pop("phone", "+8613900000001"),
        summary=fields.pop("summary", f"{kind} ticket"),
        created_at=utcnow() - timedelta(minutes=age_minutes),
        **fields,
    )
    session.add(ticket)
    session.commit()
    return ticket


def test_queue_lists_open_tickets_most_urgent_then_oldest(agent_client, session):
    newer_urgent = add_ticket(session, priority=1, age_minutes=1, summary="urgent one")
    older = add_ticket(session, priority=3, age_minutes=90, summary="old one")
    newer = add_ticket(session, priority=3, age_minutes=5, summary="new one")
    done = add_ticket(session, summary="done one", status=TicketStatus.RESOLVED)
    page = agent_client.get("/console/tickets/").get_data(as_text=True)
    positions = [page.index(f'id="ticket-{t.id}"') for t in (newer_urgent, older, newer)]
    assert positions == sorted(positions)
    assert f'id="ticket-{done.id}"' not in page
    assert "留言" in page and "1小时30分钟" in page  # kind and how long it waited, in Chinese
    assert 'hx-trigger="every 3s"' in page


def test_rows_fragment_shows_a_ticket_a_webhook_just_made(agent_client, client, session):
    assert "队列是空的" in agent_client.get("/console/tickets/rows").get_data(as_text=True)
    text_in(client, "asdf qwer zxcv", "+8613700000009")
    rows = agent_client.get("/console/tickets/rows").get_data(as_text=True)
    assert "<html" not in rows  # a fragment for htmx, not a page
    assert "看不懂的短信" in rows and "137 0000 0009" in rows and "asdf qwer zxcv" in rows


def test_filter_by_kind_and_view(agent_client, session, agent):
    voicemail = add_ticket(session, TicketKind.VOICEMAIL)
    name = add_ticket(session, TicketKind.RECORDED_NAME)
    page = agent_client.get("/console/tickets/?kind=recorded_name").get_data(as_text=True)
    assert f'id="ticket-{name.id}"' in page and f'id="ticket-{voicemail.id}"' not in page
    console_post(agent_client, f"/console/tickets/{voicemail.id}/claim")
    mine = agent_client.get("/console/tickets/?view=mine").get_data(as_text=True)
    assert f'id="ticket-{voicemail.id}"' in mine and f'id="ticket-{name.id}"' not in mine


def test_claim_release_resolve_with_audit(agent_client, session, agent):
    ticket = add_ticket(session)
    response = console_post(agent_client, f"/console/tickets/{ticket.id}/claim")
    assert response.status_code == 302
    session.refresh(ticket)
    assert (ticket.status, ticket.claimed_by_id) == (TicketStatus.CLAIMED, agent.id)
    assert console_post(agent_client, f"/console/tickets/{ticket.id}/release").status_code == 302
    session.refresh(ticket)
    assert (ticket.status, ticket.claimed_by_id) == (TicketStatus.OPEN, None)

    assert (
        console_post(agent_client, f"/console/tickets/{ticket.id}/resolve", {"note": "x"}).status_code == 400
    )
    response = console_post(
        agent_client, f"/console/tickets/{ticket.id}/resolve", {"outcome": "called", "note": "回电已登记"}
    )
    assert response.status_code == 302
    session.refresh(ticket)
    assert (ticket.status, ticket.outcome, ticket.resolution) == (
        TicketStatus.RESOLVED,
        "called",
        "回电已登记",
    )
    assert ticket.resolved_by_id == agent.id and ticket.resolved_at is not None
    actions = session.scalars(
        select(AuditEvent.action).where(AuditEvent.target_type == "ticket", AuditEvent.target_id == ticket.id)
    ).all()
    assert actions == ["ticket.claim", "ticket.release", "ticket.resolve"]
    # Resolved is final: neither claimed nor resolved again.
    assert console_post(agent_client, f"/console/tickets/{ticket.id}/claim").status_code == 409


def test_a_second_agent_is_told_who_has_the_ticket(app, agent_client, session, agent):
    ticket = add_ticket(session)
    console_post(agent_client, f"/console/tickets/{ticket.id}/claim")
    make_agent(session, "district2", "agent", "LZ")
    other = app.test_client()
    sign_in(other, "district2")
    response = console_post(other, f"/console/tickets/{ticket.id}/claim")
    assert response.status_code == 409
    assert "已被 district1 认领" in response.get_data(as_text=True)
    for action in ("resolve", "release"):
        response = console_post(other, f"/console/tickets/{ticket.id}/{action}", {"outcome": "done"})
        assert response.status_code == 409
    session.refresh(ticket)
    assert (ticket.status, ticket.claimed_by_id) == (TicketStatus.CLAIMED, agent.id)


def test_a_supervisor_may_release_another_agents_ticket(app, agent_client, session):
    ticket = add_ticket(session)
    console_post(agent_client, f"/console/tickets/{ticket.id}/claim")
    make_agent(session, "boss", "supervisor", "LZ")
    boss = app.test_client()
    sign_in(boss, "boss")
    assert console_post(boss, f"/console/tickets/{ticket.id}/release").status_code == 302
    session.refresh(ticket)
    assert ticket.status == TicketStatus.OPEN


def test_a_town_agent_sees_only_its_own_tickets(app, session, seeded):
    make_agent(session, "taixi", "agent", "LZ-TX")
    village = session.scalar(select(Site).where(Site.parent_id == site_id(session, "LZ-TX")))
    own = add_ticket(session, site="LZ-TX", summary="own town")
    below = add_ticket(session, site=village.code, summary="own village")
    other = add_ticket(session, site="LZ-DJ", summary="other town")
    unplaced = add_ticket(session, site=None, summary="unknown sender")
    client = app.test_client()
    sign_in(client, "taixi")
    page = client.get("/console/tickets/").get_data(as_text=True)
    assert f'id="ticket-{own.id}"' in page and f'id="ticket-{below.id}"' in page
    assert f'id="ticket-{other.id}"' not in page and f'id="ticket-{unplaced.id}"' not in page
    for ticket in (other, unplaced):
        assert client.get(f"/console/tickets/{ticket.id}").status_code == 404
        assert console_post(client, f"/console/tickets/{ticket.id}/claim").status_code == 404
    session.refresh(other)
    assert other.status == TicketStatus.OPEN


def test_claim_without_csrf_is_refused(agent_client, session):
    ticket = add_ticket(session)
    assert agent_client.post(f"/console/tickets/{ticket.id}/claim").status_code == 400
    session.refresh(ticket)
    assert ticket.status == TicketStatus.OPEN


def test_english_queue(agent_client, session):
    add_ticket(session, TicketKind.CALL_BACK, age_minutes=12)
    console_post(agent_client, "/console/language", {"lang": "en"})
    page = agent_client.get("/console/tickets/").get_data(as_text=True)
    assert "Unfinished call: call back" in page and "12 min" in page and "Claim" in page


@pytest.mark.committed
def test_two_agents_claiming_at_once_one_wins(committed):
    runtime, app = committed
    with runtime.db.transaction() as db:
        for name in ("racer1", "racer2"):
            create_agent(db, name, PASSWORD, "agent", "LZ")
        ticket = Ticket(kind=TicketKind.VOICEMAIL, priority=3, phone="+8613900000002", summary="race")
        db.add(ticket)
        db.flush()
        ticket_id = ticket.id
    clients = []
    for name in ("racer1", "racer2"):
        client = app.test_client()
        sign_in(client, name)
        clients.append((client, csrf_token(client)))
    barrier = threading.Barrier(2)
    results: list[int] = [0, 0]

    def claim(index: int) -> None:
        client, token = clients[index]
        barrier.wait(timeout=30)
        results[index] = client.post(
            f"/console/tickets/{ticket_id}/claim", data={"csrf_token": token}
        ).status_code

    threads = [threading.Thread(target=claim, args=(i,)) for i in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert sorted(results) == [302, 409]
    with runtime.db.transaction() as db:
        claims = db.scalars(select(AuditEvent).where(AuditEvent.action == "ticket.claim")).all()
        assert len(claims) == 1
        assert db.get(Ticket, ticket_id).claimed_by_id == claims[0].agent_id
