"""Running a simulated market day: its options, its own database, Redis and service, the virtual
clock, the timeline (timeline.py) from dawn to midnight market time with the market's quiet hours
(21:00-08:00) on, and the report it leaves. Then, unless turned off, the next morning until noon:
the texts held for the night go out, and at FOLLOW_UP_TIME the periodic run-follow-ups asks both
sides of every placement that ended on the day (回访), who answer through the morning. The day's
figures are those at midnight; the invariants and the follow-ups', those at the morning's end.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from datetime import time as clock_time

from dispatch.i18n import market_zone
from dispatch.settings import Settings
from dispatch.simulation import environment
from dispatch.simulation.announcement import AnnouncementPlan
from dispatch.simulation.behaviour import DEFAULT, Behaviour
from dispatch.simulation.clock import VirtualClock
from dispatch.simulation.command import POLICIES, TRANSPORTS
from dispatch.simulation.timeline import MarketDay

REGISTERED_AT = clock_time(5, 0)  # the population is on the books before the day starts
DAY_ENDS = clock_time(23, 59, 59)
NEXT_MORNING_ENDS = clock_time(12, 0)
WAKE_FOR = frozenset({"run-follow-ups"})  # the periodic job the next morning is there for
WAKE_BEFORE = timedelta(hours=1)
LATE_SHARE = 0.15


@dataclass(frozen=True)
class DayOptions:
    workers: int = 300
    employers: int = 30
    jobs: int = 60
    # Jobs posted in the evening (for the next morning) or before dawn (for this morning), besides `jobs`;
    # None: LATE_SHARE of `jobs` (9 of a default day's 60).
    late_jobs: int | None = None

    @property
    def late_job_count(self) -> int:
        return round(self.jobs * LATE_SHARE) if self.late_jobs is None else max(0, self.late_jobs)

    seed: int = 1
    policy: str = "fair"
    day: date = date(2026, 6, 10)  # a Wednesday; the market's date, for the same day from the same seed
    send_rate: float = 1.0  # SMS segments a second: the service's default (a long code)
    database_url: str | None = None
    redis_url: str | None = None
    config_dir: str | None = None
    next_morning: bool = True  # go on to the next day's noon: the follow-ups (回访) are asked and answered
    # Periodic jobs (dispatch.periodic.PERIODIC_TASKS ids) the day runs without, to see what they do.
    periodic_off: frozenset[str] = frozenset()
    follow_up_time: str | None = None  # FOLLOW_UP_TIME for the day (default: the service's, 09:00)
    # Workers who prefer voice (offers by call too), and the share of those on a landline (no SMS).
    voice_share: float = 0.1
    landline_share: float = 1 / 3
    behaviour: Behaviour = DEFAULT  # how the population answers (--behaviour FILE)
    days: int = 1  # market days in a run (days.py runs more than one)
    # "twilio": Twilio-shaped webhooks and the outbox; "carrier": the simulated domestic carrier
    # (carrier_day.py), with its per-number limit per template (None: the service's, 50 a day).
    transport: str = "twilio"
    carrier_limit: int | None = None
    # --announcement: an event announced at that time of the first day (announcement.py); None: none.
    announcement: AnnouncementPlan | None = None


@dataclass
class DayResult:
    options: DayOptions
    report: dict
    seconds: float  # real time the day took to simulate
    database: str


@contextmanager
def market_timeline(options: DayOptions) -> Iterator[tuple[str, Settings, MarketDay]]:
    """The simulation's database, Redis, settings, service and virtual clock, and the timeline with the
    population registered (at REGISTERED_AT of the first day) and the first day's jobs planned: what a
    day and a run of days (days.py) both start from. Yields the database as shown, the settings and it."""
    if options.policy not in POLICIES:
        raise ValueError(f"policy must be one of {', '.join(POLICIES)}")
    if options.transport not in TRANSPORTS:
        raise ValueError(f"transport must be one of {', '.join(TRANSPORTS)}")
    with (
        environment.database(options.database_url) as (shown, engine),
        environment.redis_connection(options.redis_url) as redis,
    ):
        settings = environment.settings_for(
            options.policy,
            options.send_rate,
            str(engine.url),
            options.redis_url,
            options.config_dir,
            follow_up_time=options.follow_up_time,
            carrier=options.transport == "carrier",
            carrier_limit=options.carrier_limit,
        )
        start = datetime.combine(options.day, REGISTERED_AT, tzinfo=market_zone(settings))
        with VirtualClock(start) as clock, environment.service(settings, engine, redis) as (runtime, app):
            yield shown, settings, MarketDay(options, runtime, app, clock)


def run_day(options: DayOptions) -> DayResult:
    """Simulate one market day on a database and Redis of its own; returns its report."""
    started = time.perf_counter()
    with market_timeline(options) as (shown, settings, day):
        market_tz = market_zone(settings)
        day.run(end=datetime.combine(options.day, DAY_ENDS, tzinfo=market_tz))
        report = day.report()
        if options.next_morning:
            morning = options.day + timedelta(days=1)
            # The night as the day: the follow-ups' run goes whenever something wakes the market.
            # From an hour before FOLLOW_UP_TIME it also wakes for that run (every 5 minutes).
            asking = datetime.combine(morning, settings.follow_up_time, tzinfo=market_tz)
            day.run(end=asking - WAKE_BEFORE)
            day.run(end=datetime.combine(morning, NEXT_MORNING_ENDS, tzinfo=market_tz), wake_for=WAKE_FOR)
            report = day.report(day=report)
        report["next_morning_until"] = (
            NEXT_MORNING_ENDS.isoformat("minutes") if options.next_morning else None
        )
    return DayResult(options, report, time.perf_counter() - started, shown)
