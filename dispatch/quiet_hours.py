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
