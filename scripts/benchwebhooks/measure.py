"""One measured run of one endpoint: the requests made and signed, the load generator run, the CPU
it cost, what the webhooks left in the database, and a pause until the server has settled."""

from __future__ import annotations

import argparse
import contextlib
import subprocess
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from benchwebhooks import SIGNED_PATHS, TRIVIAL_PATH
from benchwebhooks.clients import run_python, run_wrk
from benchwebhooks.cpu import CpuSnapshot
from benchwebhooks.database import stored_messages
from benchwebhooks.servers import Processes, app_env, start_gunicorn
from benchwebhooks.webhooks import Webhooks

DISTURBED_CORES = 0.25  # a run during which others took more than this is flagged
SETTLE_SECONDS = 120


@dataclass
class Run:
    """One measured run of one endpoint."""

    endpoint: str
    mode: str  # closed or open
    client: str  # wrk or python
    rate: float  # answered with 200, a second
    requests: int
    errors: int  # any status but 200, and no answer (refused, reset, 15 s timeout)
    latency_ms: dict[str, float | None]
    seconds: float
    app_cpu_ms: float  # gunicorn's CPU per answered request
    database_cpu_ms: float  # our PostgreSQL backends' CPU per answered request
    cores: dict[str, float]  # what kept the 2 cores busy during the run (CpuSnapshot.since)
    extra: dict[str, Any] = field(default_factory=dict)


class Bench:
    def __init__(self, args: argparse.Namespace, tmp: Path, processes: Processes) -> None:
        self.args = args
        self.tmp = tmp
        self.processes = processes
        self.base = f"http://127.0.0.1:{args.port}"
        self.webhooks: Webhooks | None = None
        self.runs: list[Run] = []
        self.gunicorn: subprocess.Popen[bytes] | None = None

    def env(self, **extra: str) -> dict[str, str]:
        return app_env(self.args.database_url, self.args.redis_url, self.base, **extra)

    def start_gunicorn(self) -> None:
        self.gunicorn = start_gunicorn(self.processes, self.env(), self.args.port, self.tmp / "gunicorn.log")

    def measure(self, endpoint: str, mode: str, seconds: float, rate: float = 0.0, label: str = "") -> Run:
        """One run against one endpoint: closed loop (max rate) or open loop at `rate`."""
        assert self.gunicorn is not None and self.webhooks is not None
        path = self.tmp / f"requests-{len(self.runs)}.txt"
        prefix = None
        if endpoint in SIGNED_PATHS:
            if mode == "open":
                count = int(rate * seconds) + 1
            else:
                # Enough that none is sent twice: well above the fastest this endpoint has been so far,
                # and, before it has been measured, above the trivial endpoint's rate.
                per_second = max([r.rate for r in self.runs if r.endpoint == TRIVIAL_PATH] + [1500.0]) * 1.6
                seen = [r.rate for r in self.runs if r.endpoint == endpoint and r.mode == "closed"]
                if seen:
                    per_second = min(per_second, 4 * max(seen) + 100)
                count = int(per_second * seconds) + 1000
            prefix = self.webhooks.write(path, count, self.base + endpoint)
        else:
            path.write_text("")
        client = "python" if mode == "open" or self.args.client == "python" else "wrk"
        database = self.args.database_url.rsplit("/", 1)[-1]
        connections = self.args.connections
        before, started = CpuSnapshot.take(self.gunicorn.pid, database), time.perf_counter()
        if client == "wrk":
            result = run_wrk(self.base, endpoint, path, seconds, connections)
        else:
            result = run_python(self.base, endpoint, path, mode, seconds, rate, connections)
        wall = time.perf_counter() - started
        cores = CpuSnapshot.take(self.gunicorn.pid, database).since(before, wall)
        ok = max(1, int(result["ok"]))
        run = Run(
            endpoint=endpoint,
            mode=mode,
            client=client,
            rate=result["ok"] / result["seconds"],
            requests=int(result["requests"]),
            errors=int(result["errors"]),
            latency_ms=result["latency_ms"],
            seconds=result["seconds"],
            app_cpu_ms=cores.pop("app_cpu_s") * 1000 / ok,
            database_cpu_ms=cores.pop("database_cpu_s") * 1000 / ok,
            cores=cores,
            extra={"label": label, **({"target_rate": rate} if mode == "open" else {})},
        )
        if "generator_max_lag_ms" in result:
            run.extra["generator_lag_ms"] = result["generator_max_lag_ms"]
        if prefix is not None:
            run.extra["stored"] = stored_messages(self.args.database_url, prefix)
            if result.get("wrapped"):
                run.extra["wrapped"] = result["wrapped"]
        self.runs.append(run)
        self._print_run(run)
        self.settle(run)
        return run

    def _print_run(self, run: Run) -> None:
        lat, cores = run.latency_ms, run.cores

        def ms(value: float | None) -> str:
            return f"{value:7.1f}" if value is not None else "      -"

        print(
            f"  {run.mode:6} {run.client:6} {run.endpoint:20} {run.rate:7.0f}/s {run.requests:7d} req "
            f"{run.errors:6d} err  p50 {ms(lat['p50'])} p99 {ms(lat['p99'])} p99.9 {ms(lat['p99.9'])} "
            f"max {ms(lat['max'])} ms"
        )
        print(
            f"{'':30}CPU a request: app {run.app_cpu_ms:.2f} ms, database {run.database_cpu_ms:.2f} ms; "
            f"cores busy: app {cores['app_cores']:.2f}, database {cores['database_cores']:.2f}, "
            f"client {cores['client_cores']:.2f}, interrupts {cores['interrupt_cores']:.2f}, "
            f"steal {cores['steal_cores']:.2f}, other {cores['other_cores']:.2f}"
        )
        if cores["other_cores"] > DISTURBED_CORES:
            print(f"{'':30}DISTURBED: other work on the machine took {cores['other_cores']:.2f} cores")
        stored = run.extra.get("stored")
        if stored is not None:
            print(f"{'':30}stored {stored}")

    def rates(self, endpoint: str, label: str) -> list[float]:
        return [run.rate for run in self.runs if run.endpoint == endpoint and run.extra["label"] == label]

    def settle(self, run: Run) -> None:
        """After a run, wait until the server has worked off what queued up (an overloaded run leaves
        a listen backlog) and answers /ping promptly again, so that the next run starts clean."""
        started = time.monotonic()
        prompt = 0
        while prompt < 3 and time.monotonic() < started + SETTLE_SECONDS:
            asked = time.perf_counter()
            with contextlib.suppress(OSError), urllib.request.urlopen(self.base + TRIVIAL_PATH, timeout=30):
                pass
            prompt = prompt + 1 if time.perf_counter() - asked < 0.05 else 0
            time.sleep(0.2)
        run.extra["settle_s"] = time.monotonic() - started
        if prompt < 3:
            print(f"{'':30}(the server had not settled {SETTLE_SECONDS} s after the run)")
