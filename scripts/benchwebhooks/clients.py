"""The load generators, each a process of its own: wrk for the closed loop (the maximum rate), and
scripts/bench_webhooks_load.py for the open loop (latency at a fixed rate; also the closed loop
when wrk is not installed or `--client python`)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

from bench_webhooks_load import WRK_SCRIPT

from benchwebhooks import ROOT

LOADGEN = ROOT / "scripts" / "bench_webhooks_load.py"


def run_wrk(base: str, endpoint: str, requests: Path, seconds: float, connections: int) -> dict[str, Any]:
    """A closed loop by wrk (one thread, `connections` in flight), fed the requests by a Lua script."""
    script = requests.parent / "bench.lua"
    script.write_text(WRK_SCRIPT)
    env = {**os.environ, "BENCH_REQUESTS": str(requests), "BENCH_PATH": endpoint, "BENCH_THREADS": "1"}
    command = [
        "wrk",
        "-t1",
        f"-c{connections}",
        f"-d{max(1, round(seconds))}s",
        "--timeout",
        "15s",
        "-s",
        str(script),
        base + endpoint,
    ]
    done = subprocess.run(command, env=env, capture_output=True, text=True, check=True, timeout=seconds + 60)
    line = next(line for line in done.stdout.splitlines() if line.startswith("BENCH_JSON "))
    raw = json.loads(line.removeprefix("BENCH_JSON "))
    failures = raw["connect"] + raw["read"] + raw["write"] + raw["timeout"]
    return {
        "requests": raw["requests"] + raw["connect"],
        "ok": raw["requests"] - raw["non_200"],
        "errors": raw["non_200"] + failures,
        "seconds": raw["seconds"],
        "wrapped": raw["wrapped"],
        "latency_ms": {key: raw[key] for key in ("p50", "p90", "p99", "p99.9", "max", "mean")},
    }


def run_python(
    base: str, endpoint: str, requests: Path, mode: str, seconds: float, rate: float, connections: int
) -> dict[str, Any]:
    """scripts/bench_webhooks_load.py: an open loop at `rate`, or a closed loop of `connections`."""
    command = [sys.executable, str(LOADGEN), mode, "--url", base + endpoint, "--requests", str(requests)]
    command += ["--duration", str(seconds)]
    command += ["--rate", str(rate)] if mode == "open" else ["--connections", str(connections)]
    done = subprocess.run(command, capture_output=True, text=True, check=True, timeout=seconds + 120)
    result = json.loads(done.stdout)
    if mode == "open" and result["generator_max_lag_ms"] > 50:
        print(f"  (the generator fell behind its schedule by up to {result['generator_max_lag_ms']:.0f} ms)")
    return result
