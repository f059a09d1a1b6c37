"""No answer: exactly one reminder after a day, one ticket for an agent a day later, then nothing more,
however often the periodic task runs. Old placements are never asked."""

from __future__ import annotations

from datetime import time, timedelta

from sqlalchemy import select

from dispatch.models import FollowUpParty, FollowUpStatus, Ticket, TicketKind, TicketStatus
from tests.factories import Market
from tests.followup.conftest import DAY, at, follow_ups, last_message_id, place, run_follow_ups, texts_since
from tests.helpers import last_reply, text_in

QUIET = {"asked": 0, "reminded": 0, "tickets": 0}


def test_silence_gets_one_reminder_then_one_ticket(runtime, session, client, clock, market: Market) -> None:
    employer = market.employer(name="王老板")
    worker = market.worker(name="张三")
    job = place(runtime, session, client, clock, market, worker, employer=employer, work_date=DAY)
    asked_at = at(DAY + timedelta(days=1), time(9, 2))
    clock.move_to(asked_at)
    assert run_follow_ups(runtime) == {"asked": 1, "reminded": 0, "tickets": 0}

    # A minute short of a day: nothing.
    clock.move_to(asked_at + timedelta(hours=24) - timedelta(minutes=1))
    mark = last_message_id(session)
    for _ in range(3):
        assert run_follow_ups(runtime) == QUIET
    assert texts_since(session, mark) == []

    # A day on: one reminder each, whatever how often the task runs.
    clock.move_to(asked_at + timedelta(hours=24))
    assert run_follow_ups(runtime) == {"asked": 0, "reminded": 2, "tickets": 0}
    for _ in range(3):
        assert run_follow_ups(runtime) == QUIET
    reminders = texts_since(session, mark)
    assert {(m.phone, m.body) for m in reminders} == {
        (
            worker.phone,
            f"【潞州零工】提醒：12月1日岗位{job.code}（水电工）工钱结清了吗？1结清 2部分 3没给；"
            f"雇主打几分(1-5)？请回复如 {job.code} 1 5",
        ),
        (
            employer.phone,
            f"【潞州零工】提醒：岗位{job.code}第1位工人张三还没评分。请回复 {job.code} 1 加分数(1-5)，"
            f"没来回复 {job.code} 1 0",
        ),
    }
    assert len(reminders) == 2
    assert {fu.status for fu in follow_ups(session, job)} == {FollowUpStatus.REMINDED}

    # Another day: a ticket for each side, then nothing more at all.
    mark = last_message_id(session)
    clock.move_to(asked_at + timedelta(hours=48))
    assert run_follow_ups(runtime) == {"asked": 0, "reminded": 0, "tickets": 2}
    clock.move_to(asked_at + timedelta(days=10))
    for _ in range(3):
        assert run_follow_ups(runtime) == QUIET
    assert texts_since(session, mark) == []
    tickets = session.scalars(
        select(Ticket).where(Ticket.kind == TicketKind.FOLLOW_UP).order_by(Ticket.id)
    ).all()
    assert len(tickets) == 2
    rows = {fu.party: fu for fu in follow_ups(session, job)}
    for ticket in tickets:
        follow_up = rows[FollowUpParty(ticket.details["party"])]
        assert ticket.details == {
            "follow_up_id": follow_up.id,
            "party": follow_up.party.value,
            "reason": "unanswered",
            "job_code": job.code,
            "seq": follow_up.seq,
            "name": "张三" if follow_up.party == FollowUpParty.WORKER else follow_up.employer.name,
        }
        assert (follow_up.status, follow_up.ticket_id) == (FollowUpStatus.AGENT, ticket.id)
        assert (ticket.priority, ticket.site_id, ticket.job_id) == (3, job.site_id, job.id)
        assert (ticket.worker_id, ticket.employer_id) == (worker.id, employer.id)
        assert ticket.status == TicketStatus.OPEN and job.code in ticket.summary
        expected_phone = worker.phone if follow_up.party == FollowUpParty.WORKER else employer.phone
        assert ticket.phone == expected_phone

    # The worker answers by SMS after all: recorded, and the agent's ticket needs no call any more.
    text_in(client, "1 5", sender=worker.phone)
    session.expire_all()
    assert rows[FollowUpParty.WORKER].status == FollowUpStatus.ANSWERED
    worker_ticket = session.get(Ticket, rows[FollowUpParty.WORKER].ticket_id)
    assert (worker_ticket.status, worker_ticket.outcome) == (TicketStatus.RESOLVED, "done")
    assert session.get(Ticket, rows[FollowUpParty.EMPLOYER].ticket_id).status == TicketStatus.OPEN


def test_a_half_answer_is_reminded_of_what_is_missing(
    runtime, session, client, clock, market: Market
) -> None:
    worker = market.worker()
    job = place(runtime, session, client, clock, market, worker, work_date=DAY)
    asked_at = at(DAY + timedelta(days=1), time(9, 0))
    clock.move_to(asked_at)
    run_follow_ups(runtime)
    text_in(client, "1", sender=worker.phone)  # paid in full; the stars still to come
    assert "请给岗位" in last_reply(session, worker.phone).body
    clock.move_to(asked_at + timedelta(hours=24))
    assert run_follow_ups(runtime)["reminded"] == 2
    assert last_reply(session, worker.phone).body == (
        f"【潞州零工】提醒：12月1日岗位{job.code}（水电工）雇主打几分(1-5)？请回复如 {job.code} 5"
    )


def test_placements_that_ended_long_ago_are_never_asked(
    runtime, session, client, clock, market: Market
) -> None:
    worker = market.worker()
    place(runtime, session, client, clock, market, worker, work_date=DAY)
    # First deploy 15 days after the job's day: too old to ask about.
    clock.move_to(at(DAY + timedelta(days=15), time(10, 0)))
    assert run_follow_ups(runtime) == QUIET
    assert follow_ups(session) == []


def test_the_last_working_day_counts(runtime, session, client, clock, market: Market) -> None:
    """A three-day job is followed up the morning after its third day, not its first."""
    worker = market.worker()
    job = place(runtime, session, client, clock, market, worker, work_date=DAY, days=3)
    clock.move_to(at(DAY + timedelta(days=1), time(9, 0)))
    assert run_follow_ups(runtime) == QUIET
    clock.move_to(at(job.end_date + timedelta(days=1), time(9, 0)))
    assert run_follow_ups(runtime)["asked"] == 1


def test_a_worker_with_an_open_offer_is_reminded_after_answering_it(
    runtime, session, client, clock, market: Market
) -> None:
    """The reminder, like the question, waits while an offer waits for the worker's bare `1`."""
    from dispatch.models import Offer, OfferStatus
    from tests.factories import commit
    from tests.helpers import run_jobs

    employer = market.employer(name="王老板")
    worker = market.worker(name="张三")
    place(runtime, session, client, clock, market, worker, employer=employer, work_date=DAY)
    asked_at = at(DAY + timedelta(days=1), time(9, 2))
    clock.move_to(asked_at)
    assert run_follow_ups(runtime)["asked"] == 1

    clock.move_to(asked_at + timedelta(hours=24) - timedelta(minutes=5))
    later = market.job(employer=market.employer(name="刘老板"), work_date=DAY + timedelta(days=4))
    commit(runtime, session)
    run_jobs(runtime)
    offer = session.scalar(select(Offer).where(Offer.job_id == later.id))
    assert (offer.worker_id, offer.status) == (worker.id, OfferStatus.SENT)

    clock.move_to(asked_at + timedelta(hours=24))
    assert run_follow_ups(runtime) == {"asked": 0, "reminded": 1, "tickets": 0}  # the employer only
    text_in(client, "2", sender=worker.phone)  # no to the offer
    assert run_follow_ups(runtime) == {"asked": 0, "reminded": 1, "tickets": 0}  # now the worker


def test_a_worker_whose_offers_keep_coming_is_reminded_half_a_day_late_at_most(
    runtime, session, client, clock, market: Market
) -> None:
    from dispatch.models import Offer, OfferStatus
    from tests.factories import commit
    from tests.helpers import run_jobs

    worker = market.worker(name="张三")
    place(runtime, session, client, clock, market, worker, work_date=DAY)
    asked_at = at(DAY + timedelta(days=1), time(9, 2))
    clock.move_to(asked_at)
    assert run_follow_ups(runtime)["asked"] == 1
    clock.move_to(asked_at + timedelta(hours=23))
    later = market.job(employer=market.employer(name="刘老板"), work_date=DAY + timedelta(days=5))
    commit(runtime, session)
    run_jobs(runtime)
    assert session.scalar(select(Offer.status).where(Offer.job_id == later.id)) == OfferStatus.SENT

    clock.move_to(asked_at + timedelta(hours=24))
    assert run_follow_ups(runtime)["reminded"] == 1  # the employer; the worker waits for the offer
    clock.move_to(asked_at + timedelta(hours=36))
    assert run_follow_ups(runtime)["reminded"] == 1  # the worker, the offer still open: no longer
