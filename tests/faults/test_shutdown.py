"""Row 8: a worker told to stop (SIGTERM, as `systemctl stop` or a deploy does) stops within 5 s.

rq 3.0 with redis-py 8.2 stalled every worker shutdown for up to 60 s (its pub/sub thread's stop()),
and a worker waiting for a dead Redis must not wait for it before it stops either.
"""

from __future__ import annotations

import time

import pytest

from tests.faults.report import fault_row
from tests.faults.stack import Stack

STOP_BOUND = 5.0
NOTICE_SECONDS = 3.0  # for the worker to find Redis gone; nothing outside the process shows when it has


@pytest.mark.fault("8")
def test_row8a_idle_worker_stops_on_sigterm(stack: Stack) -> None:
    with fault_row("8a SIGTERM to an idle worker", STOP_BOUND) as row:
        worker = stack.workers[0]
        took = stack.stop_worker(worker, grace=STOP_BOUND)
        row.expect(took is not None, f"the idle worker was still running {STOP_BOUND:.0f} s after SIGTERM")
        row.recovery_seconds = None if took is None else round(took, 2)


@pytest.mark.fault("8")
def test_row8b_worker_waiting_for_redis_stops_on_sigterm(stack: Stack) -> None:
    with fault_row("8b SIGTERM to a worker waiting for Redis", STOP_BOUND) as row:
        worker = stack.workers[0]
        stack.redis.kill()
        time.sleep(NOTICE_SECONDS)
        if not worker.alive():
            row.expect(
                False, f"the worker exited (code {worker.returncode}) when Redis died (row 3): not waiting"
            )
            return
        took = stack.stop_worker(worker, grace=STOP_BOUND)
        row.expect(
            took is not None, f"the worker waiting for Redis still ran {STOP_BOUND:.0f} s after SIGTERM"
        )
        row.recovery_seconds = None if took is None else round(took, 2)
