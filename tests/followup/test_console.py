"""The follow-up ticket page: the questions and the placement; the answers an agent records after the
call (recorded, ticket resolved as called, audited); "nobody answered"; another site's ticket is 404."""

from __future__ import annotations

from datetime import time, timedelta

from sqlalchemy import select

from dispatch.models import (
    AuditEvent,
    Employer,
    EmployerBlock,
    FollowUpParty,
    FollowUpStatus,
    PaidAnswer,
    Ticket,
    TicketStatus,
    WageCase,
    Worker,
)
from tests.console.conftest import signed_in
from tests.console.helpers import console_post, make_agent
from tests.factories import Market
from tests.followup.conftest import DAY, at, follow_ups, place, run_follow_ups


def unanswered(runtime, session, client, clock, market: Market):  # type: ignore[no-untyped-def]
    """A placement whose two follow-ups went unanswered to the agents' queue."""
    employer = market.employer(name="王老板")
    worker = market.worker(name="张三")
    job = place(runtime, session, client, clock, market, worker, employer=employer, work_date=DAY)
    morning = at(DAY + timedelta(days=1), time(9, 0))
    for hours in (0, 24, 48):
        clock.move_to(morning + timedelta(hours=hours))
        run_follow_ups(runtime)
    rows = {fu.party: fu for fu in follow_ups(session, job)}
    assert {fu.status for fu in rows.values()} == {FollowUpStatus.AGENT}
    return job, worker, employer, rows


def test_an_agent_records_the_answers_heard_on_the_phone(
    runtime, session, client, clock, market: Market, app
) -> None:
    job, worker, employer, rows = unanswered(runtime, session, client, clock, market)
    agent = make_agent(session, "district1", "agent", "LZ")
    console = signed_in(app, agent)
    worker_side = rows[FollowUpParty.WORKER]
    page = console.get(f"/console/tickets/{worker_side.ticket_id}").get_data(as_text=True)
    assert "回访工人：张三" in page and "这份活的工钱结清了吗？" in page and "雇主怎么样？打 1-5 分" in page
    assert job.code in page and "王老板" in page and "300元" in page
    assert f"/console/followups/{worker_side.id}/answer" in page

    # Nothing chosen: refused, nothing changed.
    response = console_post(console, f"/console/followups/{worker_side.id}/answer", {"stars": "4"})
    assert response.status_code == 302 and response.location.endswith(
        f"/console/tickets/{worker_side.ticket_id}"
    )
    assert "请选好工钱和分数再提交。" in console.get(response.location).get_data(as_text=True)
    session.expire_all()
    assert session.get(Ticket, worker_side.ticket_id).status == TicketStatus.OPEN

    response = console_post(
        console,
        f"/console/followups/{worker_side.id}/answer",
        {"paid": "2", "stars": "4", "note": "说还差一天"},
    )
    assert response.status_code == 302
    session.expire_all()
    fu = session.get(type(worker_side), worker_side.id)
    assert (fu.status, fu.paid, fu.stars, fu.answered_via.value) == (
        FollowUpStatus.ANSWERED,
        PaidAnswer.PART,
        4,
        "agent",
    )
    ticket = session.get(Ticket, worker_side.ticket_id)
    assert (ticket.status, ticket.outcome, ticket.resolved_by_id) == (
        TicketStatus.RESOLVED,
        "called",
        agent.id,
    )
    boss = session.get(Employer, employer.id)
    assert (boss.rating_sum, boss.rating_count) == (4, 1)
    assert session.scalar(select(WageCase.paid).where(WageCase.follow_up_id == fu.id)) == PaidAnswer.PART
    audit = session.scalar(select(AuditEvent).where(AuditEvent.action == "follow_up.answer"))
    assert (audit.agent_id, audit.target_id, audit.note) == (agent.id, fu.id, "说还差一天")
    assert audit.details["paid"] == "part" and audit.details["stars"] == 4
    opened = session.scalar(select(AuditEvent).where(AuditEvent.action == "wage_case.open"))
    assert opened.agent_id == agent.id  # the case was opened by what this agent heard

    # The employer's side: the stars include 0 (did not come); the agent found nobody this time.
    employer_side = rows[FollowUpParty.EMPLOYER]
    page = console.get(f"/console/tickets/{employer_side.ticket_id}").get_data(as_text=True)
    assert "回访雇主：王老板" in page and "工人张三干得怎样？打 1-5 分，没来选 0" in page
    response = console_post(console, f"/console/followups/{employer_side.id}/no-answer", {"note": "没人接"})
    assert response.status_code == 302
    session.expire_all()
    ticket = session.get(Ticket, employer_side.ticket_id)
    assert (ticket.status, ticket.outcome) == (TicketStatus.RESOLVED, "no_answer")
    # It ends unanswered: no longer open (a bare `1` is never its answer; see test_late_answers).
    assert session.get(type(employer_side), employer_side.id).status == FollowUpStatus.UNANSWERED
    assert session.get(Worker, worker.id).rating_count == 0
    assert session.scalar(select(AuditEvent.id).where(AuditEvent.action == "follow_up.no_answer")) is not None

    # A resolved ticket takes no second answer.
    response = console_post(console, f"/console/followups/{employer_side.id}/answer", {"stars": "5"})
    assert response.status_code == 302 and "/console/tickets/" in response.location
    session.expire_all()
    assert session.get(Worker, worker.id).rating_count == 0


def test_another_sites_follow_up_is_not_found(runtime, session, client, clock, market: Market, app) -> None:
    *_, rows = unanswered(runtime, session, client, clock, market)
    stranger = make_agent(session, "town1", "agent", "LZ-DJ")  # another town than the job's (LZ-TX)
    console = signed_in(app, stranger)
    worker_side = rows[FollowUpParty.WORKER]
    assert console.get(f"/console/tickets/{worker_side.ticket_id}").status_code == 404
    response = console_post(
        console, f"/console/followups/{worker_side.id}/answer", {"paid": "1", "stars": "5"}
    )
    assert response.status_code == 404
    assert console_post(console, f"/console/followups/{worker_side.id}/no-answer").status_code == 404
    session.expire_all()
    assert session.get(type(worker_side), worker_side.id).stars is None


def test_an_employer_rating_low_on_the_phone_can_block_the_worker(
    runtime, session, client, clock, market: Market, app
) -> None:
    """The agent asks what a 0-1 star SMS rating asks (`101 2 不要`): ticked, the worker is blocked for
    this employer, audited as the agent's; unticked, nothing is blocked."""
    job, worker, employer, rows = unanswered(runtime, session, client, clock, market)
    agent = make_agent(session, "district1", "agent", "LZ")
    console = signed_in(app, agent)
    employer_side = rows[FollowUpParty.EMPLOYER]
    page = console.get(f"/console/tickets/{employer_side.ticket_id}").get_data(as_text=True)
    assert 'name="block"' in page and "雇主不想再用张三：以后不再派给这位雇主" in page
    worker_page = console.get(f"/console/tickets/{rows[FollowUpParty.WORKER].ticket_id}").get_data(
        as_text=True
    )
    assert 'name="block"' not in worker_page  # a worker's follow-up blocks nobody

    response = console_post(
        console,
        f"/console/followups/{employer_side.id}/answer",
        {"stars": "1", "block": "1", "note": "不要他了"},
    )
    assert response.status_code == 302
    session.expire_all()
    assert [(b.employer_id, b.worker_id) for b in session.scalars(select(EmployerBlock))] == [
        (employer.id, worker.id)
    ]
    added = session.scalars(select(AuditEvent).where(AuditEvent.action == "employer_block.add")).one()
    assert (added.agent_id, added.target_id) == (agent.id, worker.id)
    assert added.details == {"employer_id": employer.id, "worker_id": worker.id, "via": "agent"}
    assert session.scalars(select(EmployerBlock.reason)).one() == (
        f"rated 1 star(s) on job {job.code} (follow-up {employer_side.id})"
    )
    answered = session.scalar(select(AuditEvent).where(AuditEvent.action == "follow_up.answer"))
    assert answered.details["blocked"] is True and answered.details["stars"] == 1
    assert session.get(Ticket, employer_side.ticket_id).status == TicketStatus.RESOLVED


def test_a_low_rating_without_the_tick_blocks_nobody(
    runtime, session, client, clock, market: Market, app
) -> None:
    *_, rows = unanswered(runtime, session, client, clock, market)
    console = signed_in(app, make_agent(session, "district1", "agent", "LZ"))
    employer_side = rows[FollowUpParty.EMPLOYER]
    response = console_post(console, f"/console/followups/{employer_side.id}/answer", {"stars": "0"})
    assert response.status_code == 302
    session.expire_all()
    assert session.get(type(employer_side), employer_side.id).stars == 0
    assert session.scalars(select(EmployerBlock)).all() == []
    answered = session.scalar(select(AuditEvent).where(AuditEvent.action == "follow_up.answer"))
    assert answered.details["blocked"] is False
