"""The offline softphone's calls: what Twilio and the /voice/agent TwiML would do for the console's
softphone on a first run, with the simulator's phones on the other end.

`answer`: <Dial><Queue> takes the longest waiter of the queue of the caller the agent reserved, and
calls.bind_answered makes that caller the agent's (as the <Queue url> callback does). `dial`:
<Dial><Number> rings the simulated phone of that number. Either side hanging up ends the line for
both, and the agent's call ends (as the <Dial> action would say). Plain functions on a session: the
view commits, then posts the caller's <Enqueue> action (outside the transaction: that webhook writes
rows of its own in its own transaction).
"""

from __future__ import annotations

import logging
import secrets
from collections.abc import Mapping
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from dispatch.callcenter import calls
from dispatch.models import Agent, AgentCall, Call, CallDirection, Contact, QueuedCall
from dispatch.sim.switchboard import Line, Switchboard
from dispatch.sms.gateway import mask_phone

log = logging.getLogger(__name__)
MAX_SAID_CHARS = 1000


class LineError(ValueError):
    """The softphone asked for a call that cannot be made (not this agent's, nobody waiting, ended);
    its argument is the key of the text shown (`line_error.<key>` in the simulator's texts)."""

    @property
    def key(self) -> str:
        return str(self.args[0])


def connect(
    session: Session, switch: Switchboard, agent: Agent, params: Mapping[str, str], now: datetime
) -> Line:
    """device.connect({params}): `answer=<agent call id>` or `dial=<agent call id>`."""
    if params.get("answer"):
        return answer(session, switch, agent, _id(params["answer"]), now)
    if params.get("dial"):
        return dial(session, switch, agent, _id(params["dial"]), now, new_sid=params.get("call_sid", ""))
    raise LineError("bad_request")


def language_of(session: Session, line: Line) -> str:
    """The language of the person on the line, where known (the caller's call, else the number's
    contact), so the softphone reads their words aloud in it; "" when not known."""
    if line.direction == "inbound":
        call = session.scalar(
            select(Call).where(Call.call_sid == line.call_sid).order_by(Call.id.desc()).limit(1)
        )
        if call is not None:
            return call.language
    return session.scalar(select(Contact.language).where(Contact.phone == line.phone)) or ""


def answer(session: Session, switch: Switchboard, agent: Agent, agent_call_id: int, now: datetime) -> Line:
    agent_call = _own_call(session, agent, agent_call_id, CallDirection.INBOUND)
    queued = session.get(QueuedCall, agent_call.queued_call_id) if agent_call.queued_call_id else None
    if queued is None:
        raise LineError("no_caller_reserved")
    # <Dial><Queue> bridges the queue's longest waiter, who may not be the caller reserved (another
    # agent's answer may have come between): bind_answered swaps the reservations then.
    waiters = switch.waiting(queued.queue_name)
    if not waiters:
        raise LineError("nobody_waiting")
    _own_leg(agent_call)
    calls.bind_answered(session, agent_call, waiters[0].call_sid, now)
    line = switch.bridge(agent_call.id, agent.id, queued.queue_name, now, call_sid=waiters[0].call_sid)
    if line is None:  # the caller hung up meanwhile; the transaction is rolled back
        raise LineError("caller_left")
    log.info("offline: agent %s answered %s (agent call %s)", agent.id, mask_phone(line.phone), agent_call.id)
    return line


def dial(
    session: Session, switch: Switchboard, agent: Agent, agent_call_id: int, now: datetime, new_sid: str = ""
) -> Line:
    agent_call = _own_call(session, agent, agent_call_id, CallDirection.OUTBOUND)
    _own_leg(agent_call)
    session.flush()
    line = switch.ring(agent_call.id, agent.id, agent_call.phone, new_sid or _new_sid())
    log.info("offline: agent %s rings %s (agent call %s)", agent.id, mask_phone(line.phone), agent_call.id)
    return line


def pick_up(session: Session, switch: Switchboard, phone: str, line_id: int, now: datetime) -> Line:
    """The called phone answers the agent's call."""
    line = switch.line(line_id)
    if line is None or line.phone != phone:
        raise LineError("no_such_call")
    if switch.answer(line_id, now) is None:
        raise LineError("not_ringing")
    agent_call = session.get(AgentCall, line_id)
    if agent_call is not None and agent_call.answered_at is None:
        agent_call.answered_at = now  # as the <Dial><Number> answer would show it (DialCallStatus)
        session.flush()
    return line


def hang_up(session: Session, switch: Switchboard, line_id: int, by: str, now: datetime) -> Line | None:
    """`by` ("caller", "agent", "declined") ends the line for both sides; the agent's call ends with
    the <Dial> status Twilio would give. None when the line had ended already."""
    line = switch.end(line_id, by, now)
    if line is None:
        return None
    agent_call = session.get(AgentCall, line_id)
    if agent_call is not None and agent_call.ended_at is None:
        if line.connected_at is not None:
            status, seconds = "completed", round((now - line.connected_at).total_seconds())
        else:
            status, seconds = ("no-answer" if by in {"declined", "caller"} else "canceled"), 0
        calls.call_ended(session, agent_call, dial_status=status, duration_seconds=max(0, seconds), now=now)
    log.info("offline: line %s ended by %s", line_id, by)
    return line


def say(switch: Switchboard, line_id: int, who: str, text: str) -> None:
    text = " ".join(text.split())[:MAX_SAID_CHARS]
    if not text:
        raise LineError("nothing_said")
    if switch.say(line_id, who, text) is None:
        raise LineError("not_connected")


def queue_seconds(line: Line) -> int:
    """How long the caller waited in the queue before the agent took the call."""
    if line.waiter is None or line.connected_at is None:
        return 0
    return max(0, round((line.connected_at - line.waiter.enqueued_at).total_seconds()))


def talk_seconds(line: Line) -> int:
    if line.connected_at is None or line.ended_at is None:
        return 0
    return max(0, round((line.ended_at - line.connected_at).total_seconds()))


def _own_call(session: Session, agent: Agent, agent_call_id: int, direction: CallDirection) -> AgentCall:
    agent_call = session.get(AgentCall, agent_call_id)
    if agent_call is None or agent_call.agent_id != agent.id or agent_call.direction != direction:
        raise LineError("not_yours")
    if agent_call.ended_at is not None:
        raise LineError("ended")
    return agent_call


def _own_leg(agent_call: AgentCall) -> None:
    """The softphone's own leg, as /voice/agent records Twilio's CallSid: one leg per agent call."""
    if agent_call.call_sid:
        raise LineError("connected_already")
    agent_call.call_sid = _new_sid()


def _id(raw: str) -> int:
    raw = raw.strip()
    if not (raw.isascii() and raw.isdigit() and len(raw) < 12):
        raise LineError("bad_request")
    return int(raw)


def _new_sid() -> str:
    return "CA" + secrets.token_hex(16)
