"""The console's phone bar: presence chosen in the console (CSRF, audited), the heartbeat, away when the
console closes but not when the agent only moves to another page, the bar on every page."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from dispatch.callcenter.presence import presence_of, set_presence
from dispatch.callcenter.routing import queue_caller
from dispatch.console.phone import away
from dispatch.models import AgentPresence, AuditEvent, Presence
from tests.callcenter.helpers import a_call
from tests.console.conftest import signed_in
from tests.console.helpers import console_post, make_agent
from tests.factories import NOW, Market

JSON = {"Accept": "application/json"}


@pytest.fixture(autouse=True)
def _clock(clock):
    return clock


def _presence(session, agent) -> AgentPresence:
    session.expire_all()
    row = session.get(AgentPresence, agent.id)
    assert row is not None
    return row


def _audit(session, agent, action: str) -> list[AuditEvent]:
    query = select(AuditEvent).where(AuditEvent.agent_id == agent.id, AuditEvent.action == action)
    return list(session.scalars(query.order_by(AuditEvent.id)))


def test_every_console_page_carries_the_phone_bar_with_the_agents_presence(agent_client):
    page = agent_client.get("/console/tickets/")
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert 'id="phone-bar"' in html and 'data-status="away"' in html
    assert 'data-phone-mode="offline"' in html  # no Twilio API key in the tests
    assert "/console/static/phone.js" in html and "<script>" not in html  # no inline script (CSP)


def test_the_sign_in_page_has_no_phone_bar(client):
    assert 'id="phone-bar"' not in client.get("/console/sign-in").get_data(as_text=True)


def test_setting_available_then_away(agent_client, session, agent, clock):
    response = console_post(agent_client, "/console/phone/presence", {"status": "available"}, headers=JSON)
    assert response.status_code == 200
    body = response.get_json()
    assert (body["status"], body["label"], body["agent_call_id"], body["waiting"]) == (
        "available",
        "空闲",
        None,
        0,
    )
    row = _presence(session, agent)
    assert (row.status, row.changed_at, row.seen_at) == (Presence.AVAILABLE, NOW, NOW)
    assert 'data-status="available"' in agent_client.get("/console/tickets/").get_data(as_text=True)

    clock.shift(timedelta(minutes=3))
    response = console_post(agent_client, "/console/phone/presence", {"status": "away"}, headers=JSON)
    assert response.get_json()["status"] == "away"
    assert _presence(session, agent).status == Presence.AWAY
    audited = [
        (event.details["status"], event.details["was"]) for event in _audit(session, agent, "phone.presence")
    ]
    assert audited == [("available", "away"), ("away", "available")]


def test_the_presence_form_without_javascript_returns_to_the_page(agent_client, session, agent):
    response = console_post(
        agent_client, "/console/phone/presence", {"status": "available", "next": "/console/jobs/"}
    )
    assert (response.status_code, response.headers["Location"]) == (302, "/console/jobs/")
    assert _presence(session, agent).status == Presence.AVAILABLE


@pytest.mark.parametrize("status", ["busy", "wrap_up", "", "nonsense"])
def test_busy_and_wrap_up_are_not_chosen_by_hand(agent_client, session, agent, status):
    response = console_post(agent_client, "/console/phone/presence", {"status": status}, headers=JSON)
    assert response.status_code == 400
    assert session.get(AgentPresence, agent.id) is None


def test_available_is_refused_while_on_a_call(agent_client, session, agent):
    set_presence(session, agent, Presence.AVAILABLE, NOW)
    console_post(agent_client, "/console/phone/dial", {"worker_id": _worker(session).id})
    response = console_post(agent_client, "/console/phone/presence", {"status": "available"}, headers=JSON)
    assert response.status_code == 409
    assert response.get_json()["error"] == "请先结束当前通话并完成话后整理。"
    assert _presence(session, agent).status == Presence.BUSY


def _worker(session):
    worker = Market(session).worker("+8613700001111", name="王师傅", site="LZ")
    session.commit()
    return worker


def test_presence_needs_the_csrf_token(agent_client, session, agent):
    response = agent_client.post("/console/phone/presence", data={"status": "available"}, headers=JSON)
    assert response.status_code == 400
    assert session.get(AgentPresence, agent.id) is None


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("get", "/console/phone/state"),
        ("post", "/console/phone/presence"),
        ("post", "/console/phone/heartbeat"),
        ("post", "/console/phone/left"),
        ("get", "/console/phone/token"),
        ("post", "/console/phone/next"),
        ("post", "/console/phone/dial"),
        ("get", "/console/phone/calls/1"),
        ("post", "/console/phone/calls/1/wrap-up"),
        ("post", "/console/phone/calls/1/ended"),
        ("get", "/console/phone/call-backs"),
    ],
)
def test_every_phone_route_sends_a_visitor_to_sign_in(client, seeded, method, path):
    response = console_post(client, path) if method == "post" else client.get(path)
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/console/sign-in")


def test_the_heartbeat_keeps_the_agent_seen(agent_client, session, agent, clock):
    console_post(agent_client, "/console/phone/presence", {"status": "available"})
    clock.shift(timedelta(seconds=30))
    response = console_post(agent_client, "/console/phone/heartbeat", headers=JSON)
    assert response.status_code == 200 and response.get_json()["status"] == "available"
    assert _presence(session, agent).seen_at == NOW + timedelta(seconds=30)
    assert (
        _audit(session, agent, "phone.presence")[-1].details["status"] == "available"
    )  # a beat is no choice


def test_the_state_counts_the_callers_the_agent_could_take(agent_client, session, agent, market):
    call = a_call(session, site=market.site("LZ").id)
    queue_caller(session, call, None, NOW - timedelta(seconds=20))
    session.commit()
    body = agent_client.get("/console/phone/state").get_json()
    assert (body["waiting"], body["waiting_label"]) == (1, "1人等您接听")


def test_a_closed_console_leaves_the_agent_away(agent_client, session, agent, runtime, clock):
    console_post(agent_client, "/console/phone/presence", {"status": "available"})
    response = console_post(agent_client, "/console/phone/left")
    assert response.status_code == 204
    assert _presence(session, agent).status == Presence.AWAY
    # No page of the agent's beats within the window: the note lapses, and they stay away.
    runtime.redis.delete(f"console:phone:left:{agent.id}")
    clock.shift(timedelta(seconds=away.RETURN_WINDOW_SECONDS + 1))
    console_post(agent_client, "/console/phone/heartbeat")
    assert _presence(session, agent).status == Presence.AWAY


def test_moving_to_another_page_keeps_the_agent_available(agent_client, session, agent):
    console_post(agent_client, "/console/phone/presence", {"status": "available"})
    console_post(agent_client, "/console/phone/left")  # the page being left
    assert _presence(session, agent).status == Presence.AWAY
    response = console_post(agent_client, "/console/phone/heartbeat", headers=JSON)  # the next page
    assert response.get_json()["status"] == "available"
    assert _presence(session, agent).status == Presence.AVAILABLE


def test_choosing_away_is_not_undone_by_a_heartbeat(agent_client, session, agent):
    console_post(agent_client, "/console/phone/presence", {"status": "available"})
    console_post(agent_client, "/console/phone/left")
    console_post(agent_client, "/console/phone/presence", {"status": "away"})
    console_post(agent_client, "/console/phone/heartbeat")
    assert _presence(session, agent).status == Presence.AWAY


def test_a_closed_page_leaves_an_agent_on_a_call_as_they_are(agent_client, session, agent):
    set_presence(session, agent, Presence.AVAILABLE, NOW)
    session.commit()
    response = console_post(
        agent_client, "/console/phone/dial", {"worker_id": _worker(session).id}, headers=JSON
    )
    assert response.status_code == 200
    console_post(agent_client, "/console/phone/left")
    assert _presence(session, agent).status == Presence.BUSY


def test_signing_out_sets_the_agent_away(agent_client, session, agent):
    console_post(agent_client, "/console/phone/presence", {"status": "available"})
    console_post(agent_client, "/console/sign-out")
    assert _presence(session, agent).status == Presence.AWAY


def test_each_agent_sets_only_their_own_presence(app, session, agent):
    other = make_agent(session, "district2", "agent", "LZ")
    console_post(signed_in(app, other), "/console/phone/presence", {"status": "available"})
    assert presence_of(session, other).status == Presence.AVAILABLE
    assert session.get(AgentPresence, agent.id) is None
