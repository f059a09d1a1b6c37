"""In time: when a job's offers can go so that they arrive, and can be answered, before its start.

Quiet hours hold what nobody asked for until the morning, but a job starting before they end (a job
phoned in at 21:47 for 07:00) cannot wait for the morning: its offers are *urgent* and may go inside
URGENT_HOURS (21:47-22:00, or from 06:00). An offer must reach the worker at least MIN_LEAD_MINUTES
before the start it is for; when no send time allows that, no offer goes and an agent takes the job.

"The start" of an offer is the next working day's start not yet begun: for a one-day job its start;
a job of several days whose first day has begun is still offered for the days ahead (waves.py).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from dispatch.i18n import market_zone
from dispatch.matching.config import MatchingConfig
from dispatch.models import Job
from dispatch.quiet_hours import hold_until
from dispatch.settings import Settings


@dataclass(frozen=True)
class Timing:
    """When a job's offers go out now (`send_at`), for which start (`start`), and whether they use the
    urgent hours (sent during quiet hours, or held only until the urgent hours open)."""

    send_at: datetime
    start: datetime
    urgent: bool


def first_start(settings: Settings, job: Job) -> datetime:
    """When work begins on the job's first day, in the market's time zone."""
    return datetime.combine(job.work_date, job.start_time, tzinfo=market_zone(settings))


def next_start(settings: Settings, job: Job, moment: datetime) -> datetime | None:
    """The start of the first working day that has not begun at `moment`; None when the last has."""
    start = first_start(settings, job)
    for day in range(max(1, job.days)):
        begins = start + timedelta(days=day)
        if begins > moment:
            return begins
    return None


def lead(settings: Settings) -> timedelta:
    return timedelta(minutes=settings.MIN_LEAD_MINUTES)


def send_after(settings: Settings, now: datetime, urgent: bool) -> datetime:
    """When a text queued now goes out: at once, when quiet hours end, or (urgent) when the urgent hours
    open if that comes first."""
    window = settings.urgent_hours if urgent else None
    return hold_until(now, settings.quiet_hours, settings.MARKET_TIMEZONE, window) or now


def plan(settings: Settings, job: Job, now: datetime) -> Timing | None:
    """When offers for the job queued now would go, or None if none could reach a worker at least
    MIN_LEAD_MINUTES before the start they are for (nor the job's last day: waves.py checks that)."""
    start = next_start(settings, job, now)
    if start is None:
        return None
    usual = send_after(settings, now, urgent=False)
    if usual + lead(settings) <= start:
        return Timing(usual, start, urgent=False)
    urgent = send_after(settings, now, urgent=True)
    if urgent + lead(settings) <= start:
        return Timing(urgent, start, urgent=True)  # only in quiet hours can the urgent hours help
    return None


def expiry(settings: Settings, config: MatchingConfig, job: Job, timing: Timing) -> datetime:
    """The usual expiry (sooner for a job starting the day the offer goes), but never later than half
    the lead before the start: a worker who says yes at the last moment still has that long to get
    there, and the next wave (or the agent) still comes before the start."""
    same_day = job.work_date <= timing.send_at.astimezone(market_zone(settings)).date()
    usual = timing.send_at + timedelta(
        minutes=config.expiry_same_day_minutes if same_day else config.expiry_later_minutes
    )
    latest = timing.start - lead(settings) / 2
    # An agent's wave may be sent later than the lead allows (rescue.wave_now): it lapses at the start.
    return min(usual, latest if latest > timing.send_at else timing.start)


def offers_go_at(settings: Settings, job: Job, now: datetime) -> datetime | None:
    """For the employer who just posted the job: when its first offers will go, if not at once
    (within a minute); None when they go now or cannot go in time (an agent takes it instead)."""
    timing = plan(settings, job, now)
    if timing is None or timing.send_at <= now + timedelta(minutes=1):
        return None
    return timing.send_at


def too_late(settings: Settings, job: Job, now: datetime) -> bool:
    """No offer could reach a worker in time for the job's next start (an agent must find people)."""
    return next_start(settings, job, now) is not None and plan(settings, job, now) is None


def posting_notice(settings: Settings, job: Job, now: datetime) -> dict[str, Any]:
    """What the employer who just posted the job is told about its offers (SMS and IVR): `no_time` when
    none can go in time (an agent phones workers), else `offers_at` (market time) when they wait for
    the night to end, and whether that is the next morning."""
    if too_late(settings, job, now):
        return {"no_time": True, "offers_at": None, "offers_next_day": False}
    offers_at = offers_go_at(settings, job, now)
    if offers_at is None:
        return {"no_time": False, "offers_at": None, "offers_next_day": False}
    zone = market_zone(settings)
    local = offers_at.astimezone(zone)
    return {
        "no_time": False,
        "offers_at": local,
        "offers_next_day": local.date() > now.astimezone(zone).date(),
    }
