"""`dispatch agents create` and `dispatch agents password`."""

from __future__ import annotations

import io

import pytest
from sqlalchemy import select

from dispatch import cli
from dispatch.console.agents import AgentError, create_agent
from dispatch.console.passwords import PasswordTooShort, check_password
from dispatch.models import Agent, AgentRole, AuditEvent


def run_cli(monkeypatch, runtime, argv: list[str], stdin: str) -> int:
    monkeypatch.setenv("DATABASE_URL", runtime.settings.DATABASE_URL)
    monkeypatch.delenv("PASSWORD_HASH_METHOD", raising=False)  # production's default, scrypt
    monkeypatch.setattr("sys.stdin", io.StringIO(stdin))
    return cli.main(argv)


def test_create_agent_hashes_the_password_and_audits(session, seeded):
    agent = create_agent(session, "wang", "a-long-password", "supervisor", "LZ-TX")
    assert agent.role == AgentRole.SUPERVISOR and agent.site.code == "LZ-TX"
    assert agent.password_hash != "a-long-password" and check_password(agent.password_hash, "a-long-password")
    assert agent.password_hash.startswith("pbkdf2:sha256:1000$")  # the tests' PASSWORD_HASH_METHOD
    assert not check_password(agent.password_hash, "wrong-password")
    event = session.scalar(select(AuditEvent).where(AuditEvent.action == "agent.create"))
    assert event.target_id == agent.id and event.details["via"] == "cli"


def test_create_agent_refuses_bad_input(session, seeded):
    create_agent(session, "wang", "a-long-password", "agent", "LZ")
    with pytest.raises(AgentError, match="exists"):
        create_agent(session, "WANG", "a-long-password", "agent", "LZ")
    with pytest.raises(AgentError, match="no site"):
        create_agent(session, "li", "a-long-password", "agent", "NOPE")
    with pytest.raises(AgentError, match="username"):
        create_agent(session, "li si", "a-long-password", "agent", "LZ")
    with pytest.raises(PasswordTooShort):
        create_agent(session, "li", "short", "agent", "LZ")


@pytest.mark.committed
def test_the_command_creates_an_agent_who_can_sign_in(committed, monkeypatch):
    from tests.console.helpers import sign_in

    runtime, app = committed
    argv = ["agents", "create", "zhao", "--role", "admin", "--site", "LZ", "--password-stdin"]
    assert run_cli(monkeypatch, runtime, argv, "zhao-password-1\n") == 0
    assert run_cli(monkeypatch, runtime, argv, "zhao-password-1\n") == 2  # exists already
    with runtime.db.transaction() as db:
        assert db.scalar(select(Agent.role).where(Agent.username == "zhao")) == AgentRole.ADMIN
        # The command's own settings (the environment's: no PASSWORD_HASH_METHOD), production's scrypt.
        assert db.scalar(select(Agent.password_hash).where(Agent.username == "zhao")).startswith("scrypt:")
    sign_in(app.test_client(), "zhao", "zhao-password-1")
    assert (
        run_cli(monkeypatch, runtime, ["agents", "password", "zhao", "--password-stdin"], "new-password-2\n")
        == 0
    )
    with runtime.db.transaction() as db:
        assert db.scalar(select(Agent.password_hash).where(Agent.username == "zhao")).startswith("scrypt:")
    sign_in(app.test_client(), "zhao", "new-password-2")
