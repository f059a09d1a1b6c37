"""The providers' circuit breaker (dispatch/sms/health.py), on the real Redis every worker shares."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from dispatch.sms.health import ProviderHealth, State

NOON = datetime(2026, 3, 10, 4, 0, tzinfo=UTC)


@pytest.fixture
def settings_overrides() -> dict[str, Any]:
    return {
        "SMS_FAILOVER_WINDOW_SECONDS": 60,
        "SMS_FAILOVER_MIN_ATTEMPTS": 4,
        "SMS_FAILOVER_ERROR_RATE": 0.5,
        "SMS_FAILOVER_COOLDOWN_SECONDS": 300,
    }


@pytest.fixture
def health(runtime) -> ProviderHealth:
    return ProviderHealth(runtime.redis, runtime.settings)


def outcomes(health: ProviderHealth, *oks: bool, at: datetime = NOON) -> None:
    for ok in oks:
        health.record("aliyun", ok, at)


def test_too_few_attempts_never_trip_it(health) -> None:
    outcomes(health, False, False, False)
    assert health.check("aliyun", NOON) is State.UP


def test_half_failed_over_enough_attempts_trips_it_for_the_cool_down(health) -> None:
    outcomes(health, True, False, True, False)
    assert health.check("aliyun", NOON) is State.DOWN
    assert health.check("aliyun", NOON + timedelta(seconds=299)) is State.DOWN
    assert health.check("twilio", NOON) is State.UP  # each provider on its own


def test_failures_older_than_the_window_do_not_count(health) -> None:
    outcomes(health, False, False, False)
    outcomes(health, True, True, at=NOON + timedelta(seconds=61))
    assert health.check("aliyun", NOON + timedelta(seconds=61)) is State.UP


def test_one_probe_at_a_time_after_the_cool_down_and_its_outcome_decides(health) -> None:
    outcomes(health, False, False, False, False)
    later = NOON + timedelta(seconds=300)
    assert health.check("aliyun", later) is State.PROBE
    assert health.check("aliyun", later) is State.DOWN  # the probe is out: the others still fail over
    outcomes(health, False, at=later)
    assert health.check("aliyun", later + timedelta(seconds=299)) is State.DOWN  # another cool-down
    again = later + timedelta(seconds=300)
    assert health.check("aliyun", again) is State.PROBE
    outcomes(health, True, at=again)
    assert health.check("aliyun", again) is State.UP


def test_a_probe_whose_worker_died_is_replaced_after_its_lease(health, runtime) -> None:
    outcomes(health, False, False, False, False)
    later = NOON + timedelta(seconds=300)
    assert health.check("aliyun", later) is State.PROBE  # and never recorded
    lease = timedelta(seconds=runtime.settings.SEND_LEASE_SECONDS)
    assert health.check("aliyun", later + lease - timedelta(seconds=1)) is State.DOWN
    assert health.check("aliyun", later + lease) is State.PROBE
