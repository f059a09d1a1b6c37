"""A job held for review (its employer has an open wage case, or was held by hand) puts one ticket on the
agents' queue saying why, worded in the agent's language; the ticket resolves itself whichever way the
job leaves `held`: released by an agent, released when the employer's last case closes, expired by the
sweep, or called off. Without it a same-day held job expired with nobody having looked at it."""

from __future__ import annotations

from datetime import time, timedelta

import pytest
from sqlalchemy import select

from dispatch.ivr.services import post_requested_job
from dispatch.jobs.services import JobRequest, cancel_job, create_job
from dispatch.models import (
    AuditEvent,
    EmployerStatus,
    Job,
    JobSource,
    JobStatus,
    Ticket,
    TicketKind,
    TicketStatus,
)
from dispatch.wages.services import open_case
from tests.console.conftest import signed_in
from tests.console.helpers import console_post, make_agent
from tests.factories import commit
from tests.helpers import text_in
from tests.wages.conftest import NOW, TOMORROW, match_job_rows, placement
from tests.wages.test_case_pages import page

TODAY = NOW.date()  # the clock stands at 10:00


@pytest.fixture
def agent(seeded, session):
    return make_agent(session, "district1", "agent", "LZ")


@pytest.fixture
def agent_client(app, agent):
    return signed_in(app, agent)


def opened(session, runtime, market, **options):
    p = placement(session, runtime, market, **options)
    return p, open_case(session, runtime.settings, p.follow_up, NOW)


def request(market, work_date=TOMORROW, start=time(8, 0)) -> JobRequest:
    return JobRequest(
        trade_id=market.trade("plumber_electrician").id,
        headcount=1,
        work_date=work_date,
        start_time=start,
        days=1,
        daily_pay=300,
        site_id=market.site("LZ-TX").id,
    )


def held_tickets(session, job: Job | None = None) -> list[Ticket]:
    session.expire_all()
    query = select(Ticket).where(Ticket.kind == TicketKind.HELD_JOB).order_by(Ticket.id)
    if job is not None:
        query = query.where(Ticket.job_id == job.id)
    return list(session.scalars(query))


def ticket_audits(session, ticket: Ticket) -> list[AuditEvent]:
    query = select(AuditEvent).where(AuditEvent.target_type == "ticket", AuditEvent.target_id == ticket.id)
    return list(session.scalars(query.order_by(AuditEvent.id)))


def test_a_held_employers_job_opens_one_ticket_saying_why(session, runtime, market):
    p, case = opened(session, runtime, market)
    job = create_job(session, p.employer, request(market), JobSource.AGENT)
    assert job.status == JobStatus.HELD

    [ticket] = held_tickets(session)
    assert (ticket.job_id, ticket.status, ticket.priority) == (job.id, TicketStatus.OPEN, 2)
    assert (ticket.site_id, ticket.employer_id) == (job.site_id, p.employer.id)
    assert ticket.phone == p.employer.phone
    assert ticket.details == {
        "job_code": job.code,
        "employer": "王老板",
        "reason": "wage_case",
        "wage_case_ids": [case.id],
    }
    assert match_job_rows(session, job.id) == []


def test_a_job_requested_by_sms_opens_its_ticket_when_confirmed(client, session, runtime, market):
    p, case = opened(session, runtime, market)
    commit(runtime, session)
    text_in(client, "招 水电工 1人 明天 300元 太西", sender=p.employer.phone)
    assert held_tickets(session) == []  # a draft waits for the employer's 1, not for an agent
    text_in(client, "1", sender=p.employer.phone)

    job = session.scalars(select(Job).where(Job.source == JobSource.SMS)).one()
    assert job.status == JobStatus.HELD
    [ticket] = held_tickets(session)
    assert (ticket.job_id, ticket.status, ticket.priority) == (job.id, TicketStatus.OPEN, 2)
    assert ticket.details == {
        "job_code": job.code,
        "employer": "王老板",
        "reason": "wage_case",
        "wage_case_ids": [case.id],
    }
    assert match_job_rows(session, job.id) == []


def test_a_held_job_starting_today_comes_first(session, runtime, market):
    """Posted by phone (the IVR, an agent's intake form) for this afternoon: it expires unseen unless
    somebody looks at it before it starts."""
    p, _ = opened(session, runtime, market)
    soon = post_requested_job(
        session, runtime.settings, p.employer.phone, request(market, TODAY, time(14, 0)), JobSource.IVR, "zh"
    )
    later = post_requested_job(
        session, runtime.settings, p.employer.phone, request(market), JobSource.IVR, "zh"
    )
    assert [(t.job_id, t.priority) for t in held_tickets(session)] == [(soon.id, 1), (later.id, 2)]


def test_the_queue_words_it_in_chinese_and_the_ticket_links_to_the_job(
    session, runtime, market, agent_client
):
    p, _ = opened(session, runtime, market)
    job = create_job(session, p.employer, request(market), JobSource.AGENT)
    [ticket] = held_tickets(session)
    commit(runtime, session)

    rows = page(agent_client, "/console/tickets/rows")
    assert f"岗位{job.code}待审核：王老板有未结欠薪案件，审核后再发布" in rows
    assert "岗位待审核" in rows
    html = page(agent_client, f"/console/tickets/{ticket.id}")
    assert f'href="/console/jobs/{job.id}#held-reason"' in html and f"打开岗位 {job.code} 审核" in html
    assert 'id="held-reason"' in page(agent_client, f"/console/jobs/{job.id}")


def test_an_employer_held_by_hand_gets_the_ticket_with_that_reason(session, runtime, market, agent_client):
    employer = market.employer(name="李老板")
    employer.status = EmployerStatus.HELD
    job = create_job(session, employer, request(market), JobSource.AGENT)
    [ticket] = held_tickets(session)
    assert ticket.details == {
        "job_code": job.code,
        "employer": "李老板",
        "reason": "employer_held",
        "wage_case_ids": [],
    }
    commit(runtime, session)
    assert f"岗位{job.code}待审核：李老板被设为待审核" in page(agent_client, "/console/tickets/rows")
    assert console_post(agent_client, "/console/language", {"lang": "en"}).status_code == 302
    rows = page(agent_client, "/console/tickets/rows")
    assert f"Job {job.code} held for review: 李老板 is on hold" in rows and "Job held for review" in rows


def test_releasing_the_job_by_hand_resolves_its_ticket(session, runtime, market, agent, agent_client):
    p, _ = opened(session, runtime, market)
    job = create_job(session, p.employer, request(market), JobSource.AGENT)
    [ticket] = held_tickets(session)
    commit(runtime, session)
    assert console_post(agent_client, f"/console/tickets/{ticket.id}/claim").status_code == 302

    response = console_post(agent_client, f"/console/cases/jobs/{job.id}/release", {"note": "已核实"})
    assert response.status_code == 302
    [ticket] = held_tickets(session)
    assert session.get(Job, job.id).status == JobStatus.OPEN
    assert (ticket.status, ticket.outcome, ticket.resolved_by_id) == (TicketStatus.RESOLVED, "done", agent.id)
    assert ticket.resolved_at == NOW and "已核实" in ticket.resolution
    [event] = ticket_audits(session, ticket)[-1:]
    assert (event.action, event.agent_id, event.details["outcome"]) == ("ticket.resolve", agent.id, "done")


def test_closing_the_employers_last_case_resolves_its_ticket(session, runtime, market, agent, agent_client):
    p, first = opened(session, runtime, market)
    _, last = opened(session, runtime, market, employer=p.employer, worker_name="赵五")
    job = create_job(session, p.employer, request(market), JobSource.AGENT)
    [ticket] = held_tickets(session, job)
    assert ticket.details["wage_case_ids"] == [first.id, last.id]
    commit(runtime, session)

    console_post(agent_client, f"/console/cases/{first.id}/recovered", {})
    [ticket] = held_tickets(session, job)
    assert ticket.status == TicketStatus.OPEN  # another case still holds the employer
    console_post(agent_client, f"/console/cases/{last.id}/recovered", {})
    [ticket] = held_tickets(session, job)
    assert session.get(Job, job.id).status == JobStatus.OPEN and len(match_job_rows(session, job.id)) == 1
    assert (ticket.status, ticket.outcome, ticket.resolved_by_id) == (TicketStatus.RESOLVED, "done", agent.id)
    assert f"wage case {last.id}" in ticket.resolution and ticket.resolved_at == NOW


def test_a_job_expiring_when_its_case_closes_closes_its_ticket(session, runtime, market, agent_client):
    p, case = opened(session, runtime, market)
    started = create_job(session, p.employer, request(market, TODAY), JobSource.AGENT)  # began at 08:00
    commit(runtime, session)
    console_post(agent_client, f"/console/cases/{case.id}/recovered", {})
    [ticket] = held_tickets(session)
    assert session.get(Job, started.id).status == JobStatus.EXPIRED
    assert (ticket.status, ticket.outcome) == (TicketStatus.RESOLVED, "job_closed")


def test_the_sweep_expiring_the_job_resolves_its_ticket(session, runtime, market):
    from dispatch.wages import tasks

    p, _ = opened(session, runtime, market)
    started = create_job(session, p.employer, request(market, TODAY), JobSource.AGENT)  # began at 08:00
    later = create_job(session, p.employer, request(market, TODAY + timedelta(days=1)), JobSource.AGENT)
    commit(runtime, session)

    assert tasks.expire_held_jobs() == {"expired": 1}
    [expired] = held_tickets(session, started)
    assert session.get(Job, started.id).status == JobStatus.EXPIRED
    assert (expired.status, expired.outcome) == (TicketStatus.RESOLVED, "job_closed")
    assert expired.resolved_by_id is None  # the system did it
    assert expired.resolved_at == NOW and "expired" in expired.resolution
    [waiting] = held_tickets(session, later)
    assert waiting.status == TicketStatus.OPEN


def test_calling_the_job_off_resolves_its_ticket(session, runtime, market, agent_client):
    """From the console, and by the employer (their IVR calls jobs.services.cancel_job)."""
    p, case = opened(session, runtime, market)
    by_agent = create_job(session, p.employer, request(market), JobSource.AGENT)
    by_employer = create_job(session, p.employer, request(market), JobSource.AGENT)
    commit(runtime, session)

    response = console_post(agent_client, f"/console/jobs/{by_agent.id}/cancel", {"note": "雇主取消"})
    assert response.status_code == 302
    cancel_job(session, session.get(Job, by_employer.id), runtime.settings, NOW)
    session.flush()
    for job in (by_agent, by_employer):
        [ticket] = held_tickets(session, job)
        assert session.get(Job, job.id).status == JobStatus.CANCELLED
        assert (ticket.status, ticket.outcome) == (TicketStatus.RESOLVED, "job_closed")
    case_ticket = session.get(Ticket, case.ticket_id)
    assert case_ticket.status == TicketStatus.OPEN  # the case is not the job's: it stays
    # The agent who called it off closed its ticket, on the record.
    [by_agents] = held_tickets(session, by_agent)
    assert by_agents.resolved_by_id is not None
    audits = [a.action for a in ticket_audits(session, by_agents)]
    assert "ticket.resolve" in audits


def test_an_active_employers_job_opens_none(client, session, runtime, market):
    employer = market.employer()
    job = create_job(session, employer, request(market), JobSource.AGENT)
    commit(runtime, session)
    text_in(client, "招 水电工 1人 明天 300元 太西", sender=employer.phone)
    text_in(client, "1", sender=employer.phone)
    session.expire_all()
    statuses = session.scalars(select(Job.status).where(Job.employer_id == employer.id)).all()
    assert sorted(statuses) == [JobStatus.OPEN, JobStatus.OPEN] and job.id
    assert held_tickets(session) == []


def test_the_ticket_pages_resolve_is_refused_while_the_job_is_held(session, runtime, market, agent_client):
    """Closed by hand, the ticket would leave the job held with nothing in the queue to say so."""
    p, _ = opened(session, runtime, market)
    job = create_job(session, p.employer, request(market), JobSource.AGENT)
    [ticket] = held_tickets(session, job)
    commit(runtime, session)
    response = console_post(
        agent_client, f"/console/tickets/{ticket.id}/resolve", {"outcome": "done", "note": "看过了"}
    )
    assert response.status_code == 409
    assert f"这张工单随岗位{job.code}一起关闭" in response.get_data(as_text=True)
    assert held_tickets(session, job)[0].status != TicketStatus.RESOLVED
