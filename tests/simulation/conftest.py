"""The simulated days the test files share, each run once per session (days_shared.py)."""

from __future__ import annotations

import pytest

from dispatch.simulation.day import DayResult
from dispatch.simulation.days import RunResult
from tests.simulation import days_shared


@pytest.fixture(scope="session")
def small_day() -> DayResult:
    return days_shared.small_day().day


@pytest.fixture(scope="session")
def voice_day() -> DayResult:
    return days_shared.voice_day().day


@pytest.fixture(scope="session")
def two_days() -> RunResult:
    return days_shared.two_days()
