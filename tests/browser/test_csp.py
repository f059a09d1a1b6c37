"""The console and the simulator in Chromium under their Content-Security-Policy: the queue's htmx
polling, claiming, the intake's employer lookup (a POST as the agent types), the search (a POST), the
job page's cancel confirmation and the simulator's chat all work, and the browser reports no violation.
No number typed into a lookup ends up in a URL."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from playwright.sync_api import ConsoleMessage, Page, expect
from sqlalchemy import select

from dispatch.console import CONTENT_SECURITY_POLICY
from dispatch.models import Worker
from tests.browser.conftest import LiveServer
from tests.browser.helpers import text_in
from tests.browser.test_console import signed_in
from tests.factories import Market
from tests.helpers import run_jobs

pytestmark = pytest.mark.committed

# Chromium reports a refused script, style or eval on the console; the listener catches what it does not.
REPORT_VIOLATIONS = """
document.addEventListener("securitypolicyviolation", function (event) {
  console.error("Content Security Policy violation: " + event.violatedDirective + " " + event.blockedURI);
});
"""


@pytest.fixture
def problems(page: Page) -> Iterator[list[str]]:
    """CSP violations and script errors the page reports; the test asserts there are none."""
    seen: list[str] = []

    def on_console(message: ConsoleMessage) -> None:
        if "Content Security Policy" in message.text or "Refused to" in message.text:
            seen.append(f"console {message.type}: {message.text}")

    page.add_init_script(REPORT_VIOLATIONS)
    page.on("console", on_console)
    page.on("pageerror", lambda error: seen.append(f"page error: {error}"))
    yield seen


def test_the_console_works_under_its_policy(live_server: LiveServer, page: Page, problems: list[str]) -> None:
    with live_server.runtime.db.transaction() as session:
        market = Market(session)
        worker = market.worker("+8613700001234", name="孙师傅")
        job = market.job(market.employer("+8613600005678", name="太行装修队"))
        worker_id, job_id = worker.id, job.id
    signed_in(live_server, page)
    response = page.reload()
    assert response is not None and response.headers["content-security-policy"] == CONTENT_SECURITY_POLICY

    # The queue: a new ticket comes in by htmx polling and is claimed.
    text_in(live_server.url, "zzzz xxxx", sender="+8613911112222")
    row = page.locator("#queue-rows tr", has_text="zzzz xxxx")
    expect(row).to_be_visible()
    row.get_by_role("button", name="认领").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("处理中")

    # Phone intake: the employer card follows the number typed (POSTed, not in a URL); choosing a date
    # ticks "another day" (a listener in console.js, not an inline handler).
    page.get_by_role("link", name="电话登记用工").click()
    page.wait_for_url("**/console/intake/job")
    page.wait_for_load_state("load")  # the lookup listens once the page's scripts have run
    page.get_by_label("手机号").fill("13600005678")
    expect(page.locator("#employer-card")).to_contain_text("太行装修队")
    page.locator("input[name=date]").fill("2099-01-01")
    page.locator("input[name=date]").dispatch_event("change")
    expect(page.locator("#day-date")).to_be_checked()

    # The search box in the header: a POST; an exact number opens the worker.
    search = page.get_by_role("searchbox", name="查找", exact=True)
    search.fill("137 0000 1234")
    search.press("Enter")
    expect(page).to_have_url(f"{live_server.url}/console/people/workers/{worker_id}")
    expect(page.get_by_role("heading", level=1)).to_contain_text("孙师傅")

    # Cancelling a job asks first (console.js); dismissed, nothing is sent.
    page.goto(f"{live_server.url}/console/jobs/{job_id}")
    asked: list[str] = []

    def dismiss(dialog) -> None:
        asked.append(dialog.message)
        dialog.dismiss()

    page.once("dialog", dismiss)
    page.locator("form.cancel-job button[type=submit]").click()
    expect(page).to_have_url(f"{live_server.url}/console/jobs/{job_id}")
    assert len(asked) == 1 and asked[0]

    assert problems == []


def test_the_simulator_chat_works_under_the_policy(
    live_server: LiveServer, page: Page, problems: list[str]
) -> None:
    phone = "+8613912340000"
    page.goto(f"{live_server.url}/sim/phone/{phone}")
    box = page.get_by_role("textbox", name="短信内容")
    box.fill("帮助")
    box.press("Enter")
    chat = page.locator("#sms-log")
    expect(chat.locator(".bubble.mine")).to_contain_text("帮助")
    expect(box).to_have_value("")  # emptied after a successful send (sim.js, not hx-on)
    run_jobs(live_server.runtime)  # the reply goes out through the queue; the chat's poll brings it
    expect(chat.locator(".bubble.theirs")).to_have_count(1)
    with live_server.runtime.db.transaction() as session:
        assert session.scalar(select(Worker).where(Worker.phone == phone)) is None
    assert problems == []
