"""Follow-up fixtures: the shared `clock` starting on the eve of the job's day, and helpers to place
workers through real `1 <code>` SMS webhooks and to run the periodic follow-up task in a real RQ worker."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from dispatch.models import Direction, FollowUp, Job, Message, Offer, OfferStatus, Worker
from dispatch.queue import get_queue
from dispatch.runtime import Runtime
from tests.factories import SHANGHAI, Market, commit
from tests.helpers import run_jobs, text_in

# The job's day D; workers are placed the day before and the follow-ups go out on D+1.
DAY = date(2026, 12, 1)
EVE = datetime(2026, 11, 30, 10, 0, tzinfo=SHANGHAI)


def at(day: date, clock: time) -> datetime:
    return datetime.combine(day, clock, tzinfo=SHANGHAI)


@pytest.fixture
def clock_start() -> datetime:
    """`clock` (asked for by the tests that move it) starts on the eve of the job's day."""
    return EVE


def place(runtime: Runtime, session: Session, client, clock, builder: Market, *workers: Worker, **job) -> Job:  # type: ignore[no-untyped-def]
    """A job whose wave 1 went to exactly these workers, each of whom took a place by texting
    `1 <code>`, a minute apart (so the order they confirmed in, their number, is known)."""
    job_row = builder.job(headcount=len(workers), **job)
    commit(runtime, session)
    run_jobs(runtime)
    offered = session.scalars(select(Offer.worker_id).where(Offer.job_id == job_row.id)).all()
    assert set(offered) == {w.id for w in workers}
    for worker in workers:
        text_in(client, f"1 {job_row.code}", sender=worker.phone)
        clock.shift(timedelta(minutes=1))
    run_jobs(runtime)
    session.expire_all()
    statuses = session.scalars(select(Offer.status).where(Offer.job_id == job_row.id)).all()
    assert set(statuses) == {OfferStatus.ACCEPTED}
    return job_row


def run_follow_ups(runtime: Runtime) -> dict[str, int]:
    """The periodic task as the scheduler enqueues it, in a real RQ worker (which then also sends the
    texts it queued); returns the task's counts."""
    job = get_queue("default", runtime.redis).enqueue("dispatch.followup.tasks.run_follow_ups")
    run_jobs(runtime)
    job.refresh()
    assert job.is_finished, job.latest_result().exc_string if job.latest_result() else job.get_status()
    return job.return_value()


def follow_ups(session: Session, job: Job | None = None) -> list[FollowUp]:
    session.expire_all()
    query = select(FollowUp).order_by(FollowUp.job_id, FollowUp.seq, FollowUp.party)
    if job is not None:
        query = query.where(FollowUp.job_id == job.id)
    return list(session.scalars(query))


def texts_since(session: Session, first_id: int) -> list[Message]:
    """Outbound texts queued after message `first_id`."""
    session.expire_all()
    query = select(Message).where(Message.direction == Direction.OUTBOUND, Message.id > first_id)
    return list(session.scalars(query.order_by(Message.id)))


def last_message_id(session: Session) -> int:
    return session.scalar(select(Message.id).order_by(Message.id.desc()).limit(1)) or 0
