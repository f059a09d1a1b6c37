"""config/matching.toml: ranking weights per policy, priors, and the shape of offer waves."""

from __future__ import annotations

import functools
import itertools
import math
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from dispatch.settings import Settings

FILE_NAME = "matching.toml"
FACTORS = ("distance", "rating", "reliability", "fairness", "experience", "lottery")
POLICIES = ("fair", "greedy", "lottery", "adaptive")


class MatchingConfigError(ValueError):
    """config/matching.toml is missing a value or holds one that cannot be right."""


@dataclass(frozen=True)
class AdaptiveConfig:
    """[adaptive]: the learned estimates, the wave sizing and the fairness budget of that policy."""

    window_days: float  # the record the estimates and the offer shares are read from
    prior_count: float  # a worker's own record weighs this many offers' worth of the population's
    band_prior_count: float  # likewise a band's record against the population's overall rates
    target_fill: float  # the chance, wanted, that the job fills before it must start
    min_wave_target: float  # the least a single wave aims at when many waves fit before the start
    soon_hours: float  # a job starting within this many hours ...
    soon_wave_target: float  # ... has each wave aim at least this high: filled fast, not cheap
    pool_factor: float  # ranked candidates considered per offer the wave may send
    estimate_weight: float  # how much the chance of a yes in time counts against the policy's score
    share_band: float  # a worker's offers may run this far above their fair share (0.5: 1.5x)
    share_slack: float  # ... plus this many offers, so a quiet window does not lock anyone out
    idle_days: float  # not offered for this long: asked first (再服务)
    cache_minutes: float  # the population's rates and fair shares are reused this long (memo.py)
    late_minutes: float  # an offer that lapsed unanswered this recently may still bring a late yes
    late_minutes_max: float  # ... or as long as the record's late answers take, up to this
    min_marginal_yes: float  # an offer less likely than this to fill a place the wave would not: not sent


@dataclass(frozen=True)
class MatchingConfig:
    weights: dict[str, dict[str, float]]  # policy -> factor -> weight (factors with weight 0 left out)
    prior_stars: float
    rating_prior_count: float
    reliability_prior: float
    reliability_prior_count: float
    cancellation_weight: float
    rest_days: float
    offered_share: float
    placed_share: float
    few_share: float
    few_placements: float
    full_years: float
    radius_km: tuple[float, ...]
    acceptance: float
    overfill: float
    max_size: int
    expiry_same_day_minutes: int
    expiry_later_minutes: int
    employer_summary_seconds: int
    adaptive: AdaptiveConfig

    @property
    def last_wave(self) -> int:
        return len(self.radius_km)

    def radius_for(self, wave: int) -> float:
        """The radius of wave `wave` (1-based); waves past the last keep the widest radius."""
        return self.radius_km[min(max(wave, 1), self.last_wave) - 1]

    def wave_size(self, remaining: int) -> int:
        """Offers for `remaining` places: ceil(remaining * overfill / acceptance), capped."""
        if remaining <= 0:
            return 0
        return min(self.max_size, math.ceil(remaining * self.overfill / self.acceptance - 1e-9))


def load(settings: Settings) -> MatchingConfig:
    path = Path(settings.CONFIG_DIR) / FILE_NAME
    try:
        stamp = path.stat().st_mtime_ns
    except FileNotFoundError as exc:
        raise MatchingConfigError(f"{path} is missing") from exc
    return _load(str(path), stamp)


@functools.lru_cache(maxsize=8)
def _load(path: str, _stamp: int) -> MatchingConfig:
    with open(path, "rb") as file:
        data = tomllib.load(file)
    return parse(data, path)


def parse(data: dict[str, Any], source: str = FILE_NAME) -> MatchingConfig:
    def number(section: str, key: str, low: float, high: float = math.inf) -> float:
        try:
            value = data[section][key]
        except KeyError as exc:
            raise MatchingConfigError(f"{source}: [{section}] {key} is missing") from exc
        if isinstance(value, bool) or not isinstance(value, int | float) or not low <= value <= high:
            raise MatchingConfigError(f"{source}: [{section}] {key} must be a number in [{low}, {high}]")
        return float(value)

    weights: dict[str, dict[str, float]] = {}
    for policy in POLICIES:
        table = data.get("policy", {}).get(policy)
        if not isinstance(table, dict) or not table:
            raise MatchingConfigError(f"{source}: [policy.{policy}] is missing")
        unknown = set(table) - set(FACTORS)
        if unknown:
            raise MatchingConfigError(f"{source}: [policy.{policy}] has unknown factors {sorted(unknown)}")
        weights[policy] = {}
        for name, value in table.items():
            if isinstance(value, bool) or not isinstance(value, int | float) or value < 0:
                raise MatchingConfigError(f"{source}: [policy.{policy}] {name} must be a weight >= 0")
            if value > 0:
                weights[policy][name] = float(value)
        if not weights[policy]:
            raise MatchingConfigError(f"{source}: [policy.{policy}] needs a weight above 0")

    radius = data.get("waves", {}).get("radius_km")
    if (
        not isinstance(radius, list)
        or not radius
        or not all(isinstance(r, int | float) and not isinstance(r, bool) and r > 0 for r in radius)
        or any(b <= a for a, b in itertools.pairwise(radius))
    ):
        raise MatchingConfigError(f"{source}: [waves] radius_km must be a widening list of km above 0")

    shares = [number("fairness", key, 0, 1) for key in ("offered_share", "placed_share", "few_share")]
    if abs(sum(shares) - 1) > 1e-6:
        raise MatchingConfigError(f"{source}: [fairness] offered_share + placed_share + few_share must be 1")

    return MatchingConfig(
        weights=weights,
        prior_stars=number("rating", "prior_stars", 1, 5),
        rating_prior_count=number("rating", "prior_count", 0.01),
        reliability_prior=number("reliability", "prior", 0, 1),
        reliability_prior_count=number("reliability", "prior_count", 0.01),
        cancellation_weight=number("reliability", "cancellation_weight", 0),
        rest_days=number("fairness", "rest_days", 0.01),
        offered_share=number("fairness", "offered_share", 0, 1),
        placed_share=number("fairness", "placed_share", 0, 1),
        few_share=number("fairness", "few_share", 0, 1),
        few_placements=number("fairness", "few_placements", 0.01),
        full_years=number("experience", "full_years", 0.01),
        radius_km=tuple(float(r) for r in radius),
        acceptance=number("waves", "acceptance", 0.01, 1),
        overfill=number("waves", "overfill", 1),
        max_size=int(number("waves", "max_size", 1, 1000)),
        expiry_same_day_minutes=int(number("waves", "expiry_same_day_minutes", 1, 24 * 60)),
        expiry_later_minutes=int(number("waves", "expiry_later_minutes", 1, 7 * 24 * 60)),
        employer_summary_seconds=int(number("waves", "employer_summary_seconds", 0, 3600)),
        adaptive=AdaptiveConfig(
            window_days=number("adaptive", "window_days", 1, 365),
            prior_count=number("adaptive", "prior_count", 0.01),
            band_prior_count=number("adaptive", "band_prior_count", 0.01),
            target_fill=number("adaptive", "target_fill", 0.5, 0.999),
            min_wave_target=number("adaptive", "min_wave_target", 0.05, 0.999),
            soon_hours=number("adaptive", "soon_hours", 0, 48),
            soon_wave_target=number("adaptive", "soon_wave_target", 0.05, 0.999),
            pool_factor=number("adaptive", "pool_factor", 1, 20),
            estimate_weight=number("adaptive", "estimate_weight", 0),
            share_band=number("adaptive", "share_band", 0),
            share_slack=number("adaptive", "share_slack", 0),
            idle_days=number("adaptive", "idle_days", 0.01, 365),
            cache_minutes=number("adaptive", "cache_minutes", 0, 24 * 60),
            late_minutes=number("adaptive", "late_minutes", 0, 24 * 60),
            late_minutes_max=number("adaptive", "late_minutes_max", 0, 24 * 60),
            min_marginal_yes=number("adaptive", "min_marginal_yes", 0, 1),
        ),
    )
