"""A worker's `3` (not paid) by SMS carried all the way: a wage case with its evidence and a dispute
ticket, the employer's next job held with no offers, a supervisor mediating and recovering the wages
in the console, the employer and the held job freed, and the week's report showing the amount."""

from __future__ import annotations

from datetime import time, timedelta

from sqlalchemy import select

from dispatch.models import (
    EmployerStatus,
    FollowUp,
    FollowUpParty,
    Job,
    JobStatus,
    Offer,
    PaidAnswer,
    Ticket,
    TicketKind,
    TicketStatus,
    WageCase,
    WageCaseStatus,
)
from tests.console.helpers import console_post, make_agent, sign_in
from tests.console.reports.helpers import csv_table
from tests.factories import Market, commit
from tests.followup.conftest import DAY, at, place, run_follow_ups
from tests.helpers import last_reply, run_jobs, text_in


def test_not_paid_opens_a_case_holds_the_next_job_and_recovering_frees_it(
    runtime, session, client, app, clock, market: Market
) -> None:
    employer = market.employer(name="王老板")
    zhang = market.worker(name="张三")
    labourer = market.worker(name="赵六", trades=("general_labourer",))  # for the employer's next job
    job = place(runtime, session, client, clock, market, zhang, employer=employer, work_date=DAY, days=2)
    owed = job.daily_pay * 2
    clock.shift(timedelta(minutes=2))  # the employer's summary of who confirmed goes after its window
    run_jobs(runtime, with_scheduler=True)

    # The morning after the last day the worker is asked; `3 2`: not paid, the employer gets 2 stars.
    clock.move_to(at(DAY + timedelta(days=2), time(9, 5)))
    assert run_follow_ups(runtime)["asked"] == 1
    text_in(client, "3 2", sender=zhang.phone)
    run_jobs(runtime)
    session.expire_all()

    case = session.scalars(select(WageCase)).one()
    assert (case.status, case.paid, case.amount_owed, case.amount_recovered) == (
        WageCaseStatus.OPEN,
        PaidAnswer.NONE,
        owed,
        0,
    )
    assert (case.job_id, case.worker_id, case.employer_id) == (job.id, zhang.id, employer.id)
    evidence = case.evidence
    assert evidence["job"]["code"] == job.code
    assert (evidence["claim"]["daily_pay"], evidence["claim"]["days"]) == (job.daily_pay, 2)
    assert evidence["claim"]["amount_owed"] == owed
    assert evidence["confirmed"]["worker_at"] is not None
    assert evidence["confirmed"]["employer_notice_at"] is not None
    assert f"1 {job.code}" in [m["body"] for m in evidence["messages"]]  # the worker's own yes
    ticket = session.get(Ticket, case.ticket_id)
    assert (ticket.kind, ticket.status, ticket.job_id) == (TicketKind.WAGE_CASE, TicketStatus.OPEN, job.id)
    session.refresh(employer)
    assert employer.status == EmployerStatus.HELD
    assert (employer.rating_sum, employer.rating_count) == (2, 1)
    assert "工钱" in last_reply(session, zhang.phone).body

    # The employer's next job, asked for by SMS, waits for an agent: no offers go out. (The `1` that
    # confirms the request answers the request, not the rating still open for the employer.)
    text_in(client, "招 小工 1人 明天 200元 太西", sender=employer.phone)
    text_in(client, "1", sender=employer.phone)
    run_jobs(runtime)
    session.expire_all()
    next_job = session.scalars(select(Job).where(Job.employer_id == employer.id, Job.id != job.id)).one()
    assert next_job.status == JobStatus.HELD
    assert (
        session.scalars(select(FollowUp).where(FollowUp.party == FollowUpParty.EMPLOYER)).one().stars is None
    )
    assert session.scalars(select(Offer).where(Offer.job_id == next_job.id)).all() == []

    # A district supervisor mediates and recovers the wages in full.
    make_agent(session, "chen", "supervisor", "LZ")
    commit(runtime, session)
    supervisor = app.test_client()
    sign_in(supervisor, "chen")
    assert (
        console_post(supervisor, f"/console/cases/{case.id}/mediate", {"note": "已联系王老板"}).status_code
        == 302
    )
    recovered = console_post(supervisor, f"/console/cases/{case.id}/recovered", {"amount": str(owed)})
    assert recovered.status_code == 302
    run_jobs(runtime)
    session.expire_all()

    case = session.get(WageCase, case.id)
    assert (case.status, case.amount_recovered) == (WageCaseStatus.RECOVERED, owed)
    assert session.get(Ticket, case.ticket_id).status == TicketStatus.RESOLVED
    assert session.get(type(employer), employer.id).status == EmployerStatus.ACTIVE
    next_job = session.get(Job, next_job.id)
    assert next_job.status in (JobStatus.OPEN, JobStatus.FILLED, JobStatus.ESCALATED)
    offered = session.scalars(select(Offer.worker_id).where(Offer.job_id == next_job.id)).all()
    assert offered == [labourer.id]

    # The week's report shows the case and the amount recovered at the job's site.
    week = at(DAY + timedelta(days=2), time(9, 5)).isocalendar()
    label = f"{week.year}-W{week.week:02d}"
    response = supervisor.get(f"/console/reports/weekly.csv?week={label}&weeks=1")
    assert response.status_code == 200
    _, table = csv_table(response)
    row = table[(label, job.site.code)]
    assert (row["cases_opened"], row["cases_closed"]) == ("1", "1")
    assert (row["amount_owed"], row["amount_recovered"]) == (str(owed), str(owed))
    assert table[(label, "")]["amount_recovered"] == str(owed)
