"""The candidate pool stays in step with workers and their trades, by triggers, on PostgreSQL and on
SQLite (the first run), and matching works on SQLite end to end."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from sqlalchemy import delete, select, text, update

from dispatch.db import Database
from dispatch.matching import candidates, pool, services, waves
from dispatch.matching import config as matching_config
from dispatch.migrate import upgrade
from dispatch.models import Job, Offer, Worker, WorkerStatus, WorkerTrade
from dispatch.models.people import MatchPool
from dispatch.seed import seed
from dispatch.settings import PROJECT_ROOT, Settings
from tests.factories import Market

NOW = datetime(2026, 12, 1, 2, 0, tzinfo=UTC)


def pool_rows(session) -> set[tuple]:  # type: ignore[no-untyped-def]
    session.expire_all()
    return {tuple(row) for row in session.execute(select(*MatchPool.__table__.c))}


def source_rows(session) -> set[tuple]:  # type: ignore[no-untyped-def]
    return {tuple(row) for row in session.execute(pool.pool_source())}


def exercise(session, market: Market) -> None:  # type: ignore[no-untyped-def]
    """Every way a worker changes, through the ORM and through plain SQL."""
    a = market.worker(trades=("plumber_electrician", "porter"), years=4, rating=(9, 2))
    b = market.worker(trades=("cleaner",), last_offered_at=NOW - timedelta(days=3))
    assert pool_rows(session) == source_rows(session) and len(pool_rows(session)) == 3
    a.status = WorkerStatus.PAUSED
    a.min_daily_pay = 260
    a.home_site_id = market.site("LZ-XJ").id
    a.last_offered_at = NOW
    b.rating_sum, b.rating_count, b.placements_worked, b.no_shows, b.cancellations = 14, 3, 7, 1, 2
    b.last_placed_at = NOW - timedelta(hours=5)
    session.flush()
    assert pool_rows(session) == source_rows(session)
    a.trades = [WorkerTrade(trade_id=market.trade("porter").id, years_experience=9)]  # one trade dropped
    b.trades[0].years_experience = 6
    session.flush()
    assert pool_rows(session) == source_rows(session) and len(pool_rows(session)) == 2
    session.execute(update(Worker).where(Worker.id == b.id).values(status="opted_out", home_site_id=None))
    assert pool_rows(session) == source_rows(session)
    session.execute(delete(Worker).where(Worker.id == a.id))
    assert pool_rows(session) == source_rows(session) and len(pool_rows(session)) == 1
    assert pool.rebuild(session) == 1 and pool_rows(session) == source_rows(session)


def test_the_pool_follows_workers_on_postgresql(session, market: Market) -> None:
    exercise(session, market)


def test_on_sqlite_the_pool_follows_workers_and_matching_works(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'first-run.sqlite3'}"
    upgrade(url)
    database = Database(url)
    settings = Settings.load({"CONFIG_DIR": str(PROJECT_ROOT / "config"), "QUIET_HOURS": "off"}, environ={})
    with database.transaction() as session:
        seed(session, Path(settings.CONFIG_DIR))
    with database.sessionmaker() as session:
        triggers = set(session.scalars(text("SELECT name FROM sqlite_master WHERE type = 'trigger'")))
        # A later batch migration that rebuilds worker or worker_trade drops these: it must add them back.
        assert triggers >= {
            "match_pool_on_worker",
            "match_pool_on_worker_trade_insert",
            "match_pool_on_worker_trade_update",
        }
        market = Market(session)
        exercise(session, market)
        near = market.worker(site="LZ-TX", rating=(20, 4))
        far = market.worker(site="LZ-CQ")
        job = market.job(pay=300, work_date=date(2026, 12, 2))
        config = matching_config.load(settings)
        for policy in ("fair", "greedy", "lottery"):
            found = candidates.rank(
                session, job, radius_km=4.0, limit=5, policy=policy, config=config, seed=3, now=NOW
            )
            assert {c.worker_id for c in found} == {near.id, far.id}
            for candidate in found:
                shares = candidate.explanation.shares
                assert abs(sum(shares.values()) - candidate.score) < 1e-9
        # A wave (1 km: the near one only), and a yes, on SQLite too.
        assert waves.send_wave(session, settings, job.id, 1, NOW) == {"expired": 0, "wave": 1, "offers": 1}
        offer = session.scalar(select(Offer).where(Offer.job_id == job.id, Offer.worker_id == near.id))
        assert services.accept(session, settings, offer, None, NOW) == services.Outcome.PLACED
        assert session.get(Job, job.id).filled == 1
    database.engine.dispose()
