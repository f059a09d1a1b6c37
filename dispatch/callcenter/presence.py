"""Agents' presence: available, busy (on a call), wrapping up, or away.

An agent chooses available or away; calls set busy and wrap-up (dispatch/callcenter/calls.py). The
console's heartbeat keeps `seen_at` fresh, so an agent whose console was closed or left idle is set
away by a periodic task and is never offered a caller nobody will answer.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from sqlalchemy import update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from dispatch.models import Agent, AgentPresence, Presence
from dispatch.settings import Settings

log = logging.getLogger(__name__)

# What an agent may choose; busy and wrap-up follow the calls.
CHOSEN = frozenset({Presence.AVAILABLE, Presence.AWAY})


class PresenceError(ValueError):
    """A presence the agent may not choose now (available while on a call, or busy/wrap-up by hand)."""

    def __init__(self, current: Presence, wanted: Presence) -> None:
        super().__init__(f"presence {wanted} cannot be chosen while {current}")
        self.current = current
        self.wanted = wanted


def presence_of(session: Session, agent: Agent) -> AgentPresence:
    """The agent's presence row, locked for this transaction; created (away, at the agent's site) the
    first time. INSERT ... ON CONFLICT, so two first requests at once (two tabs) make one row."""
    dialect = session.get_bind().dialect.name
    module = postgresql if dialect == "postgresql" else sqlite
    table = AgentPresence.__table__
    session.execute(
        module.insert(table)
        .values(agent_id=agent.id, site_id=agent.site_id, status=Presence.AWAY)
        .on_conflict_do_nothing(index_elements=["agent_id"])
    )
    presence = session.get(AgentPresence, agent.id, with_for_update=True, populate_existing=True)
    assert presence is not None
    return presence


def set_presence(session: Session, agent: Agent, status: Presence, now: datetime) -> AgentPresence:
    """The agent's own choice: available or away. Available is refused while on a call (the call's end
    sets wrap-up, and the wrap-up's end available); away is always allowed, the way out of a call
    whose end Twilio never reported."""
    presence = presence_of(session, agent)
    if status not in CHOSEN:
        raise PresenceError(presence.status, status)
    if status == Presence.AVAILABLE and presence.status == Presence.BUSY:
        raise PresenceError(presence.status, status)
    # An agent moved to another site works for that one from now on.
    presence.site_id = agent.site_id
    presence.seen_at = now
    _move(presence, status, now)
    session.flush()
    return presence


def heartbeat(session: Session, agent: Agent, now: datetime) -> AgentPresence:
    """The console is open: the agent is not idle."""
    presence = presence_of(session, agent)
    presence.seen_at = now
    session.flush()
    return presence


def sign_out(session: Session, agent: Agent, now: datetime) -> None:
    """Signed out: away, offered no caller. An agent who never opened the phone gets no row."""
    if session.get(AgentPresence, agent.id) is None:
        return
    presence = presence_of(session, agent)
    _move(presence, Presence.AWAY, now)
    session.flush()


def set_idle_agents_away(session: Session, settings: Settings, now: datetime) -> int:
    """Agents whose console has not been heard from for CONSOLE_IDLE_SECONDS are set away, unless on a
    call (the call's end says when it is over; a busy agent whose console is silent too is the sweep's
    of dispatch/callcenter/stuck.py, which ends their call first); returns how many."""
    cutoff = now - timedelta(seconds=settings.CONSOLE_IDLE_SECONDS)
    result = session.execute(
        update(AgentPresence)
        .where(
            AgentPresence.seen_at < cutoff,
            AgentPresence.status.in_([Presence.AVAILABLE, Presence.WRAP_UP]),
        )
        .values(status=Presence.AWAY, changed_at=now, agent_call_id=None)
        .execution_options(synchronize_session="fetch")
    )
    count = int(getattr(result, "rowcount", 0) or 0)
    if count:
        log.info("%s idle agents set away", count)
    return count


def _move(presence: AgentPresence, status: Presence, now: datetime) -> None:
    if presence.status != status:
        presence.status = status
        presence.changed_at = now
    if status in (Presence.AVAILABLE, Presence.AWAY):
        presence.agent_call_id = None


def set_away(presence: AgentPresence, now: datetime) -> None:
    """Away, whatever the presence was (the sweep of busy agents whose console went silent)."""
    _move(presence, Presence.AWAY, now)


def mark_busy(presence: AgentPresence, agent_call_id: int, now: datetime) -> None:
    """On a call (calls.py): offered no caller until it ends and is wrapped up."""
    _move(presence, Presence.BUSY, now)
    presence.agent_call_id = agent_call_id
    presence.seen_at = now
