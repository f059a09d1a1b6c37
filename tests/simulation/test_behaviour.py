"""The population's behaviour from a file (`--behaviour FILE`): the default draws the workers the simulator
always drew, draw for draw; the shipped files parse and give the population they describe; a bad file
is refused before any day runs."""

from __future__ import annotations

import hashlib
from datetime import date
from pathlib import Path
from statistics import fmean

import pytest

from dispatch.cli import main
from dispatch.simulation import behaviour
from dispatch.simulation.behaviour import DEFAULT, Taste, load, parse
from dispatch.simulation.market import Market, SiteInfo, TradeInfo, build_market
from dispatch.simulation.people import acceptance

FILES = Path(__file__).parents[2] / "config" / "simulation"
SITES = [SiteInfo(i, f"s{i}", "town", None, i, "镇", 30 + i * 0.01, 114 + i * 0.01) for i in range(1, 6)]
TRADES = [
    TradeInfo(i, code, str(i), "工")
    for i, code in enumerate(("general_labourer", "porter", "cleaner", "plumber_electrician", "welder"), 1)
]
# The 300 workers seed 1 drew before behaviour files (market.py's own formulas), fingerprinted: their
# answer rate, pace, cancel and opt-out rates, pay floor, home and name; 16 never answered, 30 were flaky.
TODAYS_WORKERS = ("07cdce751d25444c", 16, 30)


def _market(kind: behaviour.Behaviour, seed: int = 1, workers: int = 300) -> Market:
    return build_market(
        seed,
        workers=workers,
        employers=5,
        jobs=5,
        day=date(2026, 6, 10),
        timezone="Asia/Shanghai",
        sites=SITES,
        trades=TRADES,
        behaviour=kind,
    )


def _fingerprint(market: Market) -> tuple[str, int, int]:
    rows = [
        (w.answer_rate, w.median_delay_minutes, w.cancel_rate, w.opt_out_rate, w.min_pay, w.site_id, w.name)
        for w in market.workers
    ]
    digest = hashlib.sha256(repr(rows).encode()).hexdigest()[:16]
    return digest, sum(row[0] == 0 for row in rows), sum(row[2] == 0.4 for row in rows)


def test_the_default_behaviour_draws_todays_workers_and_default_toml_is_the_default() -> None:
    assert _fingerprint(_market(DEFAULT)) == TODAYS_WORKERS
    from_file = load(FILES / "default.toml")
    assert from_file.groups == DEFAULT.groups
    assert _market(from_file) == _market(DEFAULT)
    assert all(worker.taste == Taste() for worker in _market(from_file).workers)


def test_the_shipped_files_give_the_population_they_describe() -> None:
    default = _market(DEFAULT).workers
    busy = _market(load(FILES / "busy-season.toml")).workers
    split = _market(load(FILES / "split.toml")).workers
    # Busy season: fewer offers answered, and later.
    assert fmean(w.answer_rate for w in busy) < 0.6 * fmean(w.answer_rate for w in default)
    assert fmean(w.median_delay_minutes for w in busy) > 3 * fmean(w.median_delay_minutes for w in default)
    # Split: about 45 % never answer, 15 % answer nearly all; the rest care much about pay.
    never = sum(w.answer_rate == 0 for w in split) / len(split)
    keen = [w for w in split if w.answer_rate >= 0.95 and w.taste.pay_base == 0.9]
    assert 0.38 < never < 0.52 and 0.1 < len(keen) / len(split) < 0.2
    sensitive = [w for w in split if w.taste.pay_slope > 2]
    assert all(acceptance(300, 300, 0, w.taste) < 0.15 < acceptance(420, 300, 0, w.taste) for w in sensitive)
    # The population itself (trades, homes, pay floors) is the same whatever the behaviour.
    assert [(w.trade_ids, w.site_id, w.min_pay) for w in split] == [
        (w.trade_ids, w.site_id, w.min_pay) for w in default
    ]


def test_distributions_and_mixtures_are_drawn_from_each_workers_stream() -> None:
    kind = parse(
        {
            "answer_rate": [{"share": 1, "value": 0.2}, {"share": 3, "uniform": [0.8, 0.9]}],
            "median_delay_minutes": {"lognormal": [10, 0.3]},
            "pay_slope": {"normal": [2.0, 0.5]},
            "silent_no": 0,
        }
    )
    workers = _market(kind, workers=400).workers
    low = sum(w.answer_rate == 0.2 for w in workers) / len(workers)
    assert 0.18 < low < 0.32  # a share of 1 in 4
    assert all(w.answer_rate == 0.2 or 0.8 <= w.answer_rate <= 0.9 for w in workers)
    assert 8 < sorted(w.median_delay_minutes for w in workers)[200] < 12
    assert 1.8 < fmean(w.taste.pay_slope for w in workers) < 2.2
    assert {w.taste.silent_no for w in workers} == {0.0}
    assert _market(kind, workers=400) == _market(kind, workers=400)  # the seed decides


@pytest.mark.parametrize(
    ("raw", "says"),
    [
        ({"answer_rate": "often"}, "answer_rate"),
        ({"answer_rate": {"uniform": [0.5]}}, "uniform"),
        ({"answer_rate": [{"value": 0.5}]}, "share"),
        ({"answer_ratio": 0.5}, "unknown parameter"),
        ({"group": [{"name": "a", "answer_rate": 0.5}]}, "share"),
    ],
)
def test_a_bad_behaviour_says_what_is_wrong(raw, says) -> None:
    with pytest.raises(ValueError, match=says):
        parse(raw)


def test_simulate_refuses_a_bad_behaviour_file_before_running_anything(capsys, tmp_path) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text("answer_rate = [0.5\n", encoding="utf-8")
    assert main(["simulate", "--behaviour", str(bad)]) == 2
    assert "bad.toml" in capsys.readouterr().err
    assert main(["simulate", "--behaviour", str(tmp_path / "missing.toml")]) == 2
    assert main(["simulate", "--days", "0"]) == 2
