"""A small simulated day on the domestic carrier (`dispatch simulate --transport carrier`): the people's
texts go in through the carrier's uplink push, the service's through the simulated carrier (templates
checked), its delivery reports come back through the report push, and a per-number limit of one text a
template a day holds texts back. The same invariants as the Twilio-shaped day's hold: no place
overfilled, every inbound text stored, nothing sent twice (nor a merged offer on its own too).

Small on purpose (the Twilio-shaped days are tests/simulation/test_day.py): no next morning.
"""

from __future__ import annotations

import pytest

from dispatch.simulation.day import DayOptions, DayResult, run_day
from dispatch.simulation.output import table

CARRIER_DAY = DayOptions(
    workers=20,
    employers=3,
    jobs=4,
    late_jobs=2,
    seed=1,
    voice_share=0.0,
    next_morning=False,
    transport="carrier",
    carrier_limit=1,
)


@pytest.fixture(scope="module")
def carrier_day() -> DayResult:
    return run_day(CARRIER_DAY)


def test_the_invariants_of_a_carrier_day_are_zero(carrier_day: DayResult) -> None:
    invariants = carrier_day.report["invariants"]
    assert {"carrier_sent_twice", "merged_also_sent", "overbooked", "lost_inbound"} <= set(invariants)
    assert invariants == dict.fromkeys(invariants, 0)


def test_the_carrier_carried_the_day(carrier_day: DayResult) -> None:
    report = carrier_day.report
    assert report["transport"] == "carrier"
    assert report["carrier_texts_taken"] == report["sms_sent"] > 0
    assert report["carrier_texts_delivered"] == report["carrier_texts_taken"]  # every report pushed
    assert report["carrier_texts_refused"] == 0  # every text the day sends has its carrier template
    # Replies came in by the uplink push (lost_inbound checks each was stored) and took places.
    assert report["people_yes_replies"] >= 1 and report["places_filled"] >= 1
    assert report["texts_delayed_by_limits"] >= 1  # one a template a day: the limit bit


def test_the_table_shows_the_carriers_figures(carrier_day: DayResult) -> None:
    shown = table([carrier_day])
    assert "on the carrier (limit 1)" in shown and "texts delayed by a limit" in shown
