"""An operator's mistake at the command line is one line naming the setting or file and what to do,
exit code 2, no traceback (`--debug` shows it); a closed Redis at start is one loud line.

Each case runs `dispatch` in a process of its own, as an operator would.
"""

from __future__ import annotations

import io
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from dispatch import cli
from dispatch.settings import PROJECT_ROOT
from tests.helpers import first_run_env, run_dispatch


def _closed_port() -> int:
    """A local port nothing listens on (bound, then released)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    """A first run's environment on a SQLite file of its own, with its own copy of the config files."""
    config = tmp_path / "config"
    shutil.copytree(PROJECT_ROOT / "config", config, ignore=shutil.ignore_patterns("__pycache__"))
    return {
        **first_run_env(tmp_path / "dispatch.sqlite3"),
        "CONFIG_DIR": str(config),
        "SPOOL_DIR": str(tmp_path / "spool"),
    }


def one_line_error(result: subprocess.CompletedProcess[str], *expected: str) -> str:
    output = (result.stdout + result.stderr).strip()
    assert result.returncode == 2, output
    assert "Traceback" not in output, output
    assert len(output.splitlines()) == 1, output
    for text in expected:
        assert text in output, output
    return output


def test_an_unparsable_database_url(env: dict[str, str]) -> None:
    one_line_error(
        run_dispatch({**env, "DATABASE_URL": "not a url"}, "db", "upgrade"), "DATABASE_URL", "postgresql://"
    )


def test_an_unsupported_driver_is_named_not_its_missing_module(env: dict[str, str]) -> None:
    output = one_line_error(
        run_dispatch({**env, "DATABASE_URL": "mysql://user@localhost/dispatch"}, "seed"),
        "DATABASE_URL",
        "mysql",
    )
    assert "MySQLdb" not in output


def test_a_bad_port_in_the_database_url(env: dict[str, str]) -> None:
    one_line_error(
        run_dispatch({**env, "DATABASE_URL": "postgresql://u@127.0.0.1:port/x"}, "seed"), "DATABASE_URL"
    )


def test_an_unreachable_database_hides_its_password(env: dict[str, str]) -> None:
    url = f"postgresql://dispatch:s3cret@127.0.0.1:{_closed_port()}/dispatch"
    output = one_line_error(
        run_dispatch({**env, "DATABASE_URL": url}, "db", "upgrade"), "DATABASE_URL", "cannot use the database"
    )
    assert "s3cret" not in output and "dispatch:***@" in output


def test_a_database_without_tables_says_to_upgrade(env: dict[str, str]) -> None:
    one_line_error(run_dispatch(env, "seed"), "dispatch db upgrade")


def test_broken_toml_names_the_file(env: dict[str, str]) -> None:
    Path(env["CONFIG_DIR"], "sites.toml").write_text('[[site]\ncode = "LZ"\n', encoding="utf-8")
    one_line_error(run_dispatch(env, "seed"), "sites.toml", "not valid TOML", "CONFIG_DIR")


def test_a_bad_field_names_the_file_and_the_entry(env: dict[str, str]) -> None:
    trades = Path(env["CONFIG_DIR"], "trades.toml")
    trades.write_text(trades.read_text(encoding="utf-8").replace("high_risk = ", "high_risky = ", 1), "utf-8")
    one_line_error(run_dispatch(env, "seed"), "trades.toml", "unknown keys", "high_risky")


def test_a_missing_config_dir(env: dict[str, str], tmp_path: Path) -> None:
    one_line_error(
        run_dispatch({**env, "CONFIG_DIR": str(tmp_path / "nowhere")}, "seed"), "sites.toml", "CONFIG_DIR"
    )


def test_a_bad_setting(env: dict[str, str]) -> None:
    one_line_error(run_dispatch({**env, "SMS_SEND_RATE": "fast"}, "seed"), "SMS_SEND_RATE")


def test_an_unparsable_redis_url(env: dict[str, str]) -> None:
    one_line_error(run_dispatch({**env, "REDIS_URL": "localhost:6379"}, "worker", "--burst"), "REDIS_URL")


def test_a_closed_redis_for_a_burst(env: dict[str, str]) -> None:
    run_dispatch(env, "db", "upgrade")
    url = f"redis://:hunter2@127.0.0.1:{_closed_port()}/0"
    output = one_line_error(
        run_dispatch({**env, "REDIS_URL": url}, "worker", "--burst"), "REDIS_URL", "cannot reach Redis"
    )
    assert "hunter2" not in output


def test_the_embedded_redis_has_no_worker_of_its_own(env: dict[str, str]) -> None:
    one_line_error(run_dispatch({**env, "REDIS_URL": "embedded"}, "worker"), "REDIS_URL")


def test_an_unknown_revision(env: dict[str, str]) -> None:
    one_line_error(run_dispatch(env, "db", "upgrade", "nosuchrevision"), "nosuchrevision")


def test_downgrade_asks_first(env: dict[str, str]) -> None:
    assert run_dispatch(env, "db", "upgrade").returncode == 0
    one_line_error(run_dispatch(env, "db", "downgrade"), "--yes")  # stdin is not a terminal here
    result = run_dispatch(env, "db", "downgrade", "--yes")
    assert result.returncode == 0, result.stderr


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_downgrade_on_a_terminal_asks(env: dict[str, str], monkeypatch: pytest.MonkeyPatch, capsys) -> None:  # type: ignore[no-untyped-def]
    from alembic.runtime.migration import MigrationContext
    from sqlalchemy import create_engine

    assert run_dispatch(env, "db", "upgrade").returncode == 0
    for key in ("DATABASE_URL", "CONFIG_DIR", "SPOOL_DIR"):
        monkeypatch.setenv(key, env[key])

    def revision() -> str | None:
        engine = create_engine(env["DATABASE_URL"])
        with engine.connect() as connection:
            current = MigrationContext.configure(connection).get_current_revision()
        engine.dispose()
        return current

    head = revision()
    monkeypatch.setattr("sys.stdin", Terminal("no\n"))
    assert cli.main(["db", "downgrade"]) == 1
    assert "drops the tables" in capsys.readouterr().out and revision() == head
    monkeypatch.setattr("sys.stdin", Terminal("yes\n"))
    assert cli.main(["db", "downgrade"]) == 0
    assert revision() != head


def test_debug_shows_the_traceback(env: dict[str, str]) -> None:
    result = run_dispatch({**env, "DATABASE_URL": "mysql://user@localhost/dispatch"}, "--debug", "seed")
    assert result.returncode != 0
    assert "Traceback" in result.stderr and "DATABASE_URL" in result.stderr


def test_debug_after_the_command_too(env: dict[str, str]) -> None:
    result = run_dispatch({**env, "DATABASE_URL": "mysql://user@localhost/dispatch"}, "seed", "--debug")
    assert "Traceback" in result.stderr


def test_unknown_queues(env: dict[str, str]) -> None:
    url = f"redis://127.0.0.1:{_closed_port()}/0"
    one_line_error(
        run_dispatch({**env, "REDIS_URL": url}, "worker", "--queues", "sms,urgent"), "--queues", "matching"
    )


def test_agents_list_disable_enable(env: dict[str, str]) -> None:
    for args in (("db", "upgrade"), ("seed",)):
        assert run_dispatch(env, *args).returncode == 0
    created = subprocess.run(
        [
            sys.executable,
            "-m",
            "dispatch.cli",
            "agents",
            "create",
            "wang",
            "--site",
            "LZ-TX",
            "--password-stdin",
        ],
        env=env,
        cwd=PROJECT_ROOT,
        input="a long enough password 1\n",
        capture_output=True,
        text=True,
        check=False,
    )
    assert created.returncode == 0, created.stderr

    listed = run_dispatch(env, "agents", "list")
    assert listed.returncode == 0, listed.stderr
    assert listed.stdout.split()[:4] == ["wang", "agent", "LZ-TX", "active"]

    assert "disabled" in run_dispatch(env, "agents", "disable", "wang").stdout
    assert run_dispatch(env, "agents", "list").stdout.split()[3] == "disabled"
    assert "enabled" in run_dispatch(env, "agents", "enable", "wang").stdout
    assert run_dispatch(env, "agents", "list").stdout.split()[3] == "active"
    one_line_error(run_dispatch(env, "agents", "disable", "nobody"), "nobody")


def test_agents_create_shows_real_site_codes() -> None:
    result = run_dispatch(dict(os.environ), "agents", "create", "--help")
    assert "LZ-TX" in result.stdout and "district" in result.stdout


def _starts_with_one_loud_line(env: dict[str, str], *args: str) -> str:
    process = subprocess.Popen(
        [sys.executable, "-m", "dispatch.cli", *args],
        env=env,
        cwd=PROJECT_ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    lines: list[str] = []
    try:
        deadline = time.monotonic() + 60
        assert process.stdout is not None
        while time.monotonic() < deadline:
            line = process.stdout.readline()
            if not line:
                break
            lines.append(line)
            if "REDIS UNAVAILABLE" in line:
                break
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            rest, _ = process.communicate(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            rest, _ = process.communicate()
    output = "".join(lines) + rest
    warnings = [line for line in output.splitlines() if "REDIS UNAVAILABLE at" in line]
    assert len(warnings) == 1, output
    assert "Traceback" not in output, output
    return warnings[0]


def test_a_closed_redis_at_start_is_one_loud_line(env: dict[str, str]) -> None:
    assert run_dispatch(env, "db", "upgrade").returncode == 0
    closed = {**env, "REDIS_URL": f"redis://127.0.0.1:{_closed_port()}/0"}

    worker = _starts_with_one_loud_line(closed, "worker")
    assert "REDIS_URL" in worker and "waits for it" in worker

    serve = _starts_with_one_loud_line(closed, "serve", "--port", str(_closed_port()))
    assert "REDIS_URL" in serve and "no SMS is sent" in serve
