"""Builders for the rows tests arrange: employers, workers and jobs on the seeded sites and trades, made
in the test's session (flushed, not committed), with the defaults most tests want and arguments for the
rest. tests/conftest.py's shared `market` fixture is a Market, and its `clock` starts at NOW.

Plain functions and one small class rather than factory_boy: every row needs the seeded sites and
trades looked up by code and a session chosen per test, which a builder bound to that session says in
fewer words than factory classes would."""

from __future__ import annotations

import itertools
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from dispatch.clock import utcnow
from dispatch.jobs.services import JobRequest, create_job
from dispatch.models import (
    Contact,
    Employer,
    Job,
    JobSource,
    RegisteredVia,
    Site,
    Trade,
    Worker,
    WorkerStatus,
    WorkerTrade,
)
from dispatch.queue import relay
from dispatch.runtime import Runtime
from tests.helpers import fresh, offers_of, run_jobs

SHANGHAI = ZoneInfo("Asia/Shanghai")
# Where the shared `clock` starts unless a directory says otherwise: a Tuesday morning in the market.
NOW = datetime(2026, 12, 1, 10, 0, tzinfo=SHANGHAI)
TOMORROW = date(2026, 12, 2)  # the market's day after NOW

_phones = itertools.count(1)


def next_phone() -> str:
    return f"+86137{next(_phones):08d}"


class Market:
    """Builds employers, workers and jobs in a session (flushed, not committed)."""

    def __init__(self, session: Session) -> None:
        self.session = session
        self._sites = {site.code: site for site in session.scalars(select(Site))}
        self._trades = {trade.code: trade for trade in session.scalars(select(Trade))}

    def site(self, code: str) -> Site:
        return self._sites[code]

    def trade(self, code: str) -> Trade:
        return self._trades[code]

    def employer(
        self,
        phone: str | None = None,
        name: str = "王老板",
        site: str = "LZ-TX",
        address: str = "太行西街88号",
    ) -> Employer:
        employer = Employer(
            phone=phone or next_phone(), name=name, site_id=self.site(site).id, address=address
        )
        self.session.add(employer)
        self.session.flush()
        return employer

    def worker(
        self,
        phone: str | None = None,
        *,
        name: str = "张三",
        trades: tuple[str, ...] = ("plumber_electrician",),
        years: int = 3,
        site: str | None = "LZ-TX",
        pay: int = 200,
        status: WorkerStatus = WorkerStatus.ACTIVE,
        language: str | None = None,
        rating: tuple[int, int] = (0, 0),
        placements: int = 0,
        no_shows: int = 0,
        cancellations: int = 0,
        last_offered_at: datetime | None = None,
        last_placed_at: datetime | None = None,
    ) -> Worker:
        worker = Worker(
            phone=phone or next_phone(),
            name=name,
            home_site_id=self.site(site).id if site else None,
            min_daily_pay=pay,
            status=status,
            consent_at=utcnow(),
            registered_via=RegisteredVia.COUNTER,
            rating_sum=rating[0],
            rating_count=rating[1],
            placements_worked=placements,
            no_shows=no_shows,
            cancellations=cancellations,
            last_offered_at=last_offered_at,
            last_placed_at=last_placed_at,
        )
        worker.trades = [WorkerTrade(trade_id=self.trade(code).id, years_experience=years) for code in trades]
        self.session.add(worker)
        if language is not None:
            self.session.add(Contact(phone=worker.phone, language=language))
        self.session.flush()
        return worker

    def job(
        self,
        employer: Employer | None = None,
        *,
        trade: str = "plumber_electrician",
        headcount: int = 1,
        work_date: date | None = None,
        start: time = time(8, 0),
        days: int = 1,
        pay: int = 300,
        site: str = "LZ-TX",
        address: str = "",
    ) -> Job:
        request = JobRequest(
            trade_id=self.trade(trade).id,
            headcount=headcount,
            work_date=work_date or tomorrow(),
            start_time=start,
            days=days,
            daily_pay=pay,
            site_id=self.site(site).id,
            address=address,
        )
        job = create_job(self.session, employer or self.employer(), request, JobSource.AGENT)
        self.session.flush()
        return job


def today() -> date:
    return utcnow().astimezone(SHANGHAI).date()


def tomorrow() -> date:
    return today() + timedelta(days=1)


def commit(runtime: Runtime, session: Session) -> None:
    """Commit what a test arranged and relay its outbox rows, as a request's transaction would."""
    session.commit()
    relay(runtime)


def offered(runtime: Runtime, session: Session, market: Market, *workers: Worker, **job_options: Any) -> Job:
    """A job (tomorrow unless said) whose first wave went, by the real RQ job, to exactly these workers."""
    job = market.job(**job_options)
    commit(runtime, session)
    run_jobs(runtime)
    assert {offer.worker_id for offer in offers_of(session, job)} == {worker.id for worker in workers}
    return fresh(session, job)
