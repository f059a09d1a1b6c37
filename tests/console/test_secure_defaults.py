"""Production never has the demo: its agent cannot sign in, and a database holding demo data is refused
at start-up; a sign-in's `next` never breaks the redirect."""

from __future__ import annotations

import logging

import pytest
from flask import Flask
from sqlalchemy import func, select

from dispatch import create_app
from dispatch.console.agents import create_agent, set_active
from dispatch.db import Database
from dispatch.demo import (
    AGENT_PASSWORD,
    AGENT_USERNAME,
    ensure_agent,
    refuse_demo_data_in_production,
    seed_demo,
)
from dispatch.models import Agent, AuditEvent
from dispatch.models.console import AgentSession
from dispatch.settings import Settings, SettingsError
from tests.conftest import build_runtime, make_settings
from tests.console.helpers import PASSWORD, csrf_token, make_agent, sign_in

# Production's own secrets (as `secrets.token_urlsafe(32)` and a Twilio token would be).
PRODUCTION = {
    "DISPATCH_ENV": "production",
    "SECRET_KEY": "Zr4mQ8vT1nXc6bHs0LpW3yKd9FgJ2aEu7oNi5RhVtCe",
    "TWILIO_AUTH_TOKEN": "0d7c4e9a2f61b8350e4d9c7a1f2b6e83",
}


def production_settings(runtime, service_urls) -> Settings:
    if runtime.settings.embedded_redis:
        pytest.skip("production refuses the embedded Redis this run fell back to")
    # Where this run fell back to SQLite, production must be told it is allowed.
    sqlite = runtime.settings.DATABASE_URL.startswith("sqlite")
    return make_settings(service_urls, **PRODUCTION, ALLOW_SQLITE_IN_PRODUCTION=sqlite)


@pytest.fixture
def production_app(runtime, service_urls) -> Flask:
    """The app as production runs it, on this test's database (and its rolled-back transaction)."""
    app = create_app(
        runtime=build_runtime(production_settings(runtime, service_urls), runtime.db, runtime.redis)
    )
    app.testing = True
    return app


def post_sign_in(client, username: str, password: str):
    form = {"username": username, "password": password, "csrf_token": csrf_token(client)}
    return client.post("/console/sign-in", data=form)


def sessions_of(session, username: str) -> int:
    query = select(func.count()).select_from(AgentSession).join(Agent, Agent.id == AgentSession.agent_id)
    return session.scalar(query.where(Agent.username == username))


def test_the_demo_agent_cannot_sign_in_to_production(production_app, session, seeded, caplog):
    ensure_agent(session)
    session.commit()
    client = production_app.test_client()
    with caplog.at_level(logging.WARNING, logger="dispatch.console.auth"):
        response = post_sign_in(client, AGENT_USERNAME, AGENT_PASSWORD)
    assert response.status_code == 401  # like a wrong password: nothing to learn from it
    assert "demo" in caplog.text and AGENT_PASSWORD not in caplog.text
    assert client.get("/console/tickets/").status_code == 302
    assert sessions_of(session, AGENT_USERNAME) == 0
    assert session.scalar(select(AuditEvent).where(AuditEvent.action == "agent.sign_in")) is None


def test_nor_any_agent_with_the_demo_password(production_app, session, seeded):
    create_agent(session, "wang", AGENT_PASSWORD, "agent", "LZ")
    session.commit()
    assert post_sign_in(production_app.test_client(), "wang", AGENT_PASSWORD).status_code == 401


def test_other_agents_sign_in_to_production(production_app, session, seeded):
    make_agent(session, "wang", "agent", "LZ")
    client = production_app.test_client()
    assert post_sign_in(client, "wang", PASSWORD).status_code == 302
    assert client.get("/console/tickets/").status_code == 200


def test_the_demo_agent_signs_in_to_a_first_run(client, session, seeded):
    ensure_agent(session)
    session.commit()
    assert post_sign_in(client, AGENT_USERNAME, AGENT_PASSWORD).status_code == 302
    assert client.get("/console/tickets/").status_code == 200


def test_production_refuses_a_database_with_the_demo_agent(runtime, service_urls, session, seeded):
    production = production_settings(runtime, service_urls)
    refuse_demo_data_in_production(runtime.db, production)  # a clean database: nothing to say
    ensure_agent(session)
    session.commit()
    refuse_demo_data_in_production(runtime.db, runtime.settings)  # a first run may have it
    with pytest.raises(SettingsError, match="demo agent 'demo'") as refused:
        refuse_demo_data_in_production(runtime.db, production)
    assert "\n" not in str(refused.value) and "production" in str(refused.value)
    set_active(session, AGENT_USERNAME, False)  # a disabled demo agent can do no harm
    session.commit()
    refuse_demo_data_in_production(runtime.db, production)


def test_production_refuses_a_database_with_demo_workers(runtime, service_urls, session, seeded):
    seed_demo(session, runtime.settings, workers=5, employers=2)
    set_active(session, AGENT_USERNAME, False)
    session.commit()
    with pytest.raises(SettingsError, match="5 demo workers, 2 demo employers"):
        refuse_demo_data_in_production(runtime.db, production_settings(runtime, service_urls))


def test_the_demo_check_lets_production_start_while_the_database_is_down(runtime, service_urls, caplog):
    production = production_settings(runtime, service_urls)
    unreachable = Database("postgresql://postgres@127.0.0.1:1/dispatch")
    with caplog.at_level(logging.WARNING, logger="dispatch.demo"):
        refuse_demo_data_in_production(unreachable, production)  # webhooks must still reach the spool
    assert "could not look for demo data" in caplog.text
    unreachable.engine.dispose()


@pytest.mark.parametrize(
    "next_url",
    ["/console/jobs/\r\nSet-Cookie: x=1", "/console/jobs/\n", "/console/jobs/\tx", "/console\\@evil.example"],
    ids=["crlf", "newline", "tab", "backslash"],
)
def test_an_odd_next_signs_in_to_the_queue_with_an_audit_row(client, agent, session, next_url):
    form = {"username": agent.username, "password": PASSWORD, "csrf_token": csrf_token(client)}
    response = client.post("/console/sign-in", data={**form, "next": next_url})
    assert response.status_code == 302 and response.headers["Location"] == "/console/tickets/"
    assert client.get("/console/tickets/").status_code == 200
    assert session.scalar(select(AuditEvent.action).where(AuditEvent.agent_id == agent.id)) == "agent.sign_in"


def test_a_good_next_is_still_followed(client, agent):
    sign_in(client, agent.username)
    client.post("/console/sign-out", data={"csrf_token": csrf_token(client)})
    form = {"username": agent.username, "password": PASSWORD, "csrf_token": csrf_token(client)}
    response = client.post("/console/sign-in", data={**form, "next": "/console/jobs/?page=2"})
    assert response.headers["Location"] == "/console/jobs/?page=2"
