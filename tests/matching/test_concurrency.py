"""Never overbooked: fifty workers answer yes at the same moment, each in its own request, thread and
database session, on the real PostgreSQL (committed transactions, so they truly race)."""

from __future__ import annotations

import itertools
from collections import Counter
from datetime import date, time, timedelta

import pytest
from flask import Flask
from sqlalchemy import func, select, text
from sqlalchemy.orm import Session

from dispatch.jobs.services import JobRequest, create_job
from dispatch.matching import locking, tasks, waves
from dispatch.models import (
    Direction,
    Employer,
    Job,
    JobSource,
    JobStatus,
    Message,
    Offer,
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

REPLIERS = 50
ROUNDS = 2
WORK_DATE = date.today() + timedelta(days=7)


# Each round in a trade of its own, so that one round's workers are not candidates for the next.
TRADES = ("plumber_electrician", "porter", "cleaner", "painter")


def make_workers(runtime: Runtime, count: int, round_: int, trade_code: str) -> list[Worker]:
    with runtime.db.transaction() as session:
        site = session.scalar(select(Site.id).where(Site.code == "LZ-TX"))
        trade = session.scalar(select(Trade.id).where(Trade.code == trade_code))
        workers = [
            Worker(
                phone=f"+86136{round_:02d}{i:06d}",
                name=f"工人{i}",
                home_site_id=site,
                min_daily_pay=200,
                status=WorkerStatus.ACTIVE,
                registered_via=RegisteredVia.COUNTER,
                trades=[WorkerTrade(trade_id=trade)],
            )
            for i in range(count)
        ]
        session.add_all(workers)
    return workers


def post_job(
    runtime: Runtime, headcount: int, round_: int, trade_code: str, work_date: date = WORK_DATE
) -> Job:
    with runtime.db.transaction() as session:
        employer = Employer(phone=f"+86135{round_:04d}{headcount:04d}", name="王老板")
        session.add(employer)
        session.flush()
        request = JobRequest(
            trade_id=session.scalar(select(Trade.id).where(Trade.code == trade_code)),
            headcount=headcount,
            work_date=work_date,
            start_time=time(8),
            days=2,
            daily_pay=300,
            site_id=session.scalar(select(Site.id).where(Site.code == "LZ-TX")),
            address="太行西街88号",
        )
        return create_job(session, employer, request, JobSource.AGENT)


def offer_to_everyone(runtime: Runtime, job: Job, workers: list[Worker]) -> None:
    """Wave 1 goes to at most 30; the rest get their offers the way a later wave would."""
    tasks.match_job(job.id)
    with runtime.db.transaction() as session:
        offered = set(session.scalars(select(Offer.worker_id).where(Offer.job_id == job.id)))
        for worker in workers:
            if worker.id not in offered:
                session.add(
                    Offer(job_id=job.id, worker_id=worker.id, wave=2, status=OfferStatus.SENT, explanation={})
                )


def last_kind(session, phone: str) -> str:
    query = (
        select(Message.kind)
        .where(Message.phone == phone, Message.direction == Direction.OUTBOUND)
        .order_by(Message.id.desc())
        .limit(1)
    )
    return session.scalar(query)


@pytest.mark.committed
@pytest.mark.parametrize("places", [1, 5])
def test_fifty_yeses_at_once_fill_exactly_the_places(committed: tuple[Runtime, Flask], places: int) -> None:
    runtime, app = committed
    for round_ in range(ROUNDS):
        workers = make_workers(runtime, REPLIERS, round_ * 10 + places, TRADES[round_])
        job = post_job(runtime, places, round_, TRADES[round_])
        offer_to_everyone(runtime, job, workers)
        answers = [inbound_params(f"1 {job.code}", sender=worker.phone) for worker in workers]

        assert deliver_concurrently(app, answers) == [200] * REPLIERS

        with runtime.db.sessionmaker() as session:
            job = session.get(Job, job.id)
            assert (job.filled, job.status) == (min(places, REPLIERS), JobStatus.FILLED)
            statuses = Counter(session.scalars(select(Offer.status).where(Offer.job_id == job.id)))
            assert statuses == {OfferStatus.ACCEPTED: places, OfferStatus.STANDBY: REPLIERS - places}
            kinds = Counter(last_kind(session, worker.phone) for worker in workers)
            # a place's confirmation, then its day insurance reference (the job's trade is high-risk)
            assert kinds == {"placement.insurance": places, "match.full": REPLIERS - places}
            # every answer handled, none left to an agent as a failure
            failed = (
                select(func.count()).select_from(Message).where(Message.error_message == "handling failed")
            )
            assert session.scalar(failed) == 0


@pytest.mark.committed
def test_one_worker_never_holds_two_places_on_the_same_days(committed: tuple[Runtime, Flask]) -> None:
    """Each of ten workers says yes to three overlapping jobs at once: one place each, at most."""
    runtime, app = committed
    workers = make_workers(runtime, 10, 99, TRADES[-1])
    jobs = [
        post_job(runtime, 10, 90 + i, TRADES[-1], work_date=WORK_DATE + timedelta(days=i)) for i in range(3)
    ]
    for job in jobs:  # two-day jobs on the 7th, 8th and 9th: each overlaps the next
        offer_to_everyone(runtime, job, workers)
    answers = [inbound_params(f"1 {job.code}", sender=worker.phone) for worker in workers for job in jobs]

    assert deliver_concurrently(app, answers) == [200] * len(answers)

    with runtime.db.sessionmaker() as session:
        for worker in workers:
            held = session.scalars(
                select(Job)
                .join(Offer, Offer.job_id == Job.id)
                .where(Offer.worker_id == worker.id, Offer.status == OfferStatus.ACCEPTED)
                .order_by(Job.work_date)
            ).all()
            assert 1 <= len(held) <= 2
            for earlier, later in itertools.pairwise(held):
                assert earlier.end_date < later.work_date  # never on the same day


@pytest.mark.committed
def test_an_answers_row_locks_let_new_offers_in(committed: tuple[Runtime, Flask]) -> None:
    """The worker and job locks are FOR NO KEY UPDATE: an Offer inserted meanwhile (its foreign keys
    take KEY SHARE locks on both rows) goes in at once, instead of waiting (or deadlocking)."""
    runtime, _app = committed
    [worker] = make_workers(runtime, 1, 90, "painter")
    job = post_job(runtime, 1, 90, "painter")
    with runtime.db.transaction() as holder:
        locking.lock_worker(holder, worker.id)
        waves._locked_job(holder, job.id)
        with runtime.db.engine.connect() as other:
            other.execute(text("SET lock_timeout = '2s'"))
            with Session(bind=other) as inserting:
                inserting.add(
                    Offer(job_id=job.id, worker_id=worker.id, wave=2, status=OfferStatus.SENT, explanation={})
                )
                inserting.flush()  # a lock wait would raise here after 2 s
                inserting.rollback()


@pytest.mark.committed
def test_the_pool_trigger_reads_the_worker_for_share(committed: tuple[Runtime, Flask]) -> None:
    runtime, _app = committed
    with runtime.db.engine.connect() as connection:
        source = connection.scalar(text("SELECT prosrc FROM pg_proc WHERE proname = 'match_pool_add'"))
    assert "FOR SHARE OF w" in source
