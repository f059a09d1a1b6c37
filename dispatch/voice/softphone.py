"""The TwiML of an agent's softphone calls (the TwiML App's Voice URL) and of Twilio's callbacks on them.

The console's softphone calls `device.connect({answer: <agent call id>})` to take the caller the
console reserved for it (dispatch/callcenter/calls.answer_next), or `{dial: <agent call id>}` to call
someone out (calls.start_outbound). Twilio then asks POST /voice/agent what to do with that call:

  answer -> <Dial action=dial-status><Queue url=bind>agents-<site></Queue></Dial>: Twilio bridges the
            front of the reserved caller's site's queue, and asks `bind` (on the caller's leg) first,
            naming the caller it took (CallSid), which becomes the agent call's caller.
  dial   -> <Dial callerId=<market's number> action=dial-status><Number>..</Number></Dial>: the
            person sees the market's number, never the agent's.

The Dial action (`dial-status`) reports how the call ended (DialCallStatus, DialCallDuration): the
agent goes to wrap-up. Each callback may come twice; each has one effect.

Plain functions that take a session; they flush, never commit.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy.orm import Session
from twilio.twiml.voice_response import VoiceResponse

from dispatch.callcenter import calls
from dispatch.clock import utcnow
from dispatch.console.phone.tokens import agent_id_of
from dispatch.ivr import prompts
from dispatch.ivr.services import find_call
from dispatch.models import Agent, AgentCall, CallDirection, QueuedCall
from dispatch.settings import Settings
from dispatch.spool.store import SpooledRequest

if TYPE_CHECKING:
    from dispatch.runtime import Runtime

log = logging.getLogger(__name__)
CLIENT_PREFIX = "client:"  # a Voice SDK caller's From: client:<identity>, the identity agent_<id>
AGENT_PATH = "/voice/agent"
DIAL_TIMEOUT_SECONDS = 30  # ringing a person (or waiting on an empty queue) this long, then no-answer
MAX_DURATION = 24 * 3600


@dataclass(frozen=True)
class Links:
    """Where Twilio reaches us (PUBLIC_BASE_URL, else the request's root) and the recorded prompts."""

    base_url: str
    prompts_dir: str

    def url(self, path: str, agent_call: int) -> str:
        return f"{self.base_url}{AGENT_PATH}{path}?agent_call={agent_call}"

    @property
    def prompts_url(self) -> str:
        return f"{self.base_url}/ivr/prompts"


class Refused(ValueError):
    """The softphone's request names no call of this agent that may be connected now."""


def connect(session: Session, settings: Settings, form: Mapping[str, str], links: Links) -> str:
    """The softphone's outgoing call: the caller reserved for it, or the person it dials; else a spoken
    apology and a hang-up (never an error: Twilio would play its own)."""
    agent = _agent(session, form.get("From") or "")
    language = agent.language if agent is not None else "zh"
    try:
        if agent is None:
            raise Refused("not an agent's softphone")
        if "answer" in form:
            return _answer(session, agent, form, links)
        if "dial" in form:
            return _dial(session, settings, agent, form, links)
        raise Refused("neither answer nor dial")
    except Refused as exc:
        log.warning("softphone call %s refused: %s", form.get("CallSid"), exc)
        return refusal(language, links)


def refusal(language: str, links: Links) -> str:
    response = VoiceResponse()
    prompts.add(response, "agent_call_refused", language, links.prompts_url, links.prompts_dir)
    response.hangup()
    return str(response)


def _agent(session: Session, raw_from: str) -> Agent | None:
    raw_from = raw_from.strip()
    if not raw_from.startswith(CLIENT_PREFIX):
        return None
    agent_id = agent_id_of(raw_from[len(CLIENT_PREFIX) :][:64])
    agent = session.get(Agent, agent_id) if agent_id is not None else None
    return agent if agent is not None and agent.active else None


def _agent_call(session: Session, agent: Agent, raw_id: str | None, direction: CallDirection) -> AgentCall:
    """The agent's own call of this direction, not ended."""
    raw_id = (raw_id or "").strip()
    if not (raw_id.isascii() and raw_id.isdigit() and len(raw_id) < 10):
        raise Refused(f"no agent call id in {raw_id[:12]!r}")
    agent_call = session.get(AgentCall, int(raw_id))
    if agent_call is None or agent_call.agent_id != agent.id:
        raise Refused(f"agent call {raw_id} is not agent {agent.id}'s")
    if agent_call.direction != direction or agent_call.ended_at is not None:
        raise Refused(f"agent call {raw_id} is {agent_call.direction}, ended {agent_call.ended_at}")
    return agent_call


def _own_leg(agent_call: AgentCall, form: Mapping[str, str]) -> None:
    """The softphone's call (CallSid) is this agent call's leg; a second leg for one call is refused."""
    sid = (form.get("CallSid") or "").strip()[:64]
    if not sid:
        raise Refused("no CallSid")
    if agent_call.call_sid not in (None, "", sid):
        raise Refused(f"agent call {agent_call.id} is already on another leg")
    agent_call.call_sid = sid


def _answer(session: Session, agent: Agent, form: Mapping[str, str], links: Links) -> str:
    agent_call = _agent_call(session, agent, form.get("answer"), CallDirection.INBOUND)
    queued = session.get(QueuedCall, agent_call.queued_call_id) if agent_call.queued_call_id else None
    if queued is None:
        raise Refused(f"agent call {agent_call.id} has no caller reserved")
    _own_leg(agent_call, form)
    session.flush()
    response = VoiceResponse()
    dial = response.dial(
        action=links.url("/dial-status", agent_call.id), method="POST", timeout=DIAL_TIMEOUT_SECONDS
    )
    dial.queue(queued.queue_name, url=links.url("/bind", agent_call.id), method="POST")
    log.info("agent %s takes a caller from %s (agent call %s)", agent.id, queued.queue_name, agent_call.id)
    return str(response)


def _dial(session: Session, settings: Settings, agent: Agent, form: Mapping[str, str], links: Links) -> str:
    agent_call = _agent_call(session, agent, form.get("dial"), CallDirection.OUTBOUND)
    if not settings.TWILIO_FROM_NUMBER:
        raise Refused("no TWILIO_FROM_NUMBER to show as the caller ID")
    if not agent_call.phone:
        raise Refused(f"agent call {agent_call.id} has no number")
    _own_leg(agent_call, form)
    session.flush()
    response = VoiceResponse()
    dial = response.dial(
        caller_id=settings.TWILIO_FROM_NUMBER,
        action=links.url("/dial-status", agent_call.id),
        method="POST",
        timeout=DIAL_TIMEOUT_SECONDS,
    )
    dial.number(agent_call.phone)
    log.info("agent %s dials out (agent call %s)", agent.id, agent_call.id)
    return str(response)


def agent_call_of(session: Session, raw_id: str) -> AgentCall | None:
    """The agent call a callback's URL names (`?agent_call=`; signed with the URL, so it is ours)."""
    raw_id = (raw_id or "").strip()
    if not (raw_id.isascii() and raw_id.isdigit() and len(raw_id) < 10):
        return None
    return session.get(AgentCall, int(raw_id))


def bind(session: Session, agent_call_id: str, form: Mapping[str, str], links: Links) -> str:
    """The <Queue url> request, on the dequeued caller's leg just before the bridge: that caller
    (CallSid) is the agent call's caller. A few words to the caller in their language."""
    caller_sid = (form.get("CallSid") or "").strip()[:64]
    call = find_call(session, caller_sid) if caller_sid else None
    response = VoiceResponse()
    prompts.add(
        response, "agent_connecting", call.language if call else "zh", links.prompts_url, links.prompts_dir
    )
    agent_call = agent_call_of(session, agent_call_id)
    if agent_call is None or not caller_sid:
        log.warning("queue bind for unknown agent call %s", agent_call_id[:12])
        return str(response)
    dequeuing = (form.get("DequeingCallSid") or "").strip()
    if agent_call.call_sid and dequeuing and dequeuing != agent_call.call_sid:
        log.warning("queue bind for agent call %s from another leg: ignored", agent_call.id)
        return str(response)
    calls.bind_answered(session, agent_call, caller_sid, utcnow())  # the same caller twice: once
    return str(response)


def dial_status(
    session: Session, agent_call_id: str, form: Mapping[str, str], now: datetime | None = None
) -> str:
    """The Dial action: the agent's call is over (completed, busy, no-answer, failed, canceled); the
    agent wraps up. A repeated delivery changes nothing (call_ended keeps the first end). `now` is when
    Twilio said so (a spooled request replayed later says when it came)."""
    agent_call = agent_call_of(session, agent_call_id)
    if agent_call is None:
        log.warning("dial status for unknown agent call %s", agent_call_id[:12])
    else:
        status = (form.get("DialCallStatus") or "").strip()[:16] or "failed"
        calls.call_ended(
            session, agent_call, dial_status=status, duration_seconds=_duration(form), now=now or utcnow()
        )
    response = VoiceResponse()
    response.hangup()
    return str(response)


def replay_dial_status(runtime: Runtime, request: SpooledRequest) -> None:
    """A dial status kept in the spool (the database was down, or the work failed), done now."""
    with runtime.db.transaction() as session:
        dial_status(session, request.args.get("agent_call", ""), request.form, request.received_at)


# Twilio does not retry a Dial action: one that cannot be done now waits in the spool (dispatch/spool/).
DIAL_STATUS_KIND = "voice.agent_dial_status"
REPLAYERS = {DIAL_STATUS_KIND: replay_dial_status}


def _duration(form: Mapping[str, str]) -> int | None:
    raw = (form.get("DialCallDuration") or "").strip()
    return min(int(raw), MAX_DURATION) if raw.isascii() and raw.isdigit() and len(raw) < 9 else None
