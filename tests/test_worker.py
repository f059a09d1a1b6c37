"""`dispatch worker`: scheduled jobs moved by whichever worker holds a short lease (taken over when it
dies), no RQ pub/sub thread (whose stop stalled every shutdown 60 s), a prompt stop on SIGTERM, and a
process that waits out a Redis outage instead of exiting. Real Redis; real processes for the last."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path

import pytest
from redis import Redis
from rq.registry import ScheduledJobRegistry

from dispatch.clock import utcnow
from dispatch.queue import QUEUE_NAMES, get_queue
from dispatch.scheduler import LOCK_TTL_SECONDS, InThreadScheduler
from dispatch.settings import PROJECT_ROOT
from dispatch.worker import DispatchWorker

LOCK = "rq:scheduler-lock:sms"


def test_one_scheduler_at_a_time_moves_due_jobs_and_another_takes_over_when_it_dies(redis: Redis):
    first = InThreadScheduler(QUEUE_NAMES, redis, name="dispatch-host-101")
    second = InThreadScheduler(QUEUE_NAMES, redis, name="dispatch-host-102")
    queue = get_queue("sms", redis)
    due = queue.enqueue_at(utcnow() - timedelta(seconds=1), "dispatch.tasks.sweep_outbox")
    later = queue.enqueue_at(utcnow() + timedelta(hours=1), "dispatch.tasks.sweep_outbox")

    assert first.tick() is True
    assert second.tick() is False  # the lease is held
    assert queue.job_ids == [due.id]
    assert ScheduledJobRegistry(queue=queue).get_job_ids() == [later.id]
    assert redis.get(LOCK) == b"dispatch-host-101"  # the holder is named, with its pid
    assert 0 < redis.ttl(LOCK) <= LOCK_TTL_SECONDS

    redis.delete(*(f"rq:scheduler-lock:{name}" for name in QUEUE_NAMES))  # the lease ran out: first died
    assert second.tick() is True
    assert first.tick() is False  # back from the dead, it finds the queues taken
    second.release()
    assert first.tick() is True  # a clean stop hands over at once


def test_the_worker_runs_no_pubsub_thread(runtime):
    worker = DispatchWorker(
        [get_queue(name, runtime.redis) for name in QUEUE_NAMES], connection=runtime.redis
    )
    worker.work(burst=True)
    assert worker.pubsub_thread is None
    assert worker.dequeue_timeout < 5  # under the client's socket timeout (runtime.connect_redis)


def _worker_process(tmp_path: Path, redis_url: str) -> subprocess.Popen[bytes]:
    env = {
        "PATH": os.environ.get("PATH", ""),
        "DISPATCH_ENV": "test",
        "REDIS_URL": redis_url,
        # Nothing here reaches a database: an unreachable one keeps the process off the test's data.
        "DATABASE_URL": "postgresql://postgres@127.0.0.1:1/none",
        "SPOOL_DIR": str(tmp_path / "spool"),
        "QUIET_HOURS": "off",
    }
    # To a file, not a pipe: a pipe nobody reads fills up and blocks the process.
    with open(tmp_path / "worker.log", "wb") as log:
        return subprocess.Popen(
            [sys.executable, "-m", "dispatch.cli", "worker"],
            cwd=PROJECT_ROOT,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )


def _wait_for_line(tmp_path: Path, needle: str, deadline: float = 20.0) -> str:
    end = time.monotonic() + deadline
    text = ""
    while time.monotonic() < end:
        text = (tmp_path / "worker.log").read_text(errors="replace")
        if needle in text:
            return text
        time.sleep(0.05)
    raise AssertionError(f"no {needle!r} within {deadline} s:\n{text}")


def _stop(process: subprocess.Popen[bytes]) -> float:
    """SIGTERM, then how long it took to exit (killed, and the test failed, past 10 s)."""
    started = time.monotonic()
    process.send_signal(signal.SIGTERM)
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()
        pytest.fail("dispatch worker did not stop within 10 s of SIGTERM")
    return time.monotonic() - started


def test_an_idle_worker_stops_promptly_on_sigterm(tmp_path, service_urls):
    if service_urls["redis"] == "embedded":
        pytest.skip("needs a Redis server")
    # Its own database number: the worker must not take the suite's jobs.
    url = service_urls["redis"].rsplit("/", 1)[0] + "/13"
    process = _worker_process(tmp_path, url)
    _wait_for_line(tmp_path, "Listening on")
    assert _stop(process) < 5
    assert process.returncode == 0


def test_a_worker_started_without_redis_waits_for_it_says_so_and_still_stops(tmp_path):
    process = _worker_process(tmp_path, "redis://127.0.0.1:1/0")
    log = _wait_for_line(tmp_path, "REDIS UNAVAILABLE")
    assert process.poll() is None  # waiting, not exited
    assert _stop(process) < 5
    assert process.returncode == 0
    assert "Traceback" not in log
