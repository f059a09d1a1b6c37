"""`/readyz` (503 with reasons, never 500, when something is down) and `/metrics` (Prometheus text
format, parsed back), both for monitoring only; the webhook histogram adds up across gunicorn workers."""

from __future__ import annotations

import concurrent.futures
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from flask.testing import FlaskClient
from prometheus_client.parser import text_string_to_metric_families
from rq.utils import utcformat
from sqlalchemy import select

from dispatch import create_app
from dispatch.clock import utcnow
from dispatch.db import Database, Timeouts
from dispatch.models import Direction, Message, MessageStatus, Offer, OfferStatus
from dispatch.ops import readiness
from dispatch.queue import QUEUE_NAMES, get_queue
from dispatch.runtime import Runtime, connect_redis
from dispatch.settings import PROJECT_ROOT
from dispatch.spool.store import SpooledRequest
from dispatch.worker import DispatchWorker
from tests.factories import Market
from tests.helpers import first_run_env, run_jobs, signed_post, text_in
from tests.sms.test_webhooks import status_params

STOPPED_DATABASE = "postgresql://postgres@127.0.0.1:1/none"
STOPPED_REDIS = "redis://127.0.0.1:1/0"


@pytest.fixture
def registered_worker(runtime: Runtime) -> Iterator[DispatchWorker]:
    """An RQ worker in the registry, as a running `dispatch worker` leaves it."""
    if runtime.settings.embedded_redis:
        pytest.skip("needs a real Redis")
    worker = DispatchWorker(
        [get_queue(name, runtime.redis) for name in QUEUE_NAMES], connection=runtime.redis
    )
    worker.register_birth()
    yield worker
    worker.register_death()


def outage(runtime: Runtime, database: bool = False, redis: bool = False) -> FlaskClient:
    """`runtime`'s service with its database and/or Redis down (nothing listens on port 1)."""
    down = Runtime(
        settings=runtime.settings,
        db=Database(STOPPED_DATABASE, timeouts=Timeouts(connect=2)) if database else runtime.db,
        redis=connect_redis(STOPPED_REDIS) if redis else runtime.redis,
    )
    app = create_app(runtime=down)
    app.testing = True
    return app.test_client()


def metrics(client: FlaskClient) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    """Every sample of /metrics: {(name, sorted labels): value}."""
    response = client.get("/metrics")
    assert response.status_code == 200, response.get_data(as_text=True)
    assert response.content_type.startswith("text/plain; version=")
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(response.get_data(as_text=True))
        for sample in family.samples
    }


def value(samples: dict, name: str, **labels: str) -> float:  # type: ignore[type-arg]
    return samples.get((name, tuple(sorted(labels.items()))), 0.0)


def outbound(session: Any, **fields: Any) -> Message:
    values = {
        "direction": Direction.OUTBOUND,
        "phone": "+8613800138000",
        "body": "x",
        "kind": "test",
        **fields,
    }
    message = Message(**values)
    session.add(message)
    session.flush()
    return message


# -- /readyz -----------------------------------------------------------------------------------------


def test_ready_when_all_is_well(client: FlaskClient, registered_worker: DispatchWorker) -> None:
    response = client.get("/readyz")
    body = response.get_json()
    assert response.status_code == 200, body
    assert body["status"] == "ok" and body["reasons"] == []
    assert (body["database"], body["redis"]) == ("ok", "ok")
    assert (body["unsent"], body["oldest_unsent_seconds"]) == (0, None)
    assert body["spool"] == {"pending": 0, "oldest_seconds": None, "failed": 0}
    assert body["workers"]["count"] == 1 and body["workers"]["last_heartbeat_seconds"] < 5
    assert response.headers["Cache-Control"] == "no-store"


def test_database_down_is_503_not_500(runtime: Runtime, registered_worker: DispatchWorker) -> None:
    response = outage(runtime, database=True).get("/readyz")
    body = response.get_json()
    assert response.status_code == 503, body
    assert body["database"] == "unavailable" and body["redis"] == "ok"
    assert [reason.split(":")[0] for reason in body["reasons"]] == ["database unavailable"]


def test_redis_down_is_503_not_500(runtime: Runtime) -> None:
    response = outage(runtime, redis=True).get("/readyz")
    body = response.get_json()
    assert response.status_code == 503, body
    assert body["redis"] == "unavailable" and body["database"] == "ok"
    assert [reason.split(":")[0] for reason in body["reasons"]] == ["redis unavailable"]


def test_both_down(runtime: Runtime) -> None:
    response = outage(runtime, database=True, redis=True).get("/readyz")
    assert response.status_code == 503
    reasons = response.get_json()["reasons"]
    assert {reason.split(":")[0] for reason in reasons} == {"database unavailable", "redis unavailable"}


def test_a_text_long_due_and_unsent(client, session, registered_worker) -> None:  # type: ignore[no-untyped-def]
    late = utcnow() - timedelta(seconds=readiness.UNSENT_MAX_SECONDS + 60)
    outbound(session, status=MessageStatus.PENDING, created_at=late)
    outbound(session, status=MessageStatus.PENDING, created_at=late, send_after=utcnow() + timedelta(hours=8))
    outbound(session, status=MessageStatus.SENDING, created_at=late, provider_sid="SM" + "1" * 32)
    outbound(session, status=MessageStatus.SENT, created_at=late)
    session.commit()
    response = client.get("/readyz")
    body = response.get_json()
    assert response.status_code == 503
    assert body["unsent"] == 1  # held for the morning, or with its provider, or sent: not late
    assert body["oldest_unsent_seconds"] >= readiness.UNSENT_MAX_SECONDS + 60
    assert "unsent" in body["reasons"][0]


def test_a_fresh_unsent_text_is_fine(client, session, registered_worker) -> None:  # type: ignore[no-untyped-def]
    outbound(session, status=MessageStatus.SENDING, send_started_at=utcnow())
    session.commit()
    response = client.get("/readyz")
    assert response.status_code == 200
    assert response.get_json()["unsent"] == 1


def test_an_old_spooled_webhook_and_a_failed_one(client, runtime, registered_worker) -> None:  # type: ignore[no-untyped-def]
    old = utcnow() - timedelta(seconds=readiness.SPOOL_PENDING_MAX_SECONDS + 30)
    runtime.spool.write(SpooledRequest(kind="sms_inbound", form={}, received_at=old))
    response = client.get("/readyz")
    assert response.status_code == 503
    assert response.get_json()["spool"]["pending"] == 1
    runtime.spool.fail(runtime.spool.pending()[0])
    body = client.get("/readyz").get_json()
    assert body["spool"] == {"pending": 0, "oldest_seconds": None, "failed": 1}
    assert body["reasons"] == ["1 webhooks in the spool's failed/ need an operator"]


def test_no_worker_or_a_silent_one(client, runtime, registered_worker) -> None:  # type: ignore[no-untyped-def]
    stale = utcnow() - timedelta(seconds=readiness.HEARTBEAT_MAX_SECONDS + 30)
    runtime.redis.hset(registered_worker.key, "last_heartbeat", utcformat(stale))
    response = client.get("/readyz")
    assert response.status_code == 503
    assert "heartbeat" in response.get_json()["reasons"][0]
    registered_worker.register_death()
    body = client.get("/readyz").get_json()
    assert body["workers"] == {"count": 0, "last_heartbeat_seconds": None}
    assert "no queue worker" in body["reasons"][0]


# -- who may read them --------------------------------------------------------------------------------


@pytest.mark.parametrize("path", ["/readyz", "/metrics"])
def test_only_for_monitoring(client: FlaskClient, path: str) -> None:
    assert client.get(path, environ_base={"REMOTE_ADDR": "203.0.113.9"}).status_code == 403
    # Through a proxy on this machine that we were not told to trust: the address is the proxy's.
    assert client.get(path, headers={"X-Forwarded-For": "203.0.113.9"}).status_code == 403
    assert client.get(path, environ_base={"REMOTE_ADDR": "::1"}).status_code in {200, 503}


class _With:
    """Settings plus the attributes a test names (METRICS_TOKEN and METRICS_ALLOW_FROM, once they exist)."""

    def __init__(self, settings: Any, **extra: str) -> None:
        self._settings, self._extra = settings, extra

    def __getattr__(self, name: str) -> Any:
        return self._extra[name] if name in self._extra else getattr(self._settings, name)


@pytest.mark.parametrize("path", ["/readyz", "/metrics"])
def test_a_bearer_token_or_an_allowed_address(client, runtime, monkeypatch, path: str) -> None:  # type: ignore[no-untyped-def]
    token = "a-long-random-metrics-token-0123456789"
    monkeypatch.setattr(
        runtime, "settings", _With(runtime.settings, METRICS_TOKEN=token, METRICS_ALLOW_FROM="10.1.0.0/16")
    )
    outside = {"REMOTE_ADDR": "203.0.113.9"}
    assert client.get(path, environ_base=outside).status_code == 403
    assert (
        client.get(path, environ_base=outside, headers={"Authorization": "Bearer wrong"}).status_code == 403
    )
    bearer = {"Authorization": f"Bearer {token}"}
    assert client.get(path, environ_base=outside, headers=bearer).status_code in {200, 503}
    assert client.get(path, environ_base={"REMOTE_ADDR": "10.1.2.3"}).status_code in {200, 503}
    assert client.get(path).status_code == 403  # 127.0.0.1 is not in METRICS_ALLOW_FROM any more


# -- /metrics ----------------------------------------------------------------------------------------


def test_metrics_after_webhooks_a_send_and_offers(client, runtime, session, seeded) -> None:  # type: ignore[no-untyped-def]
    before = metrics(client)
    phones = ["+8613800138001", "+8613800138002", "+8613800138003"]
    for phone in phones:
        text_in(client, "HELP", sender=phone)
    run_jobs(runtime)  # the replies are sent (the outbox transport records them as sent)
    sent = list(
        session.scalars(
            select(Message)
            .where(Message.kind == "help", Message.direction == Direction.OUTBOUND)
            .order_by(Message.id)
        )
    )
    assert [message.status for message in sent] == [MessageStatus.SENT] * 3
    callback = signed_post(
        client, f"/sms/status?m={sent[0].id}", status_params(sent[0].provider_sid or "", "delivered")
    )
    assert callback.status_code == 200
    outbound(session, status=MessageStatus.SUPPRESSED, kind="offer")
    outbound(session, status=MessageStatus.FAILED, kind="offer")

    market = Market(session)
    job = market.job(headcount=2)
    workers = [market.worker() for _ in range(3)]
    session.add_all(
        [
            Offer(job_id=job.id, worker_id=workers[0].id, status=OfferStatus.SENT, sent_at=utcnow()),
            Offer(job_id=job.id, worker_id=workers[1].id, status=OfferStatus.ACCEPTED, responded_at=utcnow()),
            Offer(job_id=job.id, worker_id=workers[2].id, status=OfferStatus.DECLINED, responded_at=utcnow()),
        ]
    )
    session.commit()

    after = metrics(client)
    for endpoint, calls in (("/sms/inbound", 3), ("/sms/status", 1)):
        name = "dispatch_webhook_duration_seconds_count"
        assert value(after, name, endpoint=endpoint) - value(before, name, endpoint=endpoint) == calls
        total = value(after, "dispatch_webhook_duration_seconds_bucket", endpoint=endpoint, le="+Inf")
        assert total == value(after, name, endpoint=endpoint)
    assert value(after, "dispatch_webhook_duration_seconds_sum", endpoint="/sms/inbound") > 0

    assert value(after, "dispatch_sms_outbound_24h", kind="help", status="sent") == 2
    assert value(after, "dispatch_sms_outbound_24h", kind="help", status="delivered") == 1
    assert value(after, "dispatch_sms_outbound_24h", kind="offer", status="suppressed") == 1
    assert value(after, "dispatch_sms_outbound_24h", kind="offer", status="failed") == 1
    assert value(after, "dispatch_sms_unsent") == 0
    assert value(after, "dispatch_sms_oldest_unsent_seconds") == 0
    assert value(after, "dispatch_offers_24h", status="sent") == 1
    assert value(after, "dispatch_offers_24h", status="accepted") == 1
    assert value(after, "dispatch_offers_24h", status="declined") == 1
    assert value(after, "dispatch_placements_24h") == 1
    for queue in QUEUE_NAMES:
        assert value(after, "dispatch_queue_jobs", queue=queue) == 0
    assert value(after, "dispatch_up", component="database") == 1
    assert value(after, "dispatch_up", component="redis") == 1
    assert value(after, "dispatch_spool_pending") == 0


def test_metrics_count_queued_jobs_and_unsent_texts(client, runtime, session) -> None:  # type: ignore[no-untyped-def]
    outbound(session, status=MessageStatus.PENDING, created_at=utcnow() - timedelta(seconds=90))
    session.commit()
    get_queue("sms", runtime.redis).enqueue("dispatch.tasks.sweep_outbox")
    samples = metrics(client)
    assert value(samples, "dispatch_queue_jobs", queue="sms") == 1
    assert value(samples, "dispatch_sms_unsent") == 1
    assert value(samples, "dispatch_sms_oldest_unsent_seconds") >= 90


def test_metrics_with_the_database_and_redis_down(runtime: Runtime) -> None:
    samples = metrics(outage(runtime, database=True, redis=True))
    assert value(samples, "dispatch_up", component="database") == 0
    assert value(samples, "dispatch_up", component="redis") == 0
    assert not any(name == "dispatch_sms_outbound_24h" for name, _ in samples)


# -- several processes under gunicorn ------------------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _get(url: str) -> tuple[int, str]:
    try:
        with urllib.request.urlopen(url, timeout=10) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode()
    except OSError:
        return 0, ""


def _post(url: str) -> int:
    request = urllib.request.Request(url, data=b"From=%2B8613800138000", method="POST")
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status
    except urllib.error.HTTPError as error:
        return error.code


def _held_at_once(port: int, path: str, count: int) -> list[int]:
    """`count` POSTs whose bodies are sent only once all of them are connected: each keeps the gunicorn
    worker that took it busy until then, so the next is taken by another."""
    body = b"From=%2B8613800138000"
    head = (
        f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nConnection: close\r\n"
        f"Content-Type: application/x-www-form-urlencoded\r\nContent-Length: {len(body)}\r\n\r\n"
    ).encode()
    sockets = []
    for _ in range(count):
        sock = socket.create_connection(("127.0.0.1", port), timeout=10)
        sock.sendall(head)
        sockets.append(sock)
        time.sleep(0.3)  # taken by a worker, which now waits for the body
    codes = []
    for sock in sockets:
        with sock:
            sock.sendall(body)
            reply = b""
            while chunk := sock.recv(65536):
                reply += chunk
            codes.append(int(reply.split(b" ", 2)[1]))
    return codes


def test_the_webhook_histogram_adds_up_across_gunicorn_workers(runtime: Runtime, tmp_path: Path) -> None:
    """Three worker processes answer webhooks; whichever answers the scrape counts them all."""
    settings = runtime.settings
    if settings.embedded_redis:
        pytest.skip("several processes need a real Redis")
    port = _free_port()
    multiproc = tmp_path / "metrics"
    multiproc.mkdir()
    env = {
        **first_run_env(Path("/nonexistent")),
        "DATABASE_URL": settings.DATABASE_URL,
        "REDIS_URL": settings.REDIS_URL,
        "SPOOL_DIR": str(tmp_path / "spool"),
        "DISPATCH_ENV": "test",
        "BIND": f"127.0.0.1:{port}",
        "WEB_CONCURRENCY": "3",
        "PROMETHEUS_MULTIPROC_DIR": str(multiproc),
    }
    gunicorn = Path(sys.executable).with_name("gunicorn")
    server = subprocess.Popen(
        [str(gunicorn), "-c", "config/gunicorn.conf.py", "--no-control-socket", "dispatch.wsgi:app"],
        env=env,
        cwd=PROJECT_ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while _get(base + "/ping")[0] != 200:
            assert server.poll() is None and time.monotonic() < deadline, "gunicorn did not start"
            time.sleep(0.2)
        # Three webhooks held open at once, each by a worker of its own (a sync worker answers one
        # request at a time), then more from several threads, answered by whichever worker is free.
        assert _held_at_once(port, "/sms/inbound", 3) == [403] * 3  # unsigned: refused, timed all the same
        calls = {"/sms/inbound": 24, "/sms/status": 6, "/ivr/voice": 9}
        urls = [
            base + path for path, count in calls.items() for _ in range(count - (path == "/sms/inbound") * 3)
        ]
        with concurrent.futures.ThreadPoolExecutor(max_workers=8) as pool:
            codes = list(pool.map(_post, urls))
        assert set(codes) == {403}

        writers = {path.name for path in multiproc.glob("histogram_*.db")}
        assert len(writers) == 3, f"only {writers} answered: not several processes"
        for _ in range(6):  # each scrape may be answered by any of the three
            status, text = _get(base + "/metrics")
            assert status == 200, text
            counts = {
                sample.labels["endpoint"]: sample.value
                for family in text_string_to_metric_families(text)
                for sample in family.samples
                if sample.name == "dispatch_webhook_duration_seconds_count"
            }
            assert counts == calls
    finally:
        server.terminate()
        try:
            _, errors = server.communicate(timeout=20)
        except subprocess.TimeoutExpired:
            server.kill()
            _, errors = server.communicate()
    assert "Traceback" not in errors, errors


def test_a_broken_metric_never_costs_a_webhook(client, seeded, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    from dispatch import metrics as module

    def broken(**_labels: str) -> None:
        raise FileNotFoundError("PROMETHEUS_MULTIPROC_DIR is gone")

    monkeypatch.setattr(module.WEBHOOK_LATENCY, "labels", broken)
    text_in(client, "HELP")  # asserts 200
