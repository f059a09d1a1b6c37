"""Whose a bare digit is, through the signed /sms/inbound webhook: after a follow-up is answered a `1`
goes to the open offer again; a dialogue in progress (a job request) keeps its `1`; someone both worker
and employer has their answer read by the side asked last (or is asked to add the code); `15` typed
without its space is `1 5`."""

from __future__ import annotations

from datetime import time, timedelta

from sqlalchemy import select

from dispatch.models import (
    Conversation,
    Employer,
    FollowUpParty,
    FollowUpStatus,
    Job,
    JobStatus,
    Offer,
    OfferStatus,
    PaidAnswer,
    WageCase,
    Worker,
)
from tests.factories import Market, commit
from tests.followup.conftest import DAY, at, follow_ups, place, run_follow_ups
from tests.helpers import last_reply, placed_reply, run_jobs, text_in

MORNING = at(DAY + timedelta(days=1), time(9, 0))


def side(session, job, worker, party: FollowUpParty):  # type: ignore[no-untyped-def]
    return next(fu for fu in follow_ups(session, job) if fu.worker_id == worker.id and fu.party == party)


def test_after_the_answer_a_bare_yes_takes_the_open_offer_again(
    runtime, session, client, clock, market: Market
) -> None:
    worker = market.worker()
    job = place(runtime, session, client, clock, market, worker, work_date=DAY)
    # The follow-up at 09:00, an offer at 09:01, the follow-up answered in one go at 09:02.
    clock.move_to(MORNING)
    run_follow_ups(runtime)
    clock.move_to(MORNING + timedelta(minutes=1))
    later = market.job(work_date=DAY + timedelta(days=3))
    commit(runtime, session)
    run_jobs(runtime)
    offer = session.scalar(select(Offer).where(Offer.job_id == later.id))
    assert offer.worker_id == worker.id and offer.status == OfferStatus.SENT
    clock.move_to(MORNING + timedelta(minutes=2))
    text_in(client, "1 5", sender=worker.phone)
    assert side(session, job, worker, FollowUpParty.WORKER).status == FollowUpStatus.ANSWERED

    # 09:03: `1` is the yes to the offer still open, not a repeat of the answer.
    clock.move_to(MORNING + timedelta(minutes=3))
    text_in(client, "1", sender=worker.phone)
    session.expire_all()
    assert session.get(Offer, offer.id).status == OfferStatus.ACCEPTED
    assert placed_reply(session, worker.phone).kind == "placement.worker"
    employer = session.get(Employer, job.employer_id)
    assert (employer.rating_sum, employer.rating_count) == (5, 1)  # counted once


def test_a_job_request_in_progress_keeps_the_employers_bare_yes(
    runtime, session, client, clock, market: Market
) -> None:
    employer = market.employer(name="王老板")
    worker = market.worker(name="张三")
    job = place(runtime, session, client, clock, market, worker, employer=employer, work_date=DAY)
    # 08:55 the employer asks for another worker by SMS (a draft waiting for `1`); 09:00 the follow-up.
    clock.move_to(MORNING - timedelta(minutes=5))
    text_in(client, "招 水电工 1人 后天 300元 太西", sender=employer.phone)
    assert session.scalar(select(Conversation.id).where(Conversation.phone == employer.phone)) is not None
    clock.move_to(MORNING)
    run_follow_ups(runtime)

    clock.move_to(MORNING + timedelta(minutes=2))
    text_in(client, "1", sender=employer.phone)  # confirms the request, rates nobody
    session.expire_all()
    assert side(session, job, worker, FollowUpParty.EMPLOYER).stars is None
    assert session.get(Worker, worker.id).rating_count == 0
    request = session.scalars(select(Job).where(Job.employer_id == employer.id, Job.id != job.id)).one()
    assert request.status != JobStatus.DRAFT

    # With the job's code the rating is plain whatever the dialogue.
    text_in(client, f"{job.code} 1 4", sender=employer.phone)
    assert side(session, job, worker, FollowUpParty.EMPLOYER).stars == 4


def test_someone_both_worker_and_employer_answers_the_side_asked_last(
    runtime, session, client, clock, market: Market
) -> None:
    boss = market.employer(name="王老板")
    phone = "+8613712340000"
    as_worker = market.worker(name="李四", phone=phone)
    as_employer = market.employer(name="李四", phone=phone)
    hired = market.worker(name="张三", trades=("cleaner",))
    worked = place(runtime, session, client, clock, market, as_worker, employer=boss, work_date=DAY)
    hiring = place(
        runtime,
        session,
        client,
        clock,
        market,
        hired,
        employer=as_employer,
        work_date=DAY + timedelta(days=1),
        trade="cleaner",
    )
    clock.move_to(MORNING + timedelta(minutes=30))
    assert run_follow_ups(runtime)["asked"] == 1  # as the worker of `worked`
    clock.move_to(MORNING + timedelta(days=1))
    assert run_follow_ups(runtime)["asked"] == 1  # as the employer of `hiring`: the last question

    clock.move_to(MORNING + timedelta(days=1, minutes=10))
    text_in(client, "3", sender=phone)  # 3 stars for 张三, not "I was not paid" about 王老板
    assert side(session, hiring, hired, FollowUpParty.EMPLOYER).stars == 3
    assert side(session, worked, as_worker, FollowUpParty.WORKER).paid is None
    assert session.scalar(select(WageCase.id)) is None
    assert last_reply(session, phone).body == f"【潞州零工】谢谢，已记下岗位{hiring.code}第1位工人的评价。"

    # The worker side, now the only one open, takes the next answer.
    text_in(client, "1 4", sender=phone)
    fu = side(session, worked, as_worker, FollowUpParty.WORKER)
    assert (fu.paid, fu.stars, fu.status) == (PaidAnswer.FULL, 4, FollowUpStatus.ANSWERED)


def test_both_sides_asked_at_once_need_the_code(runtime, session, client, clock, market: Market) -> None:
    boss = market.employer(name="王老板")
    phone = "+8613712340001"
    as_worker = market.worker(name="李四", phone=phone)
    as_employer = market.employer(name="李四", phone=phone)
    hired = market.worker(name="张三", trades=("cleaner",))
    worked = place(runtime, session, client, clock, market, as_worker, employer=boss, work_date=DAY)
    hiring = place(
        runtime, session, client, clock, market, hired, employer=as_employer, work_date=DAY, trade="cleaner"
    )
    clock.move_to(MORNING)
    assert run_follow_ups(runtime)["asked"] == 2  # both sides in the same run: neither is later
    clock.move_to(MORNING + timedelta(minutes=5))

    for either in ("3", "1"):  # "not paid" / "paid", or stars for 张三: not ours to guess
        text_in(client, either, sender=phone)
        assert last_reply(session, phone).body == (
            f"【潞州零工】请在答复前加岗位号。您做工的岗位{worked.code}：如 {worked.code} 1 5；"
            f"您请的工人张三：如 {hiring.code} 1 5"
        ), either
    assert all(fu.paid is None and fu.stars is None for fu in follow_ups(session))
    assert session.scalar(select(WageCase.id)) is None

    text_in(client, "0", sender=phone)  # fits only the employer's question: 张三 did not come
    assert side(session, hiring, hired, FollowUpParty.EMPLOYER).stars == 0
    assert session.get(Worker, hired.id).no_shows == 1
    text_in(client, "1", sender=phone)  # the worker side, the only one open now: paid in full
    assert side(session, worked, as_worker, FollowUpParty.WORKER).paid == PaidAnswer.FULL


def test_a_digit_that_fits_only_the_side_asked_earlier_is_not_taken(
    runtime, session, client, clock, market: Market
) -> None:
    """Asked as a worker last (paid: 1-3), a `5` fits only the employer's older question: ask."""
    boss = market.employer(name="王老板")
    phone = "+8613712340002"
    as_worker = market.worker(name="李四", phone=phone)
    as_employer = market.employer(name="李四", phone=phone)
    hired = market.worker(name="张三", trades=("cleaner",))
    place(
        runtime, session, client, clock, market, hired, employer=as_employer, work_date=DAY, trade="cleaner"
    )
    worked = place(
        runtime,
        session,
        client,
        clock,
        market,
        as_worker,
        employer=boss,
        work_date=DAY + timedelta(days=1),
    )
    clock.move_to(MORNING + timedelta(minutes=30))
    assert run_follow_ups(runtime)["asked"] == 1  # as the employer
    clock.move_to(MORNING + timedelta(days=1))
    assert run_follow_ups(runtime) == {"asked": 1, "reminded": 0, "tickets": 0}  # as the worker: last
    clock.move_to(MORNING + timedelta(days=1, minutes=5))
    text_in(client, "5", sender=phone)
    assert "请在答复前加岗位号" in last_reply(session, phone).body
    assert all(fu.stars is None for fu in follow_ups(session))
    text_in(client, "2", sender=phone)  # fits both: the side asked last (the worker's "paid in part")
    assert side(session, worked, as_worker, FollowUpParty.WORKER).paid == PaidAnswer.PART


def test_one_five_without_its_space(runtime, session, client, clock, market: Market) -> None:
    worker = market.worker()
    job = place(runtime, session, client, clock, market, worker, work_date=DAY)
    text_in(client, "15", sender=worker.phone)  # no follow-up open yet: not an answer
    assert last_reply(session, worker.phone).kind == "not_understood"
    clock.move_to(MORNING)
    run_follow_ups(runtime)
    text_in(client, "15", sender=worker.phone)
    fu = side(session, job, worker, FollowUpParty.WORKER)
    assert (fu.paid, fu.stars, fu.status) == (PaidAnswer.FULL, 5, FollowUpStatus.ANSWERED)
