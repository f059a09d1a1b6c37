"""GET /ping: the trivial endpoint scripts/bench_webhooks.py measures the webhooks against."""

from __future__ import annotations

from dispatch import create_app
from dispatch.db import Database
from dispatch.runtime import Runtime


def test_ping_answers_ok_without_the_database(runtime: Runtime) -> None:
    # Nothing listens on port 1: were /ping to touch the database it would fail, as /healthz does.
    broken = Runtime(
        settings=runtime.settings,
        db=Database("postgresql://postgres@127.0.0.1:1/nothing", connect_args={"connect_timeout": 2}),
        redis=runtime.redis,
    )
    client = create_app(runtime=broken).test_client()
    response = client.get("/ping")
    assert response.status_code == 200
    assert response.get_data(as_text=True) == "ok\n"
    assert response.mimetype == "text/plain"
    assert client.get("/healthz").status_code == 503  # the same app does need its database there
    broken.db.engine.dispose()
