"""Weeks: ISO weeks starting Monday 00:00 in the market's time zone, as UTC bounds for the queries."""

from __future__ import annotations

from datetime import UTC, date, datetime
from itertools import pairwise
from zoneinfo import ZoneInfo

from dispatch.console.reports import periods
from dispatch.console.reports.figures import Figures

SHANGHAI = ZoneInfo("Asia/Shanghai")


def test_a_week_in_shanghai_starts_on_sunday_in_utc() -> None:
    week = periods.parse_week("2026-W48", SHANGHAI)
    assert (week.year, week.number, week.label) == (2026, 48, "2026-W48")
    assert (week.monday, week.sunday) == (date(2026, 11, 23), date(2026, 11, 29))
    assert week.start == datetime(2026, 11, 22, 16, 0, tzinfo=UTC)
    assert week.end == datetime(2026, 11, 29, 16, 0, tzinfo=UTC)


def test_the_week_of_a_moment_is_the_local_one() -> None:
    sunday_night = datetime(2026, 11, 29, 23, 30, tzinfo=SHANGHAI)
    monday_morning = datetime(2026, 11, 30, 0, 10, tzinfo=SHANGHAI)
    assert periods.week_of(sunday_night, SHANGHAI).label == "2026-W48"
    assert periods.week_of(monday_morning, SHANGHAI).label == "2026-W49"
    assert periods.week_of(monday_morning.astimezone(UTC), SHANGHAI).label == "2026-W49"


def test_a_week_across_a_clock_change_is_167_hours() -> None:
    """Markets elsewhere have summer time: the bounds are each Monday's local midnight, not +7 days."""
    berlin = ZoneInfo("Europe/Berlin")
    week = periods.parse_week("2026-W13", berlin)  # summer time starts on Sunday 29 March
    assert week.start == datetime(2026, 3, 22, 23, 0, tzinfo=UTC)
    assert week.end == datetime(2026, 3, 29, 22, 0, tzinfo=UTC)
    assert (week.end - week.start).total_seconds() == 167 * 3600


def test_weeks_ending_crosses_the_year() -> None:
    last = periods.parse_week("2027-W01", SHANGHAI)
    labels = [week.label for week in periods.weeks_ending(last, 3, SHANGHAI)]
    assert labels == ["2026-W52", "2026-W53", "2027-W01"]  # 2026 has 53 ISO weeks
    weeks = periods.weeks_ending(last, 3, SHANGHAI)
    assert all(a.end == b.start for a, b in pairwise(weeks))


def test_what_is_not_a_week() -> None:
    nonsense = ("2026-W99", "2025-W53", "2026-W0", "1999-W10", "2101-W01", "W48", "2026-W48x", "", "48")
    assert [raw for raw in nonsense if periods.parse_week(raw, SHANGHAI) is not None] == []
    assert periods.parse_week("2026w48", SHANGHAI).label == "2026-W48"
    assert periods.parse_week("２０２６-W48", SHANGHAI).label == "2026-W48"  # typed with a Chinese IME


def test_the_count_of_weeks() -> None:
    counts = [periods.parse_count(raw) for raw in ("1", "4", "26", "27", "10000", "9" * 40)]
    assert counts == [1, 4, 26, 26, 26, 26]
    odd = [periods.parse_count(raw) for raw in ("0", "", "-1", "four", "٣", "2.5")]
    assert odd == [1, 4, 4, 4, 4, 4]


def test_times_to_fill() -> None:
    figures = Figures(fill_seconds=[60 * minutes for minutes in (10, 20, 30, 40, 50, 60, 70, 80, 90, 600)])
    assert figures.median_fill_minutes == 55  # the mean of the middle two
    assert figures.p90_fill_minutes == 90  # nearest rank: the 9th of 10
    assert Figures().median_fill_minutes is None and Figures().p90_fill_minutes is None
    assert Figures().fill_rate is None and Figures(places_asked=3, places_filled=1).fill_rate == 1 / 3
