"""A wage claim by SMS after a "paid" answer, in a real browser: the worker answered the follow-up
`1 5` (paid, five stars), then texted `欠薪 <code>`; the agent sees the dispute on the queue, opens it,
and the case page says it was opened by the worker's text after answering "paid", with both texts in
the evidence."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import select

from dispatch.models import CaseOpenedVia, Employer, EmployerStatus, PaidAnswer, WageCase, WageCaseStatus
from tests.browser.conftest import LiveServer
from tests.browser.helpers import text_in
from tests.browser.test_after_the_job import ask_the_ended, ended_placement, signed_in
from tests.factories import Market
from tests.helpers import outbound_to

pytestmark = pytest.mark.committed


def test_a_claim_after_a_paid_answer_opens_a_case_the_agent_sees(
    live_server: LiveServer, page: Page, monkeypatch: pytest.MonkeyPatch
) -> None:
    with live_server.runtime.db.transaction() as session:
        market = Market(session)
        employer = market.employer(name="王老板")
        worker = market.worker(name="张三")
        job = ended_placement(session, market, employer, worker)
        code, worker_phone, employer_id = job.code, worker.phone, employer.id
    ask_the_ended(live_server, monkeypatch)
    text_in(live_server.url, "1 5", sender=worker_phone)  # paid in full, five stars

    signed_in(live_server, page, "chen", "agent", "陈坐席")
    rows = page.locator("#queue-rows")
    expect(rows).not_to_contain_text("欠薪纠纷")

    text_in(live_server.url, f"欠薪 {code}", sender=worker_phone)  # the next day: not paid after all

    row = rows.locator("tr", has_text="欠薪纠纷")
    expect(row).to_be_visible()  # brought in by the queue's polling
    expect(row).to_contain_text("张三")
    expect(row).to_contain_text("回访时答已付清")
    with live_server.runtime.db.transaction() as session:
        case = session.scalars(select(WageCase)).one()
        case_id = case.id
        assert (case.status, case.paid, case.opened_via, case.after_paid) == (
            WageCaseStatus.OPEN,
            PaidAnswer.NONE,
            CaseOpenedVia.SMS,
            True,
        )
        assert session.get_one(Employer, employer_id).status == EmployerStatus.HELD
        told = outbound_to(session, worker_phone)[-1]
        assert told.kind == "wage_claim.opened" and code in told.body

    ticket_id = int(row.get_attribute("data-ticket") or 0)
    row.locator(f"a[href$='/console/tickets/{ticket_id}']").click()
    panel = page.locator("#wage-case-panel")
    expect(panel).to_contain_text("零工回访时答“已付清”")
    panel.get_by_role("link", name="打开案件页面").click()
    expect(page).to_have_url(f"{live_server.url}/console/cases/{case_id}")
    expect(page.locator("#case-opened-via")).to_contain_text("零工短信报欠薪")
    expect(page.locator("#case-after-paid")).to_contain_text("零工回访时答“已付清”")
    expect(page.locator("#evidence-answer")).to_contain_text("5")
    messages = page.locator("table.messages")
    expect(messages).to_contain_text("1 5")
    expect(messages).to_contain_text(f"欠薪 {code}")
