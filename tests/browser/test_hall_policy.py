"""A supervisor keeps a policy topic in Chromium: a text too long for two SMS parts is refused with why,
a shorter one is saved, and the next `政策 1` texted in gets it."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import select

from dispatch.console.agents import create_agent
from dispatch.models import Direction, Message
from tests.browser.conftest import LiveServer
from tests.browser.helpers import sign_in, text_in
from tests.browser.test_csp import problems  # noqa: F401 (a fixture)
from tests.console.helpers import PASSWORD

pytestmark = pytest.mark.committed
SHORTER = "欠薪或劳动争议：到零工市场服务大厅维权窗口，免费调解；或拨打12333。"


def test_a_supervisor_edits_a_topic_and_the_next_text_carries_it(
    live_server: LiveServer,
    page: Page,
    problems: list[str],  # noqa: F811
) -> None:
    with live_server.runtime.db.transaction() as session:
        create_agent(session, "boss1", PASSWORD, "supervisor", "LZ", display_name="叶蕾")
    sign_in(page, live_server.url, "boss1")
    page.get_by_role("link", name="政策", exact=True).click()
    expect(page.get_by_role("heading", level=1)).to_have_text("政策咨询条目")
    page.locator("tr[data-topic] >> nth=0").get_by_role("link", name="修改").click()
    body = page.get_by_label("中文内容")
    body.fill("欠" * 130)
    page.get_by_role("button", name="保存").click()
    expect(page.locator("#topic-error")).to_contain_text("中文内容太长：要发3条短信")
    body = page.get_by_label("中文内容")
    body.fill(SHORTER)
    page.get_by_role("button", name="保存").click()
    expect(page.locator(".flash.success")).to_have_text("已保存：劳动维权")
    assert problems == []

    text_in(live_server.url, "政策 1", "+8613977778888")
    with live_server.runtime.db.transaction() as session:
        reply = session.scalars(
            select(Message).where(Message.phone == "+8613977778888", Message.direction == Direction.OUTBOUND)
        ).one()
        assert reply.body == f"【潞州零工】劳动维权：{SHORTER}"
