"""The production shape, started by the suite: PostgreSQL, Redis, gunicorn, `dispatch worker`s, fake Twilio.

Every service process gets the same environment, built once, as an operator's would be
(`DISPATCH_ENV=production`, real URLs, the real `twilio` transport pointed at the fake); nothing else
of the test process's environment leaks in but PATH, HOME and LANG. The market is "in the evening":
QUIET_HOURS covers the whole run, so replies must still go out at once.
"""

from __future__ import annotations

import contextlib
import itertools
import os
import secrets
import signal
import subprocess
import sys
import time
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import requests

from tests.fakes.twilio_api import FakeTwilioApi
from tests.faults.measure import Db
from tests.faults.procs import Managed, free_port, tail, wait_until
from tests.faults.services import PostgresCluster, RedisServer, postgres_bindir
from tests.faults.traffic import Webhooks
from tests.faults.twilio_side import Carrier

MARKET_TIMEZONE = "Asia/Shanghai"
SERVICE_NUMBER = "+8610690000"
WORKER_READY_SECONDS = 30


def quiet_window(now: datetime | None = None) -> str:
    """QUIET_HOURS from two hours before to two hours after now, market time (may cross midnight)."""
    local = (now or datetime.now(ZoneInfo(MARKET_TIMEZONE))).astimezone(ZoneInfo(MARKET_TIMEZONE))
    return f"{local - timedelta(hours=2):%H:%M}-{local + timedelta(hours=2):%H:%M}"


def evening_outside_quiet(now: datetime | None = None) -> str:
    """A reminder time three hours from now, market time: outside quiet_window's four hours."""
    local = (now or datetime.now(ZoneInfo(MARKET_TIMEZONE))).astimezone(ZoneInfo(MARKET_TIMEZONE))
    return f"{local + timedelta(hours=3):%H:%M}"


class Stack:
    def __init__(self, repo: Path, base: Path) -> None:
        self.repo = repo
        self.base = base
        self.logs = base / "logs"
        self.logs.mkdir(parents=True, exist_ok=True)
        bindir = postgres_bindir()
        assert bindir is not None
        self.account_sid = "AC" + secrets.token_hex(16)
        self.auth_token = secrets.token_hex(16)
        self.fake = FakeTwilioApi(self.account_sid, self.auth_token)
        self.carrier: Carrier | None = None
        base_env = {name: os.environ[name] for name in ("PATH", "HOME", "LANG") if name in os.environ}
        (base / "redis").mkdir(exist_ok=True)
        self.redis = RedisServer(base / "redis", free_port(), base_env)
        self.pg = PostgresCluster(base / "pg", free_port(), bindir)
        self.web_port = free_port()
        self.env: dict[str, str] = {}
        self.gunicorn: Managed | None = None
        self.workers: list[Managed] = []
        self._worker_numbers = itertools.count(1)
        self.stopped = False

    # -- start and stop -----------------------------------------------------------------------------

    def start(self) -> None:
        self.fake.start()
        self.carrier = Carrier(self.fake).start()
        self.redis.start()
        self.pg.init()
        self.pg.start()
        self.pg.create_database("dispatch")
        self.env = self._service_env()
        (self.base / "spool").mkdir(exist_ok=True)
        self.cli("db", "upgrade")
        self.cli("seed")
        self.start_gunicorn()
        self.start_worker()

    def _service_env(self) -> dict[str, str]:
        env = {name: os.environ[name] for name in ("PATH", "HOME", "LANG") if name in os.environ}
        env.update(
            DISPATCH_ENV="production",
            SECRET_KEY=secrets.token_urlsafe(36),  # 48 characters
            DATABASE_URL=self.pg.url("dispatch"),
            REDIS_URL=self.redis.url,
            SMS_TRANSPORT="twilio",
            TWILIO_ACCOUNT_SID=self.account_sid,
            TWILIO_AUTH_TOKEN=self.auth_token,
            TWILIO_FROM_NUMBER=SERVICE_NUMBER,
            TWILIO_API_BASE_URL=self.fake.base_url,
            PUBLIC_BASE_URL=f"http://127.0.0.1:{self.web_port}",
            SMS_SEND_RATE="50",
            SPOOL_DIR=str(self.base / "spool"),
            # Shorter than the default 10 s, so that row 5's late answers need only a 6 s delay. The
            # database timeouts are the defaults (dispatch/settings.py): what production gets.
            TWILIO_HTTP_TIMEOUT="3",
            CONFIG_DIR=str(self.repo / "config"),
            QUIET_HOURS=quiet_window(),
            # Outside the quiet window whatever the hour (the settings refuse an evening reminder that
            # would wait for the morning: a run at 17:00 market time failed on the default 19:00).
            REMINDER_EVENING_TIME=evening_outside_quiet(),
            # Diagnostics only: the logs of a process killed by a fault must not die in its buffers.
            PYTHONUNBUFFERED="1",
        )
        return env

    def cli(self, *args: str) -> None:
        log_path = self.logs / "cli.log"
        with log_path.open("ab") as log:
            result = subprocess.run(
                [sys.executable, "-m", "dispatch.cli", *args],
                env=self.env,
                cwd=self.repo,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                timeout=180,
            )
        assert result.returncode == 0, f"dispatch {' '.join(args)} failed:\n{tail(log_path)}"

    def start_gunicorn(self) -> None:
        argv = [sys.executable, "-m", "gunicorn", "-c", "config/gunicorn.conf.py", "dispatch.wsgi:app"]
        env = {**self.env, "BIND": f"127.0.0.1:{self.web_port}", "WEB_CONCURRENCY": "2"}
        self.gunicorn = Managed("gunicorn", argv, env, self.repo, self.logs / "gunicorn.log").start()
        gunicorn = self.gunicorn
        wait_until(
            self.healthy,
            60,
            "gunicorn's GET /healthz to answer 200",
            abort=lambda: None if gunicorn.alive() else f"gunicorn exited with {gunicorn.returncode}",
            explain=gunicorn.tail,
        )

    def healthy(self) -> bool:
        return requests.get(f"{self.env['PUBLIC_BASE_URL']}/healthz", timeout=3).status_code == 200

    def start_worker(self) -> Managed:
        """Start a `dispatch worker` and wait until it has registered with RQ."""
        number = next(self._worker_numbers)
        argv = [sys.executable, "-m", "dispatch.cli", "worker"]
        worker = Managed(f"worker-{number}", argv, self.env, self.repo, self.logs / f"worker-{number}.log")
        self.workers.append(worker.start())
        wait_until(
            lambda: self.worker_registered(worker),
            WORKER_READY_SECONDS,
            f"{worker.name} to register with RQ",
            abort=lambda: None if worker.alive() else f"{worker.name} exited with {worker.returncode}",
            explain=worker.tail,
        )
        return worker

    def worker_registered(self, worker: Managed) -> bool:
        client = self.redis.client()
        try:
            keys = client.smembers("rq:workers")
            return any(client.hget(key, "pid") == str(worker.pid).encode() for key in keys)
        finally:
            client.close()

    def stop_worker(self, worker: Managed, grace: float) -> float | None:
        """SIGTERM the worker (as `systemctl stop`); seconds it took to exit, None if it outlived `grace`
        (it is then killed). Whatever of its group is left afterwards is killed too."""
        started = time.monotonic()
        worker.send(signal.SIGTERM)
        exited = worker.wait_exit(grace)
        took = time.monotonic() - started if exited else None
        worker.kill_group()
        return took

    def alive_workers(self) -> list[Managed]:
        return [worker for worker in self.workers if worker.alive()]

    def stop(self) -> None:
        """Stop everything this stack started, whatever state a failed test left it in (once)."""
        if self.stopped:
            return
        self.stopped = True
        for worker in self.workers:
            with contextlib.suppress(Exception):
                worker.stop(grace=2)
        if self.gunicorn is not None:
            with contextlib.suppress(Exception):
                self.gunicorn.stop(grace=5)
        with contextlib.suppress(Exception):
            self.redis.kill()
        with contextlib.suppress(Exception):
            self.pg.destroy()
        if self.carrier is not None:
            self.carrier.stop()
        with contextlib.suppress(Exception):
            self.fake.stop()

    # -- between tests ------------------------------------------------------------------------------

    def restore(self, workers: int = 1) -> None:
        """Bring the stack back to health: PostgreSQL up and resumed, Redis up, gunicorn answering, exactly
        `workers` workers running, leftovers of earlier tests retired, the fake emptied."""
        self.pg.resume()
        if not self.pg.running():
            self.pg.start()
        wait_until(lambda: self.pg.accepts("dispatch"), 30, "PostgreSQL to accept connections")
        if not self.redis.running():
            self.redis.start()
        if self.gunicorn is None or not self.gunicorn.alive():
            self.start_gunicorn()
        wait_until(self.healthy, 30, "gunicorn's /healthz", explain=self._gunicorn_tail)
        self.db().retire_unsent()
        self.workers = [worker for worker in self.workers if worker.alive()]
        for extra in self.workers[workers:]:
            self.stop_worker(extra, grace=5)
        self.workers = self.workers[:workers]
        while len(self.workers) < workers:
            self.start_worker()
        self.fake.reset()

    def _gunicorn_tail(self) -> str:
        return self.gunicorn.tail() if self.gunicorn is not None else ""

    # -- access -------------------------------------------------------------------------------------

    def db(self) -> Db:
        return Db(self.pg.url("dispatch"))

    def webhooks(self) -> Webhooks:
        return Webhooks(self.env["PUBLIC_BASE_URL"], self.account_sid, self.auth_token, SERVICE_NUMBER)

    def log_tails(self, lines: int = 40) -> str:
        parts = []
        if self.gunicorn is not None:
            parts.append(f"--- gunicorn (pid {self.gunicorn.pid}) ---\n{self.gunicorn.tail(lines)}")
        for worker in self.workers:
            state = "running" if worker.alive() else f"exited {worker.returncode}"
            parts.append(f"--- {worker.name} (pid {worker.pid}, {state}) ---\n{worker.tail(lines)}")
        parts.append(f"--- redis ---\n{tail(self.redis.log_path, 10)}")
        parts.append(f"--- postgres ---\n{tail(self.pg.log_path, 15)}")
        return "\n".join(parts)
