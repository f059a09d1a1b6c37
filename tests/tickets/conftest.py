"""Tickets fixtures: the seeded sites by code, people and a job placed in a town."""

from __future__ import annotations

from datetime import date, time

import pytest
from sqlalchemy import select

from dispatch.jobs.services import JobRequest, create_job
from dispatch.models import (
    Employer,
    Job,
    JobSource,
    JobStatus,
    RegisteredVia,
    Site,
    Trade,
    Worker,
    WorkerStatus,
)


class Places:
    def __init__(self, session) -> None:
        self.session = session

    def site(self, code: str) -> int:
        return self.session.scalar(select(Site.id).where(Site.code == code))

    def trade(self, code: str) -> Trade:
        return self.session.scalar(select(Trade).where(Trade.code == code))

    def employer(self, phone: str, site: str | None, name: str = "王老板") -> Employer:
        employer = Employer(phone=phone, name=name, site_id=self.site(site) if site else None)
        self.session.add(employer)
        self.session.flush()
        return employer

    def worker(self, phone: str, site: str | None, name: str = "张三") -> Worker:
        home = self.site(site) if site else None
        worker = Worker(
            phone=phone,
            name=name,
            home_site_id=home,
            min_daily_pay=200,
            status=WorkerStatus.ACTIVE,
            registered_via=RegisteredVia.SMS,
        )
        self.session.add(worker)
        self.session.flush()
        return worker

    def job(self, employer: Employer, site: str) -> Job:
        request = JobRequest(
            trade_id=self.trade("porter").id,
            headcount=2,
            work_date=date(2026, 12, 10),
            start_time=time(7),
            days=1,
            daily_pay=300,
            site_id=self.site(site),
        )
        return create_job(self.session, employer, request, JobSource.AGENT, status=JobStatus.DRAFT)


@pytest.fixture
def places(session, seeded) -> Places:
    return Places(session)
