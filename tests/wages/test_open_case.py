"""A worker's `3` (not paid) or `2` (partly paid) opens a wage case: its evidence, its dispute ticket,
the employer held, and the employer's next jobs held whichever way they are posted."""

from __future__ import annotations

from sqlalchemy import func, select

from dispatch.jobs.services import JobRequest, create_job
from dispatch.models import (
    AuditEvent,
    EmployerStatus,
    Job,
    JobSource,
    JobStatus,
    PaidAnswer,
    Ticket,
    TicketKind,
    TicketStatus,
    WageCase,
    WageCaseStatus,
)
from dispatch.phones import display
from dispatch.wages.services import open_case
from tests.console.helpers import make_agent
from tests.factories import commit
from tests.helpers import run_jobs, text_in
from tests.wages.conftest import NOW, TOMORROW, audit_actions, match_job_rows, offers_of, placement


def test_not_paid_opens_a_case_with_its_evidence_a_ticket_and_the_employer_held(session, runtime, market):
    p = placement(session, runtime, market, PaidAnswer.NONE)
    case = open_case(session, runtime.settings, p.follow_up, NOW)

    assert (case.status, case.paid) == (WageCaseStatus.OPEN, PaidAnswer.NONE)
    assert (case.daily_pay, case.days) == (300, 2)
    assert case.amount_owed == 600 and case.amount_recovered == 0
    assert (case.job_id, case.worker_id, case.employer_id, case.offer_id) == (
        p.job.id,
        p.worker.id,
        p.employer.id,
        p.offer.id,
    )
    assert case.site_id == p.job.site_id

    evidence = case.evidence
    assert evidence["job"]["code"] == p.job.code
    assert evidence["job"]["trade"]["code"] == "plumber_electrician"
    assert (evidence["job"]["work_date"], evidence["job"]["end_date"]) == ("2026-12-07", "2026-12-08")
    assert (evidence["job"]["days"], evidence["job"]["daily_pay"]) == (2, 300)
    assert evidence["job"]["address"] == "太行西街88号" and evidence["job"]["site"]["code"] == "LZ-TX"
    assert evidence["worker"] == {"id": p.worker.id, "name": "李四", "phone": display(p.worker.phone)}
    assert evidence["employer"]["name"] == "王老板"
    assert evidence["claim"] == {
        "paid": "none",
        "daily_pay": 300,
        "days": 2,
        "amount_owed": 600,
        "amount_to_confirm": False,
        "opened_via": "follow_up",
        "after_paid": False,
    }
    assert evidence["confirmed"]["worker_at"] == p.offer.responded_at.isoformat()
    # The employer "confirmed" when told who is coming: the placement notice naming this worker.
    notice_at = evidence["confirmed"]["employer_notice_at"]
    assert notice_at is not None and notice_at > evidence["confirmed"]["worker_at"]
    assert evidence["follow_up"]["paid"] == "none" and evidence["follow_up"]["stars"] == 1
    # The texts that booked the place: the offer, the worker's `1 <code>`, both confirmations.
    kinds = [(m["direction"], m["party"], m["kind"]) for m in evidence["messages"]]
    assert kinds == [
        ("outbound", "worker", "offer"),
        ("inbound", "worker", "offer.accept"),
        ("outbound", "worker", "placement.worker"),
        ("outbound", "employer", "placement.employer"),
    ]
    assert evidence["messages"][1]["body"] == f"1 {p.job.code}"
    assert evidence["messages_total"] == 4

    ticket = session.get(Ticket, case.ticket_id)
    assert (ticket.kind, ticket.priority, ticket.status) == (TicketKind.WAGE_CASE, 2, TicketStatus.OPEN)
    assert (ticket.site_id, ticket.worker_id, ticket.employer_id, ticket.job_id) == (
        p.job.site_id,
        p.worker.id,
        p.employer.id,
        p.job.id,
    )
    assert ticket.details == {
        "wage_case_id": case.id,
        "job_code": p.job.code,
        "name": p.worker.name,
        "employer": p.employer.name,
        "paid": "none",
        "owed": 600,
        "opened_via": "follow_up",
        "after_paid": False,
    }
    assert p.job.code in ticket.summary and "600" in ticket.summary
    assert p.employer.status == EmployerStatus.HELD
    assert audit_actions(session, "wage_case", case.id) == ["wage_case.open"]
    assert audit_actions(session, "employer", p.employer.id) == ["employer.hold"]


def test_opening_twice_for_one_follow_up_returns_the_same_case(session, runtime, market):
    p = placement(session, runtime, market)
    first = open_case(session, runtime.settings, p.follow_up, NOW)
    again = open_case(session, runtime.settings, p.follow_up, NOW)
    assert again.id == first.id
    assert session.scalar(select(func.count()).select_from(WageCase)) == 1
    assert session.scalar(select(func.count()).where(Ticket.kind == TicketKind.WAGE_CASE)) == 1
    assert audit_actions(session, "wage_case", first.id) == ["wage_case.open"]


def test_partly_paid_starts_from_the_full_claim_for_the_agent_to_confirm(session, runtime, market):
    p = placement(session, runtime, market, PaidAnswer.PART)
    case = open_case(session, runtime.settings, p.follow_up, NOW)
    assert case.paid == PaidAnswer.PART and case.amount_owed == 600
    assert case.evidence["claim"]["amount_to_confirm"] is True


def test_a_blocked_employer_stays_blocked(session, runtime, market):
    p = placement(session, runtime, market)
    p.employer.status = EmployerStatus.BLOCKED
    open_case(session, runtime.settings, p.follow_up, NOW)
    assert p.employer.status == EmployerStatus.BLOCKED
    assert audit_actions(session, "employer", p.employer.id) == []


def _request(market, work_date=TOMORROW) -> JobRequest:
    return JobRequest(
        trade_id=market.trade("plumber_electrician").id,
        headcount=1,
        work_date=work_date,
        start_time=NOW.time().replace(hour=8, minute=0),
        days=1,
        daily_pay=300,
        site_id=market.site("LZ-TX").id,
    )


def test_the_employers_next_job_is_held_with_no_matching_and_no_offers(session, runtime, market):
    p = placement(session, runtime, market)
    market.worker(name="合适的人")  # someone matching would offer it to
    open_case(session, runtime.settings, p.follow_up, NOW)
    job = create_job(session, p.employer, _request(market), JobSource.AGENT)
    assert job.status == JobStatus.HELD
    commit(runtime, session)
    run_jobs(runtime)
    assert match_job_rows(session, job.id) == []
    assert offers_of(session, job.id) == []
    assert session.get(Job, job.id).status == JobStatus.HELD


def test_a_job_requested_by_sms_while_a_case_is_open_is_held(client, session, runtime, market):
    p = placement(session, runtime, market)
    open_case(session, runtime.settings, p.follow_up, NOW)
    commit(runtime, session)
    text_in(client, "招 水电工 1人 明天 300元 太西", sender=p.employer.phone)
    text_in(client, "1", sender=p.employer.phone)
    session.expire_all()
    job = session.scalars(select(Job).where(Job.employer_id == p.employer.id).order_by(Job.id.desc())).first()
    assert job.id != p.job.id and job.source == JobSource.SMS
    assert job.status == JobStatus.HELD
    assert match_job_rows(session, job.id) == []


def test_an_agent_recording_the_answer_on_the_phone_is_on_the_opening(session, runtime, market):
    agent = make_agent(session, "district1", "agent", "LZ")
    p = placement(session, runtime, market)
    case = open_case(session, runtime.settings, p.follow_up, NOW, agent=agent)
    session.flush()
    events = session.scalars(
        select(AuditEvent).where(AuditEvent.action.in_(["wage_case.open", "employer.hold"]))
    )
    assert {(event.action, event.agent_id) for event in events} == {
        ("wage_case.open", agent.id),
        ("employer.hold", agent.id),
    }
    assert case.status == WageCaseStatus.OPEN


def test_the_claim_counts_the_days_the_worker_held_the_place(session, runtime, market):
    """Taken on the job's second day (an agent booked them by phone): one day held, one day's pay owed,
    not the whole job's."""
    from dispatch.models import EnrolmentStatus, InsuranceEnrolment

    p = placement(session, runtime, market)
    enrolled = session.scalars(
        select(InsuranceEnrolment).where(InsuranceEnrolment.offer_id == p.offer.id)
    ).all()
    for enrolment in enrolled:
        session.delete(enrolment)
    session.flush()
    session.add(
        InsuranceEnrolment(
            offer_id=p.offer.id,
            worker_id=p.worker.id,
            job_id=p.job.id,
            trade_id=p.job.trade_id,
            site_id=p.job.site_id,
            work_date=p.job.end_date,
            status=EnrolmentStatus.ENROLLED,
            reference="LZ-TEST-000001",
        )
    )
    session.flush()
    case = open_case(session, runtime.settings, p.follow_up, NOW)
    assert (case.days, case.amount_owed) == (1, 300)
    assert case.evidence["claim"]["days"] == 1 and case.evidence["job"]["days"] == 2
