"""A wage case's ticket resolves with its case, never on its own: not by the ticket page's generic
actions, not by cancelling the job the case is about. Otherwise the case would stay open (and the
employer held) with nothing left in the queue to say so."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from dispatch.models import (
    AuditEvent,
    Message,
    Ticket,
    TicketStatus,
    WageCase,
    WageCaseStatus,
)
from dispatch.wages.services import open_case
from tests.console.conftest import signed_in
from tests.console.helpers import console_post, make_agent
from tests.factories import commit
from tests.wages.conftest import NOW, placement

REFUSAL = "欠薪案件的待办不能在这里办结"


@pytest.fixture
def agent_client(app, seeded, session):
    return signed_in(app, make_agent(session, "district1", "agent", "LZ"))


def opened(session, runtime, market):
    p = placement(session, runtime, market)
    case = open_case(session, runtime.settings, p.follow_up, NOW)
    commit(runtime, session)
    return p, case


def ticket_resolutions(session) -> list[AuditEvent]:
    return list(session.scalars(select(AuditEvent).where(AuditEvent.action == "ticket.resolve")))


def test_the_ticket_pages_resolve_is_refused_and_points_to_the_case(session, runtime, market, agent_client):
    _, case = opened(session, runtime, market)
    assert console_post(agent_client, f"/console/tickets/{case.ticket_id}/claim", {}).status_code == 302
    response = console_post(
        agent_client, f"/console/tickets/{case.ticket_id}/resolve", {"outcome": "done", "note": "已处理"}
    )
    assert response.status_code == 409
    html = response.get_data(as_text=True)
    assert REFUSAL in html and f"案件#{case.id}" in html
    session.expire_all()
    assert session.get(Ticket, case.ticket_id).status == TicketStatus.CLAIMED
    assert session.get(WageCase, case.id).status == WageCaseStatus.OPEN
    assert ticket_resolutions(session) == []


def test_a_reply_from_the_ticket_is_refused_and_sends_nothing(session, runtime, market, agent_client):
    _, case = opened(session, runtime, market)
    response = console_post(agent_client, f"/console/tickets/{case.ticket_id}/reply", {"text": "我们在处理"})
    assert response.status_code == 409 and REFUSAL in response.get_data(as_text=True)
    session.expire_all()
    assert session.get(Ticket, case.ticket_id).status == TicketStatus.OPEN
    assert not session.scalars(select(Message).where(Message.body.contains("我们在处理"))).all()


def test_cancelling_the_cases_job_leaves_the_case_ticket_open(session, runtime, market, agent_client):
    """(The job's days are over, so nothing is called off; its tickets used to be resolved all the same.)"""
    p, case = opened(session, runtime, market)
    response = console_post(agent_client, f"/console/jobs/{p.job.id}/cancel", {"note": "雇主取消"})
    assert response.status_code == 302
    session.expire_all()
    ticket = session.get(Ticket, case.ticket_id)
    assert (ticket.status, ticket.outcome) == (TicketStatus.OPEN, "")
    assert ticket_resolutions(session) == []
    # ... and it resolves when the case closes
    console_post(agent_client, f"/console/cases/{case.id}/unresolved", {"note": "撤回"})
    session.expire_all()
    assert session.get(Ticket, case.ticket_id).status == TicketStatus.RESOLVED
