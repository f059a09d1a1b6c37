"""The simulated day with an announcement (`dispatch simulate --announcement`, issue 18): the market
announces a training through the outreach service, workers sign up past its capacity (the waiting
list), give places back (the list moves up) and turn event texts off, and the invariants hold: never
over capacity, nobody texted the announcement twice, nothing in quiet hours, no announcement after
退订活动, and job offers still after it. Small days: seconds, not minutes."""

from __future__ import annotations

from dataclasses import replace
from datetime import time

import pytest

from dispatch.cli import main
from dispatch.simulation import output
from dispatch.simulation.announcement import AnnouncementPlan
from dispatch.simulation.day import DayOptions, DayResult, run_day

ANNOUNCED_DAY = DayOptions(
    workers=40,
    employers=6,
    jobs=10,
    late_jobs=0,
    seed=1,
    voice_share=0.0,
    next_morning=False,
    announcement=AnnouncementPlan(capacity=4, sign_up_share=0.4, cancel_share=0.5, opt_out_share=0.15),
)
ZERO = {
    "announcement_over_capacity": 0,
    "announcement_texted_twice": 0,
    "announcement_in_quiet_hours": 0,
    "announcement_after_opt_out": 0,
    "events_opt_out_stopped_offers": 0,
}


@pytest.fixture(scope="module")
def announced_day() -> DayResult:
    return run_day(ANNOUNCED_DAY)


def test_the_announcement_invariants_are_zero(announced_day: DayResult) -> None:
    invariants = announced_day.report["invariants"]
    assert {name: invariants[name] for name in ZERO} == ZERO
    assert sum(invariants.values()) == 0  # and the day's own


def test_sign_ups_filled_the_places_and_the_waiting_list_moved(announced_day: DayResult) -> None:
    section = announced_day.report["announcement"]
    assert section["recipients"] == section["texts_sent"] >= 30
    assert section["sign_ups"] > section["capacity"] == 4
    assert section["booked"] == section["capacity"]  # the waiting list filled every place given back
    assert section["put_on_waiting_list"] >= 1
    assert section["cancelled"] >= 1 and section["moved_up"] >= 1
    assert section["people_sign_ups"] == section["sign_ups"]


def test_the_weekly_cap_and_events_opt_out(announced_day: DayResult) -> None:
    section = announced_day.report["announcement"]
    # The second send four hours later: everyone had this week's text, or turned event texts off.
    assert section["second_send_sent"] == 0
    assert section["second_send_capped"] >= 1
    assert section["opted_out_of_announcements"] == section["people_events_opt_outs"] >= 1
    assert section["second_send_opted_out"] == section["opted_out_of_announcements"]
    assert section["offered_jobs_after_opting_out"] >= 1


def test_an_evening_announcement_waits_for_the_morning() -> None:
    """Announced in quiet hours: every text is held to the morning, none goes in the night, and the
    workers sign up when they read it."""
    options = replace(
        ANNOUNCED_DAY,
        workers=16,
        jobs=2,
        next_morning=True,
        announcement=replace(ANNOUNCED_DAY.announcement, at=time(21, 30)),  # type: ignore[type-var]
    )
    report = run_day(options).report
    section = report["announcement"]
    assert section["texts_held_for_quiet_hours"] == section["recipients"] >= 10
    assert section["texts_sent"] == section["recipients"]
    assert report["invariants"]["announcement_in_quiet_hours"] == 0
    assert section["sign_ups"] >= 1


def test_the_default_day_has_no_announcement(small_day: DayResult) -> None:
    assert "announcement" not in small_day.report
    assert not any(name.startswith("announcement") for name in small_day.report["invariants"])


def test_the_table_prints_the_announcement(announced_day: DayResult) -> None:
    printed = output.table([announced_day])
    assert "announcement (a training, 报名 <n>)" in printed
    assert "moved up from the waiting list" in printed


def test_simulate_refuses_a_bad_announcement_time(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["simulate", "--announcement", "25:00"]) == 2
    assert "--announcement" in capsys.readouterr().err
