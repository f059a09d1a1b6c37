"""People fixtures: workers, employers and jobs on the seeded sites, committed for the app to see."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy.orm import Session

from dispatch.models import Employer, Job, Worker, WorkerStatus, WorkerTrade
from tests.factories import Market


class People:
    """The matching tests' Market builders, each row committed (a savepoint of the test's transaction);
    a worker takes years of experience per trade and any other column by name."""

    def __init__(self, session: Session) -> None:
        self.session = session
        self.market = Market(session)

    def worker(
        self,
        phone: str | None = None,
        *,
        name: str = "张三",
        site: str | None = "LZ-TX",
        status: WorkerStatus = WorkerStatus.ACTIVE,
        trades: dict[str, int] | None = None,
        **values: Any,
    ) -> Worker:
        worker = self.market.worker(phone, name=name, site=site, status=status, trades=())
        worker.trades = [
            WorkerTrade(trade_id=self.market.trade(code).id, years_experience=years)
            for code, years in (trades or {"plumber_electrician": 5}).items()
        ]
        if status == WorkerStatus.PENDING:
            worker.consent_at = None
        for column, value in values.items():
            setattr(worker, column, value)
        self.session.commit()
        return worker

    def employer(self, phone: str | None = None, *, name: str = "王老板", site: str = "LZ-TX") -> Employer:
        employer = self.market.employer(phone, name=name, site=site, address="太行西街8号")
        self.session.commit()
        return employer

    def job(self, employer: Employer, *, site: str | None = None, trade: str = "plumber_electrician") -> Job:
        job = self.market.job(employer, trade=trade, headcount=2, site=site or employer.site.code)
        self.session.commit()
        return job


@pytest.fixture
def people(seeded, session) -> People:
    return People(session)
