"""A run of market days (`dispatch simulate --days N`): one database and one timeline for the whole run,
so the record carries over as it does in the market (workers, their offers, replies, placements,
ratings and last_placed_at are the rows the service wrote the days before, and what the matcher reads).

The population is registered once; each day posts jobs of its own, drawn from the seed and the day's
index (the first day's are a one-day run's). The clock runs on from one day into the next: the next
morning's follow-ups (回访) of day k are asked and answered while day k+1's employers post and its
workers answer offers, as they would. After the last day the run goes on to the next noon, as a one-day
run does, so the last day's placements are followed up too. Each day's figures and the run's are
measured at the end (run_report.py).
"""

from __future__ import annotations

import functools
import time
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, tzinfo
from datetime import time as clock_time

from dispatch.i18n import market_zone
from dispatch.matching import config as matching_config
from dispatch.simulation.day import (
    DAY_ENDS,
    NEXT_MORNING_ENDS,
    WAKE_BEFORE,
    WAKE_FOR,
    DayOptions,
    market_timeline,
)
from dispatch.simulation.market import build_market
from dispatch.simulation.run_report import DayWindow, measure_run
from dispatch.simulation.timeline import MarketDay


@dataclass
class RunResult:
    options: DayOptions
    days: list[dict]  # each day's figures
    run: dict  # the run's figures, with its invariants and follow-ups
    seconds: float  # real time the run took
    day_seconds: list[float] = field(default_factory=list)  # real time each day took
    database: str = ""


def run_days(options: DayOptions) -> RunResult:
    """Simulate `options.days` market days in a row on one database and Redis; each day's report and
    the run's."""
    if options.days < 1:
        raise ValueError("--days must be at least 1")
    started = time.perf_counter()
    windows: list[DayWindow] = []
    day_seconds: list[float] = []
    # The timeline registers everyone and plans day 0's jobs.
    with market_timeline(options) as (shown, settings, timeline):
        zone, clock = market_zone(settings), timeline.clock
        for index in range(options.days):
            began, day_started = clock.now(), time.perf_counter()
            on = options.day + timedelta(days=index)
            if index > 0:
                _post_jobs(timeline, index, on)
                _morning(timeline, on, settings.follow_up_time, zone)
            timeline.run(end=datetime.combine(on, DAY_ENDS, tzinfo=zone))
            posted_before = {job for window in windows for job in window.jobs}
            jobs = frozenset(timeline.posted) - posted_before
            windows.append(DayWindow(on, began, clock.now(), jobs))
            day_seconds.append(time.perf_counter() - day_started)
        if options.next_morning:
            after = options.day + timedelta(days=options.days)
            _morning(timeline, after, settings.follow_up_time, zone)
        radius = matching_config.load(settings).radius_km[-1]
        day_reports, run = measure_run(timeline, windows, radius)
    return RunResult(options, day_reports, run, time.perf_counter() - started, day_seconds, shown)


def _post_jobs(timeline: MarketDay, index: int, on: date) -> None:
    """Day `index`'s postings, from the seed and the index, by the same employers."""
    options, market = timeline.options, timeline.market
    day_market = build_market(
        options.seed,
        workers=0,  # the population is the first day's: only the postings are drawn
        employers=options.employers,
        jobs=options.jobs,
        day=on,
        timezone=market.timezone,
        sites=list(market.sites.values()),
        trades=list(market.trades.values()),
        late_jobs=options.late_job_count,
        day_index=index,
    )
    for job in day_market.jobs:
        timeline.at(job.at, functools.partial(timeline.post_job, job))


def _morning(timeline: MarketDay, on: date, follow_up_time: clock_time, zone: tzinfo) -> None:
    """Until noon of `on`, waking for the follow-ups' run from an hour before FOLLOW_UP_TIME (a quiet
    morning would sleep through it), as a one-day run's next morning does."""
    asking = datetime.combine(on, follow_up_time, tzinfo=zone)
    timeline.run(end=asking - WAKE_BEFORE)
    timeline.run(end=datetime.combine(on, NEXT_MORNING_ENDS, tzinfo=zone), wake_for=WAKE_FOR)
