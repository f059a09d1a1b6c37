"""Creating and changing agents (the `dispatch agents` command); plain functions on a session."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from dispatch.console.audit import record
from dispatch.console.passwords import hash_password
from dispatch.models import Agent, AgentRole, Site


class AgentError(ValueError):
    pass


def create_agent(
    db: Session,
    username: str,
    password: str,
    role: AgentRole | str,
    site_code: str,
    display_name: str = "",
    language: str = "zh",
) -> Agent:
    username = username.strip()
    if not username or len(username) > 64 or any(ch.isspace() for ch in username):
        raise AgentError("a username is 1-64 characters without spaces")
    if db.scalar(select(Agent.id).where(func.lower(Agent.username) == username.lower())) is not None:
        raise AgentError(f"agent {username!r} exists already")
    site = db.scalar(select(Site).where(Site.code == site_code))
    if site is None:
        raise AgentError(
            f"no site with code {site_code!r} (see config/sites.toml; run `dispatch seed` first)"
        )
    agent = Agent(
        username=username,
        display_name=display_name or username,
        password_hash=hash_password(password),
        role=AgentRole(role),
        site_id=site.id,
        language=language if language in {"zh", "en"} else "zh",
    )
    db.add(agent)
    db.flush()
    record(db, None, "agent.create", agent, role=agent.role, site=site.code, via="cli")
    return agent


def set_password(db: Session, username: str, password: str) -> Agent:
    agent = db.scalar(select(Agent).where(func.lower(Agent.username) == username.strip().lower()))
    if agent is None:
        raise AgentError(f"no agent {username!r}")
    agent.password_hash = hash_password(password)  # also ends the agent's other sessions
    record(db, None, "agent.password", agent, via="cli")
    return agent
