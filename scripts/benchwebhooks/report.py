"""The summary printed at the end of a run: the maximum rates, the open-loop latencies side by side,
the first offer, and the issue's targets (all of them about the webhook; the floor is for reference)."""

from __future__ import annotations

import os
from typing import Any

from benchwebhooks import FLOOR_PATH, TRIVIAL_PATH, WEBHOOK_PATH
from benchwebhooks.measure import DISTURBED_CORES, Run

NAMES = {TRIVIAL_PATH: "GET /ping", FLOOR_PATH: "POST floor", WEBHOOK_PATH: "POST /sms/inbound"}
SHORT = {TRIVIAL_PATH: "trivial", FLOOR_PATH: "floor", WEBHOOK_PATH: "webhook"}


def brief(run: Run) -> dict[str, Any]:
    return {"rate": run.rate, "errors": run.errors, "requests": run.requests, **run.latency_ms}


def _ms(value: float | None) -> str:
    return f"{value:8.1f} ms" if value is not None else "       - ms"


def _ratio(value: float | None, base: float | None) -> str:
    return f"{value / base:6.1f}x" if value is not None and base else "      -"


def print_max_rates(summary: dict[str, Any]) -> None:
    trivial, floor, webhook = (summary[f"{name}_max_rate"] for name in ("trivial", "floor", "webhook"))
    print(
        f"  max rate (closed loop)   GET /ping {trivial:7.0f}/s   POST /sms/inbound {webhook:7.0f}/s"
        f"   webhook/trivial {webhook / trivial:.3f}"
    )
    print(
        f"    the floor (signature + store only)   POST {FLOOR_PATH} {floor:7.0f}/s"
        f"   floor/trivial {floor / trivial:.3f}"
    )
    print(
        "    (fastest of the rounds: "
        + "; ".join(
            f"{path} " + ", ".join(f"{rate:.0f}" for rate in summary[f"{SHORT[path]}_max_rates"])
            for path in (TRIVIAL_PATH, FLOOR_PATH, WEBHOOK_PATH)
        )
        + ")"
    )


def print_open_loop(runs: list[Run]) -> None:
    """The runs of one open loop (one rate), an endpoint a column, each beside the trivial one."""
    trivial, others = runs[0], runs[1:]
    rate = trivial.extra["target_rate"]
    header = f"  open loop at {rate:.0f}/s"
    print(
        f"{header:26}"
        + "".join(f"{NAMES[run.endpoint]:>20}" for run in runs)
        + "".join(f"{SHORT[run.endpoint] + '/trivial':>17}" for run in others)
    )
    for name in ("p50", "p99", "p99.9", "max"):
        base = trivial.latency_ms[name]
        print(
            f"    {name:22}"
            + "".join(f"{_ms(run.latency_ms[name]):>20}" for run in runs)
            + "".join(f"{_ratio(run.latency_ms[name], base):>17}" for run in others)
        )
    print(f"    {'answered with 200 /s':22}" + "".join(f"{run.rate:17.0f}   " for run in runs))
    print(f"    {'errors':22}" + "".join(f"{f'{run.errors} of {run.requests}':>20}" for run in runs))


def print_summary(
    report: dict[str, Any], fixed: list[Run], carried: list[Run], offers: dict[str, Any] | None
) -> list[str]:
    """Print the summary; returns the targets missed."""
    print()
    print(
        f"summary ({report['date']}; {os.cpu_count()} shared cores, load generator and database on them too; "
        f"background load {report['background_cores']:.2f} cores)"
    )
    summary = report["summary"]
    print_max_rates(summary)
    for runs in (fixed, carried):
        print_open_loop(runs)
    missed = []
    webhook = next(run for run in fixed if run.endpoint == WEBHOOK_PATH)
    p99 = webhook.latency_ms["p99"]
    if p99 is None or p99 > 50:
        missed.append(f"webhook p99 at half the trivial max rate: {_ms(p99).strip()} (target <= 50 ms)")
    if webhook.errors:
        missed.append(f"{webhook.errors} webhook errors at half the trivial max rate (target 0)")
    trivial_max, webhook_max = summary["trivial_max_rate"], summary["webhook_max_rate"]
    if webhook_max < trivial_max / 2:
        missed.append(f"webhook max rate {webhook_max:.0f}/s < half the trivial max {trivial_max / 2:.0f}/s")
    if offers is not None:
        first = offers["first_offer_s"]
        if first["p50"] is not None:
            print(
                f"  first offer after a confirmed job ({offers['jobs']} jobs): "
                f"p50 {first['p50'] * 1000:.0f} ms, "
                f"p90 {first['p90'] * 1000:.0f} ms, max {first['max'] * 1000:.0f} ms "
                f"(commit + relay p50 {offers['commit_and_relay_s']['p50'] * 1000:.1f} ms; whole wave p50 "
                f"{offers['whole_wave_s']['p50'] * 1000:.0f} ms at {offers['send_rate']:g} SMS/s)"
            )
        if first["p50"] is None or first["p50"] > 1.0 or offers["without_offer"]:
            missed.append("first offer p50 above 1 s, or jobs without an offer")
    open_runs = fixed + carried
    disturbed = [run for run in open_runs if run.cores["other_cores"] > DISTURBED_CORES]
    if disturbed:
        print(
            f"  {len(disturbed)} of the {len(open_runs)} open-loop runs were disturbed by other work (up to "
            f"{max(run.cores['other_cores'] for run in disturbed):.2f} cores): their latencies are "
            "pessimistic"
        )
    for line in missed:
        print(f"  TARGET MISSED: {line}")
    if not missed:
        print("  all targets met")
    return missed
