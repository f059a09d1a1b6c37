"""Tickets whose subject is over are resolved by the service, with the reason, audited with no agent:
a job whose days passed (cancelled, or filled for a ticket about filling it), a place no longer held,
a caller served since. Escalated jobs expire once their days pass. A claimed ticket is left alone."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from sqlalchemy import select

from dispatch.models import (
    AgentCall,
    AuditEvent,
    Call,
    CallDirection,
    CallOutcome,
    Job,
    JobStatus,
    Offer,
    OfferStatus,
    Ticket,
    TicketKind,
    TicketStatus,
)
from dispatch.tickets import tasks
from dispatch.tickets.services import open_ticket
from dispatch.tickets.summaries import Summary, names
from tests.factories import NOW, SHANGHAI, TOMORROW, commit
from tests.helpers import run_jobs


@pytest.fixture(autouse=True)
def _clock(clock):
    return clock


def market_time(day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2026, 12, day, hour, minute, tzinfo=SHANGHAI)


def escalated(session, market, **options) -> tuple[Job, Ticket]:
    job = market.job(**options)
    job.status = JobStatus.ESCALATED
    fields = {"code": job.code, "trade": names(job.trade), "filled": 0, "headcount": job.headcount}
    ticket = open_ticket(
        session, TicketKind.UNFILLED_JOB, job=job, summary=Summary.of("unfilled_escalated", **fields)
    )
    return job, ticket


def placed(session, market, job: Job, key: str) -> tuple[Offer, Ticket]:
    worker = market.worker()
    offer = Offer(job_id=job.id, worker_id=worker.id, status=OfferStatus.ACCEPTED)
    session.add(offer)
    session.flush()
    fields = {"code": job.code, "name": worker.name}
    if key == "unfilled_opted_out":
        fields["phone"] = worker.phone
    kind = TicketKind.UNFILLED_JOB if key == "unfilled_opted_out" else TicketKind.INSURANCE
    ticket = open_ticket(
        session,
        kind,
        job=job,
        worker=worker,
        summary=Summary.of(key, **fields),
        details={"offer_id": offer.id},
    )
    return offer, ticket


def call_back(session, phone: str) -> Ticket:
    return open_ticket(session, TicketKind.CALL_BACK, phone=phone, summary=Summary.of("call_back_at_menu"))


def state(session, ticket: Ticket) -> tuple[TicketStatus, str | None]:
    session.expire_all()
    row = session.get_one(Ticket, ticket.id)
    return row.status, (row.details.get("closed") or {}).get("reason")


def service_audits(session, ticket: Ticket) -> list[dict]:
    events = session.scalars(
        select(AuditEvent).where(AuditEvent.target_type == "ticket", AuditEvent.target_id == ticket.id)
    ).all()
    assert all(event.agent_id is None for event in events)  # the service did it, not an agent
    return [event.details for event in events]


def test_a_job_ticket_closes_the_night_after_its_last_day_and_the_escalated_job_expires(
    session, runtime, market, clock
):
    """The market's day, not UTC's: at 00:30 in Shanghai the UTC date is still the job's last day."""
    job, ticket = escalated(session, market, work_date=TOMORROW)
    commit(runtime, session)

    clock.move_to(market_time(2, 23, 30))  # the job's last day, late: an agent may still staff it
    assert tasks.close_over_tickets() == {}
    assert state(session, ticket) == (TicketStatus.OPEN, None)
    assert session.get_one(Job, job.id).status == JobStatus.ESCALATED

    clock.move_to(market_time(3, 0, 30))  # the night after
    assert tasks.close_over_tickets() == {"jobs_expired": 1, "job_over": 1}
    assert state(session, ticket) == (TicketStatus.RESOLVED, "job_over")
    row = session.get_one(Ticket, ticket.id)
    assert row.outcome == "job_closed" and row.resolved_by_id is None and "days have passed" in row.resolution
    assert session.get_one(Job, job.id).status == JobStatus.EXPIRED
    assert service_audits(session, ticket) == [
        {"by": "service", "reason": "job_over", "outcome": "job_closed", "kind": "unfilled_job"}
    ]
    [expiry] = session.scalars(
        select(AuditEvent).where(AuditEvent.target_type == "job", AuditEvent.target_id == job.id)
    ).all()
    assert expiry.action == "job.expire" and expiry.agent_id is None
    assert expiry.details["reason"] == "escalated_past_its_days"
    assert tasks.close_over_tickets() == {}  # nothing twice


def test_the_sweep_is_a_periodic_entry(session, runtime, market, clock):
    from dispatch.periodic import CLOSE_TICKETS_SECONDS, PERIODIC_TASKS, enqueue_due_periodic_tasks

    [entry] = [periodic for periodic in PERIODIC_TASKS if periodic.id == "close-over-tickets"]
    assert entry.task is tasks.close_over_tickets
    assert entry.every_seconds(runtime) == CLOSE_TICKETS_SECONDS
    job, ticket = escalated(session, market, work_date=TOMORROW, days=2)
    commit(runtime, session)
    clock.move_to(market_time(4, 5, 0))  # early morning, the day after its second day
    assert "close-over-tickets" in enqueue_due_periodic_tasks(runtime)
    run_jobs(runtime)
    assert state(session, ticket) == (TicketStatus.RESOLVED, "job_over")
    assert session.get_one(Job, job.id).status == JobStatus.EXPIRED


def test_a_cancelled_job_closes_its_tickets_and_a_filled_one_only_those_about_filling_it(
    session, runtime, market, clock
):
    cancelled, unfilled = escalated(session, market)
    _, opted_out = placed(session, market, cancelled, "unfilled_opted_out")
    filled, filling = escalated(session, market)
    _, confirm = placed(session, market, filled, "unfilled_opted_out")
    still, waiting = escalated(session, market)
    cancelled.status, filled.status = JobStatus.CANCELLED, JobStatus.FILLED
    commit(runtime, session)

    clock.move_to(market_time(1, 22, 0))  # in quiet hours: closing sends nothing, it runs all the same
    counts = tasks.close_over_tickets()
    assert counts == {"job_cancelled": 2, "job_filled": 1}
    assert state(session, unfilled) == (TicketStatus.RESOLVED, "job_cancelled")
    assert state(session, opted_out) == (TicketStatus.RESOLVED, "job_cancelled")
    assert state(session, filling) == (TicketStatus.RESOLVED, "job_filled")
    # The opted-out worker still holds a place on the filled job: the agent still has to call them.
    assert state(session, confirm) == (TicketStatus.OPEN, None)
    assert state(session, waiting) == (TicketStatus.OPEN, None)
    assert session.get_one(Job, still.id).status == JobStatus.ESCALATED


def test_a_ticket_about_a_place_closes_when_the_place_is_not_held(session, runtime, market, clock):
    job = market.job()
    expired_offer, insured = placed(session, market, job, "insurance_placed")
    given_back, opted_out = placed(session, market, job, "unfilled_opted_out")
    _held, kept = placed(session, market, job, "unfilled_opted_out")
    commit(runtime, session)
    assert tasks.close_over_tickets() == {}

    expired_offer.status, given_back.status = OfferStatus.EXPIRED, OfferStatus.CANCELLED
    commit(runtime, session)
    clock.move_to(NOW + timedelta(hours=15))  # 01:00 in the market
    assert tasks.close_over_tickets() == {"offer_expired": 1, "offer_closed": 1}
    assert state(session, insured) == (TicketStatus.RESOLVED, "offer_expired")
    assert state(session, opted_out) == (TicketStatus.RESOLVED, "offer_closed")
    assert state(session, kept) == (TicketStatus.OPEN, None)


@pytest.mark.parametrize(
    "served_by",
    [
        "call_made_job",
        "call_registered",
        "agent_answered",
        "sms_job",
        "sms_registration",
        "agent_text",
        "agent_resolved_text",
    ],
)
def test_a_call_back_closes_once_the_caller_has_been_served(session, runtime, market, clock, served_by):
    employer = market.employer()
    ticket = call_back(session, employer.phone)
    voicemail = open_ticket(
        session, TicketKind.VOICEMAIL, phone=employer.phone, summary=Summary.of("voicemail_asked_again")
    )
    # Before the ticket, and calls that served nothing, do not count.
    session.add(
        Call(
            call_sid="CAearlier",
            phone=employer.phone,
            outcome=CallOutcome.JOB,
            created_at=NOW - timedelta(hours=1),
        )
    )
    commit(runtime, session)
    clock.move_to(NOW + timedelta(minutes=30))
    session.add(Call(call_sid="CAhungup", phone=employer.phone, outcome=CallOutcome.CALL_BACK))
    commit(runtime, session)
    assert tasks.close_over_tickets() == {}

    clock.move_to(market_time(2, 7, 30))  # early morning, before quiet hours end
    serve(session, runtime, market, employer, served_by)
    commit(runtime, session)
    assert tasks.close_over_tickets() == {"caller_served": 2}
    assert state(session, ticket) == (TicketStatus.RESOLVED, "caller_served")
    assert state(session, voicemail) == (TicketStatus.RESOLVED, "caller_served")
    assert [audit["reason"] for audit in service_audits(session, ticket)] == ["caller_served"]


def serve(session, runtime, market, employer, how: str) -> None:
    phone = employer.phone
    if how == "call_made_job":
        session.add(Call(call_sid="CAjob", phone=phone, outcome=CallOutcome.JOB))
    elif how == "call_registered":
        session.add(Call(call_sid="CAreg", phone=phone, outcome=CallOutcome.REGISTRATION))
    elif how == "agent_answered":
        agent = market_agent(session, market)
        session.add(
            AgentCall(
                agent_id=agent.id,
                direction=CallDirection.OUTBOUND,
                phone=phone,
                answered_at=datetime.now(SHANGHAI),
            )
        )
    elif how == "sms_job":
        market.job(employer)
    elif how == "agent_resolved_text":
        later = open_ticket(session, TicketKind.UNPARSED_SMS, phone=phone, text="明天还要人吗")
        later.status, later.resolved_by_id = TicketStatus.RESOLVED, market_agent(session, market).id
    elif how == "sms_registration":
        market.worker(phone=phone)  # consent now
    else:
        from dispatch.sms.services import queue_sms

        queue_sms(
            session,
            runtime.settings,
            phone=phone,
            template="agent_text",
            kind="agent.text",
            language="zh",
            text="明早再打给您",
        )


def market_agent(session, market):
    from dispatch.models import Agent

    agent = Agent(username="closer", password_hash="x", site_id=market.site("LZ-TX").id)
    session.add(agent)
    session.flush()
    return agent


def test_a_claimed_ticket_is_left_to_its_agent(session, runtime, market, clock):
    job, ticket = escalated(session, market, work_date=TOMORROW)
    agent = market_agent(session, market)
    ticket.status, ticket.claimed_by_id = TicketStatus.CLAIMED, agent.id
    commit(runtime, session)
    clock.move_to(market_time(3, 3, 0))
    assert tasks.close_over_tickets() == {"jobs_expired": 1}
    assert state(session, ticket) == (TicketStatus.CLAIMED, None)
    assert session.get_one(Job, job.id).status == JobStatus.EXPIRED
