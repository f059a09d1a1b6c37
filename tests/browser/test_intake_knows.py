"""An agent takes a call from a known employer on the phone intake form, keyboard only: the number
typed brings the employer's site and address into the form, the agent picks another place by typing
its IVR number (8) in the site filter, sets 07:30, and the job is made with that start and place.

No mouse event after the sign-in (the page counts them, as in test_keyboard_shift)."""

from __future__ import annotations

from datetime import time

import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import select

from dispatch.models import Job, Site
from tests.browser.conftest import LiveServer
from tests.browser.test_console import signed_in
from tests.browser.test_keyboard_shift import COUNT_MOUSE
from tests.factories import Market

pytestmark = pytest.mark.committed

EMPLOYER_PHONE = "+8613700137555"


def site_id(live_server: LiveServer, code: str) -> int:
    with live_server.runtime.db.transaction() as session:
        return session.scalars(select(Site.id).where(Site.code == code)).one()


def test_a_known_employers_call_becomes_a_half_past_job_from_the_keyboard(
    live_server: LiveServer, page: Page
) -> None:
    with live_server.runtime.db.transaction() as session:
        Market(session).employer(EMPLOYER_PHONE, name="王老板", site="LZ-TX-WYM", address="威远门北路12号")
    village, town, other = (site_id(live_server, code) for code in ("LZ-TX-WYM", "LZ-TX", "LZ-TX-FHX"))
    signed_in(live_server, page, "intake1", "王芳")
    page.add_init_script(COUNT_MOUSE)
    page.goto(f"{live_server.url}/console/intake/job")
    keys = page.keyboard

    # The number typed: the lookup shows the employer and fills their site and address.
    page.get_by_label("手机号").focus()
    keys.type("137 0013 7555")
    expect(page.locator("#employer-card")).to_contain_text("王老板")
    site = page.locator("#site-select")
    expect(site).to_have_value(str(village))
    expect(page.locator("#address")).to_have_value("威远门北路12号")

    page.get_by_label("工种").focus()
    page.get_by_label("工种").select_option(label="4 · 水电工")
    page.get_by_label("人数").focus()
    keys.type("2")
    page.get_by_label("明天").focus()
    keys.press("Space")
    page.get_by_label("上工时间").focus()
    page.get_by_label("上工时间").select_option("07:30")
    page.get_by_label("日薪（元）").focus()
    keys.type("300")

    # The site filter: a name narrows to the village, the IVR's number picks the town.
    search = page.get_by_label("按编号或名称查找地点")
    expect(search).to_be_visible()
    search.focus()
    keys.type("府后")
    expect(site).to_have_value(str(other))
    keys.press("Control+a")
    keys.type("8")
    expect(site).to_have_value(str(town))
    keys.press("Enter")  # the choice made: on to the address, nothing submitted
    expect(page.locator("#address")).to_be_focused()
    expect(page).to_have_url(f"{live_server.url}/console/intake/job")
    keys.press("Enter")  # the address field submits the form

    expect(page.locator(".flash")).to_contain_text("已发布")
    with live_server.runtime.db.transaction() as session:
        job = session.scalars(select(Job).order_by(Job.id.desc())).first()
        assert job is not None
        assert (job.start_time, job.site_id, job.address, job.headcount) == (
            time(7, 30),
            town,
            "威远门北路12号",
            2,
        )
        assert job.employer.phone == EMPLOYER_PHONE
    expect(page).to_have_url(f"{live_server.url}/console/jobs/{job.id}")
    expect(page.locator("body")).to_contain_text("07:30")
    assert page.evaluate("Number(sessionStorage.mouseEvents || 0)") == 0


def test_without_the_script_the_picker_is_a_plain_select_typed_by_its_numbers(
    live_server: LiveServer, browser
) -> None:
    context = browser.new_context(java_script_enabled=False, locale="zh-CN")
    page = context.new_page()
    try:
        signed_in(live_server, page, "intake2", "李娜")
        page.goto(f"{live_server.url}/console/intake/job")
        expect(page.get_by_label("按编号或名称查找地点")).to_be_hidden()
        site = page.locator("#site-select")
        expect(site.locator("optgroup[label='8 · 太行西街街道'] option").first).to_have_text(
            "8 · 太行西街街道"
        )
        site.select_option(label="8 · 太行西街街道")
        expect(site).to_have_value(str(site_id(live_server, "LZ-TX")))
    finally:
        context.close()
