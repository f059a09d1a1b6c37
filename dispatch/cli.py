"""The `dispatch` command: serve, worker, db, seed, demo, agents, check, simulate, insurance, sms.

An operator's error (a bad setting, a broken config file, a database or Redis out of reach) is one line
on stderr naming what to fix, with exit code 2; `dispatch --debug ...` shows the traceback instead.
"""

from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path
from typing import Any

from dispatch.commands.sms import add_arguments as sms_arguments
from dispatch.i18n import DEFAULT_LANGUAGE, LANGUAGES
from dispatch.insurance.export import add_arguments as insurance_arguments
from dispatch.settings import Settings, SettingsError
from dispatch.simulation.command import add_arguments as simulate_arguments

log = logging.getLogger(__name__)

# Commands that use DATABASE_URL and REDIS_URL: both are checked before anything connects.
DATABASE_COMMANDS = frozenset({"serve", "worker", "db", "seed", "demo", "agents", "insurance"})
REDIS_COMMANDS = frozenset({"serve", "worker"})


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="dispatch", description="零工市场 call center and SMS dispatch")
    debug_help = "debug logs, and tracebacks instead of one-line errors"
    parser.add_argument("--debug", action="store_true", help=debug_help)
    # `dispatch seed --debug` too: SUPPRESS leaves the main parser's value alone unless it is given.
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--debug", action="store_true", default=argparse.SUPPRESS, help=debug_help)
    commands = _Subparsers(parser.add_subparsers(dest="command", required=True), common)

    serve = commands.add_parser("serve", help="run the web app (development server; gunicorn in production)")
    serve.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    serve.add_argument("--port", type=int, default=5000, help="port to listen on (default 5000)")

    worker = commands.add_parser("worker", help="run an RQ worker with the scheduler and periodic jobs")
    worker.add_argument("--burst", action="store_true", help="work what is queued, then stop")
    worker.add_argument(
        "--queues",
        default="sms,matching,default",
        help="comma-separated queues to work, most urgent first (default sms,matching,default)",
    )

    db = commands.add_parser("db", help="database schema (Alembic migrations)")
    db.add_argument("action", choices=["upgrade", "downgrade"], help="upgrade to a revision, or downgrade")
    db.add_argument(
        "revision",
        nargs="?",
        default=None,
        help="target revision (default: head to upgrade, -1 to downgrade)",
    )
    db.add_argument("--yes", action="store_true", help="downgrade without asking (it drops data)")

    seed = commands.add_parser("seed", help="load config/sites.toml and config/trades.toml (idempotent)")
    seed.add_argument("--config-dir", default=None, help="where the files are (default CONFIG_DIR)")

    demo = commands.add_parser("demo", help="add demo workers, employers and agent (development only)")
    demo.add_argument("--workers", type=int, default=None, help="how many demo workers (default 300)")

    commands.add_parser(
        "check", help="check settings, database, Redis, config files, Twilio credentials and the spool"
    )

    simulate_arguments(
        commands.add_parser("simulate", help="a simulated market day through the real webhooks and queue")
    )

    agents = commands.add_parser("agents", help="console accounts")
    agents_commands = _Subparsers(agents.add_subparsers(dest="agents_command", required=True), common)
    create = agents_commands.add_parser("create", help="create an agent (the password is asked)")
    create.add_argument("username")
    create.add_argument("--role", choices=["agent", "supervisor", "admin"], default="agent")
    create.add_argument(
        "--site",
        required=True,
        help="site code from config/sites.toml: LZ (the district), LZ-TX (a street), LZ-TX-WYM (a village)",
    )
    create.add_argument("--name", default="", help="the name shown in the console")
    create.add_argument("--language", choices=LANGUAGES, default=DEFAULT_LANGUAGE)
    create.add_argument("--password-stdin", action="store_true", help="read the password from stdin")
    password = agents_commands.add_parser("password", help="set an agent's password")
    password.add_argument("username")
    password.add_argument("--password-stdin", action="store_true", help="read the password from stdin")
    agents_commands.add_parser("list", help="every agent: role, site, active or disabled, last sign-in")
    disable = agents_commands.add_parser(
        "disable", help="stop an agent signing in; ends their sessions at once"
    )
    disable.add_argument("username")
    enable = agents_commands.add_parser("enable", help="let a disabled agent sign in again")
    enable.add_argument("username")

    insurance_arguments(commands.add_parser("insurance", help="day insurance: the insurer's daily CSV"))

    sms = commands.add_parser("sms", help="the domestic carrier's SMS templates")
    sms_commands = _Subparsers(sms.add_subparsers(dest="sms_command", required=True), common)
    sms_arguments(
        sms_commands.add_parser(
            "templates",
            help="the carrier templates to apply for (config/carrier_templates.toml), by language",
        )
    )
    return parser


class _Subparsers:
    """add_parser with the options every command takes (`--debug`)."""

    def __init__(self, action: Any, common: argparse.ArgumentParser) -> None:
        self.action, self.common = action, common

    def add_parser(self, name: str, **kwargs: Any) -> argparse.ArgumentParser:
        return self.action.add_parser(name, parents=[self.common], **kwargs)


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    from dispatch.logs import configure_logging

    configure_logging(debug=args.debug)
    settings: Settings | None = None
    try:
        try:
            settings = Settings.load()
        except SettingsError as exc:
            if args.command == "check":
                from dispatch.ops.check import run

                return run(None, str(exc))
            raise
        _check_urls(settings, args.command)
        return COMMANDS[args.command](settings, args)
    except KeyboardInterrupt:
        if args.debug:
            raise
        return 130  # Ctrl-C before a command's own handler was in place: no traceback
    except Exception as exc:
        if args.debug:
            raise
        from dispatch.ops.errors import describe

        message = describe(exc, settings)
        if message is None:
            raise  # a bug, not an operator's error: keep its traceback
        print(f"dispatch {args.command}: {message}", file=sys.stderr)
        return 2


def _check_urls(settings: Settings, command: str) -> None:
    from dispatch.ops.errors import check_database_url, check_redis_url

    if command in DATABASE_COMMANDS:
        check_database_url(settings.DATABASE_URL)
    if command in REDIS_COMMANDS:
        check_redis_url(settings.REDIS_URL)


def _serve(settings: Settings, args: argparse.Namespace) -> int:
    from dispatch import create_app
    from dispatch.spool.replay import SpoolReplayer
    from dispatch.worker import EmbeddedWorker

    app = create_app()
    runtime = app.extensions["dispatch.runtime"]
    SpoolReplayer(runtime).start()
    if settings.embedded_redis and settings.EMBEDDED_WORKER:
        EmbeddedWorker(runtime).start()
        log.info("embedded queue worker started (REDIS_URL=embedded)")
    app.run(host=args.host, port=args.port, threaded=True, use_reloader=False)
    return 0


def _worker(settings: Settings, args: argparse.Namespace) -> int:
    from dispatch.demo import refuse_demo_data_in_production
    from dispatch.ops.errors import OperatorError
    from dispatch.ops.probes import warn_if_redis_down
    from dispatch.queue import QUEUE_NAMES
    from dispatch.runtime import init_runtime
    from dispatch.worker import run_worker

    if settings.embedded_redis:
        raise OperatorError("REDIS_URL=embedded lives inside `dispatch serve`; set a real REDIS_URL")
    queues = tuple(name.strip() for name in args.queues.split(",") if name.strip())
    if not queues or any(name not in QUEUE_NAMES for name in queues):
        raise OperatorError(f"--queues {args.queues!r}: the queues are {', '.join(QUEUE_NAMES)}")
    runtime = init_runtime(settings)
    refuse_demo_data_in_production(runtime.db, settings)  # offers would go to its made-up numbers
    if not args.burst:
        warn_if_redis_down(runtime, "worker")  # then run_worker waits for it
    run_worker(runtime, queues, burst=args.burst)
    return 0


def _db(settings: Settings, args: argparse.Namespace) -> int:
    from dispatch.commands import db

    return db.run(settings, args)


def _seed(settings: Settings, args: argparse.Namespace) -> int:
    from dispatch.db import Database
    from dispatch.seed import seed

    database = Database(settings.DATABASE_URL)
    with database.transaction() as session:
        counts = seed(session, Path(args.config_dir or settings.CONFIG_DIR))
    print("seeded: " + ", ".join(f"{name} {count}" for name, count in counts.items()))
    return 0


def _demo(settings: Settings, args: argparse.Namespace) -> int:
    from dispatch import demo
    from dispatch.db import Database

    try:
        with Database(settings.DATABASE_URL).transaction() as session:
            workers = demo.WORKERS if args.workers is None else args.workers
            counts = demo.seed_demo(session, settings, workers=workers)
    except demo.DemoRefused as exc:
        print(f"dispatch demo: {exc}", file=sys.stderr)
        return 2
    print("demo data: " + ", ".join(f"{name} {count}" for name, count in counts.items()))
    print(f"demo agent: {demo.AGENT_USERNAME} / {demo.AGENT_PASSWORD}")
    return 0


def _agents(settings: Settings, args: argparse.Namespace) -> int:
    from dispatch.commands import agents

    return agents.run(settings, args)


def _check(settings: Settings, args: argparse.Namespace) -> int:
    from dispatch.ops.check import run

    return run(settings)


def _simulate(settings: Settings, args: argparse.Namespace) -> int:
    from dispatch.simulation.command import run

    return run(settings, args)


def _insurance(settings: Settings, args: argparse.Namespace) -> int:
    from dispatch.insurance.export import run

    return run(settings, args)


def _sms(settings: Settings, args: argparse.Namespace) -> int:
    from dispatch.commands import sms

    return sms.run(settings, args)


COMMANDS = {
    "serve": _serve,
    "worker": _worker,
    "db": _db,
    "seed": _seed,
    "agents": _agents,
    "demo": _demo,
    "check": _check,
    "simulate": _simulate,
    "insurance": _insurance,
    "sms": _sms,
}

if __name__ == "__main__":
    sys.exit(main())
