"""Placements cut short after the work began are followed up like any other: a job called off mid-job
or a place given back after the start was (partly) worked, so "were you paid?" is asked the morning
after the last day worked. Calling off or giving back before the start, and standby workers of a job
called off, are never asked."""

from __future__ import annotations

from datetime import time, timedelta

from sqlalchemy import select

from dispatch.matching import services as matching
from dispatch.models import FollowUpParty, Job, Offer, OfferStatus
from tests.factories import Market
from tests.followup.conftest import DAY, at, follow_ups, last_message_id, place, run_follow_ups, texts_since
from tests.helpers import text_in

NEXT_MORNING = at(DAY + timedelta(days=1), time(9, 0))


def call_off(runtime, job: Job, when) -> None:  # type: ignore[no-untyped-def]
    """The employer calls the job off at `when` (as the console and `取消` do)."""
    with runtime.db.transaction() as work:
        matching.cancel_job(work, runtime.settings, work.get(Job, job.id), when)


def test_a_job_called_off_after_its_first_day_is_followed_up(
    runtime, session, client, clock, market: Market
) -> None:
    employer = market.employer(name="王老板")
    zhang = market.worker(name="张三")
    job = place(runtime, session, client, clock, market, zhang, employer=employer, work_date=DAY, days=3)
    # 李四 said yes when the place was gone: on standby, never placed.
    standby = market.worker(name="李四")
    session.add(
        Offer(
            job_id=job.id,
            worker_id=standby.id,
            status=OfferStatus.STANDBY,
            sent_at=at(DAY - timedelta(days=1), time(11, 0)),
            responded_at=at(DAY - timedelta(days=1), time(11, 5)),
        )
    )
    session.commit()
    clock.move_to(at(DAY, time(18, 0)))  # day 1 of 3 worked
    call_off(runtime, job, at(DAY, time(18, 0)))
    session.expire_all()
    assert {o.status for o in session.scalars(select(Offer).where(Offer.job_id == job.id))} == {
        OfferStatus.CANCELLED
    }

    # Asked the morning after the last day worked (not after the job's planned third day).
    clock.move_to(NEXT_MORNING - timedelta(seconds=1))
    assert run_follow_ups(runtime)["asked"] == 0
    clock.move_to(NEXT_MORNING)
    mark = last_message_id(session)
    assert run_follow_ups(runtime) == {"asked": 1, "reminded": 0, "tickets": 0}
    assert run_follow_ups(runtime)["asked"] == 0
    rows = follow_ups(session, job)
    assert {(fu.party, fu.worker_id, fu.seq) for fu in rows} == {
        (FollowUpParty.WORKER, zhang.id, 1),
        (FollowUpParty.EMPLOYER, zhang.id, 1),
    }
    assert {m.phone for m in texts_since(session, mark)} == {zhang.phone, employer.phone}
    text_in(client, "3 2", sender=zhang.phone)  # not paid: the wage check sees it
    assert next(fu for fu in follow_ups(session, job) if fu.party == FollowUpParty.WORKER).stars == 2


def test_a_job_called_off_before_it_began_is_not_followed_up(
    runtime, session, client, clock, market: Market
) -> None:
    worker = market.worker()
    job = place(runtime, session, client, clock, market, worker, work_date=DAY, days=2)
    clock.move_to(at(DAY, time(7, 59)))  # a minute before the 08:00 start
    call_off(runtime, job, at(DAY, time(7, 59)))
    for day in (1, 2, 3):
        clock.move_to(at(DAY + timedelta(days=day), time(10, 0)))
        assert run_follow_ups(runtime)["asked"] == 0
    assert follow_ups(session) == []


def test_a_place_given_back_mid_job_is_followed_up_and_before_it_is_not(
    runtime, session, client, clock, market: Market
) -> None:
    stayed, left, early = market.worker(name="张三"), market.worker(name="李四"), market.worker(name="王五")
    job = place(runtime, session, client, clock, market, stayed, left, early, work_date=DAY, days=2)
    clock.move_to(at(DAY, time(7, 0)))
    text_in(client, f"取消 {job.code}", sender=early.phone)  # before the start: never worked
    clock.move_to(at(DAY, time(12, 0)))
    text_in(client, f"取消 {job.code}", sender=left.phone)  # half of day 1 worked
    session.expire_all()
    assert set(session.scalars(select(Offer.status).where(Offer.job_id == job.id))) == {
        OfferStatus.ACCEPTED,
        OfferStatus.CANCELLED,
    }

    # The morning after day 1: the one who left is asked; the one who stayed after day 2.
    clock.move_to(NEXT_MORNING)
    assert run_follow_ups(runtime)["asked"] == 1
    assert {(fu.worker_id, fu.seq) for fu in follow_ups(session, job)} == {(left.id, 2)}
    clock.move_to(NEXT_MORNING + timedelta(days=1))
    assert run_follow_ups(runtime)["asked"] == 1
    numbers = {fu.worker_id: fu.seq for fu in follow_ups(session, job)}
    assert numbers == {left.id: 2, stayed.id: 1}  # in the order they confirmed; nobody's number twice


def test_the_wage_claim_of_a_job_called_off_mid_way_counts_the_days_held(
    runtime, session, client, clock, market: Market
) -> None:
    """Three days agreed, the job called off after the first: `3` (not paid) claims one day's pay."""
    from dispatch.models import WageCase

    employer = market.employer(name="王老板")
    zhang = market.worker(name="张三")
    job = place(runtime, session, client, clock, market, zhang, employer=employer, work_date=DAY, days=3)
    clock.move_to(at(DAY, time(18, 0)))
    call_off(runtime, job, at(DAY, time(18, 0)))
    clock.move_to(NEXT_MORNING)
    assert run_follow_ups(runtime)["asked"] == 1
    text_in(client, "3 2", sender=zhang.phone)
    session.expire_all()
    case = session.scalars(select(WageCase)).one()
    assert (case.days, case.amount_owed) == (1, job.daily_pay)
    assert (case.evidence["claim"]["days"], case.evidence["claim"]["amount_owed"]) == (1, job.daily_pay)


def test_a_place_given_back_on_the_first_day_after_the_start_is_one_no_show_at_most(
    runtime, session, client, clock, market: Market
) -> None:
    """`取消` an hour after the start of a one-day job: did the worker come? The employer says, in the
    follow-up: `0` counts the no-show once (the give-back itself counts nothing)."""
    from dispatch.models import Worker

    employer = market.employer(name="王老板")
    zhang = market.worker(name="张三")
    job = place(runtime, session, client, clock, market, zhang, employer=employer, work_date=DAY)
    clock.move_to(at(DAY, time(9, 0)))  # the job began at 08:00
    text_in(client, f"取消 {job.code}", sender=zhang.phone)
    session.expire_all()
    assert (session.get(Worker, zhang.id).no_shows, session.get(Worker, zhang.id).cancellations) == (0, 0)

    clock.move_to(NEXT_MORNING)
    assert run_follow_ups(runtime)["asked"] == 1
    text_in(client, f"{job.code} 1 0", sender=employer.phone)
    session.expire_all()
    assert (session.get(Worker, zhang.id).no_shows, session.get(Worker, zhang.id).cancellations) == (1, 0)


def test_a_late_give_back_and_the_employers_0_are_one_no_show(
    runtime, session, client, clock, market: Market
) -> None:
    """Day 1 of 2 done, `取消` at 21:00 (day 2 begins in 11 hours): a late cancellation, counted as a
    no-show; the employer's `0` for the placement the next morning does not count it again."""
    from dispatch.models import Worker

    employer = market.employer(name="王老板")
    zhang = market.worker(name="张三")
    job = place(runtime, session, client, clock, market, zhang, employer=employer, work_date=DAY, days=2)
    clock.move_to(at(DAY, time(21, 0)))
    text_in(client, f"取消 {job.code}", sender=zhang.phone)
    session.expire_all()
    assert session.get(Worker, zhang.id).no_shows == 1

    clock.move_to(NEXT_MORNING)
    assert run_follow_ups(runtime)["asked"] == 1
    text_in(client, f"{job.code} 1 0", sender=employer.phone)
    session.expire_all()
    assert session.get(Worker, zhang.id).no_shows == 1
    employer_side = next(fu for fu in follow_ups(session, job) if fu.party == FollowUpParty.EMPLOYER)
    assert employer_side.stars == 0  # the answer is kept all the same
