"""A run of market days (`dispatch simulate --days N`): one database, the record carried over (the
second day's offers go to the workers the first day registered, the first day's placements are followed
up the next morning while the second day runs), a report per day and over the run; and the run's
fairness measures on known inputs."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta
from types import SimpleNamespace

import pytest

from dispatch.cli import main
from dispatch.models import OfferStatus
from dispatch.simulation.command import POLICIES
from dispatch.simulation.days import RunResult
from dispatch.simulation.run_report import DayWindow, Ledger, figures, left_out
from tests.factories import SHANGHAI
from tests.simulation.days_shared import TWO_DAYS  # the session's `two_days`


def test_each_day_posts_its_own_jobs_and_the_run_adds_them_up(two_days: RunResult) -> None:
    first, second = two_days.days
    assert [first["date"], second["date"]] == ["2026-06-10", "2026-06-11"]
    assert first["jobs_posted"] == second["jobs_posted"] == TWO_DAYS.jobs + TWO_DAYS.late_job_count
    run = two_days.run
    for key in ("jobs_posted", "places_posted", "places_filled", "offers"):
        assert run[key] == first[key] + second[key], key
    assert first["places_posted"] != second["places_posted"] or first["offers"] != second["offers"]
    assert run["sms_sent"] >= first["sms_sent"] + second["sms_sent"]  # and the morning after
    assert 0 < run["fill_rate"] <= 1 and run["offers_per_filled_place"] >= 1
    assert run["time_to_fill_same_day_median_min"] > 0 and run["time_to_fill_later_median_min"] > 0
    assert run["days"] == 2 and run["behaviour"] == "default" and len(two_days.day_seconds) == 2


def test_the_record_carries_over_and_the_first_days_placements_are_followed_up_on_the_second(
    two_days: RunResult,
) -> None:
    run = two_days.run
    assert all(value == 0 for value in run["invariants"].values()), run["invariants"]
    # Seed 2's first day has places on jobs that end that day: asked at 09:00 on the second day,
    # while its employers post; every placement due by the run's end was asked (no missing ones).
    assert run["follow_ups_due"] > 0 and run["follow_ups_asked"] == run["follow_ups_due"]
    # The run's Gini is over offers across both days to one set of eligible workers (one population).
    assert run["eligible_workers"] >= max(day["eligible_workers"] for day in two_days.days)
    assert run["eligible_workers"] <= TWO_DAYS.workers
    assert run["left_out_window_days"] == 2 and run["eligible_left_out"] >= 0


def test_compare_over_days_runs_every_policy(capsys) -> None:
    code = main(
        [
            "simulate",
            *("--workers", "10", "--employers", "2", "--jobs", "2", "--late-jobs", "0"),
            *("--days", "2", "--compare", "--no-next-morning", "--json"),
        ]
    )
    shown = json.loads(capsys.readouterr().out)
    assert code == 0 and list(shown) == list(POLICIES)
    for policy in POLICIES:
        assert [day["day"] for day in shown[policy]["days"]] == [1, 2]
        assert shown[policy]["run"]["jobs_posted"] == 4
        assert sum(shown[policy]["run"]["invariants"].values()) == 0


# -- the measures on known inputs ---------------------------------------------------------------

START = datetime(2026, 6, 10, 0, tzinfo=SHANGHAI).astimezone(UTC)


def _window(day: int, *jobs: int) -> DayWindow:
    start = START + timedelta(days=day)
    return DayWindow(date(2026, 6, 10 + day), start, start + timedelta(days=1), frozenset(jobs))


def _offer(job: int, worker: int, day: int, status: OfferStatus = OfferStatus.DECLINED, **more):
    return SimpleNamespace(
        job_id=job, worker_id=worker, status=status, created_at=START + timedelta(days=day, hours=9), **more
    )


def _ledger(jobs: dict, offers: list) -> Ledger:
    by_job: dict[int, list] = {}
    for offer in offers:
        by_job.setdefault(offer.job_id, []).append(offer)
    posted = {
        job_id: SimpleNamespace(at=START + timedelta(days=job.day, hours=8)) for job_id, job in jobs.items()
    }
    return Ledger(jobs, by_job, [], posted, SHANGHAI)  # type: ignore[arg-type]


def _job(job_id: int, day: int, trade: int = 1, headcount: int = 1, filled: int = 0, starts_on: int = 0):
    return SimpleNamespace(
        id=job_id,
        day=day,
        trade_id=trade,
        headcount=headcount,
        filled=filled,
        work_date=date(2026, 6, 10 + day + starts_on),
    )


def _eligibility(workers: dict[int, tuple[int, tuple[int, ...]]], may_do: dict[int, set[int]]):
    specs = {
        worker: SimpleNamespace(site_id=site, trade_ids=trades) for worker, (site, trades) in workers.items()
    }
    return SimpleNamespace(
        specs=specs,
        jobs=may_do,
        workers_for=lambda ids: sorted(w for w, eligible in may_do.items() if eligible & ids),
    )


def test_a_worker_passed_over_while_a_peer_of_their_site_and_trade_was_offered_is_left_out() -> None:
    jobs = {1: _job(1, day=0), 2: _job(2, day=1), 3: _job(3, day=1, trade=2)}
    # Workers 10 and 11: site 5, trade 1; 12: site 6, trade 1; 13: site 5, trade 2 (only job 3 is theirs).
    eligible = _eligibility(
        {10: (5, (1,)), 11: (5, (1,)), 12: (6, (1,)), 13: (5, (2,))},
        {10: {1, 2}, 11: {1, 2}, 12: {1, 2}, 13: {3}},
    )
    windows = [_window(0, 1), _window(1, 2, 3)]
    offers = [_offer(1, 11, day=0), _offer(2, 11, day=1)]
    found = left_out(_ledger(jobs, offers), windows, eligible, {})  # type: ignore[arg-type]
    # 10 is left out (11 shares site and trade); 12 is of another site; nobody was offered 13's job.
    assert found == {"left_out_window_days": 2, "eligible_left_out": 1, "left_out_workers": [10]}
    # Offered once in the stretch: not left out.
    found = left_out(_ledger(jobs, [*offers, _offer(2, 10, day=1)]), windows, eligible, {})  # type: ignore[arg-type]
    assert found["eligible_left_out"] == 0
    # Opted out before the stretch ended: not counted.
    opted = {10: START + timedelta(hours=3)}
    assert left_out(_ledger(jobs, offers), windows, eligible, opted)["eligible_left_out"] == 0  # type: ignore[arg-type]


def test_the_left_out_stretch_is_seven_days_sliding_over_a_longer_run() -> None:
    jobs = {day: _job(day, day=day) for day in range(9)}
    eligible = _eligibility({10: (5, (1,)), 11: (5, (1,))}, {10: set(jobs), 11: set(jobs)})
    windows = [_window(day, day) for day in range(9)]
    # 11 is offered every day; 10 on day 4 only: no 7-day stretch without an offer for 10.
    offers = [_offer(day, 11, day) for day in range(9)] + [_offer(4, 10, 4)]
    found = left_out(_ledger(jobs, offers), windows, eligible, {})  # type: ignore[arg-type]
    assert found == {"left_out_window_days": 7, "eligible_left_out": 0, "left_out_workers": []}
    # Offered on day 0 only: days 1-7 are a stretch of seven without one.
    offers = [_offer(day, 11, day) for day in range(9)] + [_offer(0, 10, 0)]
    assert left_out(_ledger(jobs, offers), windows, eligible, {})["eligible_left_out"] == 1  # type: ignore[arg-type]


def test_figures_split_time_to_fill_between_same_day_and_later_jobs() -> None:
    accepted = OfferStatus.ACCEPTED
    jobs = {
        1: _job(1, day=0, headcount=2, filled=2),  # starts the day it is posted
        2: _job(2, day=0, filled=1, starts_on=1),  # tomorrow
        3: _job(3, day=0, headcount=2, filled=1),  # not filled
    }
    posted_at = START + timedelta(hours=8)
    offers = [
        _offer(1, 10, 0, accepted, responded_at=posted_at + timedelta(minutes=5)),
        _offer(1, 11, 0, accepted, responded_at=posted_at + timedelta(minutes=12)),
        _offer(2, 12, 0, accepted, responded_at=posted_at + timedelta(minutes=90)),
        _offer(3, 13, 0, accepted, responded_at=posted_at + timedelta(minutes=1)),
        _offer(3, 14, 0),
        _offer(3, 15, 0),
    ]
    eligible = _eligibility({w: (5, (1,)) for w in range(10, 17)}, {w: {1, 2, 3} for w in range(10, 17)})
    shown = figures(_ledger(jobs, offers), frozenset(jobs), 20, eligible)  # type: ignore[arg-type]
    assert shown["places_posted"] == 5 and shown["places_filled"] == 4 and shown["fill_rate"] == 0.8
    assert shown["offers_per_filled_place"] == 1.5 and shown["sms_per_filled_place"] == 5.0
    assert shown["time_to_fill_same_day_median_min"] == 12.0  # from posting to the last place taken
    assert shown["time_to_fill_later_median_min"] == 90.0
    assert shown["eligible_workers"] == 7
    # Six of seven were offered one each, 16 none; four placed.
    assert shown["gini_offers"] == pytest.approx(1 / 7, abs=0.001)
    assert shown["gini_placements"] == pytest.approx(3 / 7, abs=0.001)
