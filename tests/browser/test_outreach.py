"""Outreach in Chromium: an agent fills an event and its audience, sees the count and the SMS cost,
sends it; a worker texted it signs up, and the event's page counts the sign-up."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from dispatch.console.agents import create_agent
from tests.browser.conftest import LiveServer
from tests.browser.helpers import sign_in, text_in
from tests.browser.test_csp import problems  # noqa: F401 (a fixture)
from tests.console.helpers import PASSWORD
from tests.factories import Market
from tests.helpers import run_jobs

pytestmark = pytest.mark.committed


def test_an_agent_sends_an_event_and_sees_its_sign_up(
    live_server: LiveServer,
    page: Page,
    problems: list[str],  # noqa: F811
) -> None:
    with live_server.runtime.db.transaction() as session:
        create_agent(session, "tx1", PASSWORD, "agent", "LZ-TX", display_name="王芳")
        worker = Market(session).worker(name="方师傅")
        phone = worker.phone
    sign_in(page, live_server.url, "tx1")
    page.get_by_role("link", name="活动", exact=True).click()
    page.get_by_role("link", name="新建活动或通知").click()
    page.get_by_label("类型").select_option("training")
    page.get_by_label("中文标题").fill("水电工技能培训")
    page.get_by_label("英文标题").fill("Plumbing skills course")
    page.get_by_label("开始时间").fill("2030-06-01T09:00")
    page.get_by_label("名额").fill("20")
    page.get_by_label("中文地点").fill("零工市场服务大厅")
    page.get_by_label("英文地点").fill("Market hall")
    page.get_by_role("button", name="计算人数和费用").click()
    expect(page.locator("#outreach-preview")).to_contain_text("将发给1人（中文1人，英文0人）。")
    page.get_by_role("button", name="确认发送给1人").click()
    expect(page.locator(".flash.success")).to_contain_text("已安排发送：1人")
    run_jobs(live_server.runtime)
    event_id = page.url.rstrip("/").rsplit("/", 1)[-1]
    text_in(live_server.url, f"报名 {event_id}", phone)
    page.reload()
    expect(page.locator("#sends")).to_contain_text("已发送")
    expect(page.locator("#signups")).to_contain_text("方师傅")
    assert problems == []
