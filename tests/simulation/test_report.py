"""The report's measures on known inputs."""

from __future__ import annotations

from datetime import UTC, date, datetime
from types import SimpleNamespace

import pytest

from dispatch.models import Job, Offer, OfferStatus
from dispatch.simulation.report import OptOut, gini, overbooked, percentile, sent_after_opt_out


@pytest.mark.parametrize(
    ("values", "expected"),
    [
        ([3, 3, 3, 3], 0.0),  # everyone the same
        ([0, 0, 0, 4], 0.75),  # one of four has everything: (n - 1) / n
        ([1, 2, 3, 4], 0.25),
        ([4, 1, 3, 2], 0.25),  # order does not matter
        ([0, 0, 0], 0.0),  # nothing to share
        ([], 0.0),  # nobody
        ([5], 0.0),
    ],
)
def test_gini_on_known_inputs(values, expected) -> None:
    assert gini(values) == pytest.approx(expected)


def test_gini_grows_as_offers_concentrate() -> None:
    assert gini([2, 2, 2, 2, 2]) < gini([1, 1, 2, 3, 3]) < gini([0, 0, 0, 5, 5]) < gini([0, 0, 0, 0, 10])


def test_percentiles_interpolate_between_neighbours() -> None:
    values = list(range(1, 11))  # 1..10
    assert percentile(values, 0.5) == pytest.approx(5.5)
    assert percentile(values, 0.9) == pytest.approx(9.1)
    assert percentile(list(reversed(values)), 0.0) == 1
    assert percentile([7.0], 0.9) == 7.0
    assert percentile([], 0.5) is None


def _job(job_id: int, headcount: int, filled: int, first: date, last: date) -> Job:
    return Job(id=job_id, headcount=headcount, filled=filled, work_date=first, end_date=last)


def _placed(job: Job, worker_id: int) -> Offer:
    return Offer(job_id=job.id, job=job, worker_id=worker_id, status=OfferStatus.ACCEPTED)


def test_overbooking_counts_jobs_over_their_headcount_and_workers_on_two_jobs_at_once() -> None:
    monday, tuesday, wednesday = date(2026, 6, 8), date(2026, 6, 9), date(2026, 6, 10)
    two_days = _job(1, headcount=2, filled=2, first=monday, last=tuesday)
    tuesday_job = _job(2, headcount=1, filled=1, first=tuesday, last=tuesday)
    wednesday_job = _job(3, headcount=1, filled=1, first=wednesday, last=wednesday)
    fine = [_placed(two_days, 10), _placed(two_days, 11), _placed(wednesday_job, 10)]
    assert overbooked([two_days, tuesday_job, wednesday_job], fine) == 0
    # Worker 11 also holds Tuesday's job, which overlaps the two-day job.
    assert overbooked([two_days, tuesday_job, wednesday_job], [*fine, _placed(tuesday_job, 11)]) == 1
    # A third place on a job for two: by its counter, and by its accepted offers.
    counted_over = _job(1, headcount=2, filled=3, first=monday, last=tuesday)
    assert overbooked([counted_over], [_placed(counted_over, 10)]) == 1
    assert overbooked([two_days], [*fine[:2], _placed(two_days, 12)]) == 1


def test_only_the_opt_out_confirmation_may_follow_an_opt_out() -> None:
    sent = [
        SimpleNamespace(id=1, phone="+8613900000001", kind="offer"),  # before the opt-out
        SimpleNamespace(id=2, phone="+8613900000001", kind="opt_out.confirm"),
        SimpleNamespace(id=3, phone="+8613900000002", kind="offer"),  # another number
    ]
    opt_out = OptOut(at=datetime(2026, 6, 10, 2, tzinfo=UTC), sent_before=frozenset({1}))
    assert sent_after_opt_out(sent, {"+8613900000001": opt_out}) == 0
    late = SimpleNamespace(id=4, phone="+8613900000001", kind="offer")
    assert sent_after_opt_out([*sent, late], {"+8613900000001": opt_out}) == 1
