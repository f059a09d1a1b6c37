"""Webhook load benchmark: signed inbound-SMS webhooks against gunicorn, beside a trivial endpoint
and the floor (the signature checked and the message stored, nothing else).

    .venv/bin/python scripts/bench_webhooks.py [--quick] [--database-url URL] [--redis-url URL] ...

What it does, all on 127.0.0.1 (about 5 minutes; `--quick` 1-2):

1. Empties the database (DROP SCHEMA public CASCADE: give it a database of its own, by default
   postgresql://postgres@127.0.0.1:5432/bench_webhooks, made once with `createdb`) and the Redis
   database (FLUSHDB; by default redis://127.0.0.1:6379/14), runs `dispatch db upgrade` and
   `dispatch seed`, and adds a market: registered workers of every trade at every site, employers,
   and open jobs with open offers, so that the replies below reach the real handlers.
2. Starts the app under gunicorn with config/gunicorn.conf.py (2 sync workers), DISPATCH_ENV=
   production, the outbox SMS transport, quiet hours off. Each webhook stores the message, acts on
   it, writes the reply and its outbox row, commits, then relays the outbox row to Redis (RQ), as
   in production. No queue worker runs during the load: the send jobs pile up in Redis. gunicorn
   serves scripts/benchwebhooks/wsgi.py: the production app plus one route, the floor (POST
   /bench/store-inbound checks the signature and stores the message in one transaction, nothing
   else: what the webhook would cost if acting on the message moved to a queue job).
3. Measures GET /ping (answers "ok", touches nothing), the floor and POST /sms/inbound the same way,
   from processes of their own, with requests made and signed before the timed run (unique
   MessageSids):
   - the maximum rate: a closed loop (--connections requests in flight), with wrk when it is
     installed (`apt-get install wrk`: C, so the client takes the least CPU from the 2 cores the
     server needs), else the Python generator; --rounds alternating rounds, of which the fastest
     (the least disturbed by other work on the machine) is kept;
   - latency at fixed rates, half the webhook's own maximum (what it does under a load it can
     carry; /ping and the webhook) and then half the trivial endpoint's maximum (the target's
     rate, all three; last, as a webhook that cannot keep up leaves a backlog): an open loop
     (requests sent on a schedule whatever the server does, latency from the scheduled time, so a
     stall counts against every request it delays: no coordinated omission), by
     scripts/bench_webhooks_load.py.
   Any status but 200, and any request without an answer within 15 s, is an error. Each run also
   says where the CPU went: the app, its database backends, the client, and other people's work.
   `--profile N` then posts N webhooks in-process under pyinstrument: time by stage, SQL statements.
4. Stops gunicorn, starts a `dispatch worker` (SMS_SEND_RATE=--send-rate) and creates --jobs jobs
   one at a time as an employer's confirmed request does (`create_job`, commit, after-commit relay),
   each waiting for the last; it times from just before the commit to the first offer's hand-over
   to the SMS transport (the Message's sent_at, set when the transport took it).

The figures go to stdout (`--json FILE` for all of them); they are copied by hand to
docs/benchmarks.md. Targets (issue 6): at half the trivial endpoint's maximum rate the webhook's p99
is at most 50 ms with no errors; its maximum rate is at least half the trivial endpoint's; the first
offer goes out within 1 s of the job (p50). Exit status 1 when a target is missed, 2 on a failure.
gunicorn and the worker are stopped on exit, Ctrl-C included. Not part of ./scripts/test.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import random
import shutil
import signal
import tempfile
import time
import traceback
from datetime import datetime
from pathlib import Path
from typing import Any

from redis import Redis

from benchwebhooks import FLOOR_PATH, PATHS, TRIVIAL_PATH, WEBHOOK_PATH
from benchwebhooks.cpu import background_load
from benchwebhooks.cpu_by_kind import cpu_by_kind
from benchwebhooks.database import database_totals, prepare_database
from benchwebhooks.first_offer import time_to_first_offer
from benchwebhooks.market import SHANGHAI, build_market
from benchwebhooks.measure import Bench
from benchwebhooks.profiling import profile_webhooks
from benchwebhooks.report import brief, print_summary
from benchwebhooks.roundtrips import count_round_trips
from benchwebhooks.servers import Processes, free_port
from benchwebhooks.webhooks import Webhooks

DEFAULT_DATABASE = "postgresql://postgres@127.0.0.1:5432/bench_webhooks"
# Not 15: that is the test suite's default, and a run flushes its database.
DEFAULT_REDIS = "redis://127.0.0.1:6379/14"
QUIET_CORES = 0.25


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--database-url", default=DEFAULT_DATABASE, help="emptied at the start!")
    parser.add_argument("--redis-url", default=DEFAULT_REDIS, help="flushed at the start and the end!")
    parser.add_argument(
        "--port", type=int, default=0, help="gunicorn's port on 127.0.0.1 (default: a free one)"
    )
    parser.add_argument("--quick", action="store_true", help="a short run (1-2 minutes), rougher figures")
    parser.add_argument("--duration", type=float, default=8, help="seconds of each closed-loop run")
    parser.add_argument(
        "--rounds", type=int, default=3, help="closed-loop rounds per endpoint (the fastest kept)"
    )
    parser.add_argument("--connections", type=int, default=16, help="closed loop: requests in flight")
    parser.add_argument("--client", choices=["auto", "wrk", "python"], default="auto", help="closed loop")
    parser.add_argument("--open-duration", type=float, default=20, help="seconds of each open-loop run")
    parser.add_argument(
        "--open-rate",
        type=float,
        default=0,
        help="the target's open loop; default: half the trivial max rate",
    )
    parser.add_argument(
        "--webhook-rate",
        type=float,
        default=0,
        help="the other open loop; default: half the webhook's max rate",
    )
    parser.add_argument("--workers", type=int, default=3000, help="registered workers in the market")
    parser.add_argument("--reply-jobs", type=int, default=20, help="open jobs the replies answer")
    parser.add_argument("--offers-per-job", type=int, default=120)
    parser.add_argument("--jobs", type=int, default=30, help="jobs timed to their first offer (0: skip)")
    parser.add_argument("--send-rate", type=float, default=100, help="the worker's SMS_SEND_RATE")
    parser.add_argument(
        "--wait-quiet",
        type=float,
        default=0,
        help=f"wait up to this many seconds for other work to drop below {QUIET_CORES} cores first",
    )
    parser.add_argument(
        "--profile",
        type=int,
        default=0,
        metavar="N",
        help="then profile N webhooks in-process (pyinstrument)",
    )
    parser.add_argument(
        "--round-trips",
        type=int,
        default=30,
        metavar="N",
        help="first count PostgreSQL round trips of N webhooks of each kind (0: skip)",
    )
    parser.add_argument(
        "--round-trips-only",
        action="store_true",
        help="stop after the round trips and the CPU by kind (about a minute)",
    )
    parser.add_argument("--seed", type=int, default=6)
    parser.add_argument("--json", type=Path, help="write every figure to this file")
    parser.add_argument("--keep-logs", action="store_true", help="keep the temporary directory and logs")
    args = parser.parse_args(argv)
    if args.quick:
        args.duration, args.rounds, args.open_duration = 4, 1, 6
        args.jobs, args.workers = min(args.jobs, 10), min(args.workers, 1000)
    if args.client == "auto":
        args.client = "wrk" if shutil.which("wrk") else "python"
    elif args.client == "wrk" and not shutil.which("wrk"):
        parser.error("wrk is not installed (apt-get install wrk)")
    for url in (args.database_url, args.redis_url):
        if not any(host in url for host in ("@127.0.0.1", "@localhost", "//127.0.0.1", "//localhost")):
            parser.error(f"{url}: this benchmark only runs against 127.0.0.1")
    args.port = args.port or free_port()
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    tmp = Path(tempfile.mkdtemp(prefix="bench_webhooks-"))
    processes = Processes()
    # SIGTERM as Ctrl-C, and Ctrl-C even when started with SIGINT ignored (a background job):
    # unwind through the finally below, which stops what we started.
    signal.signal(signal.SIGTERM, _interrupt)
    signal.signal(signal.SIGINT, _interrupt)
    bench = Bench(args, tmp, processes)
    rng = random.Random(args.seed)
    report: dict[str, Any] = {"date": datetime.now(SHANGHAI).date().isoformat(), "args": _public(vars(args))}
    failed = False
    try:
        print(f"preparing {args.database_url} and {args.redis_url} (logs in {tmp})")
        Redis.from_url(args.redis_url).flushdb()
        started = time.perf_counter()
        prepare_database(args.database_url, bench.env(), tmp / "setup.log")
        market = build_market(args.database_url, rng, args.workers, args.reply_jobs, args.offers_per_job)
        print(f"  market {market.counts} in {time.perf_counter() - started:.1f} s")
        report["market"] = market.counts
        bench.webhooks = Webhooks(market, rng)
        if args.round_trips:
            print("round trips: each kind of message posted in-process through a counting proxy")
            report["round_trips"] = count_round_trips(bench, args.round_trips)
            print("CPU a webhook in-process, by kind (process time; no gunicorn, no load generator)")
            report["cpu_by_kind"] = cpu_by_kind(bench)
            if args.round_trips_only:
                return 0
        background = background_load(args.database_url, 3.0)
        waited_until = time.monotonic() + args.wait_quiet
        while background > QUIET_CORES and time.monotonic() < waited_until:
            print(f"  waiting for a quieter machine: {background:.2f} cores busy")
            background = background_load(args.database_url, 5.0)
        report["background_cores"] = background
        print(f"  background load before the run: {background:.2f} of {os.cpu_count()} cores busy")
        bench.start_gunicorn()
        print(
            f"gunicorn (2 sync workers) at {bench.base}; closed loop by {args.client}, c={args.connections}"
        )

        print("warming up (not counted)")
        for path in PATHS:
            bench.measure(path, "closed", 2 if path == TRIVIAL_PATH else 3, label="warm-up")

        print(f"maximum rate: closed loop, {args.rounds} x {args.duration:.0f} s each, alternating")
        for _ in range(args.rounds):
            for path in PATHS:
                bench.measure(path, "closed", args.duration, label="max")
        # Other people's work only ever slows a run down: the least disturbed round is the estimate
        # of what the server can do (the median is reported beside it).
        trivial_max = max(bench.rates(TRIVIAL_PATH, "max"))
        floor_max = max(bench.rates(FLOOR_PATH, "max"))
        webhook_max = max(bench.rates(WEBHOOK_PATH, "max"))
        rate = args.open_rate or round(trivial_max / 2)
        own = args.webhook_rate or max(1, round(webhook_max / 2))
        # The run at the target's rate goes last: if the webhook cannot keep up it leaves a backlog
        # that would otherwise spill into the next run.
        # Long enough for some 2,000 answers (a p99.9 needs them), within a minute.
        own_duration = args.open_duration if args.quick else max(args.open_duration, min(60.0, 2000 / own))
        print(f"open loop at {own:.0f}/s (half the webhook's own max), {own_duration:.0f} s each")
        carried = [
            bench.measure(path, "open", own_duration, rate=own, label="own")
            for path in (TRIVIAL_PATH, WEBHOOK_PATH)
        ]
        print(
            f"open loop at {rate:.0f}/s (half the trivial max, the target's rate; the floor too), "
            f"{args.open_duration:.0f} s each"
        )
        fixed = [bench.measure(path, "open", args.open_duration, rate=rate, label="target") for path in PATHS]
        processes.stop("gunicorn")
        totals = database_totals(args.database_url)
        print(f"  database after the load: {totals}")
        report.update(
            runs=[vars(run) for run in bench.runs],
            reply_mix=dict(bench.webhooks.kinds),
            database_after_load=totals,
            summary={
                "trivial_max_rate": trivial_max,
                "webhook_max_rate": webhook_max,
                "floor_max_rate": floor_max,
                "trivial_max_rates": bench.rates(TRIVIAL_PATH, "max"),
                "webhook_max_rates": bench.rates(WEBHOOK_PATH, "max"),
                "floor_max_rates": bench.rates(FLOOR_PATH, "max"),
                "max_rate_ratio": webhook_max / trivial_max,
                "floor_max_rate_ratio": floor_max / trivial_max,
                "target_rate": rate,
                "at_target_rate": {run.endpoint: brief(run) for run in fixed},
                "own_rate": own,
                "at_own_rate": {run.endpoint: brief(run) for run in carried},
            },
        )
        unstored = [
            run
            for run in bench.runs
            if "stored" in run.extra and run.extra["stored"]["messages"] < run.requests - run.errors
        ]
        if unstored or any(run.extra.get("wrapped") for run in bench.runs):
            print("  WARNING: some answered webhooks left no message, or a MessageSid was sent twice")
            failed = True

        if args.profile:
            print(f"profile: {args.profile} webhooks in-process, one at a time")
            report["profile"] = profile_webhooks(bench, args.profile)

        offers = None
        if args.jobs:
            print(f"time to first offer: {args.jobs} jobs one at a time, `dispatch worker` running")
            offers = time_to_first_offer(bench, market, args.jobs, rng)
            report["first_offer"] = offers
        missed = print_summary(report, fixed, carried, offers)
        report["targets_missed"] = missed
    except KeyboardInterrupt:
        print("interrupted: stopping gunicorn and the worker")
        return 130
    except Exception:
        failed = True
        traceback.print_exc()
        return 2
    finally:
        processes.stop_all()
        with contextlib.suppress(Exception):
            Redis.from_url(args.redis_url).flushdb()
        if args.json and "summary" in report:
            args.json.write_text(json.dumps(report, indent=2, default=str, ensure_ascii=False))
        if args.keep_logs or failed or args.profile:
            print(f"logs kept in {tmp}")
        else:
            shutil.rmtree(tmp, ignore_errors=True)
    return 1 if report.get("targets_missed") else 0


def _interrupt(signum: int, frame: Any) -> None:
    raise KeyboardInterrupt


def _public(values: dict[str, Any]) -> dict[str, Any]:
    return {key: str(value) if isinstance(value, Path) else value for key, value in values.items()}
