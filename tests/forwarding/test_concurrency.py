"""The day's limits hold when forwards race: each in its own request, thread and database session on the
real PostgreSQL (committed transactions), all released at once."""

from __future__ import annotations

from collections import Counter
from datetime import time, timedelta

import pytest
from flask import Flask
from sqlalchemy import func, select

from dispatch.clock import utcnow
from dispatch.jobs.services import JobRequest, create_job
from dispatch.matching import tasks
from dispatch.models import (
    Direction,
    Employer,
    ForwardOutcome,
    Job,
    JobSource,
    Message,
    Offer,
    OfferForward,
    OfferStatus,
    RegisteredVia,
    Site,
    Trade,
    Worker,
    WorkerStatus,
    WorkerTrade,
)
from dispatch.runtime import Runtime
from tests.helpers import deliver_concurrently, inbound_params

FRIEND = "+8613912345678"


def make_forwarders(runtime: Runtime, count: int, phones: list[str] | None = None) -> list[Worker]:
    """Active plumbers (no contact row: nothing was ever texted to them)."""
    phones = phones or [f"+8613600{i:06d}" for i in range(count)]
    with runtime.db.transaction() as session:
        site = session.scalar(select(Site.id).where(Site.code == "LZ-TX"))
        trade = session.scalar(select(Trade.id).where(Trade.code == "plumber_electrician"))
        workers = [
            Worker(
                phone=phones[i],
                name=f"工人{i}",
                home_site_id=site,
                min_daily_pay=200,
                status=WorkerStatus.ACTIVE,
                consent_at=utcnow(),
                registered_via=RegisteredVia.COUNTER,
                trades=[WorkerTrade(trade_id=trade)],
            )
            for i in range(count)
        ]
        session.add_all(workers)
    return workers


def offer_jobs(runtime: Runtime, count: int, headcount: int, workers: list[Worker]) -> list[Job]:
    """`count` jobs, each with wave 1 sent (headcount 2 makes a wave of 6: every forwarder is in it)."""
    jobs = []
    for i in range(count):
        with runtime.db.transaction() as session:
            employer = Employer(phone=f"+8613500{i:06d}", name="王老板")
            session.add(employer)
            session.flush()
            request = JobRequest(
                trade_id=session.scalar(select(Trade.id).where(Trade.code == "plumber_electrician")),
                headcount=headcount,
                work_date=utcnow().date() + timedelta(days=3),
                start_time=time(8),
                days=1,
                daily_pay=300,
                site_id=session.scalar(select(Site.id).where(Site.code == "LZ-TX")),
                address="太行西街88号",
            )
            jobs.append(create_job(session, employer, request, JobSource.AGENT))
        tasks.match_job(jobs[-1].id)
    with runtime.db.sessionmaker() as session:
        offered = session.scalars(
            select(Offer.worker_id).where(
                Offer.job_id.in_([j.id for j in jobs]), Offer.status == OfferStatus.SENT
            )
        ).all()
        assert Counter(offered) == {worker.id: count for worker in workers}
    return jobs


def outcomes(runtime: Runtime) -> Counter[ForwardOutcome]:
    with runtime.db.sessionmaker() as session:
        return Counter(session.scalars(select(OfferForward.outcome)))


def texts_to(runtime: Runtime, phones: list[str]) -> int:
    with runtime.db.sessionmaker() as session:
        query = select(func.count()).where(Message.direction == Direction.OUTBOUND, Message.phone.in_(phones))
        return session.scalar(query.select_from(Message))


def no_failures(runtime: Runtime) -> bool:
    with runtime.db.sessionmaker() as session:
        failed = select(func.count()).select_from(Message).where(Message.error_message == "handling failed")
        return session.scalar(failed) == 0


@pytest.mark.committed
def test_one_worker_racing_six_forwards_passes_on_three(committed: tuple[Runtime, Flask]) -> None:
    runtime, app = committed
    limit = runtime.settings.FORWARDS_PER_DAY
    [forwarder] = make_forwarders(runtime, 1)
    jobs = offer_jobs(runtime, 2 * limit, 1, [forwarder])
    friends = [f"+86139000000{i:02d}" for i in range(len(jobs))]
    texts = [
        inbound_params(f"转 {job.code} {friend.removeprefix('+86')}", sender=forwarder.phone)
        for job, friend in zip(jobs, friends, strict=True)
    ]

    assert deliver_concurrently(app, texts) == [200] * len(texts)

    assert outcomes(runtime) == {ForwardOutcome.INVITED: limit, ForwardOutcome.REFUSED_LIMIT: limit}
    assert texts_to(runtime, friends) == limit
    assert no_failures(runtime)


@pytest.mark.committed
def test_five_workers_racing_to_one_number_reach_it_twice(committed: tuple[Runtime, Flask]) -> None:
    runtime, app = committed
    limit = runtime.settings.FORWARDS_TO_NUMBER_PER_DAY
    forwarders = make_forwarders(runtime, 5)
    jobs = offer_jobs(runtime, len(forwarders), 2, forwarders)
    make_forwarders(runtime, 1, [FRIEND])  # registered after the waves: a friend who fits every job
    texts = [
        inbound_params(f"转 {job.code} {FRIEND.removeprefix('+86')}", sender=forwarder.phone)
        for forwarder, job in zip(forwarders, jobs, strict=True)
    ]

    assert deliver_concurrently(app, texts) == [200] * len(texts)

    refused = len(forwarders) - limit
    assert outcomes(runtime) == {ForwardOutcome.OFFERED: limit, ForwardOutcome.REFUSED_LIMIT: refused}
    assert texts_to(runtime, [FRIEND]) == limit
    assert no_failures(runtime)


@pytest.mark.committed
def test_five_workers_racing_to_a_stranger_invite_it_once(committed: tuple[Runtime, Flask]) -> None:
    runtime, app = committed
    forwarders = make_forwarders(runtime, 5)
    jobs = offer_jobs(runtime, len(forwarders), 2, forwarders)
    texts = [
        inbound_params(f"转 {job.code} {FRIEND.removeprefix('+86')}", sender=forwarder.phone)
        for forwarder, job in zip(forwarders, jobs, strict=True)
    ]

    assert deliver_concurrently(app, texts) == [200] * len(texts)

    assert outcomes(runtime) == {ForwardOutcome.INVITED: 1, ForwardOutcome.REFUSED_LIMIT: 4}
    assert texts_to(runtime, [FRIEND]) == 1
    assert no_failures(runtime)


@pytest.mark.committed
def test_two_workers_racing_one_job_to_one_friend_make_one_offer(committed: tuple[Runtime, Flask]) -> None:
    runtime, app = committed
    forwarders = make_forwarders(runtime, 2)
    [job] = offer_jobs(runtime, 1, 2, forwarders)
    [friend] = make_forwarders(runtime, 1, [FRIEND])
    texts = [
        inbound_params(f"转 {job.code} {FRIEND.removeprefix('+86')}", sender=forwarder.phone)
        for forwarder in forwarders
    ]

    assert deliver_concurrently(app, texts) == [200] * len(texts)

    assert outcomes(runtime) == {ForwardOutcome.OFFERED: 1, ForwardOutcome.REFUSED_NOT_FIT: 1}
    with runtime.db.sessionmaker() as session:
        offers = session.scalars(select(Offer).where(Offer.worker_id == friend.id)).all()
        assert [(offer.job_id, offer.status) for offer in offers] == [(job.id, OfferStatus.SENT)]
        statuses = session.scalars(
            select(Offer.status).where(Offer.worker_id.in_([f.id for f in forwarders]))
        )
        assert sorted(statuses) == sorted([OfferStatus.DECLINED, OfferStatus.SENT])
    assert texts_to(runtime, [FRIEND]) == 1
    assert no_failures(runtime)
