"""The simulation's virtual clock: time-machine moves time for the whole process, so the service's
`dispatch.clock.utcnow()`, RQ's scheduler (`enqueue_at` jobs: offer waves, expiries, held texts) and
the embedded Redis's expiries all read it. Time stands still unless the simulation moves it, so a
day of many hours runs in seconds and the same seed gives the same day.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from types import TracebackType

import time_machine


class VirtualClock:
    """Use as a context manager; time only moves forwards."""

    def __init__(self, start: datetime) -> None:
        self.start = start.astimezone(UTC)
        self._travel = time_machine.travel(self.start, tick=False)
        self._traveller: time_machine.Traveller | None = None

    def __enter__(self) -> VirtualClock:
        self._traveller = self._travel.start()
        return self

    def __exit__(
        self, kind: type[BaseException] | None, value: BaseException | None, tb: TracebackType | None
    ) -> None:
        self._travel.stop()
        self._traveller = None

    def now(self) -> datetime:
        return datetime.now(UTC)

    def advance_to(self, moment: datetime) -> None:
        """Move to `moment`, or stay where we are if it has passed already."""
        if self._traveller is None:
            raise RuntimeError("the virtual clock is not running")
        if moment > self.now():
            self._traveller.move_to(moment)

    def advance(self, delta: timedelta) -> None:
        self.advance_to(self.now() + delta)
