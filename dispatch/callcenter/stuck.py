"""Agents' calls that never connected, and busy agents whose console went silent.

"Answer next" reserves a caller and makes the agent busy before the browser's softphone connects; if
it never does (the SDK missing, the microphone refused, a token failure, the tab closed), no
/voice/agent request and no dial status ever come. The softphone says so when it can (`abandon`), and a
periodic sweep (`release_stuck`) catches the rest: the caller goes back to waiting with their place,
and an agent whose console is gone is set away, so nobody is held for an agent who cannot answer.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from dispatch.callcenter import calls  # a module: calls -> console audit -> phone views -> here
from dispatch.callcenter import presence as presences
from dispatch.models import AgentCall, AgentPresence, CallDirection, Presence
from dispatch.settings import Settings

log = logging.getLogger(__name__)

# A reserved caller not bridged after this long is given back: Twilio's <Dial> gives up on an empty
# queue after 30 s (softphone.DIAL_TIMEOUT_SECONDS), so by then a connecting softphone would have
# been bridged or have had its dial status.
UNCONNECTED_SECONDS = 60


def abandon(session: Session, agent_call: AgentCall, now: datetime) -> bool:
    """The softphone could not place the call: ended as failed (the reserved caller waits again, the
    agent wraps up). Only a call Twilio never heard of (no call leg yet): once it has one, Twilio's dial
    status says how it ended (and a call already bridged, offline, ends by the simulator's word or the
    sweep of silent consoles). Returns whether the call was ended here."""
    if agent_call.ended_at is not None or agent_call.call_sid or agent_call.answered_at is not None:
        return False
    calls.call_ended(session, agent_call, dial_status=calls.ABANDONED_STATUS, duration_seconds=0, now=now)
    log.info("agent call %s never connected: abandoned", agent_call.id)
    return True


def release_stuck(session: Session, settings: Settings, now: datetime) -> dict[str, int]:
    """Busy agents whose console has been silent for CONSOLE_IDLE_SECONDS have their call ended and
    are set away; then inbound calls reserved but not bridged for UNCONNECTED_SECONDS are ended the
    same way (the caller waits again, at their place). Rows another transaction holds wait for the next
    run."""
    silent = session.scalars(
        select(AgentPresence)
        .where(
            AgentPresence.status == Presence.BUSY,
            AgentPresence.seen_at < now - timedelta(seconds=settings.CONSOLE_IDLE_SECONDS),
        )
        .order_by(AgentPresence.agent_id)
        .with_for_update(skip_locked=True)
    ).all()
    for presence in silent:
        busy_call = session.get(AgentCall, presence.agent_call_id) if presence.agent_call_id else None
        if busy_call is not None and busy_call.ended_at is None:
            talked = int((now - busy_call.answered_at).total_seconds()) if busy_call.answered_at else 0
            calls.call_ended(
                session, busy_call, dial_status=_our_end(busy_call), duration_seconds=talked, now=now
            )
        presences.set_away(presence, now)
        log.info("agent %s was busy with a silent console: set away", presence.agent_id)
    unconnected = session.scalars(
        select(AgentCall)
        .where(
            AgentCall.direction == CallDirection.INBOUND,
            AgentCall.ended_at.is_(None),
            AgentCall.answered_at.is_(None),
            AgentCall.started_at < now - timedelta(seconds=UNCONNECTED_SECONDS),
        )
        .order_by(AgentCall.id)
        .with_for_update(skip_locked=True)
    ).all()
    for agent_call in unconnected:
        calls.call_ended(session, agent_call, dial_status=_our_end(agent_call), duration_seconds=0, now=now)
        log.info("agent call %s reserved a caller but was never bridged: released", agent_call.id)
    session.flush()
    return {"released": len(unconnected), "away": len(silent)}


def _our_end(agent_call: AgentCall) -> str:
    """How the service records a call it ends on its own: failed when Twilio never had a leg of it;
    else left blank, for Twilio's dial status to fill in should it still come (calls.call_ended)."""
    return "" if agent_call.call_sid else calls.ABANDONED_STATUS
