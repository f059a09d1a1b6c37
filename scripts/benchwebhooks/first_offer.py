"""The time from an employer's confirmed job to its first offer handed to the SMS transport, with a
real `dispatch worker` running."""

from __future__ import annotations

import random
import statistics
import sys
import time
from datetime import time as clock_time
from typing import Any

from redis import Redis
from sqlalchemy import text

from benchwebhooks.market import Market, tomorrow
from benchwebhooks.measure import Bench
from dispatch.clock import utcnow
from dispatch.models import Employer, JobSource


def time_to_first_offer(bench: Bench, market: Market, jobs: int, rng: random.Random) -> dict[str, Any]:
    """Jobs made one at a time, as an employer's confirmed request makes them, with a real
    `dispatch worker` running; times to the first offer handed to the SMS transport."""
    from sqlalchemy import update

    from dispatch.jobs.services import JobRequest, create_job
    from dispatch.models import OutboxEvent
    from dispatch.runtime import init_runtime
    from dispatch.settings import Settings

    args = bench.args
    worker_env = bench.env(SMS_SEND_RATE=str(args.send_rate))
    settings = Settings.load(environ=worker_env)
    runtime = init_runtime(settings)
    Redis.from_url(args.redis_url).flushdb()  # the load's send jobs: no worker ran to send them
    # ... and their outbox rows are done with: else the lost-job sweep (dispatch/recovery.py) finds
    # them relayed and gone from Redis, and relays thousands of sends ahead of the offers timed here.
    with runtime.db.transaction() as session:
        session.execute(
            update(OutboxEvent).where(OutboxEvent.completed_at.is_(None)).values(completed_at=utcnow())
        )
    command = [sys.executable, "-m", "dispatch.cli", "worker"]
    worker = bench.processes.start("worker", command, worker_env, bench.tmp / "worker.log")
    from rq import Worker as RqWorker

    deadline = time.monotonic() + 30
    while not RqWorker.all(connection=runtime.redis):
        if worker.poll() is not None or time.monotonic() > deadline:
            raise RuntimeError(f"the queue worker did not start; see {bench.tmp / 'worker.log'}")
        time.sleep(0.1)
    time.sleep(1.0)  # let its scheduler and the periodic ticker start

    first: list[float] = []
    committed: list[float] = []
    whole_wave: list[float] = []
    sizes: list[int] = []
    missing = 0
    first_sql = text(
        "SELECT min(m.sent_at), max(m.sent_at), count(*), count(*) FILTER (WHERE m.status = 'pending') "
        "FROM offer o "
        "JOIN message m ON m.id = o.message_id WHERE o.job_id = :job"
    )
    with runtime.db.sessionmaker() as poll:
        for _ in range(jobs):
            employer_id, site_id = rng.choice(market.employers)
            request = JobRequest(
                trade_id=rng.choice(market.trades),
                headcount=rng.choice([1, 1, 2, 3]),
                work_date=tomorrow(),
                start_time=clock_time(8, 0),
                days=1,
                daily_pay=rng.choice([280, 300, 350]),
                site_id=site_id,
            )
            with runtime.db.transaction() as session:
                employer = session.get(Employer, employer_id)
                assert employer is not None
                job = create_job(session, employer, request, JobSource.IVR)
                job_id = job.id
                started = utcnow()  # the commit and the after-commit relay are inside the time measured
            committed.append((utcnow() - started).total_seconds())
            deadline = time.monotonic() + 15
            row = None
            while time.monotonic() < deadline:
                row = poll.execute(first_sql, {"job": job_id}).one()
                poll.rollback()
                if row[0] is not None and row[3] == 0:  # the first went, and the wave's last
                    break
                time.sleep(0.005)
            if row is None or row[0] is None:
                missing += 1
                print(f"  job {job_id}: no offer sent within 15 s")
                continue
            first.append((row[0] - started).total_seconds())
            if row[3] == 0:
                whole_wave.append((row[1] - started).total_seconds())
            sizes.append(row[2])
            # Idle before the next job, as between two employers' calls.
            time.sleep(rng.uniform(0.2, 0.5))
    bench.processes.stop("worker")
    result = {
        "jobs": jobs,
        "without_offer": missing,
        "send_rate": args.send_rate,
        "wave_sizes": [min(sizes), max(sizes)] if sizes else None,
        "first_offer_s": _quantiles(first),
        "whole_wave_s": _quantiles(whole_wave),
        "commit_and_relay_s": _quantiles(committed),
    }
    return result


def _quantiles(values: list[float]) -> dict[str, float | None]:
    if not values:
        return {"p50": None, "p90": None, "max": None}
    ordered = sorted(values)
    return {
        "p50": statistics.median(ordered),
        "p90": ordered[min(len(ordered) - 1, int(0.9 * len(ordered) + 0.999) - 1)],
        "max": ordered[-1],
    }
