"""The floor (wallboard) in Chromium under the console's Content-Security-Policy: a caller who joins the
queue, then an agent who becomes free, appear on the open board by its own polling, without a reload."""

from __future__ import annotations

from datetime import timedelta

import pytest
from playwright.sync_api import Page, expect

from dispatch.clock import utcnow
from dispatch.models.callcenter import Presence
from tests.browser.conftest import LiveServer
from tests.browser.test_console import signed_in
from tests.browser.test_csp import problems  # noqa: F401 (a fixture)
from tests.callcenter.test_floor_stats import caller, present
from tests.console.helpers import make_agent
from tests.factories import Market

pytestmark = pytest.mark.committed


def test_the_board_updates_without_reload(live_server: LiveServer, page: Page, problems: list[str]) -> None:  # noqa: F811
    signed_in(live_server, page)
    page.get_by_role("link", name="大屏").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("呼叫中心大屏")
    waiting = page.locator("#floor-waiting .value")
    expect(waiting).to_have_text("0")
    # The page is not loaded again: a mark set on this document must survive the updates.
    page.evaluate("document.body.dataset.sameDocument = 'yes'")

    with live_server.runtime.db.transaction() as session:
        caller(session, Market(session), "LZ-TX", utcnow() - timedelta(seconds=30))
    expect(waiting).to_have_text("1")
    expect(page.locator("#floor-waiting")).to_have_class("tile big late")
    expect(page.locator('tr[data-site="LZ-TX"]')).to_contain_text("太行西街街道")

    with live_server.runtime.db.transaction() as session:
        present(session, make_agent(session, "tx9", "agent", "LZ-TX"), Presence.AVAILABLE, utcnow())
    expect(page.locator("#floor-agents-available .value")).to_have_text("1")
    assert page.evaluate("document.body.dataset.sameDocument") == "yes"
    assert problems == []
