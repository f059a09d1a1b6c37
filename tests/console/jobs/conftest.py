"""Job page fixtures: a frozen clock, a small market on the seeded sites, jobs matched by real RQ jobs."""

from __future__ import annotations

from datetime import date, datetime

import pytest
import time_machine
from sqlalchemy import select

from dispatch.models import AuditEvent, Job, Offer
from tests.helpers import run_jobs
from tests.matching.conftest import SHANGHAI, Market, commit

NOW = datetime(2026, 12, 1, 10, 0, tzinfo=SHANGHAI)
TOMORROW = date(2026, 12, 2)


@pytest.fixture(autouse=True)
def clock():
    with time_machine.travel(NOW, tick=False) as traveller:
        yield traveller


@pytest.fixture
def market(session, seeded) -> Market:
    return Market(session)


def matched(runtime, session, market: Market, **job_options) -> Job:
    """A job created as the intake form creates it, with its first wave sent by the real RQ job."""
    job = market.job(work_date=job_options.pop("work_date", TOMORROW), **job_options)
    commit(runtime, session)
    run_jobs(runtime)
    return fresh(session, job)


def fresh(session, job: Job) -> Job:
    session.expire_all()
    return session.get(Job, job.id)


def offers_of(session, job: Job) -> list[Offer]:
    session.expire_all()
    return list(session.scalars(select(Offer).where(Offer.job_id == job.id).order_by(Offer.id)))


def audit_of(session, action: str) -> list[AuditEvent]:
    session.expire_all()
    return list(
        session.scalars(select(AuditEvent).where(AuditEvent.action == action).order_by(AuditEvent.id))
    )
