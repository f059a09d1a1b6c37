"""The adaptive policy end to end through a wave (real RQ jobs, a controlled clock): sized from the
learned estimates, the sizing recorded for the job page, the chance of a yes on each offer."""

from __future__ import annotations

from typing import Any

import pytest

from dispatch.matching import waves
from tests.factories import NOW, Market


@pytest.fixture
def settings_overrides() -> dict[str, Any]:
    return {"MATCHING_POLICY": "adaptive"}


def test_direct(runtime, session, market: Market, clock) -> None:
    for _ in range(10):
        market.worker(site="LZ-TX")
    job = market.job(headcount=2)
    session.flush()
    print(waves.send_wave(session, runtime.settings, job.id, 1, NOW))
    print(job.matching)
