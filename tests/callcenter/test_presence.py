"""Presence: what an agent may choose, heartbeats, sign-out, and idle agents set away."""

from __future__ import annotations

from datetime import timedelta

import pytest

from dispatch.callcenter import presence
from dispatch.callcenter.calls import start_outbound
from dispatch.callcenter.presence import PresenceError
from dispatch.models import AgentPresence, Presence
from tests.callcenter.helpers import agent_at
from tests.factories import NOW


def test_first_presence_is_away_at_the_agents_site(session, market):
    agent = agent_at(session, market, "LZ-TX")
    row = presence.presence_of(session, agent)
    assert (row.status, row.site_id) == (Presence.AWAY, market.site("LZ-TX").id)
    assert presence.presence_of(session, agent) is row  # one row, not a second
    assert session.query(AgentPresence).filter_by(agent_id=agent.id).count() == 1


def test_agent_chooses_available_and_away(session, market):
    agent = agent_at(session, market, "LZ-TX")
    row = presence.set_presence(session, agent, Presence.AVAILABLE, NOW)
    assert (row.status, row.changed_at, row.seen_at) == (Presence.AVAILABLE, NOW, NOW)
    later = NOW + timedelta(minutes=3)
    assert presence.set_presence(session, agent, Presence.AWAY, later).status == Presence.AWAY
    assert row.changed_at == later


@pytest.mark.parametrize("status", [Presence.BUSY, Presence.WRAP_UP])
def test_busy_and_wrap_up_are_never_chosen_by_hand(session, market, status):
    agent = agent_at(session, market, "LZ-TX")
    with pytest.raises(PresenceError):
        presence.set_presence(session, agent, status, NOW)
    assert presence.presence_of(session, agent).status == Presence.AWAY


def test_available_is_refused_while_on_a_call_but_away_is_not(session, market):
    agent = agent_at(session, market, "LZ-TX", available_at=NOW)
    call = start_outbound(session, agent, phone="+8613700000001", now=NOW)
    row = presence.presence_of(session, agent)
    assert (row.status, row.agent_call_id) == (Presence.BUSY, call.id)
    with pytest.raises(PresenceError):
        presence.set_presence(session, agent, Presence.AVAILABLE, NOW)
    assert presence.set_presence(session, agent, Presence.AWAY, NOW).status == Presence.AWAY
    assert row.agent_call_id is None


def test_heartbeat_and_sign_out(session, market):
    agent = agent_at(session, market, "LZ-TX", available_at=NOW)
    later = NOW + timedelta(seconds=45)
    assert presence.heartbeat(session, agent, later).seen_at == later
    assert presence.presence_of(session, agent).status == Presence.AVAILABLE
    presence.sign_out(session, agent, later)
    assert presence.presence_of(session, agent).status == Presence.AWAY


def test_idle_agents_are_set_away_but_not_those_on_a_call(session, market, runtime):
    idle_seconds = runtime.settings.CONSOLE_IDLE_SECONDS
    idle = agent_at(session, market, "LZ-TX", available_at=NOW)
    fresh = agent_at(session, market, "LZ-TX", available_at=NOW)
    on_call = agent_at(session, market, "LZ-TX", available_at=NOW)
    start_outbound(session, on_call, phone="+8613700000002", now=NOW)
    later = NOW + timedelta(seconds=idle_seconds + 1)
    presence.heartbeat(session, fresh, later - timedelta(seconds=10))
    assert (
        presence.set_idle_agents_away(session, runtime.settings, NOW + timedelta(seconds=idle_seconds)) == 0
    )
    assert presence.set_idle_agents_away(session, runtime.settings, later) == 1
    session.expire_all()
    assert presence.presence_of(session, idle).status == Presence.AWAY
    assert presence.presence_of(session, fresh).status == Presence.AVAILABLE
    assert presence.presence_of(session, on_call).status == Presence.BUSY
