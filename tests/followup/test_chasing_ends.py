"""How chasing a follow-up ends: "nobody answered" ends it (no longer open: bare digits are never its
answer, a late answer needs the job's code); follow-ups older than a month are chased no more; someone
who cannot be texted goes to an agent at once; a worker who said whether they were paid is not handed
to an agent for the stars."""

from __future__ import annotations

from datetime import time, timedelta

from sqlalchemy import select

from dispatch.models import (
    Direction,
    FollowUpParty,
    FollowUpStatus,
    Message,
    MessageStatus,
    PaidAnswer,
    Ticket,
    TicketKind,
)
from tests.console.conftest import signed_in
from tests.console.helpers import console_post, make_agent
from tests.factories import Market
from tests.followup.conftest import DAY, at, follow_ups, place, run_follow_ups
from tests.helpers import last_reply, text_in

MORNING = at(DAY + timedelta(days=1), time(9, 0))


def side(session, job, worker, party: FollowUpParty):  # type: ignore[no-untyped-def]
    return next(fu for fu in follow_ups(session, job) if fu.worker_id == worker.id and fu.party == party)


def silent_until_agents(runtime, clock) -> None:  # type: ignore[no-untyped-def]
    for hours in (0, 24, 48):
        clock.move_to(MORNING + timedelta(hours=hours))
        run_follow_ups(runtime)


def test_nobody_answered_ends_the_follow_up(runtime, session, client, clock, market: Market, app) -> None:
    employer = market.employer(name="王老板")
    zhang = market.worker(name="张三", trades=("plumber_electrician", "cleaner"))
    li = market.worker(name="李四")
    job = place(runtime, session, client, clock, market, zhang, li, employer=employer, work_date=DAY)
    silent_until_agents(runtime, clock)
    console = signed_in(app, make_agent(session, "district1", "agent", "LZ"))
    for fu in (
        side(session, job, zhang, FollowUpParty.WORKER),
        side(session, job, zhang, FollowUpParty.EMPLOYER),
    ):
        assert console_post(console, f"/console/followups/{fu.id}/no-answer", {"note": ""}).status_code == 302
    assert side(session, job, zhang, FollowUpParty.WORKER).status == FollowUpStatus.UNANSWERED
    assert side(session, job, zhang, FollowUpParty.WORKER).answered_at is None  # not "answered" in reports

    # The employer rates 李四 after all: no worker is said to be still waiting (张三's ended).
    text_in(client, f"{job.code} 2 4", sender=employer.phone)
    assert (
        last_reply(session, employer.phone).body == f"【潞州零工】谢谢，已记下岗位{job.code}第2位工人的评价。"
    )

    # Two months on, another placement: `1 5` answers it, the old one needs no telling apart.
    day2 = DAY + timedelta(days=60)
    clock.move_to(at(day2 - timedelta(days=1), time(10, 0)))
    job2 = place(
        runtime, session, client, clock, market, zhang, employer=employer, work_date=day2, trade="cleaner"
    )
    clock.move_to(at(day2 + timedelta(days=1), time(9, 0)))
    run_follow_ups(runtime)
    clock.move_to(at(day2 + timedelta(days=1), time(9, 5)))
    text_in(client, "1 5", sender=zhang.phone)
    assert side(session, job2, zhang, FollowUpParty.WORKER).stars == 5


def test_a_late_answer_to_an_ended_follow_up_needs_the_code(
    runtime, session, client, clock, market: Market, app
) -> None:
    worker = market.worker(name="张三")
    job = place(runtime, session, client, clock, market, worker, work_date=DAY)
    silent_until_agents(runtime, clock)
    fu = side(session, job, worker, FollowUpParty.WORKER)
    console = signed_in(app, make_agent(session, "district1", "agent", "LZ"))
    console_post(console, f"/console/followups/{fu.id}/no-answer", {"note": ""})

    clock.move_to(MORNING + timedelta(days=3))
    text_in(client, "1 5", sender=worker.phone)  # no code: not an answer any more
    assert last_reply(session, worker.phone).kind == "not_understood"
    assert side(session, job, worker, FollowUpParty.WORKER).stars is None
    text_in(client, f"{job.code} 3 2", sender=worker.phone)  # with it: "not paid" still counts
    fu = side(session, job, worker, FollowUpParty.WORKER)
    assert (fu.status, fu.paid, fu.stars) == (FollowUpStatus.ANSWERED, PaidAnswer.NONE, 2)


def test_follow_ups_older_than_a_month_are_left_alone(
    runtime, session, client, clock, market: Market
) -> None:
    worker = market.worker(name="张三")
    old = place(runtime, session, client, clock, market, worker, work_date=DAY)
    silent_until_agents(runtime, clock)  # an agent's ticket nobody worked: still open
    assert side(session, old, worker, FollowUpParty.WORKER).status == FollowUpStatus.AGENT

    day2 = DAY + timedelta(days=40)
    clock.move_to(at(day2 - timedelta(days=1), time(10, 0)))
    new = place(runtime, session, client, clock, market, worker, work_date=day2)
    clock.move_to(at(day2 + timedelta(days=1), time(9, 0)))
    run_follow_ups(runtime)
    text_in(client, "1 4", sender=worker.phone)  # the month-old one is no longer "one of several"
    assert side(session, new, worker, FollowUpParty.WORKER).stars == 4
    assert side(session, old, worker, FollowUpParty.WORKER).stars is None


def test_someone_who_cannot_be_texted_goes_to_an_agent_at_once(
    runtime, session, client, clock, market: Market
) -> None:
    employer = market.employer(name="王老板")
    worker = market.worker(name="张三")
    job = place(runtime, session, client, clock, market, worker, employer=employer, work_date=DAY)
    clock.move_to(at(DAY, time(20, 0)))
    text_in(client, "退订", sender=worker.phone)  # the evening after the work: opted out

    clock.move_to(MORNING)
    assert run_follow_ups(runtime)["asked"] == 1
    worker_side = side(session, job, worker, FollowUpParty.WORKER)
    assert worker_side.status == FollowUpStatus.AGENT
    ticket = session.get(Ticket, worker_side.ticket_id)
    assert (ticket.kind, ticket.phone, ticket.details["reason"]) == (
        TicketKind.FOLLOW_UP,
        worker.phone,
        "cannot_text",
    )
    assert side(session, job, worker, FollowUpParty.EMPLOYER).status == FollowUpStatus.ASKED

    # Nothing is ever queued for the worker: no suppressed question or reminder; one ticket in all.
    for hours in (24, 48, 72):
        clock.move_to(MORNING + timedelta(hours=hours))
        run_follow_ups(runtime)
    followup_texts = session.scalars(
        select(Message).where(
            Message.phone == worker.phone,
            Message.direction == Direction.OUTBOUND,
            Message.kind.like("followup.%"),
        )
    ).all()
    assert followup_texts == []
    assert session.scalar(select(Message.id).where(Message.status == MessageStatus.SUPPRESSED)) is None
    kinds = session.scalars(select(Ticket.phone).where(Ticket.kind == TicketKind.FOLLOW_UP)).all()
    assert sorted(kinds) == sorted([worker.phone, employer.phone])  # the employer's after 48 h silence


def test_opted_out_after_the_question_gets_no_reminder_but_an_agent(
    runtime, session, client, clock, market: Market
) -> None:
    worker = market.worker(name="张三")
    job = place(runtime, session, client, clock, market, worker, work_date=DAY)
    clock.move_to(MORNING)
    run_follow_ups(runtime)
    text_in(client, "TD", sender=worker.phone)
    clock.move_to(MORNING + timedelta(hours=24))
    assert run_follow_ups(runtime)["reminded"] == 1  # the employer's; the worker's went to an agent
    worker_side = side(session, job, worker, FollowUpParty.WORKER)
    assert worker_side.status == FollowUpStatus.AGENT
    assert session.get(Ticket, worker_side.ticket_id).details["reason"] == "cannot_text"
    assert session.scalar(select(Message.id).where(Message.status == MessageStatus.SUPPRESSED)) is None


def test_not_paid_without_stars_gets_the_wage_case_and_no_follow_up_ticket(
    runtime, session, client, clock, market: Market
) -> None:
    worker = market.worker(name="张三")
    job = place(runtime, session, client, clock, market, worker, work_date=DAY)
    clock.move_to(MORNING)
    run_follow_ups(runtime)
    text_in(client, "3", sender=worker.phone)  # not paid; the stars never come
    clock.move_to(MORNING + timedelta(hours=24))
    assert run_follow_ups(runtime)["reminded"] == 2  # one text asking for the stars (and the employer's)
    assert "雇主打几分" in last_reply(session, worker.phone).body
    clock.move_to(MORNING + timedelta(hours=48))
    assert run_follow_ups(runtime)["tickets"] == 1  # the employer's only
    clock.move_to(MORNING + timedelta(hours=96))
    run_follow_ups(runtime)
    worker_side = side(session, job, worker, FollowUpParty.WORKER)
    assert (worker_side.status, worker_side.paid, worker_side.ticket_id) == (
        FollowUpStatus.UNANSWERED,
        PaidAnswer.NONE,
        None,
    )
    kinds = session.scalars(select(Ticket.kind).where(Ticket.phone == worker.phone)).all()
    assert kinds == [TicketKind.WAGE_CASE]  # the mediator calls; no second call for the stars
