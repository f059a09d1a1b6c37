"""`dispatch simulate --callers 30/h --agents 1..6`: the callers model (callers.py) run for each number of
agents over the same seeded days, printed as a table (or JSON), with the fewest agents that meet the
target: SERVICE_LEVEL of ALL callers answered within 20 s and at most MAX_ABANDONED hanging up."""

from __future__ import annotations

import argparse
import json
import re
from dataclasses import replace
from typing import TYPE_CHECKING

from dispatch.settings import Settings, parse_quiet_hours

if TYPE_CHECKING:  # the model is imported when it runs: the CLI builds this parser on every command
    from dispatch.simulation.callers import CallerDay, CallerModel

SERVICE_LEVEL = 0.8
MAX_ABANDONED = 0.05
_RATE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(?:/\s*h)?\s*$")
LAYOUT_NAMES = ("one-site", "district")  # callers.LAYOUTS
_RANGE = re.compile(r"^\s*(\d+)\s*(?:\.\.\s*(\d+))?\s*$")


def calls_per_hour(text: str) -> float:
    """`30/h` or `30`: callers an hour."""
    found = _RATE.match(text)
    if found is None:
        raise argparse.ArgumentTypeError(f"{text!r}: say how many calls an hour, e.g. 30/h")
    return float(found.group(1))


def agent_counts(text: str) -> range:
    """`1..6` or `4`."""
    found = _RANGE.match(text)
    if (
        found is None
        or int(found.group(1)) < 1
        or int(found.group(2) or found.group(1)) < int(found.group(1))
    ):
        raise argparse.ArgumentTypeError(f"{text!r}: give a number of agents or a range, e.g. 1..6")
    return range(int(found.group(1)), int(found.group(2) or found.group(1)) + 1)


CALLER_DAYS = 20  # seeded days per number of agents unless --days says


def add_arguments(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("callers who press 0 (the live call center; no market day is run)")
    group.add_argument(
        "--callers", type=calls_per_hour, default=None, help="calls an hour in opening hours, e.g. 30/h"
    )
    group.add_argument(
        "--agents", type=agent_counts, default=range(1, 7), help="agents, or a range: 1..6 (default)"
    )
    # --days (command.py: shared with the market days) is days simulated per number of agents here.
    group.add_argument(
        "--talk", type=float, default=180.0, help="mean talk time, s (exponential; default 180)"
    )
    group.add_argument("--wrap-up", type=float, default=30.0, help="wrap-up after each call, s (default 30)")
    group.add_argument(
        "--patience", type=float, default=120.0, help="mean patience, s (exponential; 0: endless)"
    )
    group.add_argument(
        "--layout", choices=LAYOUT_NAMES, default="one-site", help="where callers and agents are"
    )
    group.add_argument(
        "--no-hold-when-busy",
        dest="hold_when_busy",
        action="store_false",
        help="offer a call-back or voicemail at once when no agent is free (not the rule as built)",
    )


def model_from(settings: Settings, args: argparse.Namespace) -> CallerModel:
    from dispatch.simulation.callers import LAYOUTS, CallerModel

    opening = parse_quiet_hours(settings.OPENING_HOURS, "OPENING_HOURS")
    if opening is None or opening[0] >= opening[1]:
        raise ValueError("the callers model needs OPENING_HOURS within one day, e.g. 08:00-18:00")
    return CallerModel(
        calls_per_hour=args.callers,
        agents=args.agents[0],
        seed=args.seed,
        opening=opening,
        mean_talk_seconds=args.talk,
        wrap_up_seconds=args.wrap_up,
        mean_patience_seconds=args.patience or None,
        overflow_seconds=settings.CALL_OVERFLOW_SECONDS,
        hold_when_busy=args.hold_when_busy,
        layout=LAYOUTS[args.layout],
    )


def simulate_days(model: CallerModel, days: int) -> CallerDay:
    """`days` days (seeds seed, seed+1 ...) of one model, added up into one CallerDay."""
    from dispatch.simulation.callers import CallerDay, simulate_callers

    total = CallerDay(model)
    for offset in range(days):
        day = simulate_callers(replace(model, seed=model.seed + offset))
        for name in ("offered", "answered", "abandoned", "call_backs_asked", "voicemails", "not_held"):
            setattr(total, name, getattr(total, name) + getattr(day, name))
        for name in ("call_backs_made", "call_backs_open", "busy_seconds"):
            setattr(total, name, getattr(total, name) + getattr(day, name))
        total.waits.extend(day.waits)
        for site, waits in day.waits_by_site.items():
            total.waits_by_site.setdefault(site, []).extend(waits)
    total.busy_seconds /= days  # occupancy is per day
    return total


def by_agents(model: CallerModel, agents: range, days: int) -> list[dict]:
    rows = []
    for count in agents:
        summary = simulate_days(replace(model, agents=count), days).summary()
        rows.append({**summary, "meets_target": meets_target(summary)})
    return rows


def meets_target(summary: dict) -> bool:
    return summary["service_level_20s"] >= SERVICE_LEVEL and summary["abandoned_share"] <= MAX_ABANDONED


def agents_needed(rows: list[dict]) -> int | None:
    return next((row["agents"] for row in rows if row["meets_target"]), None)


COLUMNS = (
    ("agents", "agents", "{}"),
    ("speed_of_answer_mean_s", "ASA s", "{:.1f}"),
    ("answered_within_20s", "<=20s/ans", "{:.1%}"),
    ("service_level_20s", "<=20s/all", "{:.1%}"),
    ("abandoned_share", "abandon", "{:.1%}"),
    ("not_held", "no hold", "{}"),
    ("call_backs_asked", "cb asked", "{}"),
    ("call_backs_made", "cb made", "{}"),
    ("voicemails", "voicemail", "{}"),
    ("occupancy", "occupancy", "{:.0%}"),
)


def table(model: CallerModel, days: int, rows: list[dict]) -> str:
    rule = (
        "held when all busy (as built: a classic queue)"
        if model.hold_when_busy
        else "no hold when nobody is free"
    )
    patience = f"{model.mean_patience_seconds:g} s" if model.mean_patience_seconds else "endless"
    lines = [
        f"Callers who press 0: {model.calls_per_hour:g}/h {model.opening[0]:%H:%M}-{model.opening[1]:%H:%M}, "
        f"{days} days from seed {model.seed}; talk {model.mean_talk_seconds:g} s + wrap-up "
        f"{model.wrap_up_seconds:g} s, patience {patience}, overflow {model.overflow_seconds} s; {rule}",
        f"counts are totals over the {days} days ({rows[0]['offered'] if rows else 0} callers)",
        "".join(f"{title:>11}" for _, title, _ in COLUMNS),
    ]
    for row in rows:
        lines.append(
            "".join(f"{'-' if row[key] is None else shape.format(row[key]):>11}" for key, _, shape in COLUMNS)
        )
    needed = agents_needed(rows)
    target = (
        f"{SERVICE_LEVEL:.0%} of all callers answered within 20 s, at most {MAX_ABANDONED:.0%} hanging up"
    )
    shown = str(needed) if needed is not None else f"more than {rows[-1]['agents']}"
    lines.append(f"agents needed ({target}): {shown}")
    return "\n".join(lines)


def run(settings: Settings, args: argparse.Namespace) -> int:
    days = CALLER_DAYS if args.days is None else args.days
    if days < 1:
        raise ValueError("--days must be at least 1")
    model = model_from(settings, args)
    rows = by_agents(model, args.agents, days)
    if args.json:
        print(json.dumps({"agents_needed": agents_needed(rows), "by_agents": rows}, indent=2))
    else:
        print(table(model, days, rows))
    return 0
