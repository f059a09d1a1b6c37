"""Where a simulated day runs: a database and a Redis of its own, and the service wired to them.

By default a throw-away SQLite file in a temporary directory and an in-process Redis (fakeredis,
without its emulated socket: inprocess_redis.py), so the simulation needs no services.
`--database-url` may name a PostgreSQL database: the day then runs in a schema of its own, created and
dropped around it, so nothing else in that database is touched.
`--redis-url` may name a Redis database, which is EMPTIED before and after the day (RQ's queues have
no prefix to keep them apart).
"""

from __future__ import annotations

import logging
import tempfile
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from flask import Flask
from redis import Redis
from sqlalchemy import Engine, event, text

from dispatch import create_app
from dispatch.db import Database, make_engine, normalise_database_url
from dispatch.migrate import upgrade
from dispatch.runtime import Runtime, get_runtime, set_runtime, wire_outbox
from dispatch.settings import Settings
from dispatch.simulation.inprocess_redis import in_process_redis

log = logging.getLogger(__name__)


@contextmanager
def database(url: str | None) -> Iterator[tuple[str, Engine]]:
    """A migrated, empty database for one day: (a URL to show, the engine)."""
    if url is None:
        with tempfile.TemporaryDirectory(prefix="dispatch-simulate-") as directory:
            sqlite_url = f"sqlite:///{Path(directory) / 'day.sqlite3'}"
            engine = make_engine(sqlite_url)
            # A throw-away file: no need to wait for the disk at every commit.
            event.listen(engine, "connect", _no_fsync)
            try:
                _migrate(engine)
                yield sqlite_url, engine
            finally:
                engine.dispose()
        return
    if not normalise_database_url(url).startswith("postgresql"):
        raise ValueError("--database-url must be a PostgreSQL URL (the default is a throw-away SQLite)")
    schema = f"dispatch_simulation_{uuid.uuid4().hex[:12]}"
    admin = make_engine(url)
    with admin.begin() as connection:
        connection.execute(text(f'CREATE SCHEMA "{schema}"'))
    # The day's own schema; and a throw-away day need not wait for the disk at every commit.
    options = f"-c search_path={schema} -c synchronous_commit=off"
    engine = make_engine(url, connect_args={"options": options})
    try:
        _migrate(engine)
        yield f"{url} (schema {schema})", engine
    finally:
        engine.dispose()
        with admin.begin() as connection:
            connection.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


def _no_fsync(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA synchronous=OFF")
    cursor.close()


def _migrate(engine: Engine) -> None:
    with engine.begin() as connection:
        upgrade(connection=connection)


@contextmanager
def redis_connection(url: str | None) -> Iterator[Redis]:
    """A Redis of the day's own: a fresh fakeredis, or the named database emptied around the day."""
    if url is None:
        yield in_process_redis()
        return
    connection = Redis.from_url(url, socket_connect_timeout=2, socket_timeout=5)
    connection.flushdb()
    try:
        yield connection
    finally:
        connection.flushdb()
        connection.close()


@contextmanager
def service(settings: Settings, engine: Engine, redis: Redis) -> Iterator[tuple[Runtime, Flask]]:
    """The service's runtime and web app on this database and Redis, installed as the process's
    runtime for the day (RQ jobs find it with get_runtime()), and the previous one put back after."""
    try:
        previous: Runtime | None = get_runtime()
    except RuntimeError:
        previous = None
    runtime = Runtime(settings=settings, db=Database(engine=engine), redis=redis)
    wire_outbox(runtime)
    set_runtime(runtime)
    try:
        app = create_app(runtime=runtime)
        yield runtime, app
    finally:
        set_runtime(previous)


def settings_for(
    policy: str,
    send_rate: float,
    database_url: str,
    redis_url: str | None,
    config_dir: str | None = None,
    follow_up_time: str | None = None,
    carrier: bool = False,
    carrier_limit: int | None = None,
) -> Settings:
    """The service's settings for a day: embedded defaults, the outbox transport (or, `carrier`, the
    simulated carrier: SIM_CARRIER), quiet hours on."""
    values: dict[str, Any] = {
        "DISPATCH_ENV": "development",
        "DATABASE_URL": database_url,
        "REDIS_URL": redis_url or "embedded",
        "SMS_TRANSPORT": "outbox",
        "TWILIO_AUTH_TOKEN": "simulation-" + uuid.uuid4().hex,
        "QUIET_HOURS": "21:00-08:00",
        "MATCHING_POLICY": policy,
        "SMS_SEND_RATE": send_rate,
        "EMBEDDED_WORKER": False,
    }
    if config_dir:
        values["CONFIG_DIR"] = config_dir
    if follow_up_time:
        values["FOLLOW_UP_TIME"] = follow_up_time
    if carrier:
        values["SIM_CARRIER"] = True
        if carrier_limit is not None:
            values["SMS_LIMIT_ALIYUN_PER_TEMPLATE"] = carrier_limit
    return Settings.load(values, environ={})
