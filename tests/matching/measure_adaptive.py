"""What the adaptive policy's reads cost on PostgreSQL with a month's record: not a test (pytest does
not collect it); run it on purpose and read the figures it prints:

    TEST_DATABASE_URL=... PYTHONPATH=$PWD python -m pytest tests/matching/measure_adaptive.py -q -s
"""

from __future__ import annotations

import random
import time
from datetime import timedelta

from sqlalchemy import insert

from dispatch.matching import budget, estimates
from dispatch.matching import config as matching_config
from dispatch.models import JobStatus, Offer, OfferStatus
from tests.factories import NOW, Market

WORKERS, JOBS, SHORTLIST, RUNS = 1000, 300, 90, 20


def test_measure(runtime, session, market: Market, clock) -> None:
    cfg = matching_config.load(runtime.settings).adaptive
    rng = random.Random(1)
    workers = [market.worker() for _ in range(WORKERS)]
    jobs = [market.job() for _ in range(JOBS)]
    for job in jobs:
        job.status = JobStatus.EXPIRED
    session.flush()
    statuses = [OfferStatus.ACCEPTED, OfferStatus.DECLINED, OfferStatus.EXPIRED, OfferStatus.CANCELLED]
    rows = []
    for job in jobs:  # ~100 offers a job over 28 days
        for worker in rng.sample(workers, 100):
            sent = NOW - timedelta(minutes=rng.randrange(28 * 24 * 60))
            status = rng.choice(statuses)
            answered = status in (OfferStatus.ACCEPTED, OfferStatus.DECLINED)
            rows.append(
                {
                    "job_id": job.id,
                    "worker_id": worker.id,
                    "wave": 1,
                    "status": status,
                    "score": 0.5,
                    "explanation": {"km": rng.uniform(0, 20)},
                    "created_at": sent,
                    "sent_at": sent,
                    "expires_at": sent + timedelta(minutes=60),
                    "responded_at": sent + timedelta(minutes=rng.randrange(90)) if answered else None,
                }
            )
    session.execute(insert(Offer), rows)
    session.execute(__import__("sqlalchemy").text("ANALYZE offer"))
    ids = [worker.id for worker in rng.sample(workers, SHORTLIST)]
    trade_id = jobs[0].trade_id
    timings: dict[str, list[float]] = {"population": [], "records": [], "standings": []}
    for _ in range(RUNS):
        started = time.perf_counter()
        estimates.population(session, cfg, NOW, 8 * 3600)
        timings["population"].append(time.perf_counter() - started)
        started = time.perf_counter()
        estimates.records(session, cfg, ids, NOW)
        timings["records"].append(time.perf_counter() - started)
        started = time.perf_counter()
        budget.standings(session, cfg, trade_id, ids, NOW)
        timings["standings"].append(time.perf_counter() - started)
    print(f"\n{len(rows)} offers over 28 days, {WORKERS} workers, a shortlist of {SHORTLIST}:")
    for name, values in timings.items():
        values.sort()
        print(f"  {name:<11} median {1000 * values[len(values) // 2]:.1f} ms, max {1000 * values[-1]:.1f} ms")
