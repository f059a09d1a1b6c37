"""The weeks a report covers: ISO weeks (Monday 00:00 to Monday 00:00) in the market's time zone.

A supervisor thinks of "week 48" as the market's week, so a job posted at 23:30 on Sunday (local) is
in that week even though it is already Sunday 15:30 UTC; each week is turned into UTC bounds once
here, and the queries only ever compare stored UTC times with those bounds.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

DEFAULT_WEEKS = 4  # the current week and the 3 before it
MAX_WEEKS = 26  # half a year: more would be a page nobody reads (and a slow one)
FIRST_YEAR, LAST_YEAR = 2000, 2100  # outside these a "week" is a typo, not a report
_WEEK = re.compile(r"(\d{4})-?W(\d{1,2})", re.IGNORECASE)


@dataclass(frozen=True)
class Week:
    year: int
    number: int
    monday: date  # local date of its first day
    start: datetime  # UTC, inclusive
    end: datetime  # UTC, exclusive (the next Monday 00:00 local)

    @property
    def label(self) -> str:
        return f"{self.year}-W{self.number:02d}"

    @property
    def sunday(self) -> date:
        return self.monday + timedelta(days=6)

    @property
    def next_monday(self) -> date:
        return self.monday + timedelta(days=7)


def week_starting(monday: date, zone: ZoneInfo) -> Week:
    year, number, _ = monday.isocalendar()
    start = datetime.combine(monday, time(0), tzinfo=zone).astimezone(UTC)
    end = datetime.combine(monday + timedelta(days=7), time(0), tzinfo=zone).astimezone(UTC)
    return Week(year, number, monday, start, end)


def week_of(moment: datetime, zone: ZoneInfo) -> Week:
    """The market's week that `moment` (an aware datetime) falls in."""
    local = moment.astimezone(zone).date()
    return week_starting(local - timedelta(days=local.weekday()), zone)


def parse_week(raw: str, zone: ZoneInfo) -> Week | None:
    """`2026-W48` (what `<input type="week">` sends; `2026W48` too), or None for anything else,
    a week 53 in a year that has none included."""
    match = _WEEK.fullmatch(raw.strip())
    if match is None:
        return None
    year, number = int(match.group(1)), int(match.group(2))
    if not FIRST_YEAR <= year <= LAST_YEAR:
        return None
    try:
        monday = date.fromisocalendar(year, number, 1)
    except ValueError:
        return None
    return week_starting(monday, zone)


def parse_count(raw: str) -> int:
    """How many weeks: ASCII digits, capped at MAX_WEEKS; anything else is the default."""
    raw = raw.strip()
    if not (raw.isascii() and raw.isdigit()):
        return DEFAULT_WEEKS
    value = int(raw) if len(raw) <= 6 else MAX_WEEKS  # a 20-digit count is still just "many"
    return max(1, min(value, MAX_WEEKS))


def weeks_ending(last: Week, count: int, zone: ZoneInfo) -> list[Week]:
    """`count` consecutive weeks ending with `last`, oldest first."""
    return [week_starting(last.monday - timedelta(weeks=back), zone) for back in range(count - 1, -1, -1)]
