"""A simulated day's timeline: the people's actions in time order, with the service's queued jobs
running whenever something falls due on the virtual clock in between.

Employers post by phone (each key of the voice menu a signed webhook, wherever its TwiML leads) or
by a one-line SMS request they confirm with `1`. The texts the service sends (the `outbox` transport
leaves them as Message rows) are read as each person's phone gets them, and the person reacts after
a delay: workers take, decline or ignore offers, name the job when asked which, give a place back
(`取消 <code>`) or opt out (`退订`); the next morning both sides answer the follow-ups (morning.py).
"""

from __future__ import annotations

import functools
import heapq
import itertools
import logging
import random
import re
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING

from flask import Flask
from sqlalchemy import select

from dispatch.matching import config as matching_config
from dispatch.models import Call, Direction, Job, JobStatus, Message
from dispatch.runtime import Runtime
from dispatch.simulation import carrier_day, channels_report, people
from dispatch.simulation.announcement import Announcer
from dispatch.simulation.carrier_day import CarrierPhones
from dispatch.simulation.clock import VirtualClock
from dispatch.simulation.followups import FOLLOW_UP_BEHAVIOURS, measure_follow_ups
from dispatch.simulation.market import JobSpec, Market, build_market, stream
from dispatch.simulation.morning import FollowUpPeople
from dispatch.simulation.phone import Phones, VoiceCall
from dispatch.simulation.population import load_places, register
from dispatch.simulation.queue import QueueRunner
from dispatch.simulation.report import OptOut, Posting, Record, measure
from dispatch.simulation.voice import VoiceWorkers

if TYPE_CHECKING:
    from dispatch.simulation.day import DayOptions

log = logging.getLogger(__name__)
OFFER_CODE = re.compile(r"回复 1 (\d+)")
PLACED_CODE = re.compile(r"岗位(\d+)已确认")
DRAFT_CODE = re.compile(r"岗位号(\d+)")
LISTED_CODES = re.compile(r"岗位：([\d、]+)")
MERGED_CODES = re.compile(r"(?:[：；]|[:;] )(\d+) ")  # 待回复的活：102 水电工 …；103 …
MERGED_OFFERS = "offer.merged"  # dispatch.sms.merging.KIND
OFFER_KINDS = frozenset({"offer", "offer.reopened", MERGED_OFFERS})
Action = Callable[[], None]
UNPOSTED = frozenset({JobStatus.DRAFT, JobStatus.CANCELLED})
# The day wakes at least this often, so that the periodic jobs run: the lost-job sweep must see a
# finished job before RQ forgets it (dispatch.queue.RESULT_TTL, an hour), or it relays it again.
WAKE_AT_LEAST = timedelta(minutes=30)


@dataclass
class EmployerAgent:
    phone: str
    rng: random.Random
    draft: JobSpec | None = None  # an SMS request waiting for its read-back


class MarketDay:
    """One day's timeline: the people's actions, in time order with the service's queued jobs."""

    def __init__(self, options: DayOptions, runtime: Runtime, app: Flask, clock: VirtualClock) -> None:
        self.options = options
        self.runtime = runtime
        self.clock = clock
        self.carrier = CarrierPhones(app, runtime) if options.transport == "carrier" else None
        self.phones: Phones = self.carrier or Phones(app, runtime.settings.TWILIO_AUTH_TOKEN)
        self.runner = QueueRunner(runtime, clock, options.periodic_off)
        self.events: list[tuple[datetime, int, Action]] = []
        self.posted: dict[int, Posting] = {}  # job id -> when and how its employer posted it
        self.opt_outs: dict[str, OptOut] = {}
        self.behaviour: Counter[str] = Counter()
        self._order = itertools.count()  # ties in time go in the order they were planned
        self._seen: set[int] = set()
        self._scan_from = clock.now()
        options = self.options
        with self.runtime.db.transaction() as session:
            sites, trades = load_places(session, Path(self.runtime.settings.CONFIG_DIR))
            self.market: Market = build_market(
                options.seed,
                workers=options.workers,
                employers=options.employers,
                jobs=options.jobs,
                day=options.day,
                timezone=self.runtime.settings.MARKET_TIMEZONE,
                sites=sites,
                trades=trades,
                late_jobs=options.late_job_count,
                voice_share=options.voice_share,
                landline_share=options.landline_share,
                behaviour=options.behaviour,
            )
            register(session, self.market, self.clock.now())
        self.workers = people.workers(self.market, options.seed)
        self.employers = {
            spec.phone: EmployerAgent(spec.phone, stream(options.seed, f"employer-behaviour:{spec.index}"))
            for spec in self.market.employers
        }
        self.voice = VoiceWorkers(
            self.market, self.workers, options.seed, runtime, self.phones, clock, self.at
        )
        self.follow_ups = FollowUpPeople(self.market, options.seed, self.at, self._answers, self.behaviour)
        for job in self.market.jobs:
            self.at(job.at, functools.partial(self.post_job, job))
        plan = options.announcement  # --announcement: an event and its sign-ups (announcement.py)
        self.announcer = Announcer(self, plan) if plan is not None else None

    # -- the timeline ---------------------------------------------------------------------------

    def at(self, moment: datetime, action: Action) -> None:
        heapq.heappush(self.events, (moment, next(self._order), action))

    def run(self, end: datetime, wake_for: frozenset[str] = frozenset()) -> None:
        """Events and queued jobs in time order until `end`; the clock jumps between them. It also
        wakes whenever one of the periodic jobs `wake_for` falls due: a quiet morning would sleep
        through the follow-ups' run. (The others, backstops, run whenever the day wakes anyway:
        waking for the outbox sweep every 30 s would make a morning take five times as long; but a
        quiet night still wakes every WAKE_AT_LEAST.)"""
        while True:
            self.runner.settle(self.look)
            upcoming = [self.clock.now() + WAKE_AT_LEAST]
            if self.events:
                upcoming.append(self.events[0][0])
            if (due := self.runner.next_periodic(wake_for)) is not None:
                upcoming.append(due)
            scheduled = self.runner.next_scheduled()
            if scheduled is not None:
                # RQ keeps whole seconds: wake at the end of that second, past the job's own run_at.
                upcoming.append(scheduled + timedelta(seconds=1))
            if min(upcoming) > end:
                self.clock.advance_to(end)  # the rest of the time passes with nothing due
                return
            self.clock.advance_to(min(upcoming))
            while self.events and self.events[0][0] <= self.clock.now():
                _, _, action = heapq.heappop(self.events)
                action()
                self.runner.settle(self.look)

    # -- employers --------------------------------------------------------------------------------

    def post_job(self, job: JobSpec) -> None:
        employer = self.market.employers[job.employer]
        agent = self.employers[employer.phone]
        if job.channel == "ivr":
            self.behaviour["calls"] += 1
            call = self.phones.call(employer.phone)
            call.dial()
            self._next_key(call, job, agent)
            return
        if agent.draft is not None:  # one request at a time: a second would replace the draft
            self.at(self.clock.now() + timedelta(minutes=3), lambda: self.post_job(job))
            return
        agent.draft = job
        self.behaviour["sms_requests"] += 1
        self.phones.text(employer.phone, people.sms_request(self.market, job))

    def _next_key(self, call: VoiceCall, job: JobSpec, agent: EmployerAgent) -> None:
        delay = timedelta(seconds=agent.rng.uniform(3, 10))
        self.at(self.clock.now() + delay, lambda: self.key_in(call, job, agent))

    def key_in(self, call: VoiceCall, job: JobSpec, agent: EmployerAgent) -> None:
        """The caller's next keys, wherever the voice menu has got to."""
        step = call.step
        if call.records:
            call.skip_recording()  # no spoken description
        elif step == "review":
            call.press("1")
            self._posted_by_call(call)
            call.hang_up()
            return
        elif (keys := people.ivr_keys(self.market, job, step)) is not None:
            call.press(keys)
        else:  # the menu went somewhere an employer posting a job does not (an agent, an error)
            self.behaviour["calls_not_posted"] += 1
            call.hang_up()
            return
        self._next_key(call, job, agent)

    def _posted_by_call(self, call: VoiceCall) -> None:
        with self.runtime.db.transaction() as session:
            job_id = session.scalar(select(Call.job_id).where(Call.call_sid == call.sid))
        if job_id is None:
            self.behaviour["calls_not_posted"] += 1
        else:
            self.posted[job_id] = Posting(self.clock.now(), "ivr")

    def _confirm_draft(self, agent: EmployerAgent, code: str) -> None:
        self.phones.text(agent.phone, "1")
        agent.draft = None
        with self.runtime.db.transaction() as session:
            job = session.scalars(select(Job).where(Job.code == code)).first()
            job_id = job.id if job is not None and job.status not in UNPOSTED else None
        if job_id is None:  # the start went by meanwhile, or the `1` was not taken
            self.behaviour["sms_requests_not_posted"] += 1
        else:
            self.posted[job_id] = Posting(self.clock.now(), "sms")

    # -- what the phones receive ------------------------------------------------------------------

    def look(self) -> None:
        """Read the texts sent since the last look, as each person's phone gets them."""
        if self.carrier is not None:
            self.carrier.deliver()  # the carrier reports what the phones got
        query = (
            select(Message.id, Message.phone, Message.kind, Message.body, Message.sent_at)
            .where(Message.direction == Direction.OUTBOUND, Message.sent_at >= self._scan_from)
            .order_by(Message.sent_at, Message.id)
        )
        now = self.clock.now()
        with self.runtime.db.transaction() as session:
            rows = [row for row in session.execute(query) if row.id not in self._seen]
        self._scan_from = now
        for row in rows:
            self._seen.add(row.id)
            if row.phone in self.workers:
                self._worker_reads(self.workers[row.phone], row.kind, row.body, row.sent_at)
            elif row.phone in self.employers:
                self._employer_reads(self.employers[row.phone], row.kind, row.body, row.sent_at)
            self.follow_ups.reads(row.phone, row.kind, row.body, row.sent_at)
        self.voice.ring()  # and the calls placed since (voice.py)

    def _employer_reads(self, agent: EmployerAgent, kind: str, body: str, sent_at: datetime) -> None:
        if kind == "job_request.confirm" and (match := DRAFT_CODE.search(body)):
            delay = timedelta(seconds=agent.rng.uniform(20, 120))
            self.at(sent_at + delay, lambda: self._confirm_draft(agent, match.group(1)))
        elif kind == "job_request.unclear":
            self.behaviour["sms_requests_not_posted"] += 1
            agent.draft = None

    def _worker_reads(self, agent: people.WorkerAgent, kind: str, body: str, sent_at: datetime) -> None:
        if agent.opted_out:
            return
        if kind in OFFER_KINDS and self.voice.prefers_voice(agent.spec.phone):
            return  # a worker who prefers voice answers the call (voice.py), not the text
        if kind.startswith("outreach.") and self.announcer is not None:
            self.announcer.reads(agent, kind, body, sent_at)
            return
        if kind in {"offer", "offer.reopened"} and (match := OFFER_CODE.search(body)):
            self._consider(agent, match.group(1), sent_at)
        elif kind == MERGED_OFFERS:  # offers a carrier limit held, in one text (sms/merging.py)
            for code in MERGED_CODES.findall(body):
                self._consider(agent, code, sent_at)
        elif kind == "match.which_code" and (match := LISTED_CODES.search(body)):
            text = agent.say_which(match.group(1).split("、"))
            if text is not None:
                self.at(sent_at + timedelta(minutes=1), lambda: self._worker_texts(agent, text))
        elif kind == "placement.worker" and (match := PLACED_CODE.search(body)):
            after = agent.maybe_cancel()
            if after is not None:
                code = match.group(1)
                self.at(sent_at + after, lambda: self._worker_texts(agent, f"取消 {code}", "cancellations"))

    def _consider(self, agent: people.WorkerAgent, code: str, sent_at: datetime) -> None:
        with self.runtime.db.transaction() as session:
            job = session.scalars(select(Job).where(Job.code == code)).one()
            pay, site_id = job.daily_pay, job.site_id
        km = people.offer_distance(self.market, agent.spec, site_id)
        answer = agent.consider(code, pay, km)
        if answer.text is None:
            self.behaviour["offers_ignored"] += 1
            return
        what = "opt_outs" if answer.opt_out else ("yes_replies" if answer.accepts else "no_replies")
        text = answer.text
        self.at(sent_at + answer.delay, lambda: self._worker_texts(agent, text, what, answer.opt_out))

    def _worker_texts(
        self, agent: people.WorkerAgent, text: str, what: str = "", opt_out: bool = False
    ) -> None:
        if agent.opted_out:
            return  # after 退订 the worker sends nothing more
        if what:
            self.behaviour[what] += 1
        if opt_out:
            agent.opted_out = True
            self.opt_outs[agent.spec.phone] = OptOut(self.clock.now(), self._sent_to(agent.spec.phone))
        self.phones.text(agent.spec.phone, text)

    def _answers(self, phone: str, text: str) -> bool:
        """A follow-up answer; False (nothing sent) from a worker who opted out."""
        agent = self.workers.get(phone)
        if agent is not None and agent.opted_out:
            return False
        self.phones.text(phone, text)
        return True

    def _sent_to(self, phone: str) -> frozenset[int]:
        query = select(Message.id).where(
            Message.direction == Direction.OUTBOUND, Message.phone == phone, Message.sent_at.is_not(None)
        )
        with self.runtime.db.transaction() as session:
            return frozenset(session.scalars(query))

    # -- the report -------------------------------------------------------------------------------

    def report(self, day: dict | None = None) -> dict:
        """The report as things stand; with `day` (the report at the day's end), the day's figures
        stay as they were then, and the invariants and follow-ups are measured now."""
        record = Record(
            posted=self.posted,
            opt_outs=self.opt_outs,
            sms_sids=self.phones.sms_sids,
            call_sids=self.phones.call_sids,
            webhook_errors=len(self.phones.errors),
            failed_jobs=self.runner.failed_jobs(),
            behaviour=self.behaviour,
        )
        settings = self.runtime.settings
        radius = matching_config.load(settings).radius_km[-1]
        with self.runtime.db.transaction() as session:
            measured = measure(session, settings, self.market, record, radius)
            measured.update(channels_report.measure(session, self.market, self.voice.record))
            announced = self.announcer.measure(session, settings) if self.announcer is not None else None
            if announced is not None:
                measured["invariants"].update(announced[1])
            if self.carrier is not None:
                carried = carrier_day.measure(session, self.carrier)
                measured["invariants"].update(carried.pop("carrier_invariants"))
                measured.update(carried)
            after = measure_follow_ups(
                session, settings, self.follow_ups.record, self.clock.now(), next_morning=day is not None
            )
        invariants = {**measured["invariants"], **after.pop("invariants")}
        if day is not None:  # what the people did about the follow-ups, by the morning's end
            after.update({f"people_{name}": self.behaviour.get(name, 0) for name in FOLLOW_UP_BEHAVIOURS})
        measured = {**(day or measured), **after, "invariants": invariants}
        if announced is not None:  # as things stand now: an evening's texts go the next morning
            measured["announcement"] = announced[0]
        options = self.options
        return {
            "policy": options.policy,
            "seed": options.seed,
            "workers": options.workers,
            "employers": options.employers,
            "jobs": options.jobs,
            "date": options.day.isoformat(),
            "sms_send_rate": options.send_rate,
            **measured,
        }
