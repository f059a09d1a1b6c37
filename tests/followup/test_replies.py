"""Answers to follow-ups by SMS through the signed /sms/inbound webhook: step by step, with and without
a code, ambiguous, out of range, repeated; and bare digits that belong to an offer instead."""

from __future__ import annotations

from datetime import time, timedelta

from sqlalchemy import select

from dispatch.models import (
    Employer,
    FollowUpParty,
    FollowUpStatus,
    Offer,
    OfferStatus,
    PaidAnswer,
    Ticket,
    TicketKind,
    WageCase,
    Worker,
)
from tests.factories import Market, commit
from tests.followup.conftest import DAY, at, follow_ups, place, run_follow_ups
from tests.helpers import last_reply, outbound_to, placed_reply, run_jobs, text_in

MORNING = at(DAY + timedelta(days=1), time(9, 0))


def asked(runtime, session, client, clock, market: Market, *workers, **job):  # type: ignore[no-untyped-def]
    """Workers placed on a job of DAY, and the follow-ups sent the morning after."""
    placed = place(runtime, session, client, clock, market, *workers, work_date=DAY, **job)
    clock.move_to(MORNING)
    run_follow_ups(runtime)
    clock.move_to(MORNING + timedelta(minutes=30))
    return placed


def side(session, job, worker, party: FollowUpParty):  # type: ignore[no-untyped-def]
    return next(fu for fu in follow_ups(session, job) if fu.worker_id == worker.id and fu.party == party)


def test_step_by_step_with_unpaid_wages(runtime, session, client, clock, market: Market) -> None:
    worker = market.worker(name="张三")
    job = asked(runtime, session, client, clock, market, worker, employer=market.employer(name="王老板"))
    text_in(client, "3", sender=worker.phone)
    assert last_reply(session, worker.phone).body == (
        f"【潞州零工】已记下。工钱的事工作人员会打电话联系您。请给岗位{job.code}的雇主打分，回复1-5"
    )
    fu = side(session, job, worker, FollowUpParty.WORKER)
    assert (fu.paid, fu.stars, fu.status) == (PaidAnswer.NONE, None, FollowUpStatus.ASKED)
    case = session.scalar(select(WageCase).where(WageCase.follow_up_id == fu.id))
    assert case is not None and case.paid == PaidAnswer.NONE  # dispatch.wages took it from here

    text_in(client, "２", sender=worker.phone)  # full-width: the parser normalised it
    assert last_reply(session, worker.phone).body == (
        f"【潞州零工】谢谢，岗位{job.code}的回访已记下。工钱没结清的事，工作人员会尽快打电话联系您，帮您讨回工钱。"
    )
    fu = side(session, job, worker, FollowUpParty.WORKER)
    assert (fu.paid, fu.stars, fu.status) == (PaidAnswer.NONE, 2, FollowUpStatus.ANSWERED)
    employer = session.get(Employer, job.employer_id)
    assert (employer.rating_sum, employer.rating_count) == (2, 1)
    assert len(session.scalars(select(WageCase).where(WageCase.follow_up_id == fu.id)).all()) == 1


def test_a_code_answers_one_of_several(runtime, session, client, clock, market: Market) -> None:
    worker = market.worker()
    first = place(runtime, session, client, clock, market, worker, work_date=DAY)
    # Another place the afternoon before (the same day would clash): both are asked the same morning.
    second = place(
        runtime, session, client, clock, market, worker, work_date=DAY - timedelta(days=1), start=time(14, 0)
    )
    assert first.id != second.id
    clock.move_to(MORNING)
    assert run_follow_ups(runtime)["asked"] == 2

    text_in(client, "1 5", sender=worker.phone)
    assert last_reply(session, worker.phone).body == (
        f"【潞州零工】您有2个岗位待回访：{first.code}、{second.code}。请在答复前加岗位号，如 {first.code} 1 5"
    )
    assert {fu.status for fu in follow_ups(session)} == {FollowUpStatus.ASKED}
    text_in(client, f"{second.code} 1 4", sender=worker.phone)
    assert side(session, second, worker, FollowUpParty.WORKER).stars == 4
    assert side(session, first, worker, FollowUpParty.WORKER).status == FollowUpStatus.ASKED
    text_in(client, "1 5", sender=worker.phone)  # one left open: no code needed any more
    assert side(session, first, worker, FollowUpParty.WORKER).stars == 5


def test_the_employer_names_the_worker(runtime, session, client, clock, market: Market) -> None:
    employer = market.employer(name="王老板")
    zhang, li = market.worker(name="张三"), market.worker(name="李四")
    job = asked(runtime, session, client, clock, market, zhang, li, employer=employer)
    code = job.code
    listing = f"【潞州零工】请回复 岗位号 序号 分数：{code} 1=张三；{code} 2=李四。如 {code} 1 5，没来打0"
    for ambiguous in ("4", f"{code} 4", f"{code} 7 4"):  # two open; a number that is nobody
        text_in(client, ambiguous, sender=employer.phone)
        assert last_reply(session, employer.phone).body == listing, ambiguous
    text_in(client, f"{code} 1 9", sender=employer.phone)
    assert last_reply(session, employer.phone).body == (
        f"【潞州零工】没看懂。请回复 岗位号 序号 分数(1-5，没来为0)，如 {code} 1 5"
    )
    assert all(fu.stars is None for fu in follow_ups(session, job))

    text_in(client, f"{code} 1 5", sender=employer.phone)
    text_in(client, f"{code} 3", sender=employer.phone)  # the one left: 李四
    assert last_reply(session, employer.phone).body == f"【潞州零工】谢谢，已记下岗位{code}第2位工人的评价。"
    text_in(client, "3", sender=employer.phone)  # a repeat: acknowledged, not counted again
    assert last_reply(session, employer.phone).body == f"【潞州零工】岗位{code}的回访答复已经收到了，谢谢！"
    session.expire_all()
    assert (session.get(Worker, zhang.id).rating_sum, session.get(Worker, zhang.id).rating_count) == (5, 1)
    assert (session.get(Worker, li.id).rating_sum, session.get(Worker, li.id).rating_count) == (3, 1)
    assert session.get(Worker, li.id).placements_worked == 1


def test_out_of_range_and_repeated_answers(runtime, session, client, clock, market: Market) -> None:
    worker = market.worker()
    job = asked(runtime, session, client, clock, market, worker)
    retry = "【潞州零工】没看懂。请回复两个数字：工钱(1结清 2部分 3没给)和雇主分数(1-5)，如 1 5"
    for wrong in ("4 5", "1 9", "0 3", "1 0", "9"):
        text_in(client, wrong, sender=worker.phone)
        assert last_reply(session, worker.phone).body == retry, wrong
    fu = side(session, job, worker, FollowUpParty.WORKER)
    assert (fu.paid, fu.stars) == (None, None)

    text_in(client, "１ ５", sender=worker.phone)
    count = len(outbound_to(session, worker.phone))
    for again in ("1 5", "1 4", f"{job.code} 2 1", "5"):
        text_in(client, again, sender=worker.phone)
        assert last_reply(session, worker.phone).body == (
            f"【潞州零工】岗位{job.code}的回访答复已经收到了，谢谢！"
        ), again
    assert len(outbound_to(session, worker.phone)) == count + 4
    fu = side(session, job, worker, FollowUpParty.WORKER)
    assert (fu.paid, fu.stars) == (PaidAnswer.FULL, 5)
    employer = session.get(Employer, job.employer_id)
    assert (employer.rating_sum, employer.rating_count) == (5, 1)
    assert session.scalar(select(WageCase.id)) is None


def test_a_bare_yes_goes_to_an_offer_texted_after_the_follow_up(
    runtime, session, client, clock, market: Market
) -> None:
    worker = market.worker()
    job = asked(runtime, session, client, clock, market, worker)
    # A new offer reaches the worker after the follow-up question.
    later = market.job(work_date=DAY + timedelta(days=3))
    commit(runtime, session)
    run_jobs(runtime)
    offer = session.scalar(select(Offer).where(Offer.job_id == later.id))
    assert offer.worker_id == worker.id and offer.status == OfferStatus.SENT

    text_in(client, "1", sender=worker.phone)
    session.expire_all()
    assert session.get(Offer, offer.id).status == OfferStatus.ACCEPTED
    assert placed_reply(session, worker.phone).kind == "placement.worker"
    assert side(session, job, worker, FollowUpParty.WORKER).paid is None
    # With the offer answered, the follow-up is again the last open question: `1` answers it.
    text_in(client, "1", sender=worker.phone)
    assert side(session, job, worker, FollowUpParty.WORKER).paid == PaidAnswer.FULL


def test_a_worker_with_an_open_offer_is_asked_after_answering_it(
    runtime, session, client, clock, market: Market
) -> None:
    """Never two questions a bare `1` could answer: the follow-up waits for the open offer."""
    worker = market.worker()
    job = place(runtime, session, client, clock, market, worker, work_date=DAY)
    clock.move_to(MORNING - timedelta(minutes=10))
    later = market.job(work_date=DAY + timedelta(days=3))
    commit(runtime, session)
    run_jobs(runtime)
    offer = session.scalar(select(Offer).where(Offer.job_id == later.id))
    assert offer.status == OfferStatus.SENT
    clock.move_to(MORNING)
    assert run_follow_ups(runtime)["asked"] == 0  # the offer is still open
    text_in(client, "1", sender=worker.phone)
    session.expire_all()
    assert session.get(Offer, offer.id).status == OfferStatus.ACCEPTED
    assert follow_ups(session, job) == []
    clock.move_to(MORNING + timedelta(minutes=5))
    assert run_follow_ups(runtime)["asked"] == 1
    text_in(client, "1", sender=worker.phone)
    assert side(session, job, worker, FollowUpParty.WORKER).paid == PaidAnswer.FULL


def test_texts_that_are_not_answers_reach_the_other_handlers(
    runtime, session, client, clock, market: Market
) -> None:
    worker = market.worker()
    asked(runtime, session, client, clock, market, worker)
    text_in(client, "帮助", sender=worker.phone)
    assert last_reply(session, worker.phone).kind == "help"
    text_in(client, "1 5", sender="+8613911112222")  # a stranger: not an answer to anything
    assert last_reply(session, "+8613911112222").kind == "not_understood"
    assert (
        session.scalar(select(Ticket.kind).where(Ticket.phone == "+8613911112222")) == TicketKind.UNPARSED_SMS
    )


def test_a_worker_offered_job_after_job_is_asked_a_day_late_at_most(
    runtime, session, client, clock, market: Market
) -> None:
    worker = market.worker()
    job = place(runtime, session, client, clock, market, worker, work_date=DAY)
    clock.move_to(MORNING - timedelta(minutes=10))
    later = market.job(work_date=DAY + timedelta(days=5))
    commit(runtime, session)
    run_jobs(runtime)
    assert session.scalar(select(Offer.status).where(Offer.job_id == later.id)) == OfferStatus.SENT
    clock.move_to(MORNING)
    assert run_follow_ups(runtime)["asked"] == 0  # waits for the open offer
    clock.move_to(MORNING + timedelta(days=1))  # the offer still open a day on (offers keep coming)
    assert session.scalar(select(Offer.status).where(Offer.job_id == later.id)) == OfferStatus.SENT
    assert run_follow_ups(runtime)["asked"] == 1
    assert {fu.party for fu in follow_ups(session, job)} == {FollowUpParty.WORKER, FollowUpParty.EMPLOYER}
