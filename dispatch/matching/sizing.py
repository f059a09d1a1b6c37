"""Wave sizing from the learned estimates: enough offers that the places still open fill with a target
chance in the time the job can wait, and no more.

The job can wait until its start less the lead time; each wave takes one offer expiry, so that time
holds `waves_left` waves. All of them together should fill the job with `target_fill`; a wave that
has k more waves behind it only needs its own share: 1 - (1 - target)^(1/k), at least
`min_wave_target`. So a job starting within the hour gets one wide wave aimed at the whole target,
and a job next week a narrow one aimed at about an even chance. Its yeses are a sum of independent
yes/no answers with different chances (a Poisson-binomial), worked out exactly: a wave is at most
`max_size` offers, so the table is small.

An offer is worth its text only if it may fill a place the others would not: its chance of a yes (in
time or late: a late yes still takes a place that is left) times the chance the wave falls short
without it. Below `min_marginal` that offer is passed over (a worker who never answers, once the
record shows it), unless it is the only one the job would have out, or the worker is owed an offer
(re-service, 再服务). A population that mostly does not answer then gets narrow waves that look
again when they lapse, not waves of `max_size` that never reach the aim.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

MAX_WAVES = 1000  # counting waves stops here: past a few dozen every wave aims at the floor anyway


def chance_at_least(needed: int, chances: Sequence[float]) -> float:
    """P(at least `needed` yeses) when each answer is a yes with its own chance (Poisson-binomial)."""
    if needed <= 0:
        return 1.0
    # dist[k]: the chance of exactly k yeses so far, k < needed; `done` gathers reaching `needed`.
    dist = [1.0] + [0.0] * (needed - 1)
    done = 0.0
    for p in chances:
        p = min(max(p, 0.0), 1.0)
        done += dist[-1] * p
        for k in range(needed - 1, 0, -1):
            dist[k] = dist[k] * (1 - p) + dist[k - 1] * p
        dist[0] *= 1 - p
    return done


def waves_left(
    send_at: datetime,
    start: datetime,
    lead: timedelta,
    expiry: timedelta,
    held: Callable[[datetime], datetime] | None = None,
) -> int:
    """How many waves, one expiry each, fit between `send_at` and the start less the lead (at least 1).

    `held`: when a wave due at a moment can go (quiet hours hold it until the morning): a job posted
    in the evening for the next morning has the evening's few waves, not a night's worth."""
    if expiry <= timedelta(0):
        return 1
    latest = start - lead
    if held is None:
        return max(1, math.floor((latest - send_at) / expiry))
    waves, at = 0, send_at
    while at + expiry <= latest and waves < MAX_WAVES:
        waves += 1
        at = held(at + expiry)
    return max(1, waves)


def wave_target(target_fill: float, waves: int, floor: float) -> float:
    """This wave's share of the job's target when `waves` waves (this one included) fit."""
    return max(floor, 1 - (1 - target_fill) ** (1 / max(waves, 1)))


@dataclass(frozen=True)
class Sizing:
    """Why a wave has the size it has: what the job's page shows."""

    remaining: int
    waves_left: int
    target: float  # the chance this wave (with the offers still out) aims at
    still_open: int  # offers of earlier waves still waiting for an answer
    lapsed: int  # ... and those that lapsed unanswered lately (a late yes still takes a place)
    expected_yes: float  # expected yeses: this wave's and those still out
    chance: float  # the chance of at least `remaining` yeses from them
    capped: bool  # the cap (max_size) or the workers in reach stopped it short of the target
    passed_over: int = 0  # candidates too unlikely to make a difference (min_marginal)
    picked: tuple[int, ...] = ()  # the chosen candidates' positions in the ranked list

    @property
    def offers(self) -> int:
        """Offers chosen for this wave."""
        return len(self.picked)

    def as_json(self) -> dict[str, Any]:
        return {
            "remaining": self.remaining,
            "waves_left": self.waves_left,
            "target": round(self.target, 3),
            "offers": self.offers,
            "still_open": self.still_open,
            "lapsed": self.lapsed,
            "expected_yes": round(self.expected_yes, 2),
            "chance": round(self.chance, 3),
            "capped": self.capped,
            "passed_over": self.passed_over,
        }


def choose(
    remaining: int,
    target: float,
    waves: int,
    pending: Sequence[float],
    ranked: Sequence[float],
    room: int,
    lapsed: int = 0,
    min_marginal: float = 0.0,
    owed: Sequence[bool] = (),
    worth: Sequence[float] = (),
) -> Sizing:
    """Take candidates in rank order (their chances `ranked`) until, with the offers still out
    (`pending`: the open ones, then `lapsed` that lapsed lately), at least `remaining` yeses come
    with the chance `target`, or `room` offers are taken. A candidate whose chance of a yes at all
    (`worth`, else its `ranked` chance) times the chance of falling short is below `min_marginal` is
    passed over, unless `owed` (re-service) or nothing would be out without it."""
    chances = list(pending)
    picked: list[int] = []
    passed = 0
    chance = chance_at_least(remaining, chances)
    for index, p in enumerate(ranked):
        if chance >= target or len(picked) >= room:
            break
        is_owed = index < len(owed) and owed[index]
        yes = worth[index] if index < len(worth) else p
        if chances and not is_owed and yes * (1 - chance) < min_marginal:
            passed += 1
            continue
        chances.append(p)
        picked.append(index)
        chance = chance_at_least(remaining, chances)
    return Sizing(
        remaining=remaining,
        waves_left=waves,
        target=target,
        still_open=len(pending) - lapsed,
        lapsed=lapsed,
        expected_yes=sum(chances),
        chance=chance,
        capped=chance < target,
        passed_over=passed,
        picked=tuple(picked),
    )
