"""Quiet hours: messages nobody just asked for wait until the market's morning."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta

from dispatch.i18n import zone


def quiet_hours_end(now: datetime, window: tuple[time, time] | None, timezone: str) -> datetime | None:
    """If `now` falls inside the window (local time of the market), the UTC moment it ends; else None.

    A window like 21:00-08:00 runs past midnight; 12:00-14:00 does not. The start is inside the
    window, the end is not.
    """
    if window is None:
        return None
    start, end = window
    if start == end:
        return None
    local = now.astimezone(zone(timezone))
    clock = local.time().replace(tzinfo=None)
    if start < end:
        inside = start <= clock < end
        end_day = local.date()
    else:
        inside = clock >= start or clock < end
        end_day = local.date() + timedelta(days=1) if clock >= start else local.date()
    if not inside:
        return None
    local_end = datetime.combine(end_day, end, tzinfo=zone(timezone))
    return local_end.astimezone(UTC)


def hold_until(
    now: datetime,
    quiet: tuple[time, time] | None,
    timezone: str,
    urgent: tuple[time, time] | None = None,
) -> datetime | None:
    """When a text that nobody just asked for, due at `now`, may go: None (at once) or a later moment.

    `urgent`: the hours in which an urgent text (an offer or a reminder for a job that starts before
    quiet hours end) may go even during quiet hours; outside them it waits for them to open, or for
    quiet hours to end, whichever comes first.
    """
    morning = quiet_hours_end(now, quiet, timezone)
    if morning is None or urgent is None or urgent[0] == urgent[1]:
        return morning
    # Outside the urgent hours is a window of its own (22:00-06:00): its end is when they open.
    opens = quiet_hours_end(now, (urgent[1], urgent[0]), timezone)
    if opens is None:
        return None
    return min(opens, morning)
