"""Listing, disabling and enabling agents (`dispatch agents list | disable | enable` call these)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import select

from dispatch.console.agents import AgentError, describe_agent, list_agents, set_active
from dispatch.models import AuditEvent
from dispatch.models.console import AgentSession
from tests.console.helpers import PASSWORD, csrf_token, make_agent, sign_in

PAGE = "/console/tickets/"


def copied_cookie_client(app, client):
    """A second browser holding a copy of `client`'s session cookie."""
    replay = app.test_client()
    replay.set_cookie("session", client.get_cookie("session").value)
    return replay


def test_agents_are_listed_by_username_disabled_ones_too(session, seeded):
    for username, site in (("zhao", "LZ"), ("Chen", "LZ-TX"), ("li", "LZ-DJ")):
        make_agent(session, username, "agent", site)
    set_active(session, "li", False)
    listed = list_agents(session)
    assert [agent.username for agent in listed] == ["Chen", "li", "zhao"]
    assert [agent.active for agent in listed] == [True, False, True]


def test_an_agents_row_for_the_list(session, seeded):
    agent = make_agent(session, "chen", "supervisor", "LZ-TX")
    assert describe_agent(agent).split() == ["chen", "supervisor", "LZ-TX", "active", "never", "signed", "in"]
    agent.last_sign_in_at = datetime(2026, 12, 8, 1, 30, tzinfo=UTC)
    set_active(session, "chen", False)
    row = describe_agent(agent, "Asia/Shanghai")
    assert row.split() == ["chen", "supervisor", "LZ-TX", "disabled", "2026-12-08", "09:30"]  # market time
    assert "\n" not in row


def test_an_unknown_agent_cannot_be_disabled_or_enabled(session, seeded):
    for active in (False, True):
        with pytest.raises(AgentError, match="no agent 'nobody'"):
            set_active(session, "nobody", active)
    assert session.scalar(select(AuditEvent).where(AuditEvent.action.like("agent.%able"))) is None


def test_disabling_ends_the_agents_sessions_at_once(app, client, agent, session):
    sign_in(client, agent.username)
    other_desk = app.test_client()
    sign_in(other_desk, agent.username)
    stolen = copied_cookie_client(app, client)
    assert stolen.get(PAGE).status_code == 200

    disabled = set_active(session, agent.username.upper(), False)  # usernames match in any case
    session.commit()
    assert disabled.id == agent.id and not disabled.active
    for browser in (client, other_desk, stolen):
        assert browser.get(PAGE).status_code == 302  # the very next page
    polled = other_desk.get(PAGE, headers={"HX-Request": "true"})  # the queue's 3-second poll
    assert polled.status_code == 401 and polled.headers["HX-Redirect"] == "/console/sign-in"
    rows = session.scalars(select(AgentSession).where(AgentSession.agent_id == agent.id)).all()
    assert len(rows) == 2 and all(row.ended_at is not None for row in rows)


def test_a_disabled_agent_cannot_sign_in_until_enabled(app, agent, session):
    set_active(session, agent.username, False)
    session.commit()
    client = app.test_client()
    form = {"username": agent.username, "password": PASSWORD, "csrf_token": csrf_token(client)}
    refused = client.post("/console/sign-in", data=form)
    assert refused.status_code == 401 and "用户名或密码不对" in refused.get_data(as_text=True)
    assert client.get(PAGE).status_code == 302

    set_active(session, agent.username, True)
    session.commit()
    sign_in(client, agent.username)
    assert client.get(PAGE).status_code == 200


def test_enabling_again_does_not_bring_old_sessions_back(app, client, agent, session):
    sign_in(client, agent.username)
    stolen = copied_cookie_client(app, client)
    set_active(session, agent.username, False)
    set_active(session, agent.username, True)
    session.commit()
    assert stolen.get(PAGE).status_code == 302 and client.get(PAGE).status_code == 302


def test_disable_and_enable_are_audited(client, agent, session):
    sign_in(client, agent.username)
    set_active(session, agent.username, False)
    set_active(session, agent.username, True)
    session.commit()
    events = session.scalars(
        select(AuditEvent)
        .where(AuditEvent.action.in_(["agent.disable", "agent.enable"]))
        .order_by(AuditEvent.id)
    ).all()
    assert [(e.action, e.agent_id, e.target_type, e.target_id) for e in events] == [
        ("agent.disable", None, "agent", agent.id),
        ("agent.enable", None, "agent", agent.id),
    ]
    assert [e.details for e in events] == [
        {"sessions_ended": 1, "via": "cli"},
        {"sessions_ended": 0, "via": "cli"},
    ]
