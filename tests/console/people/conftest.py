"""People fixtures: workers, employers and jobs on the seeded sites, committed for the app to see."""

from __future__ import annotations

import itertools
from datetime import date, time, timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from dispatch.clock import utcnow
from dispatch.jobs.services import JobRequest, create_job
from dispatch.models import (
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

_numbers = itertools.count(1)


def next_phone() -> str:
    return f"+86139{next(_numbers):08d}"


class People:
    """Builds workers, employers and jobs; each is committed (a savepoint of the test's transaction)."""

    def __init__(self, session: Session) -> None:
        self.session = session

    def site(self, code: str) -> Site:
        return self.session.scalars(select(Site).where(Site.code == code)).one()

    def trade(self, code: str) -> Trade:
        return self.session.scalars(select(Trade).where(Trade.code == code)).one()

    def worker(
        self,
        phone: str | None = None,
        *,
        name: str = "张三",
        site: str | None = "LZ-TX",
        status: WorkerStatus = WorkerStatus.ACTIVE,
        trades: dict[str, int] | None = None,
        **values,
    ) -> Worker:
        worker = Worker(
            phone=phone or next_phone(),
            name=name,
            home_site_id=self.site(site).id if site else None,
            status=status,
            registered_via=RegisteredVia.COUNTER,
            consent_at=utcnow() if status != WorkerStatus.PENDING else None,
            min_daily_pay=values.pop("min_daily_pay", 200),
            **values,
        )
        worker.trades = [
            WorkerTrade(trade_id=self.trade(code).id, years_experience=years)
            for code, years in (trades or {"plumber_electrician": 5}).items()
        ]
        self.session.add(worker)
        self.session.commit()
        return worker

    def employer(self, phone: str | None = None, *, name: str = "王老板", site: str = "LZ-TX") -> Employer:
        employer = Employer(
            phone=phone or next_phone(), name=name, site_id=self.site(site).id, address="太行西街8号"
        )
        self.session.add(employer)
        self.session.commit()
        return employer

    def job(self, employer: Employer, *, site: str | None = None, trade: str = "plumber_electrician") -> Job:
        request = JobRequest(
            trade_id=self.trade(trade).id,
            headcount=2,
            work_date=date.today() + timedelta(days=1),
            start_time=time(8, 0),
            days=1,
            daily_pay=300,
            site_id=self.site(site).id if site else employer.site_id,
        )
        job = create_job(self.session, employer, request, JobSource.AGENT)
        self.session.commit()
        return job


@pytest.fixture
def people(seeded, session) -> People:
    return People(session)
