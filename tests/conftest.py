"""Real-service fixtures: PostgreSQL (each test in a rolled-back transaction), Redis (flushed), RQ.

TEST_DATABASE_URL / TEST_REDIS_URL default to the local servers. Where neither can be had, the
suite says so loudly and runs on SQLite and fakeredis; with DISPATCH_REQUIRE_SERVICES=1 it fails.
"""

from __future__ import annotations

import os
import sys
import warnings
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
import time_machine
from flask import Flask
from flask.testing import FlaskClient
from redis import Redis
from sqlalchemy import create_engine, make_url, text
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session, sessionmaker

from dispatch import create_app
from dispatch.db import Database, make_engine, normalise_database_url
from dispatch.migrate import upgrade
from dispatch.models import Base
from dispatch.runtime import Runtime, connect_redis, set_runtime, wire_outbox
from dispatch.seed import seed
from dispatch.settings import PROJECT_ROOT, Settings
from tests.factories import NOW, Market
from tests.helpers import TEST_AUTH_TOKEN

DEFAULT_DATABASE_URL = "postgresql://postgres@127.0.0.1:5432/test"
DEFAULT_REDIS_URL = "redis://127.0.0.1:6379/15"


def _require_services() -> bool:
    return os.environ.get("DISPATCH_REQUIRE_SERVICES", "") in {"1", "true", "yes"}


def _loud(message: str) -> None:
    banner = "!" * 100
    print(f"\n{banner}\n{message}\n{banner}", file=sys.stderr)
    warnings.warn(message, stacklevel=2)


def _xdist_worker() -> int:
    """This process's number among pytest-xdist's workers (gw0, gw1, ...): 0 without xdist."""
    name = os.environ.get("PYTEST_XDIST_WORKER", "gw0")
    return int(name.removeprefix("gw") or 0)


def _own_database(url: str, worker: int) -> str:
    """Worker 0 keeps the database it was given; worker N gets `<name>_wN` beside it (created once):
    each worker drops and migrates its own schema, so parallel workers never share a table."""
    if worker == 0:
        return url
    base = make_url(normalise_database_url(url))
    name = f"{base.database}_w{worker}"
    engine = create_engine(base, isolation_level="AUTOCOMMIT")
    with engine.connect() as connection:
        exists = connection.execute(text("SELECT 1 FROM pg_database WHERE datname = :n"), {"n": name}).first()
        if exists is None:
            connection.execute(text(f'CREATE DATABASE "{name}"'))
    engine.dispose()
    return base.set(database=name).render_as_string(hide_password=False)


def _database_url(tmp_root: Path) -> str:
    url = os.environ.get("TEST_DATABASE_URL", DEFAULT_DATABASE_URL)
    try:
        if url.startswith("postgres"):
            url = _own_database(url, _xdist_worker())
        engine = create_engine(normalise_database_url(url))
        with engine.connect() as connection:
            connection.execute(text("SELECT 1"))
        engine.dispose()
        return url
    except Exception as exc:
        if _require_services():
            pytest.exit(f"PostgreSQL at {url} is required (DISPATCH_REQUIRE_SERVICES=1): {exc}", returncode=3)
        _loud(f"PostgreSQL at {url} unavailable ({exc}); RUNNING ON SQLITE INSTEAD")
        return f"sqlite:///{tmp_root / 'test.sqlite3'}"


def _own_redis(url: str, worker: int) -> str:
    """Worker N of pytest-xdist uses the Redis database N below the one it was given (15, 14, ...)."""
    if worker == 0:
        return url
    base, _, number = url.rpartition("/")
    return f"{base}/{(int(number or 0) - worker) % 16}"


def _redis_url() -> str:
    url = _own_redis(os.environ.get("TEST_REDIS_URL", DEFAULT_REDIS_URL), _xdist_worker())
    try:
        Redis.from_url(url, socket_connect_timeout=2).ping()
        return url
    except Exception as exc:
        if _require_services():
            pytest.exit(f"Redis at {url} is required (DISPATCH_REQUIRE_SERVICES=1): {exc}", returncode=3)
        _loud(f"Redis at {url} unavailable ({exc}); RUNNING ON FAKEREDIS INSTEAD")
        return "embedded"


# Under pytest-xdist (`--dist loadgroup`, as ./scripts/test runs the whole suite), a test file runs on one
# worker, so its module-scoped fixtures are built once. The simulated days are session-scoped fixtures
# (tests/simulation/days_shared.py) read by several files: those files go to one worker together.
SIMULATED_DAYS = ("tests/simulation/", "tests/test_logs_private.py")


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        path = item.nodeid.split("::", 1)[0]
        group = "simulated-days" if path.startswith(SIMULATED_DAYS) else path
        item.add_marker(pytest.mark.xdist_group(group))
    # The simulated days are the longest group (minutes): handed out first, the other worker runs
    # the rest of the suite beside them instead of waiting for them at the end.
    items.sort(key=lambda item: not item.nodeid.startswith(SIMULATED_DAYS))


@pytest.fixture(scope="session")
def service_urls(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    return {"database": _database_url(tmp_path_factory.mktemp("db")), "redis": _redis_url()}


@pytest.fixture(scope="session")
def engine(service_urls: dict[str, str]):
    """The test database, emptied and migrated from scratch once per run (so migrations are tested)."""
    engine = make_engine(service_urls["database"])
    with engine.begin() as connection:
        if connection.dialect.name == "postgresql":
            connection.execute(text("DROP SCHEMA public CASCADE"))
            connection.execute(text("CREATE SCHEMA public"))
        else:
            Base.metadata.drop_all(connection)
            connection.execute(text("DROP TABLE IF EXISTS alembic_version"))
    with engine.begin() as connection:
        upgrade(connection=connection)
    yield engine
    engine.dispose()


def make_settings(service_urls: dict[str, str], **overrides: Any) -> Settings:
    values: dict[str, Any] = {
        "DISPATCH_ENV": "test",
        "DATABASE_URL": service_urls["database"],
        "REDIS_URL": service_urls["redis"],
        "TWILIO_AUTH_TOKEN": TEST_AUTH_TOKEN,
        "SECRET_KEY": "test-secret",
        "QUIET_HOURS": "off",  # tests run at any hour; quiet-hours tests set their own
        "SMS_SEND_RATE": 1000.0,
        "CONFIG_DIR": str(PROJECT_ROOT / "config"),
        "EMBEDDED_WORKER": False,
    }
    if overrides.get("DISPATCH_ENV") != "production":  # which accepts scrypt only
        # scrypt costs a tenth of a second or more a hash and a check: a cheap method for the hundreds of
        # agents the tests create and sign in (tests/console/test_agents_cli.py checks scrypt itself).
        values["PASSWORD_HASH_METHOD"] = "pbkdf2:sha256:1000"
    values.update(overrides)
    return Settings.load(values, environ={})


def build_runtime(settings: Settings, database: Database, redis: Redis) -> Runtime:
    runtime = Runtime(settings=settings, db=database, redis=redis)
    wire_outbox(runtime)
    set_runtime(runtime)
    return runtime


@pytest.fixture
def redis(service_urls: dict[str, str]) -> Iterator[Redis]:
    connection = connect_redis(service_urls["redis"])
    connection.flushdb()
    yield connection
    connection.flushdb()


@pytest.fixture
def settings_overrides() -> dict[str, Any]:
    """Override in a test module to change settings for its tests."""
    return {}


@pytest.fixture
def runtime(engine, service_urls, redis, settings_overrides, tmp_path) -> Iterator[Runtime]:
    """The runtime of one test: every session joins one outer transaction that is rolled back."""
    connection = engine.connect()
    outer = connection.begin()
    database = Database(engine=engine)
    database.sessionmaker = sessionmaker(
        bind=connection, join_transaction_mode="create_savepoint", expire_on_commit=False
    )
    overrides = {"SPOOL_DIR": str(tmp_path / "spool"), **settings_overrides}
    runtime = build_runtime(make_settings(service_urls, **overrides), database, redis)
    yield runtime
    set_runtime(None)
    outer.rollback()
    connection.close()


@pytest.fixture
def session(runtime: Runtime) -> Iterator[Session]:
    """A session inside the test's transaction, for arranging and checking rows."""
    session = runtime.db.sessionmaker()
    yield session
    session.close()


@pytest.fixture
def seeded(runtime: Runtime) -> dict[str, int]:
    with runtime.db.transaction() as session:
        return seed(session, Path(runtime.settings.CONFIG_DIR))


@pytest.fixture
def market(session: Session, seeded: dict[str, int]) -> Market:
    """Employers, workers and jobs on the seeded sites and trades, built in the test's session."""
    return Market(session)


@pytest.fixture
def clock_start() -> datetime:
    """Where `clock` starts; a directory or module whose story starts elsewhere overrides this fixture."""
    return NOW


@pytest.fixture
def clock(clock_start: datetime) -> Iterator[time_machine.Coordinates]:
    """The market's clock, frozen at `clock_start`: it moves only when the test moves it. A directory
    whose every test runs on it asks for it from an autouse fixture of its conftest."""
    with time_machine.travel(clock_start, tick=False) as traveller:
        yield traveller


@pytest.fixture
def app(runtime: Runtime):
    app = create_app(runtime=runtime)
    app.testing = True
    return app


@pytest.fixture
def client(app) -> FlaskClient:
    return app.test_client()


@pytest.fixture
def committed(
    engine, service_urls: dict[str, str], redis: Redis, tmp_path: Path
) -> Iterator[tuple[Runtime, Flask]]:
    """A runtime whose requests really commit, so that concurrent requests really race.

    The tables are emptied afterwards, for the tests that run in rolled-back transactions.
    """
    if engine.dialect.name == "sqlite":
        pytest.skip("concurrent deliveries need PostgreSQL: SQLite serialises every writer")
    database = Database(engine=engine)
    runtime = build_runtime(make_settings(service_urls, SPOOL_DIR=str(tmp_path / "spool")), database, redis)
    with database.transaction() as session:
        seed(session, Path(runtime.settings.CONFIG_DIR))
    app = create_app(runtime=runtime)
    app.testing = True
    try:
        yield runtime, app
    finally:
        set_runtime(None)
        _empty_tables(engine)


def _empty_tables(engine) -> None:  # type: ignore[no-untyped-def]
    """TRUNCATE every table. A live server's last request (a page's poll) may still hold a table the
    TRUNCATE locks after it: PostgreSQL then breaks the deadlock by failing one side (seen in CI), and
    the TRUNCATE is simply tried again once that request has ended."""
    tables = ", ".join(f'"{table.name}"' for table in Base.metadata.sorted_tables)
    for attempt in range(3):
        try:
            with engine.begin() as connection:
                connection.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))
            return
        except OperationalError as exc:
            if attempt == 2 or "deadlock" not in str(exc).lower():
                raise
