"""The population's behaviour (`dispatch simulate --behaviour FILE`): how often workers answer, how fast,
how much pay and distance sway them, how often they opt out or give a place back, and how these spread
across workers.

A file (TOML) gives each parameter as a distribution: a number (everyone the same), `{uniform = [a, b]}`,
`{lognormal = [median, sigma]}`, `{normal = [mean, sd]}`, or a list of such parts each with a `share`
(a mixture: `[{share = 0.08, value = 0.0}, {share = 0.92, uniform = [0.7, 0.97]}]`). Top-level keys
hold for every worker; `[[group]]` tables (each with a `share`, and a `name`) split the population into
kinds of worker, each overriding what it names.

The draws come from each worker's own stream in a fixed order: first which group and which part of each
mixture (Behaviour.choose: always two draws, so the rest of the worker is the same person whatever the
file), then, last, a value for each parameter (none for a constant). The built-in DEFAULT
(config/simulation/default.toml says the same) is how market.py always drew workers, so the same seed
gives the same workers, draw for draw.
"""

from __future__ import annotations

import math
import random
import tomllib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any


@dataclass(frozen=True)
class Taste:
    """How one worker weighs an offer (people.acceptance) and answers it."""

    pay_base: float = 0.45  # the pay part at the worker's floor
    pay_slope: float = 1.2  # how fast it grows with the margin above the floor
    near_floor: float = 0.35  # the distance part far away (it is 1 next door)
    km_scale: float = 8.0  # km over which nearness fades (by 1/e)
    ceiling: float = 0.85  # the most likely a yes ever gets
    silent_no: float = 0.3  # a worker who will not take it says nothing, this often
    delay_spread: float = 0.8  # sigma of the log of the answer's delay around the median


DEFAULT_TASTE = Taste()

# The parameters, in the order their draws are made (answer_rate then cancel_rate first: the order
# market.py drew its never-answering and flaky workers in).
SPEC_PARAMS = ("answer_rate", "cancel_rate", "median_delay_minutes", "opt_out_rate")
TASTE_PARAMS = tuple(Taste.__dataclass_fields__)
PARAMS = SPEC_PARAMS + TASTE_PARAMS
# Draws a worker's choices take from their own stream: the two market.py always took (never answers?
# flaky?), so the default draws as it did.
CHOICE_DRAWS = 2
RATES = frozenset({"answer_rate", "cancel_rate", "opt_out_rate", "ceiling", "silent_no", "near_floor"})


@dataclass(frozen=True)
class Distribution:
    kind: str  # "value", "uniform", "lognormal", "normal"
    a: float
    b: float = 0.0

    def draw(self, rng: random.Random) -> float:
        if self.kind == "value":
            return self.a  # no draw: a constant takes nothing from the stream
        if self.kind == "uniform":
            return rng.uniform(self.a, self.b)
        if self.kind == "lognormal":
            return self.a * math.exp(rng.gauss(0.0, self.b))
        return rng.gauss(self.a, self.b)


@dataclass(frozen=True)
class Mixture:
    parts: tuple[tuple[float, Distribution], ...]  # (cumulative share up to and with it, the part)

    def choose(self, pick: Callable[[], float]) -> Distribution:
        if len(self.parts) == 1:
            return self.parts[0][1]
        chance = pick()
        return next((part for upto, part in self.parts if chance < upto), self.parts[-1][1])


@dataclass(frozen=True)
class Group:
    name: str
    params: Mapping[str, Mixture]


@dataclass(frozen=True)
class Behaviour:
    name: str
    groups: tuple[tuple[float, Group], ...]  # (cumulative share, group)
    source: str | None = None
    notes: tuple[str, ...] = field(default=())

    def choose(self, rng: random.Random) -> tuple[str, dict[str, Distribution]]:
        """The worker's group and the part of each mixture that is theirs. Always CHOICE_DRAWS draws
        from the worker's stream, whatever the behaviour (so the rest of the worker, drawn after,
        is the same person in every behaviour file): the first choices take them in turn, any further
        choice comes from a stream of its own seeded by them."""
        slots = [rng.random() for _ in range(CHOICE_DRAWS)]
        more = random.Random(f"behaviour-choices:{slots!r}")

        def pick() -> float:
            return slots.pop(0) if slots else more.random()

        group = self.groups[0][1]
        if len(self.groups) > 1:
            chance = pick()
            group = next((g for upto, g in self.groups if chance < upto), self.groups[-1][1])
        return group.name, {name: group.params[name].choose(pick) for name in PARAMS}

    def values(self, rng: random.Random, chosen: dict[str, Distribution]) -> dict[str, Any]:
        """WorkerSpec's behaviour fields, drawn from the parts chosen."""
        drawn = {name: _bounded(name, chosen[name].draw(rng)) for name in PARAMS}
        taste = Taste(**{name: drawn[name] for name in TASTE_PARAMS})
        return {**{name: drawn[name] for name in SPEC_PARAMS}, "taste": taste}


def _bounded(name: str, value: float) -> float:
    if name in RATES:
        return min(1.0, max(0.0, value))
    return max(0.01, value)  # delays, slopes and scales: positive


def _distribution(raw: Any, where: str) -> Distribution:
    if isinstance(raw, int | float) and not isinstance(raw, bool):
        return Distribution("value", float(raw))
    if isinstance(raw, dict):
        kinds = [kind for kind in ("value", "uniform", "lognormal", "normal") if kind in raw]
        if len(kinds) == 1:
            kind = kinds[0]
            numbers = raw[kind] if isinstance(raw[kind], list) else [raw[kind]]
            if all(isinstance(n, int | float) for n in numbers) and len(numbers) == (
                1 if kind == "value" else 2
            ):
                return Distribution(kind, *(float(n) for n in numbers))
    raise ValueError(
        f"{where}: a number, {{value = x}}, {{uniform = [a, b]}}, {{lognormal = [median, sigma]}} "
        f"or {{normal = [mean, sd]}}, not {raw!r}"
    )


def _mixture(raw: Any, where: str) -> Mixture:
    if not isinstance(raw, list):
        return Mixture(((1.0, _distribution(raw, where)),))
    shares = [part.get("share") if isinstance(part, dict) else None for part in raw]
    if not raw or not all(isinstance(s, int | float) and s > 0 for s in shares):
        raise ValueError(f"{where}: every part of a mixture needs a share > 0")
    total = float(sum(shares))  # type: ignore[arg-type]
    parts, upto = [], 0.0
    for share, part in zip(shares, raw, strict=True):
        upto += share / total  # type: ignore[operator]
        parts.append((upto, _distribution({k: v for k, v in part.items() if k != "share"}, where)))
    return Mixture(tuple(parts))


def _params(raw: Mapping[str, Any], base: Mapping[str, Mixture], where: str) -> dict[str, Mixture]:
    unknown = set(raw) - set(PARAMS) - {"name", "share", "group", "notes"}
    if unknown:
        raise ValueError(
            f"{where}: unknown parameter(s) {', '.join(sorted(unknown))}; known: {', '.join(PARAMS)}"
        )
    return {**base, **{name: _mixture(raw[name], f"{where}.{name}") for name in PARAMS if name in raw}}


def parse(raw: Mapping[str, Any], name: str = "behaviour", source: str | None = None) -> Behaviour:
    params = _params(raw, DEFAULT_PARAMS, name)
    groups_raw = raw.get("group", [])
    if not groups_raw:
        groups: tuple[tuple[float, Group], ...] = ((1.0, Group("everyone", params)),)
    else:
        shares = [g.get("share") for g in groups_raw]
        if not all(isinstance(s, int | float) and s > 0 for s in shares):
            raise ValueError(f"{name}: every [[group]] needs a share > 0")
        total, upto, built = float(sum(shares)), 0.0, []
        for i, (share, group) in enumerate(zip(shares, groups_raw, strict=True)):
            upto += share / total
            label = str(group.get("name", f"group {i + 1}"))
            built.append((upto, Group(label, _params(group, params, f"{name}.{label}"))))
        groups = tuple(built)
    notes = raw.get("notes", ())
    return Behaviour(name, groups, source, tuple(notes) if isinstance(notes, list) else (str(notes),))


def load(path: str | Path) -> Behaviour:
    """A behaviour file; ValueError says what is wrong with it."""
    path = Path(path)
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise ValueError(f"behaviour file {path}: {exc}") from exc
    return parse(raw, path.stem, str(path))


def _constant(value: float) -> Mixture:
    return Mixture(((1.0, Distribution("value", value)),))


# How market.py drew workers before behaviour files: 8 % never answer, the rest 70-97 % of offers;
# a median answer in 2-15 minutes; 10 % flaky (give back 40 % of places, the rest 2 %); 2 % of offers
# make a worker opt out; the acceptance curve's constants as Taste's defaults.
DEFAULT_PARAMS: dict[str, Mixture] = {
    **{name: _constant(getattr(DEFAULT_TASTE, name)) for name in TASTE_PARAMS},
    "answer_rate": Mixture(((0.08, Distribution("value", 0.0)), (1.0, Distribution("uniform", 0.7, 0.97)))),
    "cancel_rate": Mixture(((0.1, Distribution("value", 0.4)), (1.0, Distribution("value", 0.02)))),
    "median_delay_minutes": Mixture(((1.0, Distribution("uniform", 2.0, 15.0)),)),
    "opt_out_rate": _constant(0.02),
}
DEFAULT = Behaviour("default", ((1.0, Group("everyone", DEFAULT_PARAMS)),))
