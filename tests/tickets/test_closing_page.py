"""The ticket page words why the service closed a ticket, in the agent's language (no frozen clock here:
the console's session cookie is dated by the app's clock and kept by the test client's real one)."""

from __future__ import annotations

from dispatch.models import JobStatus
from dispatch.tickets import tasks
from tests.console.conftest import signed_in
from tests.console.helpers import make_agent
from tests.factories import commit, tomorrow
from tests.tickets.test_closing import escalated


def test_the_ticket_page_says_why_the_service_closed_it_in_the_agents_language(session, runtime, market, app):
    job, ticket = escalated(session, market, work_date=tomorrow())
    job.status = JobStatus.CANCELLED
    commit(runtime, session)
    assert tasks.close_over_tickets() == {"job_cancelled": 1}
    zh = signed_in(app, make_agent(session, "zh1", "agent", "LZ"))
    assert "系统自动办结：该活已取消" in zh.get(f"/console/tickets/{ticket.id}").get_data(as_text=True)
    en = signed_in(app, make_agent(session, "en1", "agent", "LZ", language="en"))
    page = en.get(f"/console/tickets/{ticket.id}").get_data(as_text=True)
    assert "Closed by the service: the job was cancelled" in page
