"""The hall's big screen and the public job list in Chromium, under their Content-Security-Policy.

A job an employer posts by SMS (through the real /sms/inbound webhook) appears on an open screen by its
poll, with no reload, and goes once its places are taken by the workers' `1 <code>`; the screen at
1920x1080 is saved to docs/hall-screen.png. On a phone, the list filters by trade and town and a job's
page offers the sms: and tel: links to the market's number."""

from __future__ import annotations

import re
from datetime import time, timedelta

import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import select

from dispatch.hall import views
from dispatch.hall.screen import market_number
from dispatch.models import Employer, Job, JobStatus
from dispatch.settings import PROJECT_ROOT
from tests.browser.conftest import LiveServer
from tests.browser.helpers import text_in
from tests.browser.test_csp import problems  # noqa: F401  (the fixture)
from tests.factories import Market, tomorrow
from tests.helpers import run_jobs

pytestmark = pytest.mark.committed

EMPLOYER = "+8613600136000"
SCREENSHOT = PROJECT_ROOT / "docs" / "hall-screen.png"


@pytest.fixture(autouse=True)
def quick_polls(monkeypatch: pytest.MonkeyPatch) -> None:
    # The screen polls every POLL_SECONDS (5 in the hall); 1 here keeps each wait short. The server's
    # memory of an answer (2 s) still applies: a change shows within about three seconds.
    monkeypatch.setattr(views, "POLL_SECONDS", 1)


def _row(page: Page, job: Job | str):
    code = job if isinstance(job, str) else job.code
    return page.locator(f"#rows tr[data-code='{code}']")


def test_a_job_posted_by_sms_appears_on_the_screen_and_goes_when_filled(
    live_server: LiveServer,
    page: Page,
    problems: list[str],  # noqa: F811
) -> None:
    with live_server.runtime.db.transaction() as session:
        market = Market(session)
        session.add(Employer(phone=EMPLOYER, name="王师傅"))
        workers = [market.worker(trades=("cleaner",), site="LZ-TX", pay=150) for _ in range(2)]
        phones = [worker.phone for worker in workers]
    page.set_viewport_size({"width": 1920, "height": 1080})
    page.goto(f"{live_server.url}/screen/LZ-TX")
    expect(page.locator("#empty")).to_be_visible()
    expect(page.locator("#clock-time")).to_have_text(re.compile(r"^\d\d:\d\d:\d\d$"))

    text_in(live_server.url, "招 保洁 2人 明天 300元 太西", sender=EMPLOYER)
    text_in(live_server.url, "1", sender=EMPLOYER)  # posted: open, matching queued
    with live_server.runtime.db.transaction() as session:
        job = session.scalars(select(Job)).one()
        code = job.code
        assert job.status == JobStatus.OPEN
    row = _row(page, code)
    expect(row).to_be_visible()  # by the poll: no reload
    expect(row).to_contain_text("保洁")
    expect(row).to_contain_text("300元/天")
    expect(row).to_contain_text("还缺2人")
    expect(page.locator("#empty")).to_be_hidden()
    expect(page.locator("#count")).to_have_text("1")

    run_jobs(live_server.runtime)  # the first wave's offers go to the two cleaners
    text_in(live_server.url, f"1 {code}", sender=phones[0])
    expect(row).to_contain_text("还缺1人")
    text_in(live_server.url, f"1 {code}", sender=phones[1])
    with live_server.runtime.db.transaction() as session:
        assert session.scalars(select(Job)).one().status == JobStatus.FILLED
    expect(_row(page, code)).to_have_count(0)
    expect(page.locator("#empty")).to_be_visible()
    expect(page.locator("#count")).to_have_text("0")
    assert problems == []


# A morning's postings across the district, for the screenshot (more than one page of them).
POSTINGS = [
    ("general_labourer", "LZ-TX", 4, 180, time(7, 0)),
    ("plumber_electrician", "LZ-TX-WYM", 2, 320, time(8, 0)),
    ("cleaner", "LZ-DJ", 3, 160, time(8, 30)),
    ("porter", "LZ-XJ", 6, 220, time(7, 30)),
    ("bricklayer", "LZ-LDS-GC", 2, 350, time(7, 0)),
    ("painter", "LZ-TX-FHX", 1, 300, time(9, 0)),
    ("farmhand", "LZ-LDS-GC", 8, 150, time(6, 30)),
    ("carpenter", "LZ-DJ", 2, 330, time(8, 0)),
    ("courier", "LZ-XJ", 5, 200, time(10, 0)),
]


def test_the_screen_pages_through_a_long_list_and_is_saved_at_1920x1080(
    live_server: LiveServer,
    page: Page,
    problems: list[str],  # noqa: F811
) -> None:
    with live_server.runtime.db.transaction() as session:
        market = Market(session)
        for index, (trade, site, headcount, pay, start) in enumerate(POSTINGS):
            market.job(
                trade=trade,
                site=site,
                headcount=headcount,
                pay=pay,
                start=start,
                work_date=tomorrow() + timedelta(days=index // 4),
            )
    page.set_viewport_size({"width": 1920, "height": 1080})
    page.goto(f"{live_server.url}/screen")
    expect(page.locator("#count")).to_have_text(str(len(POSTINGS)))
    expect(page.locator("#rows tr")).to_have_count(views.ROWS_PER_PAGE)
    expect(page.locator("#page-count")).to_have_text("2")
    expect(page.locator(".qr svg")).to_be_visible()
    expect(page.locator("footer .how")).to_contain_text("10690000")
    # Every row fits the screen: the last one ends above the footer.
    last = page.locator("#rows tr").last.bounding_box()
    footer = page.locator("footer").bounding_box()
    assert last is not None and footer is not None and last["y"] + last["height"] <= footer["y"]
    page.screenshot(path=str(SCREENSHOT))
    assert problems == []


def test_the_public_list_filters_and_a_job_page_links_to_the_market(
    live_server: LiveServer,
    page: Page,
    problems: list[str],  # noqa: F811
) -> None:
    with live_server.runtime.db.transaction() as session:
        market = Market(session)
        cleaner = market.job(trade="cleaner", site="LZ-TX-WYM", pay=170)
        porter = market.job(trade="porter", site="LZ-DJ", pay=210)
        session.flush()
        cleaner_code, porter_code = cleaner.code, porter.code
    number = market_number(live_server.runtime.settings)
    page.set_viewport_size({"width": 390, "height": 844})
    page.goto(f"{live_server.url}/jobs")
    cards = page.locator("li.job")
    expect(cards).to_have_count(2)

    page.get_by_label("工种").select_option("cleaner")
    page.get_by_role("button", name="筛选").click()
    expect(cards).to_have_count(1)
    expect(cards.first).to_have_attribute("data-code", cleaner_code)
    page.get_by_label("工种").select_option("")
    page.get_by_label("镇街").select_option("LZ-DJ")
    page.get_by_role("button", name="筛选").click()
    expect(page).to_have_url(f"{live_server.url}/jobs?trade=&town=LZ-DJ")
    expect(cards).to_have_count(1)
    expect(cards.first).to_have_attribute("data-code", porter_code)

    cards.first.locator("a.summary").click()
    expect(page).to_have_url(f"{live_server.url}/j/{porter_code}")
    expect(page.locator("h1")).to_contain_text("搬运")
    expect(page.locator("a.sms")).to_have_attribute("href", f"sms:{number}?body=1%20{porter_code}")
    expect(page.locator("a.tel")).to_have_attribute("href", f"tel:{number}")
    page.get_by_role("link", name="English").click()
    expect(page).to_have_url(f"{live_server.url}/j/{porter_code}?lang=en")
    expect(page.locator("a.sms")).to_contain_text("Text to take it")
    assert problems == []


def test_a_failed_poll_keeps_the_list_and_says_it_is_reconnecting(
    live_server: LiveServer,
    page: Page,
    problems: list[str],  # noqa: F811
) -> None:
    with live_server.runtime.db.transaction() as session:
        code = Market(session).job(trade="porter", site="LZ-DJ").code
    page.goto(f"{live_server.url}/screen/LZ-DJ")
    expect(_row(page, code)).to_be_visible()
    expect(page.locator("#stale")).to_be_hidden()

    page.route("**/jobs.json", lambda route: route.abort())  # the network or the service is gone
    expect(page.locator("#stale")).to_be_visible()
    expect(_row(page, code)).to_be_visible()
    page.unroute("**/jobs.json")
    expect(page.locator("#stale")).to_be_hidden()  # the next good poll lowers the notice
    expect(_row(page, code)).to_be_visible()
    assert problems == []
