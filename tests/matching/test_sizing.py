"""Wave sizing: the Poisson-binomial chance of enough yeses, how many waves fit before a start, each
wave's share of the job's target, and the cut of a ranked list at the target."""

from __future__ import annotations

import itertools
import math
from datetime import timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from dispatch.matching import sizing
from tests.factories import NOW


def brute_force(needed: int, chances: list[float]) -> float:
    total = 0.0
    for answers in itertools.product((0, 1), repeat=len(chances)):
        if sum(answers) >= needed:
            total += math.prod(p if yes else 1 - p for p, yes in zip(chances, answers, strict=True))
    return total


@given(
    st.integers(min_value=0, max_value=6),
    st.lists(st.floats(min_value=0, max_value=1), max_size=9),
)
def test_chance_at_least_is_the_poisson_binomial(needed: int, chances: list[float]) -> None:
    assert sizing.chance_at_least(needed, chances) == pytest.approx(brute_force(needed, chances), abs=1e-9)


def test_waves_left_before_the_start() -> None:
    lead, expiry = timedelta(minutes=60), timedelta(minutes=10)
    assert sizing.waves_left(NOW, NOW + timedelta(hours=2), lead, expiry) == 6
    assert sizing.waves_left(NOW, NOW + timedelta(minutes=65), lead, expiry) == 1  # never below one
    assert sizing.waves_left(NOW, NOW + timedelta(days=7), lead, timedelta(minutes=60)) == 7 * 24 - 1


def test_one_wave_left_aims_at_the_whole_target_many_at_a_share() -> None:
    assert sizing.wave_target(0.9, 1, 0.5) == pytest.approx(0.9)
    assert sizing.wave_target(0.9, 2, 0.5) == pytest.approx(1 - math.sqrt(0.1))  # two at 68%: 90%
    assert sizing.wave_target(0.9, 100, 0.5) == 0.5  # the floor
    assert sizing.wave_target(0.9, 100, 0.8) == 0.8  # a job starting soon: a higher floor


def test_choose_takes_the_fewest_that_reach_the_target() -> None:
    ranked = [0.8, 0.7, 0.6, 0.5, 0.4, 0.3]
    one = sizing.choose(1, 0.9, 1, [], ranked, room=30)
    assert one.offers == 2 and one.chance == pytest.approx(1 - 0.2 * 0.3)  # 94%: one offer was 80%
    assert not one.capped and one.expected_yes == pytest.approx(1.5)
    # two places, the whole target: more offers; a narrow aim (a week to go): fewer
    assert sizing.choose(2, 0.9, 1, [], ranked, room=30).offers == 5
    assert sizing.choose(2, 0.5, 20, [], ranked, room=30).offers == 2  # 0.8 x 0.7 = 56%


def test_offers_still_out_count_and_the_cap_holds() -> None:
    waiting = sizing.choose(1, 0.9, 1, [0.8, 0.7], [0.9], room=30)
    assert waiting.offers == 0 and not waiting.capped and waiting.still_open == 2
    capped = sizing.choose(3, 0.9, 1, [], [0.5] * 10, room=4)
    assert capped.offers == 4 and capped.capped and capped.chance == pytest.approx(brute_force(3, [0.5] * 4))
    nobody = sizing.choose(1, 0.9, 1, [], [], room=30)
    assert nobody.offers == 0 and nobody.capped


def test_offers_lapsed_lately_count_beside_those_still_open() -> None:
    # one open offer (50%) and two lapsed (30% each, a late yes): 1 - 0.5 x 0.7 x 0.7 = 75.5%
    sized = sizing.choose(1, 0.7, 1, [0.5, 0.3, 0.3], [0.9], room=30, lapsed=2)
    assert sized.offers == 0 and sized.still_open == 1 and sized.lapsed == 2
    assert sized.as_json()["lapsed"] == 2 and sized.chance == pytest.approx(1 - 0.5 * 0.7 * 0.7)
    # without them the wave would ask one more
    assert sizing.choose(1, 0.7, 1, [0.5], [0.9], room=30).offers == 1


def test_an_offer_unlikely_to_fill_a_place_is_passed_over() -> None:
    """Three places, chances 0.6, 0.02 (who never answers, on the record), 0.5: the 0.02 would add
    at most 0.02 of a place and is passed over; the likelier one behind it is still asked."""
    ranked = [0.6, 0.02, 0.5, 0.03]
    sized = sizing.choose(3, 0.9, 1, [], ranked, room=30, min_marginal=0.05)
    assert sized.picked == (0, 2) and sized.offers == 2 and sized.passed_over == 2
    assert sized.capped and sized.as_json()["passed_over"] == 2
    assert sized.expected_yes == pytest.approx(1.1)
    # without the rule every one of them is asked, as before
    assert sizing.choose(3, 0.9, 1, [], ranked, room=30).picked == (0, 1, 2, 3)


def test_the_marginal_rule_weighs_the_chance_the_wave_falls_short() -> None:
    """0.3 is worth asking while the wave may fall short, not once two 0.95s all but fill one place."""
    assert sizing.choose(1, 0.999, 1, [], [0.3], room=30, min_marginal=0.05).picked == (0,)
    sure = sizing.choose(1, 0.9999, 1, [0.95, 0.95], [0.3], room=30, min_marginal=0.05)
    assert sure.offers == 0 and sure.passed_over == 1  # 0.3 x 0.0025 short: 0.00075 of a place


def test_a_slow_answerer_is_worth_asking_though_unlikely_in_time() -> None:
    """0.02 in time but 0.6 at all (answers late: a late yes still takes a place that is left) is
    asked; 0.02 in time and 0.03 at all (never answers) is not."""
    sized = sizing.choose(
        2, 0.9, 1, [], [0.5, 0.02, 0.02], room=30, min_marginal=0.05, worth=[0.7, 0.6, 0.03]
    )
    assert sized.picked == (0, 1) and sized.passed_over == 1
    assert sized.expected_yes == pytest.approx(0.52)  # the aim is still read on the chances in time


def test_an_owed_offer_and_a_jobs_only_offer_go_however_unlikely() -> None:
    # nothing out: the first is asked (one offer at a time, not none), however unlikely
    alone = sizing.choose(1, 0.9, 1, [], [0.01, 0.01], room=30, min_marginal=0.05)
    assert alone.picked == (0,) and alone.passed_over == 1
    # owed (re-service, or nothing on record yet): asked whatever their chance
    owed = sizing.choose(1, 0.9, 1, [0.5], [0.01, 0.01, 0.01], room=30, min_marginal=0.05, owed=[False, True])
    assert owed.picked == (1,) and owed.passed_over == 2


def test_quiet_hours_hold_waves_until_the_morning() -> None:
    """Posted at 20:00 for 09:00 the next day: an hour's wave before quiet hours (21:00-08:00), then
    none until 08:00, and the 08:00 wave would lapse past the lead: one wave, not twelve."""
    evening = NOW.replace(hour=20, minute=0)
    start = evening + timedelta(hours=13)
    hour, lead = timedelta(minutes=60), timedelta(minutes=30)

    def held(due):
        local = due.astimezone(NOW.tzinfo)
        if local.hour >= 21 or local.hour < 8:
            morning = local.replace(hour=8, minute=0, second=0, microsecond=0)
            return morning + timedelta(days=1) if local.hour >= 21 else morning
        return due

    assert sizing.waves_left(evening, start, lead, hour) == 12  # the clock alone
    assert sizing.waves_left(evening, start, lead, hour, held) == 1
    # the next morning's start at 11:00 leaves two more waves after quiet hours
    assert sizing.waves_left(evening, start + timedelta(hours=2), lead, hour, held) == 3
