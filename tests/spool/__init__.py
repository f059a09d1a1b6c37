"""The spool's tests (issue 12, "nothing lost, nothing sent twice"), and what they share: the same
service with its database stopped (nothing listens on port 1, so every connection is refused at once),
writing to the test's own SPOOL_DIR, and a look at what waits there."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta

from flask.testing import FlaskClient

from dispatch import create_app
from dispatch.db import Database, Timeouts
from dispatch.runtime import Runtime
from dispatch.spool.replay import settle_seconds
from dispatch.spool.store import SpooledRequest

STOPPED_DATABASE_URL = "postgresql://postgres@127.0.0.1:1/none"


@contextmanager
def database_down(runtime: Runtime) -> Iterator[tuple[Runtime, FlaskClient]]:
    """`runtime`'s service (same settings, Redis and SPOOL_DIR) with a database that is down."""
    down = Runtime(
        settings=runtime.settings,
        db=Database(STOPPED_DATABASE_URL, timeouts=Timeouts(connect=2)),
        redis=runtime.redis,
    )
    app = create_app(runtime=down)
    app.testing = True
    try:
        yield down, app.test_client()
    finally:
        down.db.engine.dispose()


def waiting(runtime: Runtime) -> list[SpooledRequest]:
    """The requests waiting in the spool, oldest first."""
    return [runtime.spool.read(path) for path in runtime.spool.pending()]


def failed_names(runtime: Runtime) -> list[str]:
    directory = runtime.spool.failed_dir
    return sorted(path.name for path in directory.iterdir()) if directory.exists() else []


def settled(runtime: Runtime) -> datetime:
    """A moment when everything spooled so far has settled: the replayer no longer holds it back for a
    request that may still be waiting on the database (dispatch/spool/replay.py)."""
    return datetime.now(UTC) + timedelta(seconds=settle_seconds(runtime.settings) + 1)
