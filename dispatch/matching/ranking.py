"""Ranking: each factor is a number from 0 to 1 computed in SQL over the candidate pool; a worker's
score is their weighted sum under the chosen policy, and `explain` gives each factor's part of it.

The same expressions rank a wave (over every candidate) and explain one worker, so what an agent
sees is what decided the order. Fair, greedy and lottery differ only in their weights.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from types import SimpleNamespace
from typing import Any, cast

from sqlalchemy import BigInteger, ColumnElement, Float, bindparam, literal
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.functions import GenericFunction

from dispatch.matching.config import MatchingConfig

SECONDS_A_DAY = 86_400
# A prime modulus and a multiplier for the seeded hash behind the lottery and the tie-break.
_MODULUS = 2_147_483_647
_MULTIPLIER = 2_654_435_761


class least(GenericFunction[Any]):
    """LEAST(a, b): PostgreSQL's name; SQLite's two-argument min() does the same."""

    inherit_cache = True


class greatest(GenericFunction[Any]):
    """GREATEST(a, b); SQLite's two-argument max()."""

    inherit_cache = True


@compiles(least, "sqlite")
def _least_sqlite(element: least, compiler: Any, **kw: Any) -> str:
    return f"min({compiler.process(element.clauses, **kw)})"


@compiles(greatest, "sqlite")
def _greatest_sqlite(element: greatest, compiler: Any, **kw: Any) -> str:
    return f"max({compiler.process(element.clauses, **kw)})"


def _f(value: float) -> ColumnElement[float]:
    return literal(float(value), Float())


def _i(value: int) -> ColumnElement[int]:
    return literal(int(value), BigInteger())


def _scaled(value: ColumnElement[int], factor: float) -> ColumnElement[float]:
    """An integer times a float. SQLAlchemy's stubs give an operation its left operand's type, but the
    SQL value is not an integer: the cast corrects the stub and changes nothing at run time."""
    return cast("ColumnElement[float]", value * _f(factor))


@dataclass(frozen=True)
class RankContext:
    """A policy's weights and the priors: what shapes the SQL. What changes from one ranking to the
    next (now, the seed, the wave's radius) is bound at execution, from `parameters`, so one
    statement serves every ranking under a policy and SQLAlchemy compiles it once."""

    config: MatchingConfig
    weights: Mapping[str, float]


_NOW_S = bindparam("now_s", type_=BigInteger())
_INV_RADIUS = bindparam("inv_radius", type_=Float())
_LOTTERY = (bindparam("lottery_a", type_=BigInteger()), bindparam("lottery_b", type_=BigInteger()))
_TIE = (bindparam("tie_a", type_=BigInteger()), bindparam("tie_b", type_=BigInteger()))


def parameters(now: datetime, seed: int, radius_km: float) -> dict[str, Any]:
    """The values `RankContext`'s SQL binds, for one ranking."""
    lottery, tie = _hash_offsets(seed, 0), _hash_offsets(seed, 1)
    return {
        "now_s": int(now.timestamp()),
        "inv_radius": 1 / radius_km,
        "lottery_a": lottery[0],
        "lottery_b": lottery[1],
        "tie_a": tie[0],
        "tie_b": tie[1],
    }


def _distance(c: Any, ctx: RankContext) -> ColumnElement[float]:
    """1 at the job's site, 0 at the edge of the wave's radius."""
    return greatest(_f(1) - c.km * _INV_RADIUS, _f(0))


def _rating(c: Any, ctx: RankContext) -> ColumnElement[float]:
    cfg = ctx.config
    average = (c.rating_sum + _f(cfg.prior_stars * cfg.rating_prior_count)) / (
        c.rating_count + _f(cfg.rating_prior_count)
    )
    return (average - _f(1)) * _f(0.25)


def _reliability(c: Any, ctx: RankContext) -> ColumnElement[float]:
    cfg = ctx.config
    worked = c.placements_worked + _f(cfg.reliability_prior * cfg.reliability_prior_count)
    seen = (
        c.placements_worked
        + c.no_shows
        + c.cancellations * _f(cfg.cancellation_weight)
        + _f(cfg.reliability_prior_count)
    )
    return worked / seen


def _rested(column: Any, ctx: RankContext) -> ColumnElement[float]:
    """0 just now, 1 after `rest_days` (or never): seconds since, capped, over the cap."""
    rest = int(ctx.config.rest_days * SECONDS_A_DAY)
    since = greatest(_NOW_S - column, _i(0))
    return least(since, _i(rest)) * _f(1 / rest)


def _fairness(c: Any, ctx: RankContext) -> ColumnElement[float]:
    cfg = ctx.config
    few = _f(cfg.few_share) / (_f(1) + c.placements_worked * _f(1 / cfg.few_placements))
    return (
        _rested(c.offered_at_s, ctx) * _f(cfg.offered_share)
        + _rested(c.placed_at_s, ctx) * _f(cfg.placed_share)
        + few
    )


def _experience(c: Any, ctx: RankContext) -> ColumnElement[float]:
    full = ctx.config.full_years
    return least(c.years_experience * _f(1 / full), _f(1))


def _hash_offsets(seed: int, salt: int) -> tuple[int, int]:
    first = (seed * 7_919 + salt * 104_729 + 12_345) % _MODULUS
    second = (seed * 31_337 + salt * 65_537 + 54_321) % _MODULUS
    return first, second


def seeded_hash(worker_id: Any, offsets: tuple[Any, Any]) -> ColumnElement[int]:
    """A pseudo-random integer in [0, 2^31 - 1) per worker, fixed for a seed (its two offsets): portable
    SQL arithmetic, every intermediate value below 2^63. The square makes the order differ from seed
    to seed, not merely rotate."""
    mixed = (worker_id * _i(_MULTIPLIER) + offsets[0]) % _i(_MODULUS)
    return (mixed * mixed + offsets[1]) % _i(_MODULUS)


def seeded_hash_value(worker_id: int, seed: int) -> int:
    """The lottery's `seeded_hash` computed in Python, for checks."""
    first, second = _hash_offsets(seed, 0)
    mixed = (worker_id * _MULTIPLIER + first) % _MODULUS
    return (mixed * mixed + second) % _MODULUS


def tiebreak_value(worker_id: int, seed: int) -> int:
    """`tiebreak_column` computed in Python, for checks."""
    return (worker_id * _MULTIPLIER + _hash_offsets(seed, 1)[0]) % _MODULUS


def _lottery(c: Any, ctx: RankContext) -> ColumnElement[float]:
    return _scaled(seeded_hash(c.worker_id, _LOTTERY), 1 / _MODULUS)


FACTOR_SQL: dict[str, Callable[[Any, RankContext], ColumnElement[float]]] = {
    "distance": _distance,
    "rating": _rating,
    "reliability": _reliability,
    "fairness": _fairness,
    "experience": _experience,
    "lottery": _lottery,
}


def factor_columns(c: Any, ctx: RankContext) -> dict[str, ColumnElement[float]]:
    """The policy's factors as SQL over columns `c`: the pool's, with `km` from the worker's home site."""
    return {name: FACTOR_SQL[name](c, ctx).label(f"f_{name}") for name in ctx.weights}


def score_column(c: Any, ctx: RankContext) -> ColumnElement[float]:
    """The weighted sum of the factors, with the weights folded into the constants: this runs for
    every candidate in reach (tens of thousands at a busy site), so it does as little arithmetic as
    it can. Algebraically the sum of `factor_columns` times the weights (tests hold it to that);
    `c.distance_share` is the weighted distance factor, worked out once per site."""
    cfg, weights = ctx.config, ctx.weights
    terms: list[ColumnElement[float]] = []
    if "distance" in weights:
        terms.append(c.distance_share)
    if "rating" in weights:
        k = weights["rating"] * 0.25
        average = (c.rating_sum + _f(cfg.prior_stars * cfg.rating_prior_count)) / (
            c.rating_count + _f(cfg.rating_prior_count)
        )
        terms.append(average * _f(k) - _f(k))
    if "reliability" in weights:
        worked = c.placements_worked + _f(cfg.reliability_prior * cfg.reliability_prior_count)
        seen = (
            c.placements_worked
            + c.no_shows
            + c.cancellations * _f(cfg.cancellation_weight)
            + _f(cfg.reliability_prior_count)
        )
        terms.append(worked / seen * _f(weights["reliability"]))
    if "fairness" in weights:
        rest = int(cfg.rest_days * SECONDS_A_DAY)
        w = weights["fairness"]
        for column, share in ((c.offered_at_s, cfg.offered_share), (c.placed_at_s, cfg.placed_share)):
            rested = least(greatest(_NOW_S - column, _i(0)), _i(rest))
            terms.append(rested * _f(w * share / rest))
        terms.append(_f(w * cfg.few_share) / (_f(1) + c.placements_worked * _f(1 / cfg.few_placements)))
    if "experience" in weights:
        w = weights["experience"]
        terms.append(least(c.years_experience * _f(w / cfg.full_years), _f(w)))
    if "lottery" in weights:
        terms.append(_scaled(seeded_hash(c.worker_id, _LOTTERY), weights["lottery"] / _MODULUS))
    total = terms[0]
    for term in terms[1:]:
        total = total + term
    return total.label("score")


def distance_share(km: Any, ctx: RankContext) -> ColumnElement[float]:
    """The weighted distance factor of a site `km` from the job's (0 when the policy ignores distance)."""
    weight = ctx.weights.get("distance", 0.0)
    return (_distance(SimpleNamespace(km=km), ctx) * _f(weight)).label("distance_share")


def tiebreak_column(c: Any, ctx: RankContext) -> ColumnElement[int]:
    """Equal scores are ordered by a seeded shuffle, so no worker is always first among equals. A
    single multiply-add-modulo (a permutation of worker ids) is enough to break ties, and cheap: it
    runs for every candidate in reach."""
    return ((c.worker_id * _i(_MULTIPLIER) + _TIE[0]) % _i(_MODULUS)).label("tiebreak")


@dataclass(frozen=True)
class Explanation:
    """Each factor's part of a worker's score (weight x factor); the parts sum to the score."""

    policy: str
    score: float
    shares: dict[str, float]
    factors: dict[str, float]
    km: float | None
    # What the adaptive policy adds (adaptive.py): the learned estimate and the offer budget.
    extra: Mapping[str, Any] = field(default_factory=dict)

    def as_json(self) -> dict[str, Any]:
        return {
            "policy": self.policy,
            "score": self.score,
            "km": None if self.km is None else round(self.km, 3),
            "shares": self.shares,
            "factors": self.factors,
            **self.extra,
        }


def explanation(
    policy: str, weights: Mapping[str, float], row: Mapping[Any, Any], km: float | None
) -> Explanation:
    """From a row holding the f_<factor> columns of `factor_columns`."""
    factors = {name: float(row[f"f_{name}"]) for name in weights}
    shares = {name: weights[name] * value for name, value in factors.items()}
    return Explanation(policy=policy, score=sum(shares.values()), shares=shares, factors=factors, km=km)
