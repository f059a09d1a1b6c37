"""Day insurance fixtures: a frozen clock, the small seeded market of tests/matching, offers sent by the
real first wave."""

from __future__ import annotations

from datetime import date, datetime

import pytest
import time_machine
from sqlalchemy import select

from dispatch.models import InsuranceEnrolment, Job, Offer, Ticket, TicketKind, Worker
from tests.helpers import run_jobs
from tests.matching.conftest import SHANGHAI, Market, commit

NOW = datetime(2026, 12, 1, 10, 0, tzinfo=SHANGHAI)  # a Tuesday morning
TOMORROW = date(2026, 12, 2)


@pytest.fixture(autouse=True)
def clock():
    with time_machine.travel(NOW, tick=False) as traveller:
        yield traveller


@pytest.fixture
def market(session, seeded) -> Market:
    return Market(session)


def offered(runtime, session, market: Market, *workers: Worker, **job_options) -> Job:
    """A job (tomorrow unless said) whose first wave went, by the real RQ job, to exactly these workers."""
    job = market.job(work_date=job_options.pop("work_date", TOMORROW), **job_options)
    commit(runtime, session)
    run_jobs(runtime)
    assert {offer.worker_id for offer in offers_of(session, job)} == {worker.id for worker in workers}
    return fresh(session, job)


def fresh(session, job: Job) -> Job:
    session.expire_all()
    return session.get(Job, job.id)


def offers_of(session, job: Job) -> list[Offer]:
    session.expire_all()
    return list(session.scalars(select(Offer).where(Offer.job_id == job.id).order_by(Offer.id)))


def enrolments_of(session, job: Job) -> list[InsuranceEnrolment]:
    session.expire_all()
    query = select(InsuranceEnrolment).where(InsuranceEnrolment.job_id == job.id)
    return list(session.scalars(query.order_by(InsuranceEnrolment.worker_id, InsuranceEnrolment.work_date)))


def insurance_tickets(session) -> list[Ticket]:
    session.expire_all()
    query = select(Ticket).where(Ticket.kind == TicketKind.INSURANCE).order_by(Ticket.id)
    return list(session.scalars(query))
