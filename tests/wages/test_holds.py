"""Holding and freeing: only a hold the cases set is lifted by them; held jobs whose days went by
expire instead of going to matching; another town's cases and jobs are not shown or moved."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from dispatch.models import (
    ACTIVE_JOB_STATUSES,
    AuditEvent,
    Employer,
    EmployerStatus,
    Job,
    JobStatus,
    WageCase,
    WageCaseStatus,
)
from dispatch.wages.services import open_case
from tests.console.conftest import signed_in
from tests.console.helpers import console_post, make_agent
from tests.factories import commit
from tests.helpers import run_jobs
from tests.wages.conftest import NOW, audit_actions, match_job_rows, placement
from tests.wages.test_case_pages import held_job, page

TODAY = NOW.date()  # the clock stands at 10:00; held jobs start at 08:00


@pytest.fixture
def agent_client(app, seeded, session):
    return signed_in(app, make_agent(session, "district1", "agent", "LZ"))


def test_closing_a_case_leaves_a_hold_set_by_hand(session, runtime, market, agent_client):
    p = placement(session, runtime, market)
    p.employer.status = EmployerStatus.HELD  # held by hand before the worker complained
    case = open_case(session, runtime.settings, p.follow_up, NOW)
    job = held_job(session, market, p.employer)
    commit(runtime, session)
    response = console_post(agent_client, f"/console/cases/{case.id}/unresolved", {"note": "已转劳动监察"})
    assert response.status_code == 302
    session.expire_all()
    assert session.get(WageCase, case.id).status == WageCaseStatus.CLOSED_UNRESOLVED
    assert session.get(Employer, p.employer.id).status == EmployerStatus.HELD
    assert session.get(Job, job.id).status == JobStatus.HELD and match_job_rows(session, job.id) == []
    assert audit_actions(session, "employer", p.employer.id) == []


def test_a_hold_the_cases_set_is_lifted_when_the_last_closes(session, runtime, market, agent_client):
    p = placement(session, runtime, market)
    case = open_case(session, runtime.settings, p.follow_up, NOW)
    assert p.employer.held_for_wage_case is True
    commit(runtime, session)
    console_post(agent_client, f"/console/cases/{case.id}/recovered", {})
    session.expire_all()
    employer = session.get(Employer, p.employer.id)
    assert (employer.status, employer.held_for_wage_case) == (EmployerStatus.ACTIVE, False)
    assert session.get(WageCase, case.id).amount_recovered == 600  # the amount owed, by default


def test_held_jobs_whose_last_day_began_expire_when_the_employer_is_freed(
    session, runtime, market, agent_client
):
    p = placement(session, runtime, market)
    case = open_case(session, runtime.settings, p.follow_up, NOW)
    started = held_job(session, market, p.employer, work_date=TODAY)  # began at 08:00 today
    commit(runtime, session)
    console_post(agent_client, f"/console/cases/{case.id}/recovered", {"amount": "600"})
    session.expire_all()
    job = session.get(Job, started.id)
    assert job.status == JobStatus.EXPIRED and job.status not in ACTIVE_JOB_STATUSES
    assert match_job_rows(session, started.id) == []
    [event] = session.scalars(select(AuditEvent).where(AuditEvent.action == "job.expire"))
    assert (event.target_id, event.details["automatic"], event.details["wage_case_id"]) == (
        started.id,
        True,
        case.id,
    )


def test_releasing_a_held_job_whose_last_day_began_expires_it(session, runtime, market, agent_client):
    p = placement(session, runtime, market)
    open_case(session, runtime.settings, p.follow_up, NOW)
    started = held_job(session, market, p.employer, work_date=TODAY)
    commit(runtime, session)
    response = console_post(agent_client, f"/console/cases/jobs/{started.id}/release", {"note": "看过了"})
    assert response.status_code == 302
    assert "已作过期处理" in page(agent_client, f"/console/jobs/{started.id}")
    session.expire_all()
    assert session.get(Job, started.id).status == JobStatus.EXPIRED
    assert match_job_rows(session, started.id) == []
    assert audit_actions(session, "job", started.id) == ["job.expire"]


def test_another_towns_agent_cannot_release_a_held_job(app, session, runtime, market):
    p = placement(session, runtime, market, site="LZ-TX")
    open_case(session, runtime.settings, p.follow_up, NOW)
    job = held_job(session, market, p.employer)
    other = signed_in(app, make_agent(session, "dongjie1", "agent", "LZ-DJ"))
    commit(runtime, session)
    assert console_post(other, f"/console/cases/jobs/{job.id}/release", {}).status_code == 404
    assert console_post(other, "/console/cases/jobs/99999999999999999999/release", {}).status_code == 404
    session.expire_all()
    assert session.get(Job, job.id).status == JobStatus.HELD and match_job_rows(session, job.id) == []


def test_a_held_job_shows_only_the_agents_towns_cases(app, session, runtime, market):
    here = placement(session, runtime, market, site="LZ-TX")
    there = placement(session, runtime, market, employer=here.employer, worker_name="赵五", site="LZ-DJ")
    own_case = open_case(session, runtime.settings, here.follow_up, NOW)
    other_case = open_case(session, runtime.settings, there.follow_up, NOW)
    job = held_job(session, market, here.employer)
    taixi = signed_in(app, make_agent(session, "taixi1", "agent", "LZ-TX"))
    commit(runtime, session)

    html = page(taixi, f"/console/jobs/{job.id}")
    assert f'href="/console/cases/{own_case.id}"' in html and "李四" in html
    assert f"/console/cases/{other_case.id}" not in html and "赵五" not in html
    assert "另有1个未结案件属于您不负责的站点" in html
    case_html = page(taixi, f"/console/cases/{own_case.id}")
    assert f"/console/cases/{other_case.id}" not in case_html
    assert "另有1个未结案件属于您不负责的站点" in case_html


def test_the_sweep_expires_held_jobs_whose_last_day_began_while_the_case_stays_open(session, runtime, market):
    """Nobody frees the employer: a held job whose last day began is over all the same (else it would
    stay one of their active jobs, in the IVR's list, for good); one still to come stays held."""
    from dispatch.wages import tasks

    p = placement(session, runtime, market)
    open_case(session, runtime.settings, p.follow_up, NOW)
    started = held_job(session, market, p.employer, work_date=TODAY)  # began at 08:00 today
    later = held_job(session, market, p.employer, work_date=TODAY + timedelta(days=1))
    commit(runtime, session)

    assert tasks.expire_held_jobs() == {"expired": 1}
    assert tasks.expire_held_jobs() == {"expired": 0}
    session.expire_all()
    assert session.get(Job, started.id).status == JobStatus.EXPIRED
    assert session.get(Job, later.id).status == JobStatus.HELD
    assert audit_actions(session, "job", started.id) == ["job.expire"]
    assert session.get(Employer, p.employer.id).status == EmployerStatus.HELD


def test_held_jobs_expire_by_their_own_periodic_job_not_the_offer_sweep(session, runtime, market):
    """The expiry is an entry of the periodic table with an interval of its own; the offer sweep that
    used to carry it leaves held jobs alone."""
    from dispatch.matching import tasks as matching_tasks
    from dispatch.periodic import HELD_JOB_EXPIRY_SECONDS, PERIODIC_TASKS, enqueue_due_periodic_tasks
    from dispatch.wages import tasks as wages_tasks

    p = placement(session, runtime, market)
    open_case(session, runtime.settings, p.follow_up, NOW)
    started = held_job(session, market, p.employer, work_date=TODAY)  # began at 08:00 today
    commit(runtime, session)

    matching_tasks.sweep_offers()
    session.expire_all()
    assert session.get(Job, started.id).status == JobStatus.HELD
    [entry] = [periodic for periodic in PERIODIC_TASKS if periodic.id == "expire-held-jobs"]
    assert entry.task is wages_tasks.expire_held_jobs
    assert entry.every_seconds(runtime) == HELD_JOB_EXPIRY_SECONDS
    assert "expire-held-jobs" in enqueue_due_periodic_tasks(runtime)
    run_jobs(runtime)
    session.expire_all()
    assert session.get(Job, started.id).status == JobStatus.EXPIRED
    assert audit_actions(session, "job", started.id) == ["job.expire"]
