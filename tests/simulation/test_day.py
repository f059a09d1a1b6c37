"""A simulated market day through the real webhooks, queue and matcher: its invariants are zero, it
fills places as a working matcher does, and the same seed gives the same day.

The days run on the simulation's own throw-away SQLite and in-process Redis; one runs again on the
test PostgreSQL (in a schema of its own: the test schema is not touched) and the test Redis, where
those are available, and must give the very same report.
"""

from __future__ import annotations

import json

import pytest

from dispatch.cli import main
from dispatch.simulation.day import DayOptions, DayResult, run_day

SMALL = DayOptions(workers=60, employers=8, jobs=12, seed=1)
# A normal day of this market fills about half its places (0.46 with seed 1; 0.32-0.65 over seeds
# 2-7). Sending no offers, or offers whose answers take no place, fills none.
FILL_RATE_FLOOR = 0.25


@pytest.fixture(scope="module")
def small_day() -> DayResult:
    return run_day(SMALL)


def test_the_invariants_of_a_day_are_zero(small_day: DayResult) -> None:
    assert small_day.report["invariants"] == {
        "overbooked": 0,
        "sent_after_opt_out": 0,
        "quiet_hours_sends": 0,
        "lost_inbound": 0,
        "webhook_errors": 0,
        "failed_jobs": 0,
    }


def test_the_invariants_were_put_to_the_test(small_day: DayResult) -> None:
    """Zero means something only if the day had opt-outs, give-backs, texts held for the night and
    jobs filled to the last place."""
    report = small_day.report
    assert report["people_opt_outs"] >= 1
    assert report["people_cancellations"] >= 1
    assert report["quiet_hours_held"] >= 1
    assert report["jobs_filled"] >= 1
    assert report["offers_declined"] >= 1 and report["offers_expired"] >= 1


def test_every_job_is_posted_by_phone_or_sms_and_the_matcher_fills_places(small_day: DayResult) -> None:
    report = small_day.report
    assert report["jobs_posted"] == SMALL.jobs
    assert report["people_calls"] >= 1 and report["people_sms_requests"] >= 1
    assert report["people_calls"] + report["people_sms_requests"] == SMALL.jobs
    assert report["people_calls_not_posted"] == report["people_sms_requests_not_posted"] == 0
    assert report["fill_rate"] > FILL_RATE_FLOOR
    assert report["places_filled"] == report["offers_accepted"]
    assert 0 < report["time_to_fill_median_min"] <= report["time_to_fill_p90_min"]
    assert report["sms_sent"] >= report["offers"] > 0
    assert 0 < report["gini_offers"] < 1 and 0 < report["gini_placements"] < 1


def _cli_day(capsys, *args: str) -> tuple[int, dict]:
    code = main(["simulate", "--workers", "20", "--employers", "3", "--jobs", "4", "--json", *args])
    report = json.loads(capsys.readouterr().out)
    report.pop("run_seconds")
    return code, report


def test_the_same_seed_gives_the_same_day_on_sqlite_and_on_postgresql(capsys, service_urls) -> None:
    code, first = _cli_day(capsys, "--seed", "3")
    assert code == 0 and first["jobs_posted"] == 4 and first["offers"] > 0
    assert _cli_day(capsys, "--seed", "3") == (0, first)
    assert _cli_day(capsys, "--seed", "4")[1] != first
    if not service_urls["database"].startswith("postgresql"):
        pytest.skip("no PostgreSQL for this run: the day ran on SQLite only")
    services = ["--database-url", service_urls["database"]]
    if service_urls["redis"] != "embedded":
        services += ["--redis-url", service_urls["redis"], "--force"]  # the test run's own Redis database
    assert _cli_day(capsys, "--seed", "3", *services) == (0, first)


def test_a_redis_database_holding_keys_is_not_emptied_without_force(capsys, redis, service_urls) -> None:
    if service_urls["redis"] == "embedded":
        pytest.skip("needs a Redis server")
    redis.set("someone:else", "1")
    code = main(
        [
            "simulate",
            "--workers",
            "5",
            "--employers",
            "1",
            "--jobs",
            "1",
            "--redis-url",
            service_urls["redis"],
        ]
    )
    assert code != 0 and "holds keys" in capsys.readouterr().err
    assert redis.get("someone:else") == b"1"


def test_compare_prints_the_three_policies_side_by_side(capsys) -> None:
    code = main(["simulate", "--workers", "12", "--employers", "2", "--jobs", "2", "--compare"])
    out = capsys.readouterr().out
    assert code == 0
    header = next(line for line in out.splitlines() if "fair" in line)
    assert header.split() == ["fair", "greedy", "lottery"]
    row = next(line for line in out.splitlines() if line.startswith("  overbooked places"))
    assert row.split()[-3:] == ["0", "0", "0"]
