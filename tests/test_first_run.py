"""The first run: `dispatch db upgrade`, `dispatch seed`, `dispatch serve` on embedded defaults
(SQLite, in-process Redis and worker, outbox transport), then a signed 注册 registers a worker."""

from __future__ import annotations

import socket
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request

import pytest
from sqlalchemy import create_engine, text
from twilio.request_validator import RequestValidator

from dispatch.settings import DEV_AUTH_TOKEN, PROJECT_ROOT
from tests.helpers import first_run_env, run_dispatch


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _post(url: str, form: dict[str, str], token: str = DEV_AUTH_TOKEN) -> int:
    signature = RequestValidator(token).compute_signature(url, form)
    request = urllib.request.Request(
        url, urllib.parse.urlencode(form).encode(), {"X-Twilio-Signature": signature}
    )
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status
    except urllib.error.HTTPError as error:
        return error.code


def _wait_for(predicate, timeout: float = 20.0):  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.2)
    raise AssertionError("condition not met in time")


@pytest.fixture
def first_run(tmp_path):
    database = tmp_path / "dispatch.sqlite3"
    env = first_run_env(database)
    for args in (("db", "upgrade"), ("seed",), ("seed",)):
        result = run_dispatch(env, *args, timeout=120)
        assert result.returncode == 0, result.stderr
    port = _free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "dispatch.cli", "serve", "--port", str(port)],
        env=env,
        cwd=PROJECT_ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        _wait_for(lambda: _healthy(base))
        yield base, create_engine(f"sqlite:///{database}")
    finally:
        server.terminate()
        server.wait(timeout=10)


def _healthy(base: str) -> bool:
    try:
        with urllib.request.urlopen(base + "/healthz", timeout=2) as response:
            return response.status == 200
    except OSError:
        return False


def test_seed_twice_is_idempotent_and_a_signed_registration_works(first_run):
    base, engine = first_run
    with engine.connect() as connection:
        assert connection.execute(text("SELECT count(*) FROM site")).scalar() == 31
        assert connection.execute(text("SELECT count(*) FROM trade")).scalar() == 12

    form = {"MessageSid": "SM" + "a" * 32, "From": "13800138000", "To": "+8610690000", "Body": ""}
    assert _post(base + "/sms/inbound", {**form, "Body": "注册 水电工 太西 300 张三"}) == 200
    assert _post(base + "/sms/inbound", {**form, "MessageSid": "SM" + "b" * 32, "Body": "1"}) == 200
    assert _post(base + "/sms/inbound", {**form, "MessageSid": "SM" + "c" * 32}, token="wrong") == 403

    def registered():
        with engine.connect() as connection:
            return connection.execute(
                text("SELECT name, min_daily_pay, status FROM worker WHERE phone = '+8613800138000'")
            ).first()

    assert tuple(_wait_for(registered)) == ("张三", 300, "active")

    def replies_sent():  # the in-process worker sent both replies through the outbox transport
        with engine.connect() as connection:
            return (
                connection.execute(
                    text("SELECT count(*) FROM message WHERE direction = 'outbound' AND status = 'sent'")
                ).scalar()
                == 2
            )

    _wait_for(replies_sent)
