"""Time one simulated day as `dispatch simulate` runs it, with RQ's own worker bookkeeping (before
docs/benchmarks.md's change) and with the simulation's lighter worker, in one process, and check that
both give the same report. Not a test (pytest collects test_*.py only):

    PYTHONPATH=. python tests/simulation/bench_day.py --workers 60 --employers 8 --jobs 12
"""

from __future__ import annotations

import argparse
import json
import logging
import time

from dispatch.simulation import queue
from dispatch.simulation.day import DayOptions, run_day
from dispatch.worker import DispatchWorker

LIGHTER = ("_install_signal_handlers", "heartbeat", "set_state", "check_for_suspension")


def _day(options: DayOptions, lighter: bool) -> tuple[dict, float]:
    saved = {name: queue.SimulationWorker.__dict__[name] for name in LIGHTER}
    if not lighter:  # RQ's own, as DispatchWorker has them
        for name in LIGHTER:
            setattr(queue.SimulationWorker, name, getattr(DispatchWorker, name))
    try:
        started = time.process_time()
        report = run_day(options).report
        return report, time.process_time() - started
    finally:
        for name, method in saved.items():
            setattr(queue.SimulationWorker, name, method)


def main() -> None:
    parser = argparse.ArgumentParser()
    for name, default in (("workers", 60), ("employers", 8), ("jobs", 12), ("seed", 1)):
        parser.add_argument(f"--{name}", type=int, default=default)
    args = parser.parse_args()
    for name in ("dispatch", "rq", "alembic"):
        logging.getLogger(name).setLevel(logging.WARNING)
    options = DayOptions(workers=args.workers, employers=args.employers, jobs=args.jobs, seed=args.seed)
    before, before_s = _day(options, lighter=False)
    after, after_s = _day(options, lighter=True)
    before.pop("run_seconds", None)
    after.pop("run_seconds", None)
    print(
        json.dumps(
            {
                "rq_worker_cpu_s": round(before_s, 1),
                "lighter_worker_cpu_s": round(after_s, 1),
                "ratio": round(before_s / after_s, 2),
                "same_report": before == after,
            }
        )
    )


if __name__ == "__main__":
    main()
