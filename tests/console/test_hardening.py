"""Odd input, sign-in races, sign-out, proxies, and what a town agent can reach from a job page."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, time
from zoneinfo import ZoneInfo

import pytest
import time_machine
from sqlalchemy import select

from dispatch.console.agents import create_agent
from dispatch.console.auth import FAILURES_PER_USERNAME
from dispatch.models import AuditEvent, Message, Ticket, TicketKind
from tests.console.helpers import PASSWORD, console_post, csrf_token, make_agent, sign_in
from tests.factories import Market
from tests.helpers import text_in


@pytest.mark.parametrize(
    "path",
    [
        "/console/people/search?q=%00ab",
        "/console/jobs/?status=open%00",
    ],
)
def test_nul_in_a_query_is_a_clear_400(agent_client, path):
    response = agent_client.get(path)
    assert response.status_code == 400
    assert "NUL" in response.get_data(as_text=True)


def test_nul_in_a_form_is_a_clear_400(agent_client, client, seeded):
    assert console_post(client, "/console/sign-in", {"username": "a\x00", "password": "x"}).status_code == 400
    assert console_post(agent_client, "/console/language", {"lang": "en\x00"}).status_code == 400


@pytest.mark.parametrize(
    "path",
    [
        "/console/tickets/999999999999999",
        "/console/people/workers/99999999999999999999",
        "/console/jobs/99999999999",
        "/console/intake/job?ticket=99999999999999",
    ],
)
def test_ids_beyond_the_id_range_are_not_found(agent_client, path):
    assert agent_client.get(path).status_code == 404


@pytest.mark.parametrize("query", ["page=፩", "page=" + "9" * 25, "page=-3", "page=abc"])
def test_odd_page_numbers_show_a_page(agent_client, query):
    assert agent_client.get(f"/console/jobs/?{query}").status_code == 200


def test_odd_done_id_on_the_counter_form(agent_client):
    assert agent_client.get("/console/intake/worker?done=፩").status_code == 200


def test_sign_out_makes_a_copied_cookie_worthless(app, agent):
    client = app.test_client()
    sign_in(client, agent.username)
    with client.session_transaction() as flask_session:
        copied = dict(flask_session)
    console_post(client, "/console/sign-out")
    replay = app.test_client()
    with replay.session_transaction() as flask_session:
        flask_session.update(copied)
    assert replay.get("/console/tickets/").status_code == 302


def test_a_good_sign_in_clears_the_username_failures(client, agent):
    for _ in range(FAILURES_PER_USERNAME - 1):
        console_post(client, "/console/sign-in", {"username": agent.username, "password": "wrong-one"})
    sign_in(client, agent.username)
    console_post(client, "/console/sign-out")
    for _ in range(FAILURES_PER_USERNAME - 1):
        response = console_post(client, "/console/sign-in", {"username": agent.username, "password": "wrong"})
        assert response.status_code == 401
    sign_in(client, agent.username)


@pytest.mark.committed
def test_parallel_guesses_cannot_slip_under_the_limit(committed):
    runtime, app = committed
    with runtime.db.transaction() as db:
        create_agent(db, "target", PASSWORD, "agent", "LZ")
    tries = 12
    clients = [app.test_client() for _ in range(tries)]
    tokens = [csrf_token(c) for c in clients]
    barrier = threading.Barrier(tries)
    codes: list[int] = [0] * tries

    def guess(index: int) -> None:
        barrier.wait(timeout=30)
        form = {"username": "target", "password": f"guess-{index}", "csrf_token": tokens[index]}
        codes[index] = clients[index].post("/console/sign-in", data=form).status_code

    threads = [threading.Thread(target=guess, args=(i,)) for i in range(tries)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert codes.count(401) == FAILURES_PER_USERNAME
    assert codes.count(429) == tries - FAILURES_PER_USERNAME


@pytest.mark.parametrize("settings_overrides", [{"TRUSTED_PROXIES": 1}])
def test_behind_a_trusted_proxy_the_audit_log_has_the_agents_address(client, agent, session):
    token = csrf_token(client)
    form = {"username": agent.username, "password": PASSWORD, "csrf_token": token}
    client.post("/console/sign-in", data=form, headers={"X-Forwarded-For": "10.1.2.3"})
    event = session.scalar(select(AuditEvent).where(AuditEvent.action == "agent.sign_in"))
    assert event.remote_addr == "10.1.2.3"


def test_without_trusted_proxies_a_forwarded_address_is_ignored(client, agent, session):
    form = {"username": agent.username, "password": PASSWORD, "csrf_token": csrf_token(client)}
    client.post("/console/sign-in", data=form, headers={"X-Forwarded-For": "10.1.2.3"})
    event = session.scalar(select(AuditEvent).where(AuditEvent.action == "agent.sign_in"))
    assert event.remote_addr != "10.1.2.3"


def test_a_supervisor_sees_the_release_button_on_another_agents_ticket(app, agent_client, session, agent):
    ticket = Ticket(kind=TicketKind.VOICEMAIL, priority=3, phone="+8613900000003", summary="vm")
    session.add(ticket)
    session.commit()
    console_post(agent_client, f"/console/tickets/{ticket.id}/claim")
    make_agent(session, "boss2", "supervisor", "LZ")
    boss = app.test_client()
    sign_in(boss, "boss2")
    page = boss.get(f"/console/tickets/{ticket.id}").get_data(as_text=True)
    assert f"/console/tickets/{ticket.id}/release" in page
    other = make_agent(session, "peer", "agent", "LZ")
    peer = app.test_client()
    sign_in(peer, other.username)
    assert f"/console/tickets/{ticket.id}/release" not in peer.get(f"/console/tickets/{ticket.id}").get_data(
        as_text=True
    )


def test_recording_urls_other_than_http_are_not_linked(agent_client, session):
    ticket = Ticket(
        kind=TicketKind.VOICEMAIL,
        priority=3,
        phone="+8613900000004",
        summary="vm",
        details={"voicemail_recording_url": "javascript:alert(1)"},
    )
    session.add(ticket)
    session.commit()
    page = agent_client.get(f"/console/tickets/{ticket.id}").get_data(as_text=True)
    assert "javascript:alert" not in page


@pytest.mark.parametrize(
    "settings_overrides", [{"QUIET_HOURS": "21:00-08:00", "MARKET_TIMEZONE": "Asia/Shanghai"}]
)
def test_an_old_text_read_by_an_agent_at_night_is_answered_in_the_morning(app, agent, client, session):
    phone = "+8613700000021"
    afternoon = datetime(2026, 11, 30, 6, 0, tzinfo=UTC)  # 14:00 in Shanghai
    with time_machine.travel(afternoon, tick=False):
        text_in(client, "嗯嗯嗯嗯", phone)
    ticket = session.scalar(select(Ticket).where(Ticket.phone == phone))
    night = datetime(2026, 11, 30, 14, 30, tzinfo=UTC)  # 22:30 in Shanghai
    with time_machine.travel(night, tick=False):
        agent_client = app.test_client()
        sign_in(agent_client, agent.username)  # the night shift signs in
        response = console_post(agent_client, f"/console/tickets/{ticket.id}/reread", {"text": "帮助"})
        assert response.headers["Location"] == "/console/tickets/"
    session.expire_all()
    reply = session.scalar(select(Message).where(Message.phone == phone, Message.kind == "help"))
    assert reply.send_after is not None
    local = reply.send_after.astimezone(ZoneInfo("Asia/Shanghai"))
    assert (local.date().isoformat(), local.time()) == ("2026-12-01", time(8, 0))


def test_a_town_agent_cannot_offer_or_book_another_towns_worker_from_a_job_page(app, session, seeded):
    market = Market(session)
    make_agent(session, "tx1", "agent", "LZ-TX")
    job = market.job(site="LZ-TX")
    stranger = market.worker("+8613911110001", name="外镇工", site="LZ-DJ", pay=100)
    session.commit()
    client = app.test_client()
    sign_in(client, "tx1")
    for action in ("offer", "confirm"):
        for form in ({"worker_id": str(stranger.id)}, {"phone": "13911110001"}):
            response = console_post(client, f"/console/jobs/{job.id}/{action}", form)
            assert stranger.name not in response.get_data(as_text=True)
            assert "139 1111 0001" not in response.get_data(as_text=True)
    assert session.scalar(select(Message.id).where(Message.phone == stranger.phone)) is None
