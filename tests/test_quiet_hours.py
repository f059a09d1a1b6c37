from datetime import UTC, datetime, time
from zoneinfo import ZoneInfo

import pytest

from dispatch.quiet_hours import hold_until, quiet_hours_end

NIGHT = (time(21, 0), time(8, 0))
SHANGHAI = "Asia/Shanghai"


def at(hour: int, minute: int = 0, day: int = 10) -> datetime:
    """A moment given in Shanghai time (UTC+8), returned in UTC."""
    return datetime(2026, 12, day, hour, minute, tzinfo=ZoneInfo(SHANGHAI)).astimezone(UTC)


@pytest.mark.parametrize(
    "moment, expected",
    [
        (at(20, 59), None),
        (at(21, 0), at(8, 0, day=11)),
        (at(23, 30), at(8, 0, day=11)),
        (at(0, 10), at(8, 0)),
        (at(7, 59), at(8, 0)),
        (at(8, 0), None),
        (at(12, 0), None),
    ],
)
def test_overnight_window(moment, expected):
    assert quiet_hours_end(moment, NIGHT, SHANGHAI) == expected


def test_a_window_within_one_day():
    lunch = (time(12, 0), time(14, 0))
    assert quiet_hours_end(at(13, 0), lunch, SHANGHAI) == at(14, 0)
    assert quiet_hours_end(at(14, 0), lunch, SHANGHAI) is None
    assert quiet_hours_end(at(11, 59), lunch, SHANGHAI) is None


def test_no_window_holds_nothing():
    assert quiet_hours_end(at(23, 0), None, SHANGHAI) is None


URGENT = (time(6, 0), time(22, 0))


@pytest.mark.parametrize(
    "moment, urgent, expected",
    [
        (at(12, 0), URGENT, None),  # no quiet hours: at once either way
        (at(21, 47), None, at(8, 0, day=11)),  # not urgent: the morning
        (at(21, 47), URGENT, None),  # urgent, inside the urgent hours: at once
        (at(22, 0), URGENT, at(6, 0, day=11)),  # the urgent hours closed at 22:00
        (at(23, 30), URGENT, at(6, 0, day=11)),
        (at(5, 50), URGENT, at(6, 0)),
        (at(6, 10), URGENT, None),
        (at(6, 10), None, at(8, 0)),
        (at(23, 30), (time(7, 0), time(22, 0)), at(7, 0, day=11)),
        (at(23, 30), (time(9, 0), time(22, 0)), at(8, 0, day=11)),  # quiet hours end first
    ],
)
def test_urgent_texts_go_inside_the_urgent_hours(moment, urgent, expected):
    assert hold_until(moment, NIGHT, SHANGHAI, urgent) == expected
