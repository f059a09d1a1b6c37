"""`dispatch check`: a pass/fail line per check, exit 0 when all pass and 1 when any fails."""

from __future__ import annotations

import io
import os
import shutil
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from flask import Flask

from dispatch import migrate
from dispatch.ops.check import FAIL, PASS, Checks, run
from dispatch.runtime import Runtime
from dispatch.settings import PROJECT_ROOT
from dispatch.spool.store import Spool, SpooledRequest
from tests.conftest import make_settings
from tests.helpers import first_run_env

HEX = "0123456789abcdef" * 2
TOKEN = "fedcba9876543210" * 2


def lines(output: str) -> dict[str, tuple[str, str]]:
    """{check name: (status, detail)} from the printed list."""
    found = {}
    for line in output.splitlines()[:-1]:
        status, name, detail = line.split(maxsplit=2)
        found[name] = (status, detail)
    return found


def service_env(runtime: Runtime, **extra: str) -> dict[str, str]:
    settings = runtime.settings
    env = first_run_env(Path("/nonexistent"))
    env.update(
        {
            "DATABASE_URL": settings.DATABASE_URL,
            "REDIS_URL": settings.REDIS_URL,
            "CONFIG_DIR": settings.CONFIG_DIR,
            "SPOOL_DIR": settings.SPOOL_DIR,
            "DISPATCH_ENV": "test",
            **extra,
        }
    )
    return env


def dispatch_check(env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "dispatch.cli", "check"],
        env=env,
        cwd=PROJECT_ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_a_good_setup_passes(committed: tuple[Runtime, Flask]) -> None:
    runtime, _app = committed
    if runtime.settings.embedded_redis:
        pytest.skip("needs a real Redis")
    result = dispatch_check(service_env(runtime))
    assert result.returncode == 0, result.stdout + result.stderr
    checks = lines(result.stdout)
    assert set(checks) >= {
        "settings",
        "database",
        "migrations",
        "seeded",
        "redis",
        "sites.toml",
        "trades.toml",
        "matching.toml",
        "twilio",
        "public-url",
        "spool",
    }
    assert {status for status, _ in checks.values()} == {PASS}
    assert "Traceback" not in result.stderr


def test_a_broken_setup_fails_each_broken_thing(committed: tuple[Runtime, Flask], tmp_path: Path) -> None:
    runtime, _app = committed
    config = tmp_path / "config"
    shutil.copytree(PROJECT_ROOT / "config", config, ignore=shutil.ignore_patterns("__pycache__"))
    (config / "trades.toml").write_text("[[trade]\n", encoding="utf-8")
    spool = tmp_path / "spool"
    Spool(spool).write(
        SpooledRequest(kind="sms", form={}, received_at=datetime.now(UTC) - timedelta(minutes=5))
    )
    env = service_env(
        runtime,
        REDIS_URL="redis://127.0.0.1:1/0",
        CONFIG_DIR=str(config),
        SPOOL_DIR=str(spool),
        SMS_TRANSPORT="twilio",
        TWILIO_ACCOUNT_SID="AC123",
        TWILIO_AUTH_TOKEN="not-hex",
        TWILIO_FROM_NUMBER="+8613800138000",
        PUBLIC_BASE_URL="https://dispatch.example.org/sms/inbound",
    )
    result = dispatch_check(env)
    assert result.returncode == 1, result.stdout + result.stderr
    checks = lines(result.stdout)
    failed = {name for name, (status, _) in checks.items() if status == FAIL}
    assert failed == {"redis", "trades.toml", "twilio", "public-url", "spool"}, result.stdout
    assert "TWILIO_ACCOUNT_SID" in checks["twilio"][1] and "TWILIO_AUTH_TOKEN" in checks["twilio"][1]
    assert "pending" in checks["spool"][1]
    assert "Traceback" not in result.stdout + result.stderr


def test_settings_that_do_not_load_fail_first() -> None:
    env = {**first_run_env(Path("/nonexistent")), "SMS_TRANSPORT": "carrier-pigeon"}
    result = dispatch_check(env)
    assert result.returncode == 1
    assert result.stdout.splitlines()[0].split()[:2] == ["FAIL", "settings"]
    assert "SMS_TRANSPORT" in result.stdout


def test_an_unreachable_database_skips_what_needs_it(service_urls: dict[str, str], tmp_path: Path) -> None:
    settings = make_settings(
        service_urls, DATABASE_URL="postgresql://u:pw@127.0.0.1:1/x", SPOOL_DIR=str(tmp_path / "s")
    )
    out = io.StringIO()
    assert run(settings, out=out) == 1
    checks = lines(out.getvalue())
    assert checks["database"][0] == FAIL and "DATABASE_URL" in checks["database"][1]
    assert "pw" not in checks["database"][1]
    assert checks["migrations"][0] == "SKIP" and checks["seeded"][0] == "SKIP"


def test_migrations_behind_head(service_urls: dict[str, str], tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'old.sqlite3'}"
    migrate.upgrade(url, revision="0006")
    checks = Checks(make_settings(service_urls, DATABASE_URL=url))
    assert checks.check_database().status == PASS
    result = checks.check_migrations()
    assert result.status == FAIL and "0006" in result.detail and "dispatch db upgrade" in result.detail


@pytest.mark.parametrize(
    ("sid", "token", "service", "sender", "ok"),
    [
        ("AC" + HEX, TOKEN, "MG" + HEX, "", True),
        ("AC" + HEX.upper(), TOKEN, "", "+14155550100", True),
        ("AC" + HEX[:31], TOKEN, "MG" + HEX, "", False),
        ("SK" + HEX, TOKEN, "MG" + HEX, "", False),
        ("AC" + HEX, TOKEN + "0", "MG" + HEX, "", False),
        ("AC" + HEX, "x" * 32, "MG" + HEX, "", False),
        ("AC" + HEX, TOKEN, "MGnothex", "", False),
        ("AC" + HEX, TOKEN, "", "13800138000", False),
    ],
)
def test_twilio_credentials_format(service_urls, sid, token, service, sender, ok) -> None:  # type: ignore[no-untyped-def]
    settings = make_settings(
        service_urls,
        SMS_TRANSPORT="twilio",
        PUBLIC_BASE_URL="https://dispatch.example.org",
        TWILIO_ACCOUNT_SID=sid,
        TWILIO_AUTH_TOKEN=token,
        TWILIO_MESSAGING_SERVICE_SID=service,
        TWILIO_FROM_NUMBER=sender,
    )
    result = Checks(settings).check_twilio()
    assert (result.status == PASS) is ok, result.detail
    assert token not in result.detail  # the token is never printed


@pytest.mark.parametrize(
    ("url", "env", "ok"),
    [
        ("https://dispatch.example.org", "test", True),
        ("https://dispatch.example.org/", "test", True),
        ("https://example.org/dispatch", "test", True),
        ("http://dispatch.example.org", "test", True),
        ("dispatch.example.org", "test", False),
        ("https://dispatch.example.org/sms/inbound", "test", False),
        ("https://dispatch.example.org/ivr", "test", False),
        ("https://dispatch.example.org/?x=1", "test", False),
        ("https://dispatch.example.org:port", "test", False),
    ],
)
def test_public_base_url(service_urls, url: str, env: str, ok: bool) -> None:  # type: ignore[no-untyped-def]
    settings = make_settings(service_urls, PUBLIC_BASE_URL=url, DISPATCH_ENV=env)
    result = Checks(settings).check_public_url()
    assert (result.status == PASS) is ok, result.detail


def test_public_base_url_is_https_in_production(service_urls) -> None:  # type: ignore[no-untyped-def]
    settings = make_settings(service_urls)
    checks = Checks(settings)
    object.__setattr__(settings, "DISPATCH_ENV", "production")  # the rest of production is point 1's
    object.__setattr__(settings, "PUBLIC_BASE_URL", "http://dispatch.example.org")
    assert checks.check_public_url().status == FAIL
    object.__setattr__(settings, "PUBLIC_BASE_URL", "https://dispatch.example.org")
    assert checks.check_public_url().status == PASS
    object.__setattr__(settings, "PUBLIC_BASE_URL", "")
    assert checks.check_public_url().status == FAIL


def test_the_spool(service_urls, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    root = tmp_path / "spool"
    checks = Checks(make_settings(service_urls, SPOOL_DIR=str(root)))
    assert checks.check_spool().status == PASS  # not there yet: created on first use
    spool = Spool(root)
    spool.write(SpooledRequest(kind="sms", form={}, received_at=datetime.now(UTC) - timedelta(seconds=5)))
    assert checks.check_spool().status == PASS  # young: being replayed
    old = spool.write(
        SpooledRequest(kind="sms", form={}, received_at=datetime.now(UTC) - timedelta(minutes=2))
    )
    assert checks.check_spool().status == FAIL
    spool.fail(old)
    result = checks.check_spool()
    assert result.status == FAIL and "failed" in result.detail
    os.remove(root / "failed" / old.name)
    assert checks.check_spool().status == PASS
    assert not list(root.glob(".check-*"))  # the probe file is gone


def test_an_unwritable_spool(service_urls, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    root = tmp_path / "file-not-dir"
    root.write_text("", encoding="utf-8")
    result = Checks(make_settings(service_urls, SPOOL_DIR=str(root))).check_spool()
    assert result.status == FAIL and "SPOOL_DIR" in result.detail
