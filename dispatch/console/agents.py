"""Creating, listing and changing agents (the `dispatch agents` command); plain functions on a session."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import Session, joinedload

from dispatch.console.audit import record
from dispatch.console.auth import end_agent_sessions
from dispatch.console.passwords import hash_password
from dispatch.i18n import pick_language, zone
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
    hash_method: str | None = None,
) -> Agent:
    """`hash_method`: PASSWORD_HASH_METHOD, where no runtime gives it (the `dispatch agents` command)."""
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
        password_hash=hash_password(password, hash_method),
        role=AgentRole(role),
        site_id=site.id,
        language=pick_language(language),
    )
    db.add(agent)
    db.flush()
    record(db, None, "agent.create", agent, role=agent.role, site=site.code, via="cli")
    return agent


def find_agent(db: Session, username: str) -> Agent:
    agent = db.scalar(select(Agent).where(func.lower(Agent.username) == username.strip().lower()))
    if agent is None:
        raise AgentError(f"no agent {username!r} (`dispatch agents list` shows them)")
    return agent


def set_password(db: Session, username: str, password: str, hash_method: str | None = None) -> Agent:
    agent = find_agent(db, username)
    agent.password_hash = hash_password(password, hash_method)
    end_agent_sessions(db, agent)  # whoever knew the old password is signed out everywhere
    record(db, None, "agent.password", agent, via="cli")
    return agent


def list_agents(db: Session) -> list[Agent]:
    """Every agent, active or disabled, by username (with their site loaded)."""
    query = select(Agent).options(joinedload(Agent.site)).order_by(func.lower(Agent.username), Agent.id)
    return list(db.scalars(query))


def set_active(db: Session, username: str, active: bool) -> Agent:
    """Enable or disable an agent. A disabled agent cannot sign in, and their open sessions end at once
    (the next page they open sends them to the sign-in page)."""
    agent = find_agent(db, username)
    agent.active = active
    ended = 0 if active else end_agent_sessions(db, agent)
    db.flush()
    record(db, None, "agent.enable" if active else "agent.disable", agent, sessions_ended=ended, via="cli")
    return agent


def describe_agent(agent: Agent, timezone: str = "Asia/Shanghai") -> str:
    """One row of `dispatch agents list`: username, role, site, active or disabled, last sign-in (market
    time, MARKET_TIMEZONE)."""
    last = agent.last_sign_in_at
    seen = last.astimezone(zone(timezone)).strftime("%Y-%m-%d %H:%M") if last else "never signed in"
    state = "active" if agent.active else "disabled"
    return f"{agent.username:<20} {agent.role.value:<10} {agent.site.code:<8} {state:<8} {seen}"
