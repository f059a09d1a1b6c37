#!/usr/bin/env python3
"""Benchmark: select and rank wave 1 for a job among 1,000,000 workers, against a naive baseline.

    .venv/bin/python scripts/bench_matching.py [--database-url URL] [--workers N] [--jobs N]
        [--baseline-jobs N] [--rebuild]

Builds a market in its own PostgreSQL database (default postgresql://postgres@127.0.0.1:5432/
bench_matching; `createdb -h 127.0.0.1 -U postgres bench_matching` first): the sites of
config/sites.toml, 20 trades (the 12 of config/trades.toml and 8 more), N workers with one to three
trades each, realistic statuses, pay floors, ratings and offer histories, contacts (some opted
out), jobs with accepted places (bookings to exclude), and employer blocks. Data is made with
INSERT ... SELECT over generate_series (triggers off, the pool rebuilt once after) and kept: a
second run reuses it. Then, for jobs at random sites and trades (weighted like the workers):

- matching: `dispatch.matching.candidates.rank` for wave 1, what `send_wave` runs;
- baseline: load the trade's workers into Python, filter and score them there, sort.

Both use the same formulas; the script checks they pick the same workers. Figures go to stdout
(and, by hand, to docs/benchmarks.md). Not part of ./scripts/test.
"""

from __future__ import annotations

import argparse
import math
import random
import statistics
import sys
import time
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # run from a checkout: scripts/ is not a package

from sqlalchemy import func, select, text  # noqa: E402
from sqlalchemy.orm import Session  # noqa: E402

from dispatch.db import Database  # noqa: E402
from dispatch.matching import candidates, distances, pool  # noqa: E402
from dispatch.matching import config as matching_config  # noqa: E402
from dispatch.matching.config import MatchingConfig  # noqa: E402
from dispatch.matching.ranking import tiebreak_value  # noqa: E402
from dispatch.migrate import upgrade  # noqa: E402
from dispatch.models import Contact, EmployerBlock, Job, Offer, OfferStatus, Site, Trade, Worker, WorkerTrade  # noqa: E402
from dispatch.seed import seed  # noqa: E402
from dispatch.settings import Settings  # noqa: E402

DEFAULT_URL = "postgresql://postgres@127.0.0.1:5432/bench_matching"
TRADES = 20
NOW = datetime(2026, 12, 1, 2, 0, tzinfo=UTC)  # 10:00 in the market; every figure is relative to it
WORK_DATE = date(2026, 12, 2)


# -- building the market ------------------------------------------------------------------------


def build(database: Database, url: str, workers: int) -> None:
    with database.engine.connect() as connection:
        tables = connection.execute(text("SELECT to_regclass('public.match_pool') IS NOT NULL")).scalar()
    upgrade(url)
    with database.transaction() as session:
        if not tables:
            print("schema created")
        seed(session, ROOT / "config")
        for number in range(13, TRADES + 1):
            if session.scalar(select(Trade.id).where(Trade.code == f"bench_{number}")) is None:
                session.add(
                    Trade(
                        code=f"bench_{number}",
                        ivr_digit=str(number),
                        name_zh=f"工种{number}",
                        name_en=f"Trade {number}",
                        keywords=[],
                        high_risk=False,
                    )
                )
        have = session.scalar(select(func.count()).select_from(Worker))
    if have >= workers:
        print(f"reusing {have:,} workers already in the database")
        return
    if have:
        raise SystemExit(f"the database holds {have:,} workers, fewer than {workers:,}: use --rebuild")
    started = time.perf_counter()
    with database.transaction() as session:
        _load(session, workers)
    with database.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        connection.execute(text("VACUUM ANALYZE"))
    print(f"built {workers:,} workers in {time.perf_counter() - started:.0f} s")


def _load(session: Session, workers: int) -> None:
    # Bulk rows skip the triggers (and foreign-key checks, the data being consistent by construction);
    # the pool is rebuilt once at the end.
    session.execute(text("SET LOCAL session_replication_role = replica"))
    session.execute(text("SELECT setseed(0.42)"))
    sites = [site for site in session.scalars(select(Site).order_by(Site.id))]
    # Towns and the district market draw twice the workers of a village station.
    weighted = [site.id for site in sites for _ in range(1 if site.level == "village" else 2)]
    site_array = "ARRAY[" + ",".join(map(str, weighted)) + "]"
    now = NOW.isoformat()
    session.execute(
        text(f"""
        INSERT INTO worker (phone, name, home_site_id, min_daily_pay, status, consent_at, registered_via,
            rating_sum, rating_count, placements_worked, no_shows, cancellations, last_offered_at,
            last_placed_at, notes, created_at, updated_at)
        SELECT '+86139' || lpad(g::text, 8, '0'), 'W' || g,
            ({site_array})[1 + floor(random() * {len(weighted)})::int],
            150 + 10 * floor(random() * 26)::int,
            CASE WHEN r.st < 0.90 THEN 'active' WHEN r.st < 0.94 THEN 'paused'
                 WHEN r.st < 0.96 THEN 'opted_out' WHEN r.st < 0.97 THEN 'undeliverable'
                 WHEN r.st < 0.99 THEN 'pending' ELSE 'blocked' END,
            timestamptz '{now}', 'sms',
            r.rc * (3 + floor(random() * 3)::int), r.rc, r.pw, floor(random() * random() * 4)::int,
            floor(random() * random() * 3)::int,
            CASE WHEN random() < 0.7 THEN timestamptz '{now}' - random() * interval '60 days' END,
            CASE WHEN r.pw > 0 THEN timestamptz '{now}' - random() * interval '120 days' END,
            '', timestamptz '{now}', timestamptz '{now}'
        FROM generate_series(1, {workers}) g,
        LATERAL (SELECT random() + g * 0 AS st, floor(random() * random() * 20)::int + g * 0 AS rc,
                        floor(random() * random() * 50)::int + g * 0 AS pw) r
        """)
    )
    # One to three trades each (1.6 on average); popular trades (general labour, porters) far more
    # common than rare ones: trade 1 is about 15% of all, trade 20 about 2.5%.
    session.execute(
        text(f"""
        WITH counts AS MATERIALIZED (
            SELECT id, CASE WHEN random() < 0.15 THEN 3 WHEN random() < 0.53 THEN 2 ELSE 1 END AS k
            FROM worker
        ), picks AS MATERIALIZED (
            SELECT c.id, i, 1 + floor({TRADES} * power(random(), 1.6))::int AS trade_id,
                floor(random() * random() * 25)::int AS years
            FROM counts c JOIN generate_series(1, 3) i ON i <= c.k
        )
        INSERT INTO worker_trade (worker_id, trade_id, years_experience)
        SELECT DISTINCT ON (id, trade_id) id, trade_id, years FROM picks ORDER BY id, trade_id, i
        """)
    )
    # Every worker texted us once; the opted-out and unreachable ones are marked on the contact too,
    # and 0.5% more opted out by contact only (e.g. STOP before they registered at a counter).
    session.execute(
        text(f"""
        INSERT INTO contact (phone, language, opted_out_at, undeliverable_at, created_at)
        SELECT phone, 'zh',
            CASE WHEN status = 'opted_out' OR random() < 0.005 THEN timestamptz '{now}' END,
            CASE WHEN status = 'undeliverable' THEN timestamptz '{now}' END, timestamptz '{now}'
        FROM worker
        """)
    )
    # Employers, and 3,000 jobs around the benchmark's day with 6 accepted places each: bookings.
    session.execute(
        text(f"""
        INSERT INTO employer (phone, name, site_id, address, status, created_at)
        SELECT '+86135' || lpad(g::text, 8, '0'), 'E' || g, ({site_array})[1 + (g % {len(weighted)})],
            '', 'active', timestamptz '{now}'
        FROM generate_series(1, 2000) g
        """)
    )
    session.execute(
        text(f"""
        INSERT INTO job (code, employer_id, trade_id, headcount, filled, work_date, start_time, days,
            end_date, daily_pay, site_id, address, notes, recording_url, status, source, urgency, wave,
            matching, created_at, updated_at)
        SELECT 'B' || g, 1 + g % 2000, 1 + g % {TRADES}, 6, 6, d.day, time '08:00', 1 + g % 3,
            d.day + (g % 3), 250, ({site_array})[1 + (g % {len(weighted)})], '', '', '', 'filled', 'agent',
            0, 1, '{{}}', timestamptz '{now}', timestamptz '{now}'
        FROM generate_series(1, 3000) g,
        LATERAL (SELECT date '{WORK_DATE.isoformat()}' + (g % 7) - 3 AS day) d
        """)
    )
    session.execute(
        text(f"""
        INSERT INTO offer (job_id, worker_id, wave, status, score, explanation, created_at, sent_at,
            responded_at)
        SELECT j.id, 1 + floor(random() * {workers})::int + i * 0, 1, 'accepted', 0.5, '{{}}',
            timestamptz '{now}', timestamptz '{now}', timestamptz '{now}'
        FROM job j, generate_series(1, 6) i
        ON CONFLICT DO NOTHING
        """)
    )
    session.execute(
        text(f"""
        INSERT INTO employer_block (employer_id, worker_id, reason, created_at)
        SELECT 1 + floor(random() * 2000)::int, 1 + floor(random() * {workers})::int, '',
            timestamptz '{now}'
        FROM generate_series(1, 5000)
        ON CONFLICT DO NOTHING
        """)
    )
    pool.rebuild(session)


# -- the jobs measured --------------------------------------------------------------------------


def make_jobs(database: Database, count: int, rng: random.Random) -> list[int]:
    with database.transaction() as session:
        session.execute(text("DELETE FROM job WHERE code LIKE 'Q%'"))
        trade_weights = dict(
            session.execute(select(WorkerTrade.trade_id, func.count()).group_by(WorkerTrade.trade_id)).all()
        )
        sites = list(session.scalars(select(Site.id).order_by(Site.id)))
        trades = sorted(trade_weights)
        ids = []
        for number in range(count):
            trade_id = rng.choices(trades, weights=[trade_weights[t] for t in trades])[0]
            job = Job(
                code=f"Q{number}",
                employer_id=rng.randint(1, 2000),
                trade_id=trade_id,
                headcount=rng.choice([1, 1, 2, 3, 5]),
                filled=0,
                work_date=WORK_DATE,
                start_time=datetime(2026, 1, 1, 8).time(),
                days=rng.choice([1, 1, 2, 3]),
                end_date=WORK_DATE,
                daily_pay=rng.choice([200, 250, 300, 350]),
                site_id=rng.choice(sites),
                source="agent",
                status="open",
                matching={},
            )
            job.end_date = Job.last_day(job.work_date, job.days)
            session.add(job)
            session.flush()
            ids.append(job.id)
    return ids


# -- the naive baseline: the trade's workers into Python, scored and sorted there ----------------


def naive_rank(
    session: Session, job: Job, radius_km: float, limit: int, policy: str, cfg: MatchingConfig, seed: int
) -> list[tuple[float, int]]:
    """The same eligibility and the same score as `candidates.rank`, written the obvious way."""
    km = distances.near_sites(session, job.site, None)  # 31 rows; the same distances as the matcher
    offered = set(session.scalars(select(Offer.worker_id).where(Offer.job_id == job.id)))
    booked = set(
        session.scalars(
            select(Offer.worker_id)
            .join(Job, Job.id == Offer.job_id)
            .where(
                Offer.status == OfferStatus.ACCEPTED,
                Job.end_date >= job.work_date,
                Job.work_date <= job.end_date,
            )
        )
    )
    blocked = set(
        session.scalars(select(EmployerBlock.worker_id).where(EmployerBlock.employer_id == job.employer_id))
    )
    unreachable = set(
        session.scalars(
            select(Contact.phone).where(
                Contact.opted_out_at.is_not(None) | Contact.undeliverable_at.is_not(None)
            )
        )
    )
    rows = session.execute(
        select(
            Worker.id,
            Worker.phone,
            Worker.status,
            Worker.home_site_id,
            Worker.min_daily_pay,
            Worker.rating_sum,
            Worker.rating_count,
            Worker.placements_worked,
            Worker.no_shows,
            Worker.cancellations,
            Worker.last_offered_at,
            Worker.last_placed_at,
            WorkerTrade.years_experience,
        )
        .join(WorkerTrade, WorkerTrade.worker_id == Worker.id)
        .where(WorkerTrade.trade_id == job.trade_id)
    ).all()
    weights = cfg.weights[policy]
    now_s = int(NOW.timestamp())
    scored = []
    for row in rows:
        distance = km.get(row.home_site_id) if row.home_site_id is not None else None
        if (
            row.status != "active"
            or row.min_daily_pay > job.daily_pay
            or distance is None
            or distance > radius_km
            or row.id in offered
            or row.id in booked
            or row.id in blocked
            or row.phone in unreachable
        ):
            continue
        factors = _python_factors(row, max(0.0, 1 - distance / radius_km), now_s, cfg)
        score = sum(factors[name] * weight for name, weight in weights.items())
        scored.append((-score, tiebreak_value(row.id, seed), row.id))
    scored.sort()
    return [(-negative, worker_id) for negative, _, worker_id in scored[:limit]]


def _python_factors(row: Any, distance: float, now_s: int, cfg: MatchingConfig) -> dict[str, float]:
    rest = int(cfg.rest_days * 86400)

    def rested(moment: datetime | None) -> float:
        since = now_s - (round(moment.timestamp()) if moment else 0)
        return min(max(since, 0), rest) * (1 / rest)

    average = (row.rating_sum + cfg.prior_stars * cfg.rating_prior_count) / (
        row.rating_count + cfg.rating_prior_count
    )
    worked = row.placements_worked + cfg.reliability_prior * cfg.reliability_prior_count
    seen = (
        row.placements_worked
        + row.no_shows
        + row.cancellations * cfg.cancellation_weight
        + cfg.reliability_prior_count
    )
    return {
        "distance": distance,
        "rating": (average - 1) * 0.25,
        "reliability": worked / seen,
        "fairness": rested(row.last_offered_at) * cfg.offered_share
        + rested(row.last_placed_at) * cfg.placed_share
        + cfg.few_share / (1 + row.placements_worked * (1 / cfg.few_placements)),
        "experience": min(row.years_experience * (1 / cfg.full_years), 1.0),
    }


# -- measuring ----------------------------------------------------------------------------------


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, math.ceil(share * len(ordered)) - 1))
    return ordered[index]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--database-url", default=DEFAULT_URL)
    parser.add_argument("--workers", type=int, default=1_000_000)
    parser.add_argument("--jobs", type=int, default=300, help="jobs ranked by the matcher")
    parser.add_argument("--baseline-jobs", type=int, default=20, help="of those, ranked by the baseline too")
    parser.add_argument("--policy", default="fair", choices=["fair", "greedy"])
    parser.add_argument("--wave", type=int, default=1, help="rank at this wave's radius (default: wave 1)")
    parser.add_argument("--rebuild", action="store_true", help="drop everything and build the market again")
    args = parser.parse_args(argv)

    database = Database(args.database_url)
    if args.rebuild:
        with database.engine.begin() as connection:
            connection.execute(text("DROP SCHEMA public CASCADE"))
            connection.execute(text("CREATE SCHEMA public"))
    build(database, args.database_url, args.workers)
    settings = Settings.load({"CONFIG_DIR": str(ROOT / "config")}, environ={})
    cfg = matching_config.load(settings)
    rng = random.Random(7)
    job_ids = make_jobs(database, args.jobs, rng)
    radius = cfg.radius_for(args.wave)

    fast: list[float] = []
    sizes: list[int] = []
    picks: dict[int, list[float]] = {}
    with database.sessionmaker() as session:
        for job_id in job_ids[:10]:  # warm the caches and the connection first
            job = session.get(Job, job_id)
            candidates.rank(
                session, job, radius_km=radius, limit=5, policy=args.policy, config=cfg, seed=1, now=NOW
            )
        session.rollback()
        for job_id in job_ids:
            job = session.get(Job, job_id)
            size = cfg.wave_size(job.remaining)
            started = time.perf_counter()
            found = candidates.rank(
                session,
                job,
                radius_km=radius,
                limit=size,
                policy=args.policy,
                config=cfg,
                seed=job.id,
                now=NOW,
            )
            fast.append((time.perf_counter() - started) * 1000)
            session.rollback()
            sizes.append(len(found))
            picks[job_id] = [round(candidate.score, 9) for candidate in found]

        slow: list[float] = []
        same = 0
        for job_id in job_ids[: args.baseline_jobs]:
            job = session.get(Job, job_id)
            size = cfg.wave_size(job.remaining)
            started = time.perf_counter()
            naive = naive_rank(session, job, radius, size, args.policy, cfg, seed=job.id)
            slow.append((time.perf_counter() - started) * 1000)
            session.rollback()
            session.expunge_all()
            same += [round(score, 9) for score, _ in naive] == picks[job_id]
        pool_rows = session.scalar(text("SELECT count(*) FROM match_pool"))
        workers = session.scalar(text("SELECT count(*) FROM worker"))

    p50, p99 = statistics.median(fast), percentile(fast, 0.99)
    b50, b99 = statistics.median(slow), percentile(slow, 0.99)
    print(f"workers {workers:,}, pool rows {pool_rows:,}, policy {args.policy}")
    print(f"wave {args.wave}: radius {radius} km")
    print(
        f"matching: {len(fast)} jobs, wave sizes {min(sizes)}-{max(sizes)}, mean {statistics.mean(sizes):.1f}"
    )
    print(f"  select+rank  p50 {p50:7.1f} ms   p99 {p99:7.1f} ms   max {max(fast):7.1f} ms")
    print(f"  baseline     p50 {b50:7.1f} ms   p99 {b99:7.1f} ms   ({len(slow)} jobs)")
    print(f"  speed-up     p50 {b50 / p50:5.0f}x    p99 {b99 / p99:5.0f}x")
    print(f"  same wave (scores, in order) from both: {same}/{len(slow)} jobs")
    return 0 if same == len(slow) else 1


if __name__ == "__main__":
    sys.exit(main())
