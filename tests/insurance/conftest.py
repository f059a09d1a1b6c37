"""Day insurance fixtures: every test on the shared frozen clock (tests/conftest.py); the enrolments and
tickets insurance leaves. Jobs offered by the real first wave come from tests.factories.offered."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from dispatch.models import InsuranceEnrolment, Job, Ticket, TicketKind


@pytest.fixture(autouse=True)
def on_the_clock(clock) -> None:
    """Every test here runs on the market's frozen clock."""


def enrolments_of(session, job: Job) -> list[InsuranceEnrolment]:
    session.expire_all()
    query = select(InsuranceEnrolment).where(InsuranceEnrolment.job_id == job.id)
    return list(session.scalars(query.order_by(InsuranceEnrolment.worker_id, InsuranceEnrolment.work_date)))


def insurance_tickets(session) -> list[Ticket]:
    session.expire_all()
    query = select(Ticket).where(Ticket.kind == TicketKind.INSURANCE).order_by(Ticket.id)
    return list(session.scalars(query))
