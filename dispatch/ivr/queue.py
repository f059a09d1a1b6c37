"""The agents' queue's hold: what a waiting caller hears, and the keys they may press while waiting.

The waitUrl's TwiML says the caller's place in the queue inside a <Gather>: pressing 1 asks for a
call-back that keeps their place (the call-back ticket is dated from when they started waiting, so
the call-back list runs in queue order). When no agent is left anywhere in the caller's chain, it says
so and offers 1 for a call-back or 2 for a voicemail; silence keeps them waiting.

Twilio allows <Gather> in a waitUrl document (with Say, Play, Pause, Redirect, Leave, Hangup); its
action is this same waitUrl, with the keys. Having recorded the choice, that answer is <Leave/>: the
caller leaves the queue and the <Enqueue> action (agent.py, step queue_result) says goodbye or takes
the voicemail. When the TwiML ends without a key, Twilio requests the waitUrl again.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from dispatch.callcenter import routing
from dispatch.clock import utcnow
from dispatch.ivr.turn import Turn
from dispatch.models import Call, CallOutcome, QueuedCall, Ticket, TicketKind, WaitStatus
from dispatch.tickets.kinds import priority
from dispatch.tickets.services import open_ticket
from dispatch.tickets.summaries import Summary

log = logging.getLogger(__name__)
HOLD_PAUSE_SECONDS = 20  # the hold prompt, then this long for a key (or a pause), over and over
CONNECTING_PAUSE_SECONDS = 5  # an agent is connecting: a short wait before the waitUrl is asked again
CALL_BACK_KEY, VOICEMAIL_KEY = "1", "2"
HOLD_PATH = "/ivr/step/hold"


def hold(turn: Turn) -> None:
    """The waitUrl: the caller's place (or that nobody is left) and the keys; after HOLD_LIMIT_SECONDS
    (a setting) still waiting, the caller leaves the queue and the <Enqueue> action takes a voicemail.
    A caller an agent has taken is not pulled out while the agent connects, however long they waited."""
    call, session = turn.call, turn.session
    digits = (turn.form.get("Digits") or "").strip()[:8]
    queued = waiting_row(session, call.call_sid) if call.call_sid else None
    if digits:
        _key(turn, queued, digits)
        return
    waited = queue_time(turn.form)
    if queued is not None:  # a <Redirect>ed request may not say QueueTime: our own clock says it too
        waited = max(waited, int((utcnow() - queued.queued_at).total_seconds()))
    taken = queued is not None and queued.status != WaitStatus.WAITING
    if waited >= turn.settings.HOLD_LIMIT_SECONDS and not taken:
        log.info("call %s waited %ss for an agent: leaving the queue", call.call_sid, waited)
        turn.response.leave()
        return
    if queued is None:  # not a caller this service queued: the plain hold
        turn.say("hold")
        turn.response.pause(length=HOLD_PAUSE_SECONDS)
        return
    if queued.status != WaitStatus.WAITING:  # an agent has taken this caller and is connecting
        turn.say("hold_connecting")
        turn.response.pause(length=CONNECTING_PAUSE_SECONDS)
        return
    gather = turn.response.gather(
        action=turn.url(HOLD_PATH), method="POST", input="dtmf", num_digits=1, timeout=HOLD_PAUSE_SECONDS
    )
    if nobody_left(turn, queued):
        turn.say("hold_no_agent", gather)
        return
    place = routing.place_in_queue(session, queued, turn.settings, utcnow())
    turn.say("hold_place", gather, place=place)


def nobody_left(turn: Turn, queued: QueuedCall) -> bool:
    """No agent on duty anywhere in the caller's chain (all went away or signed out while they waited)."""
    return routing.agents_reachable(turn.session, queued.site_id, turn.settings, waited_seconds=None) == 0


def _key(turn: Turn, queued: QueuedCall | None, digits: str) -> None:
    """A key pressed while waiting. A repeated delivery of a key already taken leaves again, once."""
    call, session, now = turn.call, turn.session, utcnow()
    if call.outcome in {CallOutcome.CALL_BACK, CallOutcome.VOICEMAIL}:
        turn.response.leave()
        return
    if queued is None or queued.status != WaitStatus.WAITING:
        # Not waiting any more as far as we know (an agent is connecting): the key changes nothing.
        turn.say("hold_connecting" if queued is not None else "hold")
        turn.response.redirect(turn.url(HOLD_PATH), method="POST")
        return
    if digits == CALL_BACK_KEY:
        waited = int(max(0.0, (now - queued.queued_at).total_seconds()))
        routing.caller_left(session, call.call_sid, WaitStatus.CALL_BACK, now)
        ticket = session.get(Ticket, queued.ticket_id) if queued.ticket_id else None
        if ticket is None:
            text = "asked for a call-back in the queue"
            ticket = open_ticket(
                session, TicketKind.CALL_BACK, call=call, summary=Summary.of("agent_asked"), text=text
            )
        retype(session, ticket, TicketKind.CALL_BACK, {"chose": "call_back", "waited_seconds": waited})
        ticket.created_at = queued.queued_at  # the call-back list keeps the caller's place
        call.outcome = CallOutcome.CALL_BACK
        log.info("call %s asked for a call-back after %ss in %s", call.call_sid, waited, queued.queue_name)
        turn.response.leave()
        return
    if digits == VOICEMAIL_KEY and nobody_left(turn, queued):
        routing.caller_left(session, call.call_sid, WaitStatus.VOICEMAIL, now)
        call.outcome = CallOutcome.VOICEMAIL
        log.info("call %s: nobody left; the caller chose a voicemail", call.call_sid)
        turn.response.leave()
        return
    turn.say("invalid_input")
    turn.response.redirect(turn.url(HOLD_PATH), method="POST")


def queue_time(form: Mapping[str, str]) -> int:
    """Seconds the caller has waited in the queue, as Twilio's waitUrl request says (0 if unreadable)."""
    raw = (form.get("QueueTime") or "").strip()
    return int(raw) if raw.isascii() and raw.isdigit() and len(raw) < 9 else 0


def waiting_row(session: Session, call_sid: str) -> QueuedCall | None:
    """The caller's current time in the queue (not left yet), if any."""
    query = (
        select(QueuedCall)
        .where(QueuedCall.call_sid == call_sid, QueuedCall.left_at.is_(None))
        .order_by(QueuedCall.queued_at.desc(), QueuedCall.id.desc())
        .limit(1)
    )
    return session.scalars(query).first()


def call_ticket(session: Session, call: Call, kind: TicketKind) -> Ticket | None:
    """The call's ticket of this kind (a call has at most one of a kind)."""
    query = select(Ticket).where(Ticket.call_sid == call.call_sid, Ticket.kind == kind)
    return session.scalars(query.order_by(Ticket.id.desc()).limit(1)).first()


def retype(session: Session, ticket: Ticket, kind: TicketKind, details: Mapping[str, Any]) -> None:
    """The caller's one ticket becomes what they chose (the queue's ticket a call-back or a voicemail),
    rather than a second ticket about the same caller; its summary (why they wanted a person) stays."""
    ticket.kind = kind
    ticket.priority = priority(kind, ticket.summary_key)
    ticket.details = {**ticket.details, **details}
    session.flush()
