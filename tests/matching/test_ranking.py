"""Ranking: what each factor rewards, and the three policies on one code path."""

from __future__ import annotations

import tomllib
from collections import Counter
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from dispatch.matching import candidates
from dispatch.matching import config as matching_config
from dispatch.matching.config import MatchingConfigError, parse
from dispatch.models import Offer
from dispatch.settings import PROJECT_ROOT
from tests.factories import Market, commit
from tests.helpers import run_jobs

NOW = datetime(2026, 12, 1, 2, 0, tzinfo=UTC)


def ranked(market: Market, runtime, job, policy: str = "fair", seed: int = 1, limit: int = 10) -> list[int]:  # type: ignore[no-untyped-def]
    config = matching_config.load(runtime.settings)
    found = candidates.rank(
        market.session, job, radius_km=4.0, limit=limit, policy=policy, config=config, seed=seed, now=NOW
    )
    return [c.worker_id for c in found]


def test_nearer_comes_first(market: Market, runtime) -> None:
    job = market.job(site="LZ-TX")
    far, near, here = market.worker(site="LZ-CQ"), market.worker(site="LZ-XJ"), market.worker(site="LZ-TX")
    assert ranked(market, runtime, job) == [here.id, near.id, far.id]


def test_one_five_star_review_does_not_beat_twenty_good_ones(market: Market, runtime) -> None:
    job = market.job()
    lucky = market.worker(rating=(5, 1))
    steady = market.worker(rating=(96, 20))  # 4.8 on average
    unrated = market.worker()
    assert ranked(market, runtime, job, policy="greedy") == [steady.id, lucky.id, unrated.id]


def test_no_shows_and_cancellations_cost_reliability(market: Market, runtime) -> None:
    job = market.job()
    flaky = market.worker(placements=10, no_shows=3)
    fickle = market.worker(placements=10, cancellations=3)  # a cancellation counts as half a no-show
    solid = market.worker(placements=10)
    assert ranked(market, runtime, job) == [solid.id, fickle.id, flaky.id]


def test_rotation_puts_the_recently_offered_and_placed_last(market: Market, runtime) -> None:
    job = market.job()
    offered_now = market.worker(last_offered_at=NOW - timedelta(hours=1))
    placed_lately = market.worker(last_placed_at=NOW - timedelta(days=2))
    rested = market.worker(last_offered_at=NOW - timedelta(days=20), last_placed_at=NOW - timedelta(days=30))
    assert ranked(market, runtime, job) == [rested.id, placed_lately.id, offered_now.id]
    # Greedy ignores the rotation: equals stay in their seeded order whatever their history.
    assert set(ranked(market, runtime, job, policy="greedy")) == {rested.id, placed_lately.id, offered_now.id}


def test_experience_in_the_trade_counts(market: Market, runtime) -> None:
    job = market.job()
    novice = market.worker(years=0)
    veteran = market.worker(years=15)
    middling = market.worker(years=5)
    assert ranked(market, runtime, job) == [veteran.id, middling.id, novice.id]


def test_greedy_takes_the_best_fit_even_if_just_offered(market: Market, runtime) -> None:
    job = market.job()
    star = market.worker(rating=(50, 10), last_offered_at=NOW - timedelta(minutes=30))
    fresh = market.worker(rating=(12, 3))
    assert ranked(market, runtime, job, policy="greedy") == [star.id, fresh.id]
    assert ranked(market, runtime, job, policy="fair") == [fresh.id, star.id]


def test_the_lottery_is_random_among_the_eligible_and_fixed_by_its_seed(market: Market, runtime) -> None:
    job = market.job()
    workers = [market.worker(rating=(5 * i, i), site=site) for i, site in enumerate(["LZ-TX", "LZ-XJ"] * 3)]
    market.worker(pay=400)  # not eligible: never drawn
    assert ranked(market, runtime, job, policy="lottery", seed=7) == ranked(
        market, runtime, job, "lottery", 7
    )
    firsts = Counter(
        ranked(market, runtime, job, policy="lottery", seed=seed, limit=1)[0] for seed in range(60)
    )
    assert set(firsts) == {w.id for w in workers}  # anyone may come first, whatever the rating or place
    orders = {tuple(ranked(market, runtime, job, policy="lottery", seed=seed)) for seed in range(10)}
    assert len(orders) >= 8


def test_the_three_policies_pick_from_the_same_workers(market: Market, runtime) -> None:
    job = market.job()
    eligible = {
        market.worker(site=site, years=years).id for site, years in [("LZ-TX", 1), ("LZ-XJ", 9), ("LZ-CQ", 4)]
    }
    market.worker(site="LZ-XBT")  # outside 4 km
    for policy in ("fair", "greedy", "lottery"):
        assert set(ranked(market, runtime, job, policy=policy)) == eligible


@pytest.mark.parametrize("settings_overrides", [{"MATCHING_POLICY": "greedy"}])
def test_the_setting_picks_the_policy(runtime, session, market: Market) -> None:
    market.worker()
    job = market.job()
    commit(runtime, session)
    run_jobs(runtime)
    [offer] = session.scalars(select(Offer).where(Offer.job_id == job.id)).all()
    assert offer.explanation["policy"] == "greedy"
    assert set(offer.explanation["shares"]) == {"distance", "rating"}


# -- config/matching.toml -------------------------------------------------------------------------


def _config() -> dict:
    with (PROJECT_ROOT / "config" / "matching.toml").open("rb") as file:
        return tomllib.load(file)


def test_the_shipped_config_reads() -> None:
    config = parse(_config())
    assert config.radius_km == (1.0, 3.0, 8.0, 20.0)
    assert [config.wave_size(n) for n in (0, 1, 2, 3, 10, 99)] == [0, 3, 6, 9, 30, 30]
    assert [config.radius_for(wave) for wave in (1, 4, 5)] == [1.0, 20.0, 20.0]
    assert sum(config.weights["fair"].values()) == pytest.approx(1)


@pytest.mark.parametrize(
    ("section", "key", "value"),
    [
        ("waves", "radius_km", [4.0, 2.0]),
        ("waves", "radius_km", []),
        ("waves", "acceptance", 0),
        ("waves", "overfill", 0.5),
        ("waves", "max_size", 0),
        ("rating", "prior_stars", 6),
        ("fairness", "few_share", 0.5),
        ("policy", "fair", {"charm": 1.0}),
        ("policy", "greedy", {"distance": -1}),
        ("policy", "lottery", {"lottery": 0}),
        ("reliability", "prior", "high"),
        ("policy", "adaptive", {}),
        ("adaptive", "target_fill", 1.0),
        ("adaptive", "min_wave_target", 0),
        ("adaptive", "window_days", 0),
        ("adaptive", "idle_days", "a week"),
        ("adaptive", "late_minutes", -5),
    ],
)
def test_a_bad_value_is_refused(section: str, key: str, value) -> None:  # type: ignore[no-untyped-def]
    data = _config()
    data[section][key] = value
    with pytest.raises(MatchingConfigError):
        parse(data)
