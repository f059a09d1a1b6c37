"""The processes a run starts (gunicorn, the queue worker), their environment, and waiting for them."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

from benchwebhooks import ACCOUNT_SID, AUTH_TOKEN, ROOT, TRIVIAL_PATH

# The benchmark's own WSGI module: the production app plus the floor's route (benchwebhooks/wsgi.py).
WSGI_APP = "benchwebhooks.wsgi:app"


class Processes:
    """The processes this run started (gunicorn, the worker), each the leader of its own process
    group so that it and its children are stopped together, and only they."""

    def __init__(self) -> None:
        self.running: dict[str, subprocess.Popen[bytes]] = {}

    def start(self, name: str, command: list[str], env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
        with open(log, "ab") as out:
            process = subprocess.Popen(
                command, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
            )
        self.running[name] = process
        return process

    def stop(self, name: str, grace: float = 10.0) -> None:
        process = self.running.pop(name, None)
        if process is None or process.poll() is not None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(grace)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)
            process.wait(5)

    def stop_all(self) -> None:
        for name in list(self.running):
            self.stop(name)


def app_env(database_url: str, redis_url: str, base: str, **extra: str) -> dict[str, str]:
    """The environment of the app, the CLI and the worker: production settings on our database and
    Redis, the outbox SMS transport, quiet hours off, and the benchmark's own Twilio token."""
    env = {
        key: value
        for key, value in os.environ.items()
        if key in {"PATH", "HOME", "LANG", "LC_ALL", "TZ", "PYTHONPATH", "VIRTUAL_ENV"}
    }
    env.update(
        DISPATCH_ENV="production",
        SECRET_KEY="bench-secret-key-not-for-anything-else",
        DATABASE_URL=database_url,
        REDIS_URL=redis_url,
        SMS_TRANSPORT="outbox",
        TWILIO_AUTH_TOKEN=AUTH_TOKEN,
        TWILIO_ACCOUNT_SID=ACCOUNT_SID,
        PUBLIC_BASE_URL=base,
        QUIET_HOURS="off",
        CONFIG_DIR=str(ROOT / "config"),
    )
    env.update(extra)
    return env


def start_gunicorn(
    processes: Processes, env: dict[str, str], port: int, log: Path
) -> subprocess.Popen[bytes]:
    """gunicorn with config/gunicorn.conf.py (2 sync workers) serving WSGI_APP on 127.0.0.1:`port`."""
    env = {**env, "BIND": f"127.0.0.1:{port}", "WEB_CONCURRENCY": "2"}
    command = [sys.executable, "-m", "gunicorn", "-c", "config/gunicorn.conf.py"]
    command += ["--pythonpath", str(ROOT / "scripts"), WSGI_APP]
    gunicorn = processes.start("gunicorn", command, env, log)
    wait_for(f"http://127.0.0.1:{port}{TRIVIAL_PATH}", 30, gunicorn)
    return gunicorn


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def wait_for(url: str, seconds: float, process: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"the server exited with status {process.returncode}")
        with contextlib.suppress(OSError), urllib.request.urlopen(url, timeout=1) as response:
            if response.status == 200:
                return
        time.sleep(0.1)
    raise RuntimeError(f"{url} did not answer within {seconds:.0f} s")
