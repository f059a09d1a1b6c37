"""The market's time zone: days, opening hours and quiet hours are the market's, not UTC's."""

from __future__ import annotations

from functools import cache
from typing import Protocol
from zoneinfo import ZoneInfo


class HasMarketTimezone(Protocol):
    @property
    def MARKET_TIMEZONE(self) -> str: ...  # read-only: Settings is a frozen dataclass


@cache
def zone(name: str) -> ZoneInfo:
    """The time zone called `name` (an IANA name such as Asia/Shanghai); raises ZoneInfoNotFoundError
    or ValueError for a name that is none."""
    return ZoneInfo(name)


def market_zone(settings: HasMarketTimezone) -> ZoneInfo:
    """The market's time zone, from its settings (MARKET_TIMEZONE)."""
    return zone(settings.MARKET_TIMEZONE)
