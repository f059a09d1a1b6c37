"""Records kept true and a queue that tells the truth, in a real browser: an agent raises a worker's pay
floor on the worker's page and the next job's offers skip that worker (another just like them is
offered); a ticket whose job is over leaves the open queue page when the closing sweep runs."""

from __future__ import annotations

from datetime import time, timedelta

import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import select

from dispatch.clock import utcnow
from dispatch.jobs.services import JobRequest, create_job
from dispatch.models import Employer, JobSource, JobStatus, Offer, Site, TicketKind, Trade, Worker
from dispatch.tickets.closing import close_over_tickets
from dispatch.tickets.services import open_ticket
from dispatch.tickets.summaries import Summary, names
from tests.browser.conftest import LiveServer
from tests.browser.test_console import signed_in
from tests.factories import SHANGHAI, Market
from tests.helpers import run_jobs

pytestmark = pytest.mark.committed


def test_an_edited_pay_floor_changes_who_is_offered_the_next_job(live_server: LiveServer, page: Page) -> None:
    with live_server.runtime.db.transaction() as session:
        market = Market(session)
        raised = market.worker("+8613700000001", name="刘强", pay=200).id
        kept = market.worker("+8613700000002", name="陈明", pay=200).id
    signed_in(live_server, page)

    page.goto(f"{live_server.url}/console/people/workers/{raised}")
    expect(page.get_by_role("heading", level=1)).to_contain_text("刘强")
    page.get_by_text("修改资料").click()
    page.locator("#edit-min-pay").fill("350")
    page.get_by_role("button", name="保存资料").click()
    expect(page.get_by_role("status")).to_contain_text("资料已保存")
    expect(page.locator("dl.details")).to_contain_text("350")

    with live_server.runtime.db.transaction() as session:
        assert session.get_one(Worker, raised).min_daily_pay == 350
        employer = Employer(phone="+8613600000009", name="王老板", site_id=_id(session, Site, "LZ-TX"))
        session.add(employer)
        session.flush()
        tomorrow = utcnow().astimezone(SHANGHAI).date() + timedelta(days=1)
        request = JobRequest(
            trade_id=_id(session, Trade, "plumber_electrician"),
            headcount=1,
            work_date=tomorrow,
            start_time=time(8),
            days=1,
            daily_pay=300,
            site_id=employer.site_id or 0,
        )
        job_id = create_job(session, employer, request, JobSource.AGENT).id
    run_jobs(live_server.runtime)
    with live_server.runtime.db.transaction() as session:
        offered = set(session.scalars(select(Offer.worker_id).where(Offer.job_id == job_id)))
    assert offered == {kept}


def _id(session, model, code: str) -> int:
    return session.scalar(select(model.id).where(model.code == code))


def test_a_stale_ticket_leaves_the_queue_when_its_job_is_over(live_server: LiveServer, page: Page) -> None:
    """An unfilled-job ticket whose job's last day was yesterday: on the queue until the closing sweep
    runs, then gone from the open page without a reload."""
    with live_server.runtime.db.transaction() as session:
        job = Market(session).job(pay=300)
        yesterday = utcnow().astimezone(SHANGHAI).date() - timedelta(days=1)
        job.work_date = job.end_date = yesterday  # escalated, and nobody closed it
        job.status = JobStatus.ESCALATED
        fields = {"code": job.code, "trade": names(job.trade), "filled": 0, "headcount": 1}
        summary = Summary.of("unfilled_escalated", **fields)
        ticket_id = open_ticket(session, TicketKind.UNFILLED_JOB, job=job, summary=summary).id
    signed_in(live_server, page)
    row = page.locator(f"#ticket-{ticket_id}")
    expect(row).to_be_visible()
    page.evaluate("window.stillTheSamePage = true")

    with live_server.runtime.db.transaction() as session:
        assert close_over_tickets(session, live_server.runtime.settings, utcnow())["job_over"] == 1
    expect(row).to_have_count(0)  # the page's polling drops it
    assert page.evaluate("window.stillTheSamePage") is True
