"""`dispatch simulate`: its arguments (cheap to import: the CLI builds every parser) and its run."""

from __future__ import annotations

import argparse
import logging
import signal
import sys
import threading
from dataclasses import replace
from datetime import date, datetime
from types import FrameType
from typing import TYPE_CHECKING, Any

from redis.exceptions import RedisError
from sqlalchemy.exc import SQLAlchemyError

from dispatch.settings import Settings, SettingsError
from dispatch.simulation import callers_report

if TYPE_CHECKING:
    from dispatch.simulation.day import DayOptions

POLICIES = ("fair", "greedy", "lottery", "adaptive")
TRANSPORTS = ("twilio", "carrier")  # carrier_day.py
# The day's in-process Redis and virtual clock: the first-run extra, not in a production install.
FIRST_RUN_MODULES = {"fakeredis", "time_machine", "lupa"}


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--workers", type=int, default=300, help="synthetic workers (default 300)")
    parser.add_argument("--employers", type=int, default=30, help="synthetic employers (default 30)")
    parser.add_argument("--jobs", type=int, default=60, help="jobs posted over the morning (default 60)")
    parser.add_argument(
        "--late-jobs",
        type=int,
        default=None,
        help="more jobs posted in the evening or before dawn (default 15%% of --jobs)",
    )
    parser.add_argument(
        "--voice-share", type=float, default=None, help="share of workers who prefer voice (default 0.1)"
    )
    parser.add_argument(
        "--landline-share",
        type=float,
        default=None,
        help="share of those on a landline that takes no SMS (default a third)",
    )
    parser.add_argument("--seed", type=int, default=1, help="the same seed gives the same day")
    parser.add_argument("--policy", choices=POLICIES, default="fair", help="MATCHING_POLICY for the day")
    parser.add_argument("--compare", action="store_true", help="run every policy side by side")
    parser.add_argument("--json", action="store_true", help="print the report as JSON")
    parser.add_argument(
        "--days",
        type=int,
        default=None,
        help="market days in a row on one database, the record carried over (default 1); "
        "with --callers, seeded days per number of agents (default 20)",
    )
    parser.add_argument(
        "--behaviour",
        default=None,
        metavar="FILE",
        help="the population's behaviour (TOML; config/simulation/*.toml; default: default.toml's)",
    )
    parser.add_argument(
        "--announcement",
        nargs="?",
        const="10:00",
        default=None,
        metavar="HH:MM",
        help="announce a training to the district at that time of the first day (default 10:00)",
    )
    parser.add_argument("--date", type=date.fromisoformat, default=None, help="market date (YYYY-MM-DD)")
    parser.add_argument("--send-rate", type=float, default=None, help="SMS segments a second (default 1)")
    parser.add_argument(
        "--no-next-morning",
        dest="next_morning",
        action="store_false",
        help="stop at midnight: no next morning, so no follow-ups (回访) asked or answered",
    )
    parser.add_argument(
        "--database-url", default=None, help="PostgreSQL to run on, in a schema of its own (default: SQLite)"
    )
    parser.add_argument(
        "--redis-url", default=None, help="a Redis database to run on; it is EMPTIED (default: in-process)"
    )
    parser.add_argument("--force", action="store_true", help="empty --redis-url even if it holds keys")
    parser.add_argument(
        "--transport",
        choices=TRANSPORTS,
        default="twilio",
        help="twilio: Twilio-shaped webhooks (default); carrier: the domestic carrier's templates, pushes "
        "and per-number limits",
    )
    parser.add_argument(
        "--carrier-limit",
        type=int,
        default=None,
        help="with --transport carrier: texts a number may get per template a day (default 50)",
    )
    callers_report.add_arguments(parser)


def _holds_keys(url: str) -> bool:
    from redis import Redis

    return Redis.from_url(url, socket_connect_timeout=2).dbsize() > 0


class Terminated(SystemExit):
    """SIGTERM: the run stops where it is, and its database schema, temporary files and Redis are
    cleaned up on the way out (a plain kill would leave them)."""


TERMINATED: list[int] = []  # the signal, once one came (queue.py stops after the job it came in)


def _terminate(signum: int, _frame: FrameType | None) -> None:
    TERMINATED.append(signum)
    raise Terminated(128 + signum)


def run(settings: Settings, args: argparse.Namespace) -> int:
    # RQ's worker used to take SIGTERM over at every burst (queue.py keeps it from doing so).
    if threading.current_thread() is not threading.main_thread():
        return _run(settings, args)
    TERMINATED.clear()
    previous = signal.signal(signal.SIGTERM, _terminate)
    try:
        return _run(settings, args)
    finally:
        signal.signal(signal.SIGTERM, previous)


def _run(settings: Settings, args: argparse.Namespace) -> int:
    # The service logs every text and wave; a day's worth would bury the report.
    for name in ("dispatch", "rq", "alembic"):
        logging.getLogger(name).setLevel(logging.WARNING)
    if args.callers is not None:  # the call center's model alone: no database, no market day
        try:
            return callers_report.run(settings, args)
        except ValueError as exc:
            return _refuse(str(exc))
    try:
        from dispatch.simulation import behaviour, output
        from dispatch.simulation.day import DayOptions, run_day
    except ModuleNotFoundError as exc:
        if exc.name not in FIRST_RUN_MODULES:
            raise
        return _refuse(
            f"needs the first-run extra ({exc.name} is not installed): "
            "pip install -c constraints.txt -e '.[first-run]' (./scripts/run does)"
        )

    if any(share is not None and not 0 <= share <= 1 for share in (args.voice_share, args.landline_share)):
        return _refuse("--voice-share and --landline-share are between 0 and 1")
    days = 1 if args.days is None else args.days
    if min(args.workers, args.employers, args.jobs, days) < 1:
        return _refuse("--workers, --employers, --jobs and --days must be at least 1")
    try:
        behaves = behaviour.DEFAULT if args.behaviour is None else behaviour.load(args.behaviour)
    except ValueError as exc:
        return _refuse(str(exc))
    if args.redis_url is not None and args.redis_url == settings.REDIS_URL:
        # The day empties its Redis: never the service's own queue.
        return _refuse("--redis-url is the service's own REDIS_URL; name a Redis database of its own")
    if args.redis_url is not None and not args.force and _holds_keys(args.redis_url):
        return _refuse(
            f"{args.redis_url} holds keys and the day empties it; name an empty database or add --force"
        )
    options = DayOptions(
        workers=args.workers,
        employers=args.employers,
        jobs=args.jobs,
        late_jobs=args.late_jobs,
        seed=args.seed,
        policy=args.policy,
        database_url=args.database_url,
        redis_url=args.redis_url,
        config_dir=settings.CONFIG_DIR,
        next_morning=args.next_morning,
        behaviour=behaves,
        days=days,
        transport=args.transport,
        carrier_limit=args.carrier_limit,
    )
    if args.date is not None:
        options = replace(options, day=args.date)
    if args.announcement is not None:
        from dispatch.simulation.announcement import AnnouncementPlan

        try:
            at = datetime.strptime(args.announcement, "%H:%M").time()
        except ValueError:
            return _refuse("--announcement takes a time of day, HH:MM")
        options = replace(options, announcement=AnnouncementPlan(at=at))
    if args.send_rate is not None:
        options = replace(options, send_rate=args.send_rate)
    options = _voice_shares(options, args.voice_share, args.landline_share)
    policies = POLICIES if args.compare else (args.policy,)
    if days > 1:
        return _run_days(options, policies, args.json)
    results = []
    for policy in policies:
        print(f"simulating a {policy} day ...", file=sys.stderr)
        try:
            results.append(run_day(replace(options, policy=policy)))
        except (SettingsError, ValueError, RedisError, SQLAlchemyError) as exc:
            return _refuse(str(exc))
    print(output.as_json(results) if args.json else output.table(results))
    return 1 if output.violations(results) else 0


def _voice_shares(options: Any, voice: float | None, landline: float | None) -> Any:
    """--voice-share and --landline-share over the day's defaults (voice.py)."""
    if voice is not None:
        options = replace(options, voice_share=voice)
    if landline is not None:
        options = replace(options, landline_share=landline)
    return options


def _run_days(options: DayOptions, policies: tuple[str, ...], as_json: bool) -> int:
    """Each policy's run of days on the same seed and behaviour."""
    from dispatch.simulation import output
    from dispatch.simulation.days import run_days

    runs = []
    for policy in policies:
        print(f"simulating {options.days} {policy} days ...", file=sys.stderr)
        try:
            runs.append(run_days(replace(options, policy=policy)))
        except (SettingsError, ValueError, RedisError, SQLAlchemyError) as exc:
            return _refuse(str(exc))
    print(output.runs_json(runs) if as_json else output.runs_table(runs))
    return 1 if output.run_violations(runs) else 0


def _refuse(why: str) -> int:
    print(f"dispatch simulate: {why}", file=sys.stderr)
    return 2
