"""Job page fixtures: every test on the shared frozen clock (tests/conftest.py), jobs matched by real RQ
jobs."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from dispatch.models import AuditEvent, Job
from tests.factories import TOMORROW, Market, commit
from tests.helpers import fresh, run_jobs


@pytest.fixture(autouse=True)
def on_the_clock(clock) -> None:
    """Every test here runs on the market's frozen clock."""


def matched(runtime, session, market: Market, **job_options) -> Job:
    """A job created as the intake form creates it, with its first wave sent by the real RQ job."""
    job = market.job(work_date=job_options.pop("work_date", TOMORROW), **job_options)
    commit(runtime, session)
    run_jobs(runtime)
    return fresh(session, job)


def audit_of(session, action: str) -> list[AuditEvent]:
    session.expire_all()
    return list(
        session.scalars(select(AuditEvent).where(AuditEvent.action == action).order_by(AuditEvent.id))
    )
