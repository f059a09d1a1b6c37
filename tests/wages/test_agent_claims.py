"""An agent opens a wage case for a worker from the worker's page or the job's page (a worker in the
hall, or on the phone): the same case, evidence and ticket as the worker's own claim, audited with the
agent; one case per placement; a placement not begun (or none) cannot be claimed."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from dispatch.models import AuditEvent, CaseOpenedVia, EmployerStatus, PaidAnswer, Ticket, WageCase
from tests.console.conftest import signed_in
from tests.console.helpers import console_post, make_agent
from tests.factories import commit
from tests.wages.conftest import NOW, placement


@pytest.fixture
def agent(seeded, session):
    return make_agent(session, "district1", "agent", "LZ")


@pytest.fixture
def agent_client(app, agent):
    return signed_in(app, agent)


def page(client, path: str) -> str:
    response = client.get(path)
    assert response.status_code == 200, response.status_code
    return response.get_data(as_text=True)


def cases(session) -> list[WageCase]:
    session.expire_all()
    return list(session.scalars(select(WageCase).order_by(WageCase.id)))


def test_from_the_worker_page_after_a_paid_answer(session, runtime, market, agent, agent_client):
    p = placement(session, runtime, market, paid=PaidAnswer.FULL)
    commit(runtime, session)
    html = page(agent_client, f"/console/people/workers/{p.worker.id}")
    assert 'id="open-wage-case"' in html and f'value="{p.offer.id}"' in html and "代零工报欠薪" in html

    form = {"offer_id": p.offer.id, "paid": "part", "note": "来大厅说只给了一半", "back": "worker"}
    response = console_post(agent_client, "/console/cases/open", form)
    [case] = cases(session)
    assert response.status_code == 302 and response.headers["Location"].endswith(f"/console/cases/{case.id}")
    assert (case.opened_via, case.paid, case.after_paid, case.follow_up_id) == (
        CaseOpenedVia.AGENT,
        PaidAnswer.PART,
        True,
        p.follow_up.id,
    )
    assert case.evidence["claim"]["amount_to_confirm"] is True
    assert case.evidence["follow_up"]["paid"] == "full"
    assert session.get(Ticket, case.ticket_id) is not None
    assert session.get(type(p.employer), p.employer.id).status == EmployerStatus.HELD
    [event] = session.scalars(select(AuditEvent).where(AuditEvent.action == "wage_case.open"))
    assert (event.agent_id, event.target_id, event.note) == (agent.id, case.id, "来大厅说只给了一半")
    assert event.details["opened_via"] == "agent" and event.details["after_paid"] is True

    # The case page says how it opened and that the worker had answered "paid".
    html = page(agent_client, f"/console/cases/{case.id}")
    assert "坐席代为立案" in html
    assert 'id="case-after-paid"' in html and "零工回访时答“已付清”" in html

    # A second claim for the placement: no second case; the placement is no longer offered.
    again = console_post(agent_client, "/console/cases/open", form, follow_redirects=True)
    assert f"这个岗位已有欠薪案件 #{case.id}" in again.get_data(as_text=True)
    assert len(cases(session)) == 1
    assert 'id="open-wage-case"' not in page(agent_client, f"/console/people/workers/{p.worker.id}")


def test_from_the_job_page_in_english(session, runtime, market, app):
    p = placement(session, runtime, market, paid=PaidAnswer.FULL)
    english = make_agent(session, "district2", "agent", "LZ", language="en")
    commit(runtime, session)
    client = signed_in(app, english)
    html = page(client, f"/console/jobs/{p.job.id}")
    assert "Open a wage case for the worker" in html and f'value="{p.offer.id}"' in html
    response = console_post(
        client, "/console/cases/open", {"offer_id": p.offer.id, "paid": "none", "back": "job"}
    )
    assert response.status_code == 302
    [case] = cases(session)
    assert (case.opened_via, case.paid) == (CaseOpenedVia.AGENT, PaidAnswer.NONE)
    html = page(client, f"/console/cases/{case.id}")
    assert "An agent, for the worker" in html and 'id="case-after-paid"' in html


def test_a_placement_not_begun_or_a_bad_answer_is_refused(session, runtime, market, agent_client):
    p = placement(session, runtime, market, paid=PaidAnswer.FULL)
    p.job.work_date = p.job.end_date = NOW.date() + timedelta(days=2)
    commit(runtime, session)
    assert 'id="open-wage-case"' not in page(agent_client, f"/console/people/workers/{p.worker.id}")
    form = {"offer_id": p.offer.id, "paid": "none", "back": "worker"}
    refused = console_post(agent_client, "/console/cases/open", form, follow_redirects=True)
    assert "不能立案" in refused.get_data(as_text=True)
    p.job.work_date = p.job.end_date = NOW.date() - timedelta(days=3)
    commit(runtime, session)
    bad = console_post(agent_client, "/console/cases/open", {**form, "paid": "full"}, follow_redirects=True)
    assert "请选择工钱情况" in bad.get_data(as_text=True)
    assert cases(session) == []


def test_a_follow_up_case_page_still_shows_its_answer(session, runtime, market, agent_client):
    from dispatch.wages.services import open_case

    p = placement(session, runtime, market, paid=PaidAnswer.NONE)
    case = open_case(session, runtime.settings, p.follow_up, NOW)
    commit(runtime, session)
    html = page(agent_client, f"/console/cases/{case.id}")
    assert "回访回答" in html and 'id="case-after-paid"' not in html
