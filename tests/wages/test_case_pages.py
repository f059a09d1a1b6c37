"""The agent's side of a wage case: the held job and why, releasing it by hand, the case list and page,
the steps of mediation (each audited), and closing a case freeing the employer and their held jobs."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from dispatch.i18n import render_sms as render
from dispatch.jobs.services import JobRequest, create_job
from dispatch.models import (
    AuditEvent,
    EmployerStatus,
    Job,
    JobSource,
    JobStatus,
    Message,
    PaidAnswer,
    Ticket,
    TicketOutcome,
    TicketStatus,
    WageCase,
    WageCaseStatus,
)
from dispatch.wages.services import open_case
from tests.console.conftest import signed_in
from tests.console.helpers import console_post, make_agent
from tests.factories import commit
from tests.helpers import outbound_to, run_jobs
from tests.wages.conftest import NOW, TOMORROW, WORKED_ON, audit_actions, match_job_rows, offers_of, placement


@pytest.fixture
def agent(seeded, session):
    return make_agent(session, "district1", "agent", "LZ")


@pytest.fixture
def agent_client(app, agent):
    return signed_in(app, agent)


def held_job(session, market, employer, work_date=TOMORROW) -> Job:
    request = JobRequest(
        trade_id=market.trade("plumber_electrician").id,
        headcount=1,
        work_date=work_date,
        start_time=NOW.time().replace(hour=8, minute=0),
        days=1,
        daily_pay=300,
        site_id=market.site("LZ-TX").id,
    )
    job = create_job(session, employer, request, JobSource.IVR)
    assert job.status == JobStatus.HELD
    return job


def opened(session, runtime, market, paid=PaidAnswer.NONE, **options):
    p = placement(session, runtime, market, paid, **options)
    case = open_case(session, runtime.settings, p.follow_up, NOW)
    return p, case


def page(client, path: str) -> str:
    response = client.get(path)
    assert response.status_code == 200, response.status_code
    return response.get_data(as_text=True)


def test_a_held_jobs_page_says_why_and_releasing_it_starts_matching(session, runtime, market, agent_client):
    p, case = opened(session, runtime, market)
    fits = market.worker(name="合适的人")
    job = held_job(session, market, p.employer)
    commit(runtime, session)

    html = page(agent_client, f"/console/jobs/{job.id}")
    assert 'id="held-reason"' in html and "用工主体有未结的欠薪案件" in html
    assert f'href="/console/cases/{case.id}"' in html
    assert f"/console/cases/jobs/{job.id}/release" in html

    response = console_post(agent_client, f"/console/cases/jobs/{job.id}/release", {"note": "已核实"})
    assert response.status_code == 302
    session.expire_all()
    assert session.get(Job, job.id).status == JobStatus.OPEN
    assert len(match_job_rows(session, job.id)) == 1
    run_jobs(runtime)
    assert fits.id in {offer.worker_id for offer in offers_of(session, job.id)}
    [event] = session.scalars(select(AuditEvent).where(AuditEvent.action == "job.release"))
    assert (event.target_id, event.agent_id, event.note) == (job.id, agent_client_agent_id(session), "已核实")
    assert event.details == {"automatic": False, "open_cases": [case.id]}
    # the employer stays held: their other new jobs still wait
    assert session.get(type(p.employer), p.employer.id).status == EmployerStatus.HELD

    again = console_post(agent_client, f"/console/cases/jobs/{job.id}/release")
    assert again.status_code == 302
    assert "已不在待审核状态" in page(agent_client, f"/console/jobs/{job.id}")
    assert len(match_job_rows(session, job.id)) == 1


def agent_client_agent_id(session) -> int:
    from dispatch.models import Agent

    return session.scalar(select(Agent.id).where(Agent.username == "district1"))


def test_a_job_held_by_hand_says_the_employer_is_held(session, runtime, market, agent_client):
    employer = market.employer()
    employer.status = EmployerStatus.HELD
    job = held_job(session, market, employer)
    commit(runtime, session)
    html = page(agent_client, f"/console/jobs/{job.id}")
    assert "用工主体被设为待审核" in html


def test_recovering_the_case_frees_the_employer_and_their_held_jobs(session, runtime, market, agent_client):
    p, case = opened(session, runtime, market)
    waiting = held_job(session, market, p.employer)
    past = held_job(session, market, p.employer, work_date=WORKED_ON)  # its days are gone: expires
    commit(runtime, session)

    mediate = console_post(agent_client, f"/console/cases/{case.id}/mediate", {"note": "已联系王老板"})
    assert mediate.status_code == 302
    form = {"amount": "600", "note": "现金"}
    assert console_post(agent_client, f"/console/cases/{case.id}/recovered", form).status_code == 302
    session.expire_all()
    case = session.get(WageCase, case.id)
    assert (case.status, case.amount_recovered, case.notes) == (WageCaseStatus.RECOVERED, 600, "现金")
    assert case.closed_at is not None
    ticket = session.get(Ticket, case.ticket_id)
    assert (ticket.status, ticket.outcome) == (TicketStatus.RESOLVED, TicketOutcome.DONE.value)
    assert "recovered" in ticket.resolution and "600" in ticket.resolution
    assert session.get(type(p.employer), p.employer.id).status == EmployerStatus.ACTIVE
    assert session.get(Job, waiting.id).status == JobStatus.OPEN
    assert len(match_job_rows(session, waiting.id)) == 1
    assert session.get(Job, past.id).status == JobStatus.EXPIRED and match_job_rows(session, past.id) == []

    [sms] = [m for m in outbound_to(session, p.worker.phone) if m.kind.startswith("wage_case")]
    assert sms.kind == "wage_case.recovered"
    assert sms.body == render(
        "wage_case_closed",
        "zh",
        sig=runtime.settings.SMS_SIGNATURE_ZH,
        code=p.job.code,
        case_result="recovered",
        case_amount=600,
        case_owed=600,
    )
    assert "已为您追回工钱600元" in sms.body

    assert audit_actions(session, "wage_case", case.id) == [
        "wage_case.open",
        "wage_case.mediate",
        "wage_case.recovered",
    ]
    events = {
        event.action: event
        for event in session.scalars(select(AuditEvent).where(AuditEvent.target_type == "wage_case"))
    }
    assert events["wage_case.mediate"].details["old_status"] == "open"
    assert events["wage_case.mediate"].note == "已联系王老板"
    closing = events["wage_case.recovered"].details
    assert (closing["old_status"], closing["new_status"]) == ("mediating", "recovered")
    assert (closing["amount_owed"], closing["amount_recovered"]) == (600, 600)
    assert closing["jobs_released"] == [waiting.code] and closing["employer_status"] == "active"
    assert audit_actions(session, "employer", p.employer.id) == ["employer.hold", "employer.release"]
    assert audit_actions(session, "job", waiting.id) == ["job.release"]
    assert audit_actions(session, "job", past.id) == ["job.expire"]
    assert audit_actions(session, "ticket", ticket.id) == ["ticket.resolve"]

    # the case page shows the result and its history; no steps are offered any more
    html = page(agent_client, f"/console/cases/{case.id}")
    assert "已追回" in html and "开始调解" in html and "现金" in html
    assert f"/console/cases/{case.id}/recovered" not in html


def test_an_employer_with_another_open_case_stays_held(session, runtime, market, agent_client):
    p, first = opened(session, runtime, market)
    _, second = opened(session, runtime, market, employer=p.employer, worker_name="赵五")
    waiting = held_job(session, market, p.employer)
    commit(runtime, session)
    console_post(agent_client, f"/console/cases/{first.id}/recovered", {"amount": "600"})
    session.expire_all()
    assert session.get(type(p.employer), p.employer.id).status == EmployerStatus.HELD
    assert session.get(Job, waiting.id).status == JobStatus.HELD
    console_post(agent_client, f"/console/cases/{second.id}/unresolved", {"note": "已转劳动监察"})
    session.expire_all()
    assert session.get(type(p.employer), p.employer.id).status == EmployerStatus.ACTIVE
    assert session.get(Job, waiting.id).status == JobStatus.OPEN


@pytest.mark.parametrize(
    ("step", "form", "refusal"),
    [
        ("partly", {}, "请填写金额"),
        ("partly", {"amount": "0"}, "必须大于0、小于欠薪金额600元"),
        ("partly", {"amount": "600"}, "必须大于0、小于欠薪金额600元"),
        ("partly", {"amount": "三百"}, "请填写正确的金额"),
        ("partly", {"amount": "-1"}, "请填写正确的金额"),
        ("partly", {"amount": "100.5"}, "请填写正确的金额"),
        ("recovered", {"amount": "599"}, "全部追回就是追回欠薪金额600元"),
        ("recovered", {"amount": "601"}, "全部追回就是追回欠薪金额600元"),
        ("recovered", {"amount": "9999999"}, "全部追回就是追回欠薪金额600元"),
        ("recovered", {"amount": "99999999999"}, "请填写正确的金额"),
        ("unresolved", {"note": "  "}, "必须写明原因"),
        ("owed", {"amount": "0"}, "欠薪金额必须大于0，且不超过这次约定的工钱600元"),
        ("owed", {"amount": "601"}, "欠薪金额必须大于0，且不超过这次约定的工钱600元"),
        ("owed", {"amount": "-300"}, "请填写正确的金额"),
        ("owed", {"amount": "299.5"}, "请填写正确的金额"),
    ],
)
def test_refused_steps_change_nothing(session, runtime, market, agent_client, step, form, refusal):
    _, case = opened(session, runtime, market)
    commit(runtime, session)
    response = console_post(agent_client, f"/console/cases/{case.id}/{step}", form)
    assert response.status_code == 302
    assert refusal in page(agent_client, f"/console/cases/{case.id}")
    session.expire_all()
    case = session.get(WageCase, case.id)
    assert (case.status, case.amount_owed, case.amount_recovered) == (WageCaseStatus.OPEN, 600, 0)
    assert audit_actions(session, "wage_case", case.id) == ["wage_case.open"]


def test_a_part_paid_claim_is_corrected_then_partly_recovered(session, runtime, market, agent_client):
    p, case = opened(session, runtime, market, PaidAnswer.PART)
    commit(runtime, session)
    assert "请先电话核实实际欠款" in page(agent_client, f"/console/cases/{case.id}")
    console_post(agent_client, f"/console/cases/{case.id}/owed", {"amount": "３００元", "note": "已付300"})
    console_post(agent_client, f"/console/cases/{case.id}/partly", {"amount": "100"})
    session.expire_all()
    case = session.get(WageCase, case.id)
    assert case.status == WageCaseStatus.PARTLY_RECOVERED
    assert (case.amount_owed, case.amount_recovered) == (300, 100)
    owed = session.scalars(select(AuditEvent).where(AuditEvent.action == "wage_case.owed")).one()
    assert (owed.details["old_owed"], owed.details["amount_owed"], owed.note) == (600, 300, "已付300")
    [sms] = [m for m in outbound_to(session, p.worker.phone) if m.kind.startswith("wage_case")]
    assert "追回100元（您反映欠300元）" in sms.body
    # a closed case takes no more steps
    console_post(agent_client, f"/console/cases/{case.id}/recovered", {"amount": "300"})
    session.expire_all()
    assert session.get(WageCase, case.id).status == WageCaseStatus.PARTLY_RECOVERED
    assert len([m for m in outbound_to(session, p.worker.phone) if m.kind.startswith("wage_case")]) == 1


def test_the_list_puts_open_cases_first_and_filters_by_status(session, runtime, market, agent_client):
    _, closed = opened(session, runtime, market)
    _, still_open = opened(session, runtime, market, worker_name="赵五")
    commit(runtime, session)
    console_post(agent_client, f"/console/cases/{closed.id}/unresolved", {"note": "撤回"})
    html = page(agent_client, "/console/cases/?status=all")
    assert html.index(f'data-case="{still_open.id}"') < html.index(f'data-case="{closed.id}"')
    default = page(agent_client, "/console/cases/")
    assert f'data-case="{still_open.id}"' in default and f'data-case="{closed.id}"' not in default
    only_closed = page(agent_client, "/console/cases/?status=closed_unresolved")
    assert f'data-case="{closed.id}"' in only_closed and f'data-case="{still_open.id}"' not in only_closed


def test_the_case_page_lays_out_the_evidence_and_the_texts(session, runtime, market, agent_client):
    p, case = opened(session, runtime, market)
    commit(runtime, session)
    html = page(agent_client, f"/console/cases/{case.id}")
    assert "李四" in html and "王老板" in html and p.job.code in html
    assert "600元" in html and "300元" in html
    assert f"1 {p.job.code}" in html  # the worker's confirmation text
    assert "零工发来" in html and "发给用工主体" in html
    assert 'data-action="wage_case.open"' in html


def test_the_ticket_the_worker_and_the_employer_pages_show_the_case(session, runtime, market, agent_client):
    p, case = opened(session, runtime, market)
    p.employer.rating_sum, p.employer.rating_count, p.employer.late_cancellations = 7, 2, 1
    commit(runtime, session)
    ticket = page(agent_client, f"/console/tickets/{case.ticket_id}")
    assert 'id="wage-case-panel"' in ticket and f'href="/console/cases/{case.id}"' in ticket
    for path in (f"/console/people/workers/{p.worker.id}", f"/console/people/employers/{p.employer.id}"):
        assert f'data-case="{case.id}"' in page(agent_client, path)
    employer_page = page(agent_client, f"/console/people/employers/{p.employer.id}")
    assert "3.5星（2次评价）" in employer_page and 'id="employer-late-cancellations">1次' in employer_page


def test_another_towns_agent_cannot_see_or_move_the_case(app, session, runtime, market):
    _, case = opened(session, runtime, market, site="LZ-TX")
    other = signed_in(app, make_agent(session, "dongjie1", "agent", "LZ-DJ"))
    own = signed_in(app, make_agent(session, "taixi1", "agent", "LZ-TX"))
    commit(runtime, session)
    assert other.get(f"/console/cases/{case.id}").status_code == 404
    assert console_post(other, f"/console/cases/{case.id}/unresolved", {"note": "x"}).status_code == 404
    assert f'data-case="{case.id}"' not in page(other, "/console/cases/?status=all")
    assert own.get(f"/console/cases/{case.id}").status_code == 200
    session.expire_all()
    assert session.get(WageCase, case.id).status == WageCaseStatus.OPEN
    assert not session.scalars(select(Message).where(Message.kind.like("wage_case%"))).all()
