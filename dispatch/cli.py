"""The `dispatch` command: serve, worker, db, seed, demo, agents, simulate."""

from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path

from dispatch.insurance.export import add_arguments as insurance_arguments
from dispatch.settings import Settings, SettingsError
from dispatch.simulation.command import add_arguments as simulate_arguments

log = logging.getLogger(__name__)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="dispatch", description="零工市场 call center and SMS dispatch")
    commands = parser.add_subparsers(dest="command", required=True)

    serve = commands.add_parser("serve", help="run the web app (development server)")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=5000)

    worker = commands.add_parser("worker", help="run an RQ worker with the scheduler and periodic jobs")
    worker.add_argument("--burst", action="store_true", help="stop when the queues are empty")
    worker.add_argument("--queues", default="sms,matching,default")

    db = commands.add_parser("db", help="database schema")
    db.add_argument("action", choices=["upgrade", "downgrade"])
    db.add_argument("revision", nargs="?", default=None)

    seed = commands.add_parser("seed", help="load config/sites.toml and config/trades.toml (idempotent)")
    seed.add_argument("--config-dir", default=None)

    demo = commands.add_parser("demo", help="add demo workers, employers and agent (development only)")
    demo.add_argument("--workers", type=int, default=None, help="how many demo workers (default 300)")

    simulate_arguments(
        commands.add_parser("simulate", help="a simulated market day through the real webhooks and queue")
    )

    agents = commands.add_parser("agents", help="console accounts")
    agents_commands = agents.add_subparsers(dest="agents_command", required=True)
    create = agents_commands.add_parser("create", help="create an agent (the password is asked)")
    create.add_argument("username")
    create.add_argument("--role", choices=["agent", "supervisor", "admin"], default="agent")
    create.add_argument("--site", required=True, help="site code from config/sites.toml, e.g. district")
    create.add_argument("--name", default="", help="the name shown in the console")
    create.add_argument("--language", choices=["zh", "en"], default="zh")
    create.add_argument("--password-stdin", action="store_true", help="read the password from stdin")
    password = agents_commands.add_parser("password", help="set an agent's password")
    password.add_argument("username")
    password.add_argument("--password-stdin", action="store_true")

    insurance_arguments(commands.add_parser("insurance", help="day insurance: the insurer's daily CSV"))

    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    try:
        settings = Settings.load()
    except SettingsError as exc:
        print(f"dispatch: {exc}", file=sys.stderr)
        return 2
    return COMMANDS[args.command](settings, args)


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
    from dispatch.runtime import init_runtime
    from dispatch.worker import run_worker

    if settings.embedded_redis:
        print("dispatch worker: REDIS_URL=embedded lives inside `dispatch serve`; set a real REDIS_URL")
        return 2
    runtime = init_runtime(settings)
    queues = tuple(name.strip() for name in args.queues.split(",") if name.strip())
    run_worker(runtime, queues, burst=args.burst)
    return 0


def _db(settings: Settings, args: argparse.Namespace) -> int:
    from dispatch import migrate

    if args.action == "upgrade":
        migrate.upgrade(settings.DATABASE_URL, revision=args.revision or "head")
    else:
        migrate.downgrade(settings.DATABASE_URL, revision=args.revision or "-1")
    print(f"database {args.action} done")
    return 0


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


def _read_password(args: argparse.Namespace) -> str:
    import getpass

    if args.password_stdin:
        return sys.stdin.readline().rstrip("\n")
    first = getpass.getpass("password: ")
    if getpass.getpass("again: ") != first:
        raise ValueError("the two passwords differ")
    return first


def _agents(settings: Settings, args: argparse.Namespace) -> int:
    from dispatch.console.agents import AgentError, create_agent, set_password
    from dispatch.db import Database

    try:
        password = _read_password(args)
        with Database(settings.DATABASE_URL).transaction() as session:
            if args.agents_command == "create":
                agent = create_agent(
                    session, args.username, password, args.role, args.site, args.name, args.language
                )
                print(f"agent {agent.username} created ({agent.role.value}, site {args.site})")
            else:
                set_password(session, args.username, password)
                print(f"password of {args.username} changed")
    except (AgentError, ValueError) as exc:
        print(f"dispatch agents: {exc}", file=sys.stderr)
        return 2
    return 0


def _simulate(settings: Settings, args: argparse.Namespace) -> int:
    from dispatch.simulation.command import run

    return run(settings, args)


def _insurance(settings: Settings, args: argparse.Namespace) -> int:
    from dispatch.insurance.export import run

    return run(settings, args)


COMMANDS = {
    "serve": _serve,
    "worker": _worker,
    "db": _db,
    "seed": _seed,
    "agents": _agents,
    "demo": _demo,
    "simulate": _simulate,
    "insurance": _insurance,
}

if __name__ == "__main__":
    sys.exit(main())
