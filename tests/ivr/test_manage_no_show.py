"""An employer reports by keypad that a worker did not come (issue 16, part 4): key 3 lists the jobs,
a job on today with workers not yet on site offers 1 for a no-show, then the workers by name; the
place is freed as `没来 101` by SMS frees it (tests/inbound/test_attendance.py)."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from dispatch.models import Job, JobStatus, Offer, OfferStatus, Worker
from tests.factories import Market, commit
from tests.helpers import last_reply
from tests.inbound.test_attendance import AT_WORK, offer_of, placed_on
from tests.ivr.conftest import EMPLOYER_PHONE, Caller


def test_key_3_then_the_job_then_1_then_the_worker_records_the_no_show(
    runtime, client, session, seeded, market: Market, clock
) -> None:
    employer = market.employer(phone=EMPLOYER_PHONE)
    came, absent, waiting = market.worker(name="张三"), market.worker(name="王五"), market.worker()
    job = placed_on(session, market, came, absent, standby=(waiting,), employer=employer, days=2)
    offer_of(session, job, came).arrived_at = AT_WORK
    commit(runtime, session)
    clock.move_to(AT_WORK)

    caller = Caller(client)
    caller.dial()
    said = caller.press("3")
    assert f"岗位号{' '.join(job.code or '')}" in said  # a filled job on today is listed
    assert "今天开工的岗位有人没来" in said
    assert "有工人没来请按1" in caller.press("1")
    said = caller.press("1")
    assert "王五没来请按1" in said and "张三" not in said  # only those not yet on site
    assert "已记下王五没来" in caller.press("1")

    offer = offer_of(session, job, absent)
    assert offer.status == OfferStatus.CANCELLED and offer.no_show_at is not None
    assert session.get(Worker, absent.id).no_shows == 1
    assert offer_of(session, job, came).status == OfferStatus.ACCEPTED
    assert offer_of(session, job, waiting).status == OfferStatus.SENT  # standby asked first, as by SMS
    fresh = session.get(Job, job.id)
    assert (fresh.filled, fresh.status) == (1, JobStatus.OPEN)
    assert last_reply(session, EMPLOYER_PHONE).kind == "no_show.ok"  # in writing too
    assert last_reply(session, absent.phone).kind == "no_show.worker"


def test_a_job_not_on_today_goes_straight_to_cancelling(
    runtime, client, session, seeded, market: Market, clock
) -> None:
    employer = market.employer(phone=EMPLOYER_PHONE)
    worker = market.worker(name="王五")
    job = placed_on(session, market, worker, employer=employer)
    job.status = JobStatus.OPEN  # one place of two still open: the job is listed the day before too
    job.headcount = 2
    commit(runtime, session)
    clock.move_to(AT_WORK - timedelta(days=1))
    caller = Caller(client)
    caller.dial()
    caller.press("3")
    assert "确定要取消岗位" in caller.press("1")
    assert offer_of(session, job, worker).no_show_at is None


def test_everyone_arrived_means_no_no_show_question(
    runtime, client, session, seeded, market: Market, clock
) -> None:
    employer = market.employer(phone=EMPLOYER_PHONE)
    worker = market.worker(name="王五")
    job = placed_on(session, market, worker, employer=employer)
    offer_of(session, job, worker).arrived_at = AT_WORK
    commit(runtime, session)
    clock.move_to(AT_WORK)
    caller = Caller(client)
    caller.dial()
    caller.press("3")
    # Filled and everyone on site: nothing to cancel or report; the key reads the list again.
    assert "今天开工的岗位有人没来" in caller.press("1")
    assert session.scalars(select(Offer).where(Offer.no_show_at.is_not(None))).all() == []


def test_a_place_given_back_meanwhile_is_not_reported(
    runtime, client, session, seeded, market: Market, clock
) -> None:
    """The list was read, then the worker gave the place back before the employer pressed the key."""
    employer = market.employer(phone=EMPLOYER_PHONE)
    worker = market.worker(name="王五")
    job = placed_on(session, market, worker, employer=employer)
    commit(runtime, session)
    clock.move_to(AT_WORK)
    caller = Caller(client)
    caller.dial()
    caller.press("3")
    caller.press("1")
    assert "王五没来请按1" in caller.press("1")
    offer_of(session, job, worker).status = OfferStatus.CANCELLED
    session.commit()
    assert "这位工人的名额已经不在了" in caller.press("1")
    assert session.get(Worker, worker.id).no_shows == 0
