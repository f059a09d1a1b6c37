"""The hall's counter in Chromium: a supervisor creates a training that teaches a trade and sends it;
workers sign up by SMS, one cancels and the first waiting moves up; attendance is taken at the counter
by keyboard (a phone tail, Enter, Enter), a training completed, a walk-in added; the events report
counts it all."""

from __future__ import annotations

from datetime import timedelta

import pytest
from playwright.sync_api import Page, expect

from dispatch.clock import utcnow
from dispatch.console.agents import create_agent
from dispatch.i18n import market_zone
from tests.browser.conftest import LiveServer
from tests.browser.helpers import sign_in, text_in
from tests.browser.test_csp import problems  # noqa: F401 (a fixture)
from tests.console.helpers import PASSWORD
from tests.factories import Market
from tests.helpers import run_jobs

pytestmark = pytest.mark.committed


def test_an_event_signed_up_by_sms_attended_at_the_counter_and_counted(
    live_server: LiveServer,
    page: Page,
    problems: list[str],  # noqa: F811
) -> None:
    zone = market_zone(live_server.runtime.settings)
    day = (utcnow().astimezone(zone) + timedelta(days=3)).date()
    with live_server.runtime.db.transaction() as session:
        create_agent(session, "tx-boss", PASSWORD, "supervisor", "LZ-TX", display_name="叶蕾")
        market = Market(session)
        phones = {
            name: market.worker(phone, name=name, trades=("porter",)).phone
            for name, phone in (
                ("甲", "+8613900001111"),
                ("乙", "+8613900002222"),
                ("丙", "+8613900003333"),
                ("丁", "+8613900008765"),
            )
        }
    sign_in(page, live_server.url, "tx-boss")
    page.get_by_role("link", name="活动", exact=True).click()
    page.get_by_role("link", name="新建活动或通知").click()
    page.get_by_label("类型").select_option("training")
    page.get_by_label("中文标题").fill("家政保洁培训")
    page.get_by_label("英文标题").fill("Cleaning course")
    page.get_by_label("开始时间").fill(f"{day.isoformat()}T09:00")
    page.get_by_label("名额").fill("2")
    page.get_by_label("中文地点").fill("零工市场服务大厅")
    page.get_by_label("英文地点").fill("Market hall")
    page.get_by_label("培训工种").select_option("cleaner")
    page.get_by_role("button", name="计算人数和费用").click()
    expect(page.locator("#outreach-preview")).to_contain_text("将发给4人")
    page.get_by_role("button", name="确认发送给4人").click()
    expect(page.locator(".flash.success")).to_contain_text("已安排发送：4人")
    run_jobs(live_server.runtime)
    event_id = page.url.rstrip("/").rsplit("/", 1)[-1]

    for name in ("甲", "乙", "丙"):  # 丙 is third for two places: the waiting list
        text_in(live_server.url, f"报名 {event_id}", phones[name])
    text_in(live_server.url, f"取消报名 {event_id}", phones["甲"])  # 丙 moves up
    page.reload()
    expect(page.locator("#tally")).to_contain_text("报名2人，候补0人")

    page.get_by_role("link", name="到柜台签到").click()
    search = page.locator("#counter-q")
    expect(search).to_be_focused()
    search.fill("2222")  # 乙 by the tail of her number
    search.press("Enter")
    expect(page.get_by_role("button", name="到场", exact=True)).to_be_focused()
    page.keyboard.press("Enter")
    expect(page.locator(".flash.success")).to_contain_text("乙已签到。")
    page.locator("#counter-q").fill("丙")
    page.locator("#counter-q").press("Enter")
    page.get_by_role("button", name="到场并结业").click()
    expect(page.locator(".flash.success").last).to_contain_text("已给丙加上工种：保洁")
    page.locator("#counter-q").fill("8765")  # 丁 never signed up: a walk-in
    page.locator("#counter-q").press("Enter")
    expect(page.get_by_role("button", name="加入并签到")).to_be_focused()
    page.keyboard.press("Enter")
    expect(page.locator("#tally")).to_contain_text("报名3人，候补0人；到场3人，结业1人，现场加入1人。")

    page.get_by_role("link", name="报表", exact=True).click()
    page.get_by_role("link", name="活动报表").click()
    page.locator("input[name=week]").fill(_week_label(day))
    page.get_by_role("button", name="查看").click()
    training = page.locator("#events-by-kind tr[data-kind=training] td")
    # events, texts, signed up, still waiting, cancelled, came, completed, walk-ins
    expect(training).to_have_text(["培训", "1", "4", "3", "0", "1", "3", "1", "1"])
    assert problems == []


def _week_label(day) -> str:
    year, number, _ = day.isocalendar()
    return f"{year}-W{number:02d}"
