"""An announcement in the simulated day (`dispatch simulate --announcement [HH:MM]`): at that time of the
first day the market creates a training whose capacity is smaller than the sign-ups it can expect, and
announces it to the whole district, through the outreach service the console uses (create_event,
schedule); the service's own job (send_outreach) sends it, each text waiting out quiet hours. A
second send of the same event is scheduled four hours later: the weekly cap of one non-job text
must hold it back for everyone.

The workers read it: some sign up (`报名 <n>`), a few of those with a place give it back
(`取消报名 <n>`, so the waiting list moves up), a few turn event texts off (`退订活动`) and must still
get job offers. Off by default: the default day is unchanged.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from typing import TYPE_CHECKING, Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from dispatch.i18n import market_zone
from dispatch.models import (
    Contact,
    Direction,
    Event,
    EventKind,
    EventSignup,
    Message,
    MessageStatus,
    Outreach,
    SignupStatus,
    Site,
)
from dispatch.outreach import services
from dispatch.outreach.audience import Audience
from dispatch.quiet_hours import quiet_hours_end
from dispatch.settings import Settings
from dispatch.simulation.market import stream

if TYPE_CHECKING:
    from dispatch.simulation.people import WorkerAgent
    from dispatch.simulation.timeline import MarketDay

SIGN_UP = re.compile(r"(?:报名|SIGNUP) (\d+)")
OFFER_KINDS = frozenset({"offer", "offer.reopened", "offer.merged"})  # timeline.OFFER_KINDS
SECOND_SEND_AFTER = timedelta(hours=4)
MAX_DELAY_MINUTES = 240.0


@dataclass(frozen=True)
class AnnouncementPlan:
    """When the announcement goes and how the workers answer it."""

    at: time = time(10, 0)  # market time, the first day
    sign_up_share: float = 0.3  # of those who get the text, who sign up
    cancel_share: float = 0.25  # of those given a place, who give it back
    opt_out_share: float = 0.05  # of those who get the text, who text 退订活动
    median_delay_minutes: float = 20.0
    median_cancel_minutes: float = 120.0  # a place is given back hours later, not at once
    capacity: int | None = None  # None: half the sign-ups expected, so the waiting list is used

    def capacity_for(self, workers: int) -> int:
        if self.capacity is not None:
            return self.capacity
        return max(2, round(workers * self.sign_up_share / 2))


class Announcer:
    """The market's announcement and the workers' answers to it, on a day's timeline."""

    def __init__(self, day: MarketDay, plan: AnnouncementPlan) -> None:
        self.day, self.plan = day, plan
        self.event_id: int | None = None
        self.outreach_ids: tuple[int, ...] = ()
        self.people: Counter[str] = Counter()
        self.events_opt_outs: dict[str, datetime] = {}  # phone -> when it texted 退订活动
        zone = market_zone(day.runtime.settings)
        day.at(datetime.combine(day.options.day, plan.at, tzinfo=zone), self.announce)

    def announce(self) -> None:
        """What a supervisor does in the console: the event, then its send now and one later."""
        runtime, now = self.day.runtime, self.day.clock.now()
        settings = runtime.settings
        zone = market_zone(settings)
        starts = datetime.combine(self.day.options.day + timedelta(days=2), time(9, 0), tzinfo=zone)
        with runtime.db.transaction() as session:
            root = session.scalars(select(Site).where(Site.parent_id.is_(None)).order_by(Site.id)).first()
            assert root is not None, "the simulation's sites are loaded"
            event = Event(
                kind=EventKind.TRAINING,
                title_zh="电焊技能培训班",
                title_en="Welding skills camp",
                site_id=root.id,
                starts_at=starts,
                place_zh="零工市场服务大厅二楼",
                place_en="Market hall, 2nd floor",
                capacity=self.plan.capacity_for(self.day.options.workers),
            )
            services.create_event(session, settings, event, None)
            audience = Audience(site_code=root.code)
            first = services.schedule(session, settings, None, event, audience, now, now)
            later = services.schedule(session, settings, None, event, audience, now + SECOND_SEND_AFTER, now)
            self.event_id, self.outreach_ids = event.id, (first.id, later.id)

    def reads(self, agent: WorkerAgent, kind: str, body: str, sent_at: datetime) -> None:
        """A worker's phone got an outreach text."""
        rng = stream(self.day.options.seed, f"announcement:{agent.spec.index}:{kind}")
        delay = self._delay(self.plan.median_delay_minutes, rng.gauss(0.0, 0.8))
        if kind == services.KIND:
            draw = rng.random()
            match = SIGN_UP.search(body)
            if draw < self.plan.opt_out_share:
                self._texts(agent, "退订活动", sent_at + delay, "opted_out")
            elif draw < self.plan.opt_out_share + self.plan.sign_up_share and match:
                self._texts(agent, f"报名 {match.group(1)}", sent_at + delay, "signed_up")
        elif kind == "outreach.booked" and rng.random() < self.plan.cancel_share:
            later = self._delay(self.plan.median_cancel_minutes, rng.gauss(0.0, 0.5))
            self._texts(agent, f"取消报名 {self.event_id}", sent_at + later, "cancelled")

    @staticmethod
    def _delay(median: float, gauss: float) -> timedelta:
        minutes = median * math.exp(gauss)
        return timedelta(minutes=min(minutes, MAX_DELAY_MINUTES))

    def _texts(self, agent: WorkerAgent, text: str, when: datetime, what: str) -> None:
        def send() -> None:
            if agent.opted_out:
                return  # after 退订 the worker sends nothing more
            self.people[what] += 1
            if what == "opted_out":
                self.events_opt_outs[agent.spec.phone] = self.day.clock.now()
            self.day.phones.text(agent.spec.phone, text)

        self.day.at(when, send)

    def measure(self, session: Session, settings: Settings) -> tuple[dict[str, Any], dict[str, int]]:
        """The report's `announcement` section and its invariants."""
        if self.event_id is None:
            return {"announced": False}, {}
        event = session.get(Event, self.event_id)
        assert event is not None and event.capacity is not None
        first, later = (session.get(Outreach, i) for i in self.outreach_ids)
        assert first is not None and later is not None
        rows = session.execute(
            select(Message.phone, Message.kind, Message.created_at, Message.sent_at).where(
                Message.direction == Direction.OUTBOUND,
                Message.kind.like("outreach.%"),
                Message.status != MessageStatus.SUPPRESSED,
            )
        ).all()
        texts = [row for row in rows if row.kind == services.KIND]
        sent = [row for row in texts if row.sent_at is not None]
        statuses = Counter(
            session.scalars(select(EventSignup.status).where(EventSignup.event_id == event.id))
        )
        off = {
            c.phone: c
            for c in session.scalars(select(Contact).where(Contact.events_opted_out_at.is_not(None)))
        }
        offers_after = {
            phone
            for phone, at in self.events_opt_outs.items()
            if session.scalar(
                select(Message.id)
                .where(
                    Message.direction == Direction.OUTBOUND,
                    Message.phone == phone,
                    Message.kind.in_(OFFER_KINDS),
                    Message.created_at > at,
                )
                .limit(1)
            )
        }
        per_phone = Counter(row.phone for row in texts)
        booked = statuses[SignupStatus.BOOKED]
        section = {
            "announced": True,
            "capacity": event.capacity,
            "recipients": first.planned,
            "texts_queued": first.sent,
            "texts_sent": len(sent),
            "texts_held_for_quiet_hours": sum(1 for row in texts if self._quiet(settings, row.created_at)),
            "second_send_sent": later.sent,
            "second_send_capped": later.skipped_cap,
            "second_send_opted_out": later.skipped_opted_out,
            "people_sign_ups": self.people["signed_up"],
            "people_cancellations": self.people["cancelled"],
            "people_events_opt_outs": self.people["opted_out"],
            "sign_ups": sum(statuses.values()),
            "booked": booked,
            "waiting": statuses[SignupStatus.WAITING],
            "cancelled": statuses[SignupStatus.CANCELLED],
            "put_on_waiting_list": sum(1 for row in rows if row.kind == "outreach.waiting"),
            "moved_up": sum(1 for row in rows if row.kind == "outreach.moved_up"),
            "opted_out_of_announcements": len(off),
            "offered_jobs_after_opting_out": len(offers_after),
        }
        invariants = {
            "announcement_over_capacity": max(0, booked - event.capacity),
            "announcement_texted_twice": sum(count - 1 for count in per_phone.values() if count > 1),
            "announcement_in_quiet_hours": sum(1 for row in sent if self._quiet(settings, row.sent_at)),
            "announcement_after_opt_out": sum(
                1 for row in texts if row.phone in off and row.created_at > off[row.phone].events_opted_out_at
            ),
            # 退订活动 turns event texts off, never job offers: only 退订 does that.
            "events_opt_out_stopped_offers": sum(
                1
                for phone in self.events_opt_outs
                if (contact := off.get(phone)) is not None
                and contact.opted_out_at is not None
                and not self.day.workers[phone].opted_out
            ),
        }
        return section, invariants

    @staticmethod
    def _quiet(settings: Settings, moment: datetime) -> bool:
        return quiet_hours_end(moment, settings.quiet_hours, settings.MARKET_TIMEZONE) is not None
