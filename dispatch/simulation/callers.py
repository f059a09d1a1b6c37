"""Callers who press 0: a discrete-event model of the live call center over the market's opening hours,
to see how many agents a market needs (`dispatch simulate --callers 30/h --agents 1..6`).

The model, every figure a parameter (CallerModel) and every draw from the seed:
- Callers arrive by a Poisson process, `calls_per_hour` in each hour of OPENING_HOURS (08:00-18:00).
- Talk time is exponential (mean 180 s), then a fixed wrap-up (30 s) before the agent is free again.
- Patience is exponential (mean 120 s): a caller still waiting then leaves; `call_back_share` of them
  press the call-back key (a call-back ticket), the rest hang up (abandoned). The hold ends in a
  voicemail after HOLD_LIMIT_SECONDS (180 s), as the IVR's hold does.
- An agent takes a caller `answer_delay_seconds` (5 s) after being chosen (the softphone's click and
  the bridge), the longest-waiting caller they may take first (dispatch/callcenter/calls.answer_next).
- Routing as dispatch/callcenter/routing.py: an agent takes a caller of their own site at once, of a
  site one level below theirs after CALL_OVERFLOW_SECONDS, two levels after twice that, a level with
  no agent on duty costing no wait (skipped); never a sibling site's. As built (`hold_when_busy`
  True), a caller who finds every agent busy waits: the agents are on duty (routing.agents_reachable
  counts busy ones), the classic queue of Erlang C.
  `hold_when_busy` False models the other rule: no hold when no agent of the chain is free right then,
  a call-back (same share) or a voicemail at once.
- A free agent with no caller to take works the call-back list (their sites', oldest first) until
  closing: each attempt rings `call_back_ring_seconds` (30 s); `call_back_reached` (70 %) answer and
  talk as long as a caller, others are tried again later (3 attempts at most). Agents stay after
  closing until the queue is empty.
"""

from __future__ import annotations

import heapq
import itertools
import random
from dataclasses import dataclass, field
from datetime import time

from dispatch.callcenter.routing import reach

HOUR = 3600.0


@dataclass(frozen=True)
class Layout:
    """The site tree the calls run on: each site's parent, where callers come from (weights) and where
    the agents sit (the n-th agent at agent_sites[n % len])."""

    parents: dict[str, str | None]
    caller_sites: dict[str, float]
    agent_sites: tuple[str, ...]

    def chain(self, site: str) -> list[str]:
        chain: list[str] = []
        current: str | None = site
        while current is not None and current not in chain:
            chain.append(current)
            current = self.parents.get(current)
        return chain


# One queue: every caller and every agent at one site (the dimensioning table and Erlang C's case).
ONE_SITE = Layout({"LZ": None}, {"LZ": 1.0}, ("LZ",))
# The district's call center: every agent at the district; a third of the callers are the district's
# (nobody known, no site chosen), a third a town's, a third a village station's.
DISTRICT = Layout(
    {"LZ": None, "LZ-TX": "LZ", "LZ-DJ": "LZ", "LZ-TX-WYM": "LZ-TX", "LZ-DJ-V": "LZ-DJ"},
    {"LZ": 2.0, "LZ-TX": 1.0, "LZ-DJ": 1.0, "LZ-TX-WYM": 1.0, "LZ-DJ-V": 1.0},
    ("LZ",),
)
LAYOUTS = {"one-site": ONE_SITE, "district": DISTRICT}


@dataclass(frozen=True)
class CallerModel:
    calls_per_hour: float
    agents: int
    seed: int = 1
    opening: tuple[time, time] = (time(8, 0), time(18, 0))
    mean_talk_seconds: float = 180.0
    wrap_up_seconds: float = 30.0
    mean_patience_seconds: float | None = 120.0  # None: nobody ever gives up
    call_back_share: float = 0.5  # of those who give up (or find nobody free): the call-back key
    hold_limit_seconds: float | None = 180.0  # then a voicemail; None: no limit
    answer_delay_seconds: float = 5.0
    overflow_seconds: int = 60  # CALL_OVERFLOW_SECONDS
    hold_when_busy: bool = True  # as built; False: no hold when no agent of the chain is free
    call_back_ring_seconds: float = 30.0
    call_back_reached: float = 0.7
    call_back_attempts: int = 3
    layout: Layout = ONE_SITE


@dataclass
class CallerDay:
    """What a day of callers came to (seconds; shares of all callers unless named otherwise)."""

    model: CallerModel
    offered: int = 0
    answered: int = 0
    abandoned: int = 0
    call_backs_asked: int = 0  # pressed the key in the hold, or chose it when nobody was free
    voicemails: int = 0
    not_held: int = 0  # nobody free at arrival: offered a call-back or a voicemail at once
    call_backs_made: int = 0  # attempts the agents made by closing
    call_backs_open: int = 0  # asked for and not yet reached at closing
    waits: list[float] = field(default_factory=list)  # of the answered callers
    waits_by_site: dict[str, list[float]] = field(default_factory=dict)
    busy_seconds: float = 0.0  # agents on calls and wrap-up, all agents together

    def summary(self, target: float = 20.0) -> dict[str, float | int | None]:
        answered, offered = len(self.waits), max(1, self.offered)
        within = sum(1 for wait in self.waits if wait <= target)
        opening, closing = self.model.opening
        hours = (closing.hour - opening.hour) + (closing.minute - opening.minute) / 60
        return {
            "agents": self.model.agents,
            "offered": self.offered,
            "answered": self.answered,
            "speed_of_answer_mean_s": round(sum(self.waits) / answered, 1) if answered else None,
            "answered_within_20s": round(within / answered, 3) if answered else None,
            "service_level_20s": round(within / offered, 3),  # of ALL callers: answered within 20 s
            "abandoned": self.abandoned,
            "abandoned_share": round(self.abandoned / offered, 3),
            "not_held": self.not_held,
            "call_backs_asked": self.call_backs_asked,
            "call_backs_made": self.call_backs_made,
            "call_backs_open": self.call_backs_open,
            "voicemails": self.voicemails,
            "occupancy": round(self.busy_seconds / (self.model.agents * hours * HOUR), 3),
        }


@dataclass
class _Caller:
    n: int
    site: str
    arrives: float
    talk: float
    patience: float
    wants_call_back: bool
    waiting: bool = False
    attempts: int = 0  # call-back attempts made
    reserved: bool = False


@dataclass
class _Agent:
    n: int
    site: str
    free_since: float | None = 0.0  # None: on a call, wrapping up, or calling back


def draw_callers(model: CallerModel) -> list[_Caller]:
    """The day's callers; the same seed gives the same callers whatever the number of agents."""
    rng = random.Random(model.seed)
    opening, closing = model.opening
    start = opening.hour * HOUR + opening.minute * 60
    end = closing.hour * HOUR + closing.minute * 60
    sites, weights = zip(*model.layout.caller_sites.items(), strict=True)
    callers: list[_Caller] = []
    now = start
    while model.calls_per_hour > 0:
        now += rng.expovariate(model.calls_per_hour / HOUR)
        if now >= end:
            break
        patience = (
            rng.expovariate(1 / model.mean_patience_seconds) if model.mean_patience_seconds else float("inf")
        )
        callers.append(
            _Caller(
                n=len(callers),
                site=rng.choices(sites, weights)[0],
                arrives=now,
                talk=rng.expovariate(1 / model.mean_talk_seconds),
                patience=patience,
                wants_call_back=rng.random() < model.call_back_share,
            )
        )
    return callers


def simulate_callers(model: CallerModel) -> CallerDay:
    """Run one day of callers through `model.agents` agents."""
    return _Floor(model).run()


class _Floor:
    def __init__(self, model: CallerModel) -> None:
        self.model = model
        self.day = CallerDay(model)
        sites = model.layout.agent_sites
        self.agents = [_Agent(n, sites[n % len(sites)]) for n in range(model.agents)]
        self.staffed = {agent.site for agent in self.agents}  # every agent is on duty all day
        self.queue: list[_Caller] = []  # waiting callers, by arrival
        self.call_backs: list[_Caller] = []  # asked for, not yet reached, oldest first
        self.events: list[tuple[float, int, str, object]] = []
        self.order = itertools.count()
        self.closing = model.opening[1].hour * HOUR + model.opening[1].minute * 60

    def at(self, when: float, kind: str, subject: object) -> None:
        heapq.heappush(self.events, (when, next(self.order), kind, subject))

    def run(self) -> CallerDay:
        for caller in draw_callers(self.model):
            self.at(caller.arrives, "arrive", caller)
        while self.events:
            now, _, kind, subject = heapq.heappop(self.events)
            getattr(self, f"_{kind}")(now, subject)
        self.day.call_backs_open = len(self.call_backs)
        return self.day

    # -- who may take whom (dispatch/callcenter/routing.py's rule) --------------------------------------
    def _reach(self, caller: _Caller, now: float) -> list[str]:
        chain = self.model.layout.chain(caller.site)
        return reach(chain, now - caller.arrives, self.model.overflow_seconds, self.staffed)

    def _free_agent(self, sites: list[str]) -> _Agent | None:
        free = [a for a in self.agents if a.free_since is not None and a.site in sites]
        return min(free, key=lambda a: (a.free_since, a.n)) if free else None

    def _sees(self, agent: _Agent, caller: _Caller) -> bool:
        return agent.site in self.model.layout.chain(caller.site)

    # -- events ---------------------------------------------------------------------------------------
    def _arrive(self, now: float, caller: _Caller) -> None:
        self.day.offered += 1
        if not self.model.hold_when_busy and self._free_agent(self.model.layout.chain(caller.site)) is None:
            self.day.not_held += 1
            self._gives_up(now, caller, held=False)
            return
        caller.waiting = True
        self.queue.append(caller)
        if caller.patience != float("inf"):
            self.at(now + caller.patience, "patience", caller)
        if self.model.hold_limit_seconds is not None:
            self.at(now + self.model.hold_limit_seconds, "hold_limit", caller)
        for level in range(1, len(self.model.layout.chain(caller.site))):
            self.at(now + level * self.model.overflow_seconds, "offer", caller)
        self._offer(now, caller)

    def _offer(self, now: float, caller: _Caller) -> None:
        """A free agent in the caller's reach takes them (on arrival and at each overflow)."""
        if caller.waiting and not caller.reserved:
            agent = self._free_agent(self._reach(caller, now))
            if agent is not None:
                self._take(now, agent, caller)

    def _take(self, now: float, agent: _Agent, caller: _Caller) -> None:
        agent.free_since, caller.reserved = None, True
        self.at(now + self.model.answer_delay_seconds, "answer", (agent, caller))

    def _answer(self, now: float, pair: tuple[_Agent, _Caller]) -> None:
        agent, caller = pair
        caller.waiting = False
        self.queue.remove(caller)
        self.day.answered += 1
        self.day.waits.append(now - caller.arrives)
        self.day.waits_by_site.setdefault(caller.site, []).append(now - caller.arrives)
        self._busy(now, agent, caller.talk)

    def _busy(self, now: float, agent: _Agent, talk: float) -> None:
        handled = talk + self.model.wrap_up_seconds
        self.day.busy_seconds += handled
        self.at(now + handled, "free", agent)

    def _free(self, now: float, agent: _Agent) -> None:
        """The agent is free: the longest-waiting caller they may take, else a call-back, else idle."""
        for caller in self.queue:  # by arrival: the longest wait first
            if not caller.reserved and agent.site in self._reach(caller, now):
                self._take(now, agent, caller)
                return
        if now < self.closing:
            for caller in self.call_backs:
                if self._sees(agent, caller):
                    self._call_back(now, agent, caller)
                    return
        agent.free_since = now

    def _call_back(self, now: float, agent: _Agent, caller: _Caller) -> None:
        """One attempt: it rings; a person reached talks as long as they would have; wrap-up either way.
        Not reached: tried again after the others, up to `call_back_attempts` times."""
        self.call_backs.remove(caller)
        self.day.call_backs_made += 1
        caller.attempts += 1
        reached = random.Random(f"{self.model.seed}-{caller.n}-{caller.attempts}").random()
        talk = caller.talk if reached < self.model.call_back_reached else 0.0
        if not talk and caller.attempts < self.model.call_back_attempts:
            self.call_backs.append(caller)
        agent.free_since = None
        self._busy(now, agent, self.model.call_back_ring_seconds + talk)

    def _patience(self, now: float, caller: _Caller) -> None:
        if caller.waiting and not caller.reserved:
            self._leave(caller)
            self._gives_up(now, caller, held=True)

    def _hold_limit(self, now: float, caller: _Caller) -> None:
        if caller.waiting and not caller.reserved:
            self._leave(caller)
            self.day.voicemails += 1

    def _leave(self, caller: _Caller) -> None:
        caller.waiting = False
        self.queue.remove(caller)

    def _gives_up(self, now: float, caller: _Caller, held: bool) -> None:
        """Out of the hold, or never in it: the call-back key; else a hang-up, or a voicemail when never
        held (the IVR offers a call-back or a voicemail; silence records one)."""
        if caller.wants_call_back:
            self.day.call_backs_asked += 1
            self.call_backs.append(caller)
            self._wake_for_call_back(now, caller)
        elif held:
            self.day.abandoned += 1
        else:
            self.day.voicemails += 1

    def _wake_for_call_back(self, now: float, caller: _Caller) -> None:
        """An idle agent who sees the caller calls them back now."""
        if now >= self.closing:
            return
        for agent in self.agents:
            if agent.free_since is not None and self._sees(agent, caller):
                agent.free_since = None
                self.at(now, "free", agent)
                return
