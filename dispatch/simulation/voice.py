"""Workers who prefer voice in the simulated day (issue 16): the market's calls answered, and the
worker line and the ring-once habit used, as such a worker would.

The service places its calls through the call transport (in the simulation the outbox transport,
which records each call and rings nobody). After each burst of queued jobs the day hands the calls
placed since to `ring`: an offer call to a simulated worker rings, and the worker picks it up (or
not) with what they would have done about the offer's SMS (people.WorkerAgent.consider: whether they
answer at all, yes or no, how soon they notice): picked up, the call fetches its answer URL as
Twilio would for an outbound call, the worker listens and presses 1 or 2, and the call's status
callback hears `completed`; not picked up, it hears `no-answer` when the call rings out. A worker
who missed a call they would have answered notices it later and sometimes calls the worker line
(1: the offers, 1 takes the one read) or rings once and hangs up, for the market to call back
(dispatch/voice/ring_back.py). Some voice workers also call during the day to ask for work.

Voice workers leave the offers' SMS to the calls (reading is what they avoid); what else they get
by text (a confirmation, a follow-up) they treat as everyone does (timeline.py). Calls the market
places for anything else (a follow-up's, an employer's notice) still ring nobody.

Each voice worker has a random stream of their own for these habits, so the rest of the day is drawn
as before.
"""

from __future__ import annotations

import functools
import random
from collections import Counter
from collections.abc import Callable, Generator
from dataclasses import dataclass, field
from datetime import datetime, time, timedelta
from urllib.parse import parse_qs, urlsplit

from sqlalchemy import select

from dispatch.ivr import worker_line
from dispatch.models import Call, CallOutcome, Job, Offer
from dispatch.runtime import Runtime
from dispatch.simulation import people
from dispatch.simulation.clock import VirtualClock
from dispatch.simulation.market import Market, stream
from dispatch.simulation.phone import Phones, VoiceCall
from dispatch.voice.gateway import OutboxCallTransport, RecordedCall

OFFER_PATH = "/ivr/offer"
PICK_UP = 0.7  # how often a worker who would answer the offer has the phone at hand when it rings
RINGS_OUT = 60.0  # seconds until an unanswered call gives up (Twilio's default timeout)
PICK_UP_AFTER = (5.0, 30.0)  # seconds of ringing before a worker picks up
LISTEN = (15.0, 40.0)  # seconds of the offer read out before the worker presses a key
KEY_GAP = (3.0, 10.0)  # seconds between keys on the worker line
RING_ONCE_SECONDS = 2  # the ring-once habit: hung up before the menu is heard (ring_back.RING_ONCE_SECONDS)
# A missed call is noticed as a text is read (people.WorkerAgent.consider's delay), but the market's
# number on the screen is called back within minutes: an offer lapses in 10 (same day) or 60.
NOTICED_AFTER = (timedelta(minutes=1), timedelta(minutes=8))
# What a worker who missed a call they would have answered does once they notice it (the rest wait).
LINE_AFTER_MISSED, RING_AFTER_MISSED = 0.45, 0.3
# Voice workers who call one day to ask for work, and when; some of them ring once instead, for
# the market to call back with a job (a call back is free to them).
CALL_IN_SHARE, RING_IN_SHARE = 0.4, 0.4
CALL_IN_FROM, CALL_IN_TO = time(7, 0), time(17, 0)
# What the simulated people did about calls, counted (always reported, zero or not).
COUNTS = (
    "offer_calls_placed",
    "offer_calls_answered",
    "offer_calls_missed",
    "ring_back_calls_placed",
    "ring_back_calls_answered",
    "call_yes_keys",
    "call_no_keys",
    "worker_line_calls",
    "worker_line_calls_not_worker_menu",
    "worker_line_calls_no_offers",
    "worker_line_yes_keys",
    "rang_once",
    "rang_once_called_back",
    "other_calls_placed",
)
Script = Generator[float, None, None]  # a call's steps: each yield is the seconds until the next


@dataclass
class VoiceRecord:
    """What the voice workers did, for the report (channels_report.py)."""

    ring_back_sids: set[str] = field(default_factory=set)  # the market's calls back after a ring
    counts: Counter[str] = field(default_factory=Counter)


@dataclass(frozen=True)
class Heard:
    """The offer a call reads: its job's code, pay and place."""

    code: str
    pay: int
    site_id: int


class VoiceWorkers:
    """The voice-preferring workers' side of the day: answering calls, calling the line, ringing once."""

    def __init__(
        self,
        market: Market,
        agents: dict[str, people.WorkerAgent],
        seed: int,
        runtime: Runtime,
        phones: Phones,
        clock: VirtualClock,
        at: Callable[[datetime, Callable[[], None]], None],
    ) -> None:
        self.market, self.agents, self.runtime = market, agents, runtime
        self.phones, self.clock, self.at = phones, clock, at
        self.rngs: dict[str, random.Random] = {
            spec.phone: stream(seed, f"voice-behaviour:{spec.index}")
            for spec in market.workers
            if spec.prefers_voice
        }
        self.record = VoiceRecord()
        self._decided: dict[tuple[str, str], people.Answer] = {}
        self._missed: set[tuple[str, str]] = set()  # offers whose missed call the worker acted on
        self._rang_once: set[str] = set()  # numbers the market promised to call back
        low, high = market.local(CALL_IN_FROM), market.local(CALL_IN_TO)
        for phone, rng in self.rngs.items():
            if rng.random() < CALL_IN_SHARE:
                moment = low + timedelta(seconds=rng.uniform(0, (high - low).total_seconds()))
                if rng.random() < RING_IN_SHARE:
                    at(moment, functools.partial(self._ring_once, phone))
                else:
                    at(moment, functools.partial(self._start, self._line_call, phone))

    def prefers_voice(self, phone: str) -> bool:
        return phone in self.rngs

    # -- the market's calls -----------------------------------------------------------------------

    def ring(self) -> None:
        """The calls the service placed since the last look: each offer call to a voice worker rings."""
        transport = self.runtime.call_transport
        if not isinstance(transport, OutboxCallTransport):
            return
        while transport.placed:
            self._placed(transport.placed.popleft())

    def _placed(self, placed: RecordedCall) -> None:
        if urlsplit(placed.url).path != OFFER_PATH or placed.to not in self.rngs:
            self.record.counts["other_calls_placed"] += 1
            return
        ring_back = placed.to in self._rang_once
        self._rang_once.discard(placed.to)
        if ring_back:
            self.record.ring_back_sids.add(placed.call_sid)
        self.record.counts["ring_back_calls_placed" if ring_back else "offer_calls_placed"] += 1
        self._start(self._offer_call, placed, ring_back)

    def _offer_call(self, placed: RecordedCall, ring_back: bool) -> Script:
        phone, rng = placed.to, self.rngs[placed.to]
        call = self.phones.ringing(phone, placed.call_sid, placed.status_callback)
        offer_id = parse_qs(urlsplit(placed.url).query).get("o", ["0"])[0]
        heard = self._offer(int(offer_id) if offer_id.isdigit() else 0)
        answer = self._decide(phone, heard) if heard is not None else None
        if answer is None or answer.text is None or rng.random() >= PICK_UP:
            yield RINGS_OUT
            call.no_answer()
            self.record.counts["offer_calls_missed"] += 1
            if heard is not None and answer is not None and answer.text is not None:
                self._noticed_missed(phone, heard.code, answer)
            return
        yield rng.uniform(*PICK_UP_AFTER)
        call.answer(placed.url)
        self.record.counts["ring_back_calls_answered" if ring_back else "offer_calls_answered"] += 1
        yield rng.uniform(*LISTEN)
        if call.step == "offer":
            call.press("1" if answer.accepts else "2")
            self.record.counts["call_yes_keys" if answer.accepts else "call_no_keys"] += 1
        call.hang_up(duration=int(LISTEN[1]))

    def _noticed_missed(self, phone: str, code: str, answer: people.Answer) -> None:
        """A missed call the worker would have answered: later, the line or a ring (once an offer)."""
        if (phone, code) in self._missed:
            return
        self._missed.add((phone, code))
        draw = self.rngs[phone].random()
        later = self.clock.now() + min(max(answer.delay, NOTICED_AFTER[0]), NOTICED_AFTER[1])
        if draw < LINE_AFTER_MISSED:
            self.at(later, functools.partial(self._start, self._line_call, phone))
        elif draw < LINE_AFTER_MISSED + RING_AFTER_MISSED:
            self.at(later, functools.partial(self._ring_once, phone))

    # -- the worker's own calls -------------------------------------------------------------------

    def _line_call(self, phone: str) -> Script:
        """The worker calls the market: 1 for their offers (or, with none, the nearest open jobs), then
        each offer read is taken (1, and back to the menu), declined (2) or passed over (3)."""
        rng = self.rngs[phone]
        counts = self.record.counts
        call = self.phones.call(phone)
        call.dial()
        counts["worker_line_calls"] += 1
        if call.step != "worker_menu":  # not known as a worker here (a landline's is undeliverable)
            counts["worker_line_calls_not_worker_menu"] += 1
            yield rng.uniform(*KEY_GAP)
            call.hang_up()
            return
        yield rng.uniform(*KEY_GAP)
        call.press("1")
        if call.step != "offer":
            counts["worker_line_calls_no_offers"] += 1
        for _ in range(worker_line.LISTED):
            if call.step != "offer":
                break
            heard = self._heard(call)
            answer = self._decide(phone, heard) if heard is not None else None
            yield rng.uniform(*LISTEN)
            if answer is not None and answer.accepts:
                call.press("1")
                counts["worker_line_yes_keys"] += 1
                break
            call.press("2" if answer is not None and answer.text is not None else "3")
        yield rng.uniform(*KEY_GAP)
        call.hang_up()

    def _ring_once(self, phone: str) -> None:
        """Rings and hangs up at once; the market calls back if it has something (ring_back.py)."""
        call = self.phones.call(phone)
        call.dial()
        call.hang_up(duration=RING_ONCE_SECONDS)
        self.record.counts["rang_once"] += 1
        with self.runtime.db.transaction() as session:
            outcome = session.scalar(select(Call.outcome).where(Call.call_sid == call.sid))
        if outcome == CallOutcome.OFFER_CALL:  # a call back is on its way: the next offer call to them
            self._rang_once.add(phone)
            self.record.counts["rang_once_called_back"] += 1

    # -- what the worker hears and decides --------------------------------------------------------

    def _decide(self, phone: str, heard: Heard) -> people.Answer:
        """What the worker does about an offer, once for each offer however often it is read to them:
        as about its SMS, except that nobody opts out by keypad (an opt-out is a no)."""
        key = (phone, heard.code)
        if key not in self._decided:
            agent = self.agents[phone]
            km = people.offer_distance(self.market, agent.spec, heard.site_id)
            answer = agent.consider(heard.code, heard.pay, km)
            if answer.opt_out:
                answer = people.Answer("2", answer.delay, accepts=False)
            self._decided[key] = answer
        return self._decided[key]

    def _offer(self, offer_id: int) -> Heard | None:
        with self.runtime.db.transaction() as session:
            row = session.execute(
                select(Job.code, Job.daily_pay, Job.site_id)
                .join(Offer, Offer.job_id == Job.id)
                .where(Offer.id == offer_id)
            ).first()
        return None if row is None or row.code is None else Heard(row.code, row.daily_pay, row.site_id)

    def _heard(self, call: VoiceCall) -> Heard | None:
        """The offer the worker line is reading now (the call's kept ids, ivr/offers.py)."""
        with self.runtime.db.transaction() as session:
            answers = session.scalar(select(Call.answers).where(Call.call_sid == call.sid)) or {}
        ids, at = answers.get("_offers") or [], int(answers.get("_at", 0))
        return self._offer(int(ids[at])) if 0 <= at < len(ids) else None

    # -- running a call's steps in time -----------------------------------------------------------

    def _start(self, script: Callable[..., Script], *args: object) -> None:
        """Run a call's steps from now, each after the seconds the one before asked for."""
        self._step(script(*args))

    def _step(self, steps: Script) -> None:
        try:
            wait = next(steps)
        except StopIteration:
            return
        self.at(self.clock.now() + timedelta(seconds=wait), functools.partial(self._step, steps))
