"""The simulator's switchboard: what Twilio keeps between requests for a first run's calls.

The callers waiting in each agents' queue (in order, as Twilio's <Enqueue> keeps them, so that the
softphone's answer takes the longest waiter of a queue as <Dial><Queue> does), and the lines between a
simulated phone and the console's softphone, with what each side said.

In memory, one structure per app guarded by a lock: the simulator exists only on a first run, which
serves from one process (`dispatch serve`: threads, no reloader; or the tests' live server), so no
other process needs to see it, and a new table for a development tool would be out of proportion.
(Served by several processes, a line would be seen only by the process that made it.) A restart
drops the lines and the queues, as a restarted Twilio would drop its calls; the database rows (the
QueuedCall, the AgentCall) are left for the periodic tasks and the agents, as after real lost calls.
"""

from __future__ import annotations

import hashlib
import threading
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from flask import Flask, current_app

EXTENSION = "dispatch.sim.switchboard"
MAX_QUEUE_SIZE = 1000  # Twilio's default maximum length of a queue
MAX_SAID = 500  # lines kept per call: the oldest go first


def queue_sid(queue: str) -> str:
    """A stable Twilio-shaped QueueSid for a queue name (Twilio creates one per name on demand)."""
    return "QU" + hashlib.md5(queue.encode()).hexdigest()


@dataclass
class Waiter:
    """A simulated caller in a queue, with the TwiML document holding its <Enqueue> (whose action is
    posted when the caller leaves the queue, from whichever request ends the call)."""

    call_sid: str
    phone: str
    queue: str
    twiml: str
    url: str
    index: int
    enqueued_at: datetime


@dataclass
class Said:
    n: int
    who: str  # "caller" (the simulated phone) or "agent" (the softphone)
    text: str


@dataclass
class Line:
    """A call between a simulated phone and an agent's softphone, keyed by the AgentCall's id."""

    id: int
    agent_id: int
    phone: str
    call_sid: str  # the simulated phone's leg
    direction: str  # "inbound" (a queued caller answered) or "outbound" (the agent dialled)
    state: str = "ringing"  # ringing -> connected -> ended
    waiter: Waiter | None = None
    connected_at: datetime | None = None
    ended_at: datetime | None = None
    ended_by: str = ""  # caller, agent, declined
    said: list[Said] = field(default_factory=list)
    # What the phone showed once the line ended (the <Enqueue> action's TwiML run), for its next poll.
    after: dict[str, Any] | None = None

    def as_json(self, after: int = 0) -> dict[str, Any]:
        return {
            "id": self.id,
            "state": self.state,
            "direction": self.direction,
            "ended_by": self.ended_by,
            "said": [{"n": s.n, "who": s.who, "text": s.text} for s in self.said if s.n > after],
            "last": self.said[-1].n if self.said else 0,
            "call_sid": self.call_sid,
            "phone": self.phone,
            "after": self.after,
        }


class Switchboard:
    """The queues and lines of one app; every method takes the lock, so requests on several threads
    never see a half-moved caller."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._queues: dict[str, list[Waiter]] = {}
        self._lines: dict[int, Line] = {}

    # -- the queues --

    def enqueue(self, waiter: Waiter) -> bool:
        """The caller joins (or, asked again, stays at its place in) its queue; False when the caller
        is already on a line (an old hold request arriving after the bridge) or the queue is full."""
        with self._lock:
            if self._line_of(waiter.call_sid) is not None:
                return False
            queue = self._queues.setdefault(waiter.queue, [])
            for place, held in enumerate(queue):
                if held.call_sid == waiter.call_sid:
                    queue[place] = waiter
                    return True
            if len(queue) >= MAX_QUEUE_SIZE:
                return False
            queue.append(waiter)
            return True

    def position(self, call_sid: str) -> tuple[int, int, list[datetime]]:
        """(place from 1, queue size, when each waiter of that queue came) for a waiting caller;
        (0, 0, []) when it is not in a queue."""
        with self._lock:
            for queue in self._queues.values():
                for place, held in enumerate(queue, 1):
                    if held.call_sid == call_sid:
                        return place, len(queue), [w.enqueued_at for w in queue]
        return 0, 0, []

    def waiting(self, queue: str) -> list[Waiter]:
        with self._lock:
            return list(self._queues.get(queue, []))

    def leave(self, call_sid: str) -> Waiter | None:
        """The caller leaves its queue (hung up, <Leave>, pressed the call-back key)."""
        with self._lock:
            return self._take(call_sid)

    # -- the lines --

    def bridge(
        self, line_id: int, agent_id: int, queue: str, now: datetime, call_sid: str = ""
    ) -> Line | None:
        """<Dial><Queue>: the longest waiter of `queue` (or the named caller) joins the agent's line;
        None when nobody is waiting there."""
        with self._lock:
            waiters = self._queues.get(queue, [])
            chosen = next((w for w in waiters if not call_sid or w.call_sid == call_sid), None)
            if chosen is None:
                return None
            self._take(chosen.call_sid)
            line = Line(
                id=line_id,
                agent_id=agent_id,
                phone=chosen.phone,
                call_sid=chosen.call_sid,
                direction="inbound",
                state="connected",
                waiter=chosen,
                connected_at=now,
            )
            self._lines[line_id] = line
            return line

    def ring(self, line_id: int, agent_id: int, phone: str, call_sid: str) -> Line:
        """<Dial><Number>: the simulated phone of `phone` rings."""
        with self._lock:
            line = Line(id=line_id, agent_id=agent_id, phone=phone, call_sid=call_sid, direction="outbound")
            self._lines[line_id] = line
            return line

    def answer(self, line_id: int, now: datetime) -> Line | None:
        """The called phone picks up; None unless it was ringing."""
        with self._lock:
            line = self._lines.get(line_id)
            if line is None or line.state != "ringing":
                return None
            line.state, line.connected_at = "connected", now
            return line

    def end(self, line_id: int, by: str, now: datetime) -> Line | None:
        """Either side hangs up (or the called phone declines): the line ends for both; None when it
        had ended already (both sides hanging up at once end it once)."""
        with self._lock:
            line = self._lines.get(line_id)
            if line is None or line.state == "ended":
                return None
            line.state, line.ended_by, line.ended_at = "ended", by, now
            return line

    def say(self, line_id: int, who: str, text: str) -> Said | None:
        with self._lock:
            line = self._lines.get(line_id)
            if line is None or line.state != "connected":
                return None
            said = Said(n=(line.said[-1].n + 1 if line.said else 1), who=who, text=text)
            line.said = [*line.said[-(MAX_SAID - 1) :], said]
            return said

    def line(self, line_id: int) -> Line | None:
        with self._lock:
            return self._lines.get(line_id)

    def line_of_phone(self, phone: str) -> Line | None:
        """The phone's newest line (ringing, connected, or the last ended one, whose end it shows)."""
        with self._lock:
            lines = [line for line in self._lines.values() if line.phone == phone]
            return max(lines, key=lambda line: line.id) if lines else None

    def line_of_call(self, call_sid: str) -> Line | None:
        with self._lock:
            return self._line_of(call_sid)

    def _line_of(self, call_sid: str) -> Line | None:
        return next((line for line in self._lines.values() if line.call_sid == call_sid), None)

    def _take(self, call_sid: str) -> Waiter | None:
        for queue in self._queues.values():
            for place, held in enumerate(queue):
                if held.call_sid == call_sid:
                    return queue.pop(place)
        return None


def install(app: Flask) -> Switchboard:
    return app.extensions.setdefault(EXTENSION, Switchboard())


def switchboard() -> Switchboard:
    """The current app's switchboard (one per app: tests make many apps in one process)."""
    return install(current_app)
