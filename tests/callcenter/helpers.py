"""Call-center test builders: agents at a site, callers (Call rows) and callers waiting in the queue."""

from __future__ import annotations

import itertools
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from dispatch.callcenter.presence import set_presence
from dispatch.callcenter.routing import queue_caller
from dispatch.models import Agent, AgentRole, Call, Presence, QueuedCall, Ticket
from tests.factories import Market, next_phone

_numbers = itertools.count(1)


def agent_at(
    session: Session,
    market: Market,
    site: str,
    *,
    available_at: datetime | None = None,
    role: AgentRole = AgentRole.AGENT,
) -> Agent:
    """An agent of `site` (a code of config/sites.toml); available from `available_at` when given."""
    number = next(_numbers)
    agent = Agent(username=f"cc-agent-{number}", password_hash="-", role=role, site_id=market.site(site).id)
    session.add(agent)
    session.flush()
    if available_at is not None:
        set_presence(session, agent, Presence.AVAILABLE, available_at)
    return agent


def a_call(session: Session, *, phone: str | None = None, site: int | None = None, **values: Any) -> Call:
    """A call to the voice menu; `site` is the site id the caller keyed."""
    answers = {"site": str(site)} if site is not None else {}
    call = Call(
        call_sid=f"CA{next(_numbers):032x}",
        phone=phone if phone is not None else next_phone(),
        answers=answers,
        **values,
    )
    session.add(call)
    session.flush()
    return call


def waiting_at(
    session: Session, market: Market, site: str, queued_at: datetime, ticket: Ticket | None = None
) -> QueuedCall:
    """A caller of `site` (chosen in the menu) who started waiting for a person at `queued_at`."""
    call = a_call(session, site=market.site(site).id)
    return queue_caller(session, call, ticket, queued_at)
