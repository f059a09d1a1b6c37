"""Time one simulated day as `dispatch simulate` runs it, the way the simulation used to run it and the
way it runs it now, in one process, and say whether both give the same report. Not a test (pytest
collects test_*.py only):

    PYTHONPATH=. python tests/simulation/bench_day.py --workers 100 --employers 10 --jobs 20

"Before" puts back what the second change of docs/benchmarks.md's "Simulation" took out: the periodic
jobs enqueued on RQ (each with its enqueue, registries, execution and result records), fakeredis's
emulated socket (inprocess_redis.py) and no wake-up in a quiet night; `--rq-worker` also puts back
RQ's own worker bookkeeping (heartbeats, state, the suspension check: the first change). The reports
differ (the periodic jobs now run before the queued jobs of their instant, and the night wakes every
half hour): the script prints the figures that moved.
"""

from __future__ import annotations

import argparse
import json
import logging
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from datetime import timedelta

import pytest
from fakeredis import FakeRedis, FakeServer

from dispatch.queue import get_queue
from dispatch.simulation import environment, queue, timeline
from dispatch.simulation.day import DayOptions, run_day
from dispatch.worker import DispatchWorker

LIGHTER = ("_install_signal_handlers", "heartbeat", "set_state", "check_for_suspension")


def _enqueue_periodic(self: queue.QueueRunner) -> None:
    """The periodic jobs as they ran before: enqueued on RQ when their interval had passed."""
    now = self.clock.now()
    for task in self.periodic:
        if self._periodic_due[task.id] <= now:
            interval = max(1, task.every_seconds(self.runtime))
            self._periodic_due[task.id] = now + timedelta(seconds=interval)
            get_queue(task.queue, self.runtime.redis).enqueue(
                task.task, job_id=f"periodic-{task.id}", result_ttl=interval * 2
            )


@contextmanager
def as_before(rq_worker: bool) -> Iterator[None]:
    with pytest.MonkeyPatch.context() as patch:
        for name in LIGHTER if rq_worker else ():  # RQ's own, as DispatchWorker has them
            patch.setattr(queue.SimulationWorker, name, getattr(DispatchWorker, name))
        patch.setattr(queue.QueueRunner, "_tick", _enqueue_periodic)
        patch.setattr(timeline, "WAKE_AT_LEAST", timedelta(days=3650))  # nothing wakes a quiet night
        patch.setattr(environment, "in_process_redis", lambda: FakeRedis(server=FakeServer()))
        yield


def _day(options: DayOptions, before: bool, rq_worker: bool = False) -> tuple[dict, float]:
    with ExitStack() as stack:
        if before:
            stack.enter_context(as_before(rq_worker))
        started = time.process_time()
        report = run_day(options).report
        seconds = time.process_time() - started
    report.pop("run_seconds", None)
    return report, seconds


def _moved(before: dict, after: dict) -> dict:
    moved = {}
    for key in sorted(before.keys() | after.keys()):
        old, new = before.get(key), after.get(key)
        if isinstance(old, dict) and isinstance(new, dict):
            moved.update({f"{key}.{name}": pair for name, pair in _moved(old, new).items()})
        elif old != new:
            moved[key] = [old, new]
    return moved


def main() -> None:
    parser = argparse.ArgumentParser()
    for name, default in (("workers", 60), ("employers", 8), ("jobs", 12), ("seed", 1)):
        parser.add_argument(f"--{name}", type=int, default=default)
    parser.add_argument("--only", choices=("before", "after"), help="run one of the two")
    parser.add_argument("--rq-worker", action="store_true", help="before: with RQ's worker bookkeeping")
    args = parser.parse_args()
    for name in ("dispatch", "rq", "alembic"):
        logging.getLogger(name).setLevel(logging.WARNING)
    options = DayOptions(workers=args.workers, employers=args.employers, jobs=args.jobs, seed=args.seed)
    if args.only:
        seconds = _day(options, args.only == "before", args.rq_worker)[1]
        print(json.dumps({f"{args.only}_cpu_s": round(seconds, 1)}))
        return
    before, before_s = _day(options, before=True, rq_worker=args.rq_worker)
    after, after_s = _day(options, before=False)
    print(
        json.dumps(
            {
                "before_cpu_s": round(before_s, 1),
                "after_cpu_s": round(after_s, 1),
                "ratio": round(before_s / after_s, 2),
                "same_report": before == after,
                "moved": _moved(before, after),
            },
            ensure_ascii=False,
        )
    )


if __name__ == "__main__":
    main()
