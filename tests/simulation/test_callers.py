"""The callers model (dispatch/simulation/callers.py): the same seed gives the same figures; more agents
never make the speed of answer worse; the routing rule's overflow waits; and, with nobody giving up,
the classic queue agrees with Erlang C computed here independently."""

from __future__ import annotations

import json
import math
from dataclasses import replace
from datetime import time

import pytest

from dispatch.cli import main
from dispatch.simulation.callers import DISTRICT, CallerModel, Layout, draw_callers, simulate_callers
from dispatch.simulation.callers_report import agents_needed, by_agents, simulate_days

BASE = CallerModel(calls_per_hour=30, agents=3, seed=7)


def test_the_same_seed_gives_the_same_day() -> None:
    first = simulate_callers(BASE)
    assert simulate_callers(BASE).summary() == first.summary() and first.waits == simulate_callers(BASE).waits
    assert simulate_callers(replace(BASE, seed=8)).summary() != first.summary()
    # The callers are the same whatever the number of agents (common random numbers).
    assert draw_callers(BASE) == draw_callers(replace(BASE, agents=6))
    assert 240 < first.offered < 360  # 30/h for 10 hours, Poisson


@pytest.mark.parametrize("hold_when_busy", [False, True])
def test_more_agents_are_never_worse(hold_when_busy: bool) -> None:
    rows = by_agents(replace(BASE, hold_when_busy=hold_when_busy), range(1, 8), days=5)
    speed = [row["speed_of_answer_mean_s"] for row in rows]
    served = [row["service_level_20s"] for row in rows]
    abandoned = [row["abandoned_share"] for row in rows]
    assert speed == sorted(speed, reverse=True), speed
    assert served == sorted(served), served
    assert abandoned == sorted(abandoned, reverse=True), abandoned
    assert served[0] < 0.5 < 0.95 < served[-1]  # one agent is far too few, seven plenty
    assert agents_needed(rows) in range(3, 6)


def test_without_hold_when_busy_nobody_free_means_no_hold() -> None:
    """The other rule (`--no-hold-when-busy`): no agent free at arrival, a call-back or a voicemail at
    once, never a wait or a hang-up."""
    day = simulate_callers(replace(BASE, agents=1, hold_when_busy=False))
    assert day.not_held > day.answered > 0
    assert day.abandoned == 0
    assert set(day.waits) == {BASE.answer_delay_seconds}
    assert day.call_backs_asked + day.voicemails == day.not_held


def test_as_built_callers_wait_while_the_agents_are_busy() -> None:
    """One agent on duty and on calls: callers wait for them (some give up), none turned away at once."""
    day = simulate_callers(replace(BASE, agents=1))
    assert day.not_held == 0
    assert day.answered > 0 and day.abandoned > 0
    assert max(day.waits) > BASE.answer_delay_seconds


def test_overflow_skips_levels_with_nobody_on_duty() -> None:
    """Every agent at the district: the town and village levels have nobody on duty, so they cost no
    overflow wait and every caller is answered at once, as routing.reach rules (and a sibling's agents
    never take a caller)."""
    quiet = CallerModel(calls_per_hour=2, agents=3, seed=3, layout=DISTRICT, mean_patience_seconds=None,
                        hold_limit_seconds=None, answer_delay_seconds=5, overflow_seconds=60)  # fmt: skip
    waits = simulate_days(quiet, days=10).waits_by_site
    assert set(waits["LZ"]) == set(waits["LZ-TX"]) == set(waits["LZ-DJ"]) == {5.0}
    assert set(waits["LZ-TX-WYM"]) == set(waits["LZ-DJ-V"]) == {5.0}

    siblings = Layout({"LZ": None, "LZ-TX": "LZ", "LZ-DJ": "LZ"}, {"LZ-TX": 1.0, "LZ-DJ": 1.0}, ("LZ-TX",))
    day = simulate_days(replace(quiet, layout=siblings, hold_when_busy=True), days=5)
    assert "LZ-DJ" not in day.waits_by_site and len(day.waits_by_site["LZ-TX"]) > 0


def erlang_c(agents: int, offered_erlangs: float) -> float:
    """The probability that a caller waits (Erlang C), from Erlang B's recursion (numerically stable)."""
    blocking = 1.0
    for n in range(1, agents + 1):
        blocking = offered_erlangs * blocking / (n + offered_erlangs * blocking)
    rho = offered_erlangs / agents
    return blocking / (1 - rho + rho * blocking)


@pytest.mark.parametrize("agents", [2, 3, 4])
def test_the_classic_queue_agrees_with_erlang_c(agents: int) -> None:
    """M/M/c with nobody giving up: mean wait = C / (cμ - λ), P(wait <= t) = 1 - C e^-(cμ-λ)t."""
    rate, talk = 30 / 3600, 180.0  # λ per second, mean talk (1/μ)
    model = CallerModel(calls_per_hour=30, agents=agents, seed=11, opening=(time(0, 0), time(23, 59)),
                        mean_talk_seconds=talk, wrap_up_seconds=0, mean_patience_seconds=None,
                        call_back_share=0, hold_limit_seconds=None, answer_delay_seconds=0,
                        hold_when_busy=True)  # fmt: skip
    day = simulate_days(model, days=60)
    assert day.abandoned == day.voicemails == day.call_backs_asked == 0 and day.answered == day.offered
    waits_all = day.waits
    drain = agents / talk - rate
    chance = erlang_c(agents, rate * talk)
    expected_mean = chance / drain
    expected_within = 1 - chance * math.exp(-drain * 20)
    mean = sum(waits_all) / len(waits_all)
    within = sum(1 for wait in waits_all if wait <= 20) / len(waits_all)
    assert mean == pytest.approx(expected_mean, rel=0.12, abs=0.5)
    assert within == pytest.approx(expected_within, abs=0.02)
    waited = sum(1 for wait in waits_all if wait > 0) / len(waits_all)
    assert waited == pytest.approx(chance, abs=0.02)


def test_the_command_prints_the_table_by_agents(capsys) -> None:
    code = main(["simulate", "--callers", "20/h", "--agents", "1..4", "--days", "3"])
    out = capsys.readouterr().out
    assert code == 0
    assert out.startswith("Callers who press 0: 20/h 08:00-18:00, 3 days from seed 1")
    rows = [line.split() for line in out.splitlines() if line.split() and line.split()[0] in "1234"]
    assert [row[0] for row in rows] == ["1", "2", "3", "4"]
    assert out.splitlines()[-1].startswith("agents needed (80% of all callers answered within 20 s")

    assert main(["simulate", "--callers", "20/h", "--agents", "2..3", "--days", "2", "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert [row["agents"] for row in report["by_agents"]] == [2, 3]
    assert {"speed_of_answer_mean_s", "service_level_20s", "abandoned_share", "call_backs_asked"} <= set(
        report["by_agents"][0]
    )


@pytest.mark.parametrize("bad", [["--callers", "lots"], ["--callers", "30/h", "--agents", "5..2"]])
def test_nonsense_is_refused(capsys, bad: list[str]) -> None:
    with pytest.raises(SystemExit) as exit_:
        main(["simulate", *bad])
    assert exit_.value.code == 2
