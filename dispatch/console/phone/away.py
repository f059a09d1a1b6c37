"""Away when the console is closed, not when the agent only moves to another console page.

A closing page sends a beacon (phone.js, on pagehide), and so does every page the agent leaves for
another: the browser cannot tell the two apart. So the beacon sets an available agent away and notes
it in Redis for a short while; any console page that is (still, or newly) open says so with its next
heartbeat within that while, and the agent is available again. Only a console that stays closed
leaves them away. An agent on a call or wrapping up is left as they are (the call's end, or the idle
rule, decides).
"""

from __future__ import annotations

import logging
from datetime import datetime

from redis import Redis
from redis.exceptions import RedisError
from sqlalchemy.orm import Session

from dispatch.callcenter.presence import heartbeat, presence_of, set_presence
from dispatch.models import Agent, AgentPresence, Presence

log = logging.getLogger(__name__)

# Longer than phone.js's heartbeat (30 s), so another open tab's next beat still finds the note.
RETURN_WINDOW_SECONDS = 45


def _key(agent: Agent) -> str:
    return f"console:phone:left:{agent.id}"


def page_left(db: Session, redis: Redis, agent: Agent, now: datetime) -> AgentPresence:
    """A console page was closed or left: away, unless a page of the agent's says otherwise soon."""
    presence = presence_of(db, agent)
    if presence.status != Presence.AVAILABLE:
        return presence
    try:
        redis.set(_key(agent), "1", ex=RETURN_WINDOW_SECONDS)
    except RedisError as exc:
        # Without the note a page change could not undo the beacon: leave it to the idle rule.
        log.warning("console beacon ignored, Redis unavailable: %s", type(exc).__name__)
        return presence
    return set_presence(db, agent, Presence.AWAY, now)


def page_open(db: Session, redis: Redis, agent: Agent, now: datetime) -> AgentPresence:
    """A heartbeat: the console is open; an agent set away by a page change only is available again."""
    presence = heartbeat(db, agent, now)
    try:
        returned = redis.delete(_key(agent))
    except RedisError as exc:
        log.warning("console beacon note unreadable, Redis unavailable: %s", type(exc).__name__)
        return presence
    if returned and presence.status == Presence.AWAY:
        return set_presence(db, agent, Presence.AVAILABLE, now)
    return presence


def forget(redis: Redis, agent: Agent) -> None:
    """The agent chose their presence (or signed out): a pending beacon note must not undo it."""
    try:
        redis.delete(_key(agent))
    except RedisError as exc:
        log.warning("console beacon note not cleared, Redis unavailable: %s", type(exc).__name__)
