"""Fixtures for passing offers on (转给朋友): every test on the shared frozen clock (tests/conftest.py),
and jobs whose wave went out to the workers who will pass them on."""

from __future__ import annotations

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from dispatch.models import Direction, Job, Message, Offer, OfferForward, OfferStatus, Worker
from dispatch.runtime import Runtime
from tests.factories import Market, commit
from tests.helpers import run_jobs


@pytest.fixture(autouse=True)
def on_the_clock(clock) -> None:
    """Every test here runs on the market's frozen clock."""


def national(phone: str) -> str:
    """A number as a worker types it: `13700000001`."""
    return phone.removeprefix("+86")


def offered(runtime: Runtime, session: Session, market: Market, *holders: Worker, **job_options) -> Job:
    """A job whose wave 1 went out, with an open offer to each of `holders` (others may have one too)."""
    job = market.job(**job_options)
    commit(runtime, session)
    run_jobs(runtime)
    for worker in holders:
        offer = offer_of(session, job, worker)
        assert offer is not None and offer.status == OfferStatus.SENT
    return job


def offer_of(session: Session, job: Job, worker: Worker) -> Offer | None:
    session.expire_all()
    return session.scalar(select(Offer).where(Offer.job_id == job.id, Offer.worker_id == worker.id))


def forwards(session: Session) -> list[OfferForward]:
    session.expire_all()
    return list(session.scalars(select(OfferForward).order_by(OfferForward.id)))


def outbound_count(session: Session, phone: str) -> int:
    """Every outbound row to the number, suppressed ones included: `nothing sent` means none at all."""
    session.expire_all()
    query = select(Message.id).where(Message.direction == Direction.OUTBOUND, Message.phone == phone)
    return len(session.scalars(query).all())
