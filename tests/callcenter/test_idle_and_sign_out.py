"""Away without a word from the agent: the periodic idle sweep (a real RQ job), and signing out."""

from __future__ import annotations

from datetime import timedelta

from dispatch.callcenter.presence import presence_of, set_presence
from dispatch.models import AgentPresence, Presence
from dispatch.periodic import enqueue_due_periodic_tasks
from tests.callcenter.helpers import agent_at
from tests.console.helpers import console_post, make_agent, sign_in
from tests.factories import NOW, commit
from tests.helpers import run_jobs


def test_the_periodic_sweep_sets_an_idle_agent_away(runtime, session, market, clock):
    agent = agent_at(session, market, "LZ-TX", available_at=NOW)
    commit(runtime, session)
    clock.shift(timedelta(seconds=runtime.settings.CONSOLE_IDLE_SECONDS - 1))
    assert "set-idle-agents-away" in enqueue_due_periodic_tasks(runtime)
    run_jobs(runtime)
    session.expire_all()
    assert presence_of(session, agent).status == Presence.AVAILABLE

    clock.shift(timedelta(seconds=2))
    runtime.redis.delete("dispatch:periodic:set-idle-agents-away")  # its 30 s interval, passed
    assert "set-idle-agents-away" in enqueue_due_periodic_tasks(runtime)
    run_jobs(runtime)
    session.expire_all()
    assert presence_of(session, agent).status == Presence.AWAY


def test_signing_out_of_the_console_sets_the_agent_away(app, session, seeded, clock):
    agent = make_agent(session, "phone1", "agent", "LZ-TX")
    client = app.test_client()
    sign_in(client, "phone1")
    set_presence(session, agent, Presence.AVAILABLE, NOW)
    session.commit()
    assert console_post(client, "/console/sign-out").status_code == 302
    session.expire_all()
    assert presence_of(session, agent).status == Presence.AWAY


def test_signing_out_without_ever_opening_the_phone_makes_no_presence(app, session, seeded):
    agent = make_agent(session, "phone2", "agent", "LZ-TX")
    client = app.test_client()
    sign_in(client, "phone2")
    assert console_post(client, "/console/sign-out").status_code == 302
    assert session.get(AgentPresence, agent.id) is None
