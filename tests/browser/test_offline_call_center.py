"""The call center offline, in real browsers (Chromium): two agents signed in to the console, a caller
on the phone simulator who fails the voice menu and waits in the queue. Both agents see the caller
waiting; one answers (the offline softphone takes the longest waiter), the other sees the queue empty;
the screen pop shows what the voice menu collected; caller and agent exchange a line each way; the
agent hangs up, and the wrap-up puts the outcome and the note on the ticket. No Twilio account."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
import time_machine
from playwright.sync_api import Browser, Page, expect
from sqlalchemy import select

from dispatch.console.agents import create_agent
from dispatch.models import AgentCall, Call, QueuedCall, Ticket, TicketStatus, Trade, WaitStatus
from tests.browser.conftest import TIMEOUT_MS, LiveServer
from tests.browser.helpers import sign_in
from tests.console.helpers import PASSWORD
from tests.factories import Market

CALLER = "+8613600000077"  # a number the service does not know yet
WAITING_ONE, WAITING_NONE = "1人等您接听", "0人等您接听"


@pytest.fixture
def opening_hours() -> Iterator[None]:
    """Today at 10:00 in the market (Asia/Shanghai), ticking: the agents' queue is open."""
    with time_machine.travel(datetime.now(UTC).replace(hour=2, minute=0), tick=True):
        yield


@pytest.fixture
def agent_pages(browser: Browser, live_server: LiveServer, opening_hours: None) -> Iterator[list[Page]]:
    """Two agents of the district, each signed in from a browser of their own, and available."""
    with live_server.runtime.db.transaction() as session:
        for username in ("agent1", "agent2"):
            create_agent(session, username, PASSWORD, "agent", "LZ")
    contexts, pages = [], []
    for username in ("agent1", "agent2"):
        context = browser.new_context(locale="zh-CN", timezone_id="Asia/Shanghai")
        context.set_default_timeout(TIMEOUT_MS)
        page = context.new_page()
        sign_in(page, live_server.url, username)
        page.locator("#phone-available").click()
        expect(page.locator("#phone-status")).to_have_attribute("data-status", "available")
        contexts.append(context)
        pages.append(page)
    yield pages
    for context in contexts:
        context.close()


def press(page: Page, keys: str) -> None:
    for key in keys:
        page.locator(f'#keypad .key[data-key="{key}"]').click()
    expect(page.locator("#call")).not_to_have_class(re.compile(r"\bbusy\b"))


def time_out(page: Page) -> None:
    page.locator("#timeout").click()
    expect(page.locator("#call")).not_to_have_class(re.compile(r"\bbusy\b"))


def test_two_agents_one_answers_the_caller_from_the_simulator(
    live_server: LiveServer, opening_hours: None, page: Page, agent_pages: list[Page]
) -> None:
    one, two = agent_pages
    runtime = live_server.runtime

    # The caller starts posting a job (porters), then says nothing three times: to an agent.
    page.goto(f"{live_server.url}/sim/phone/{CALLER}")
    page.get_by_role("button", name="拨打").click()
    expect(page.locator("#keypad")).to_be_visible()
    press(page, "1")
    press(page, "2")
    for _ in range(3):
        time_out(page)
    expect(page.locator("#queue")).to_be_visible()
    expect(page.locator("#call-state")).to_have_text("等待坐席接听")
    expect(page.locator("#queue-place")).to_contain_text("排第 1 位")
    with runtime.db.transaction() as session:
        call = session.scalars(select(Call).where(Call.phone == CALLER)).one()
        trade = session.get(Trade, int(call.answers["trade"]))
        assert trade is not None
        trade_name = trade.name_zh
        [waiting] = session.scalars(select(QueuedCall).where(QueuedCall.call_sid == call.call_sid)).all()
        assert waiting.status == WaitStatus.WAITING

    # Both agents see the caller waiting; the first answers.
    expect(one.locator("#phone-waiting")).to_have_text(WAITING_ONE)
    expect(two.locator("#phone-waiting")).to_have_text(WAITING_ONE)
    with one.expect_response(lambda r: r.url.endswith("/sim/agent/connect")) as connected:
        one.locator("#phone-next").click()
    assert connected.value.ok
    expect(one.locator("#phone-call-state")).to_have_text("通话中")
    expect(one.locator("#offline-line")).to_be_visible()
    # The other agent's bar: nobody left to take.
    expect(two.locator("#phone-waiting")).to_have_text(WAITING_NONE)
    with two.expect_response(lambda r: r.url.endswith("/console/phone/next")) as nobody:
        two.locator("#phone-next").click()
    assert nobody.value.json()["none"] is True
    expect(two.locator("#phone-message")).to_have_text("现在没有等您接听的来电。")
    # The screen pop: what the voice menu collected before the caller was sent to an agent.
    expect(one.locator("#pop-answers")).to_contain_text(trade_name)

    # The caller's phone is on the line; a line each way.
    expect(page.locator("#line-talk")).to_be_visible()
    page.get_by_label("对坐席说的话").fill("我要两个搬运工，明天早上")
    page.get_by_label("对坐席说的话").press("Enter")
    expect(one.locator("#offline-said")).to_contain_text("我要两个搬运工，明天早上")
    one.get_by_label("对来电者说的话").fill("好的，八点到")
    one.get_by_label("对来电者说的话").press("Enter")
    expect(page.locator("#line-log")).to_contain_text("好的，八点到")

    # The agent hangs up: the caller's call ends too; the agent wraps up.
    one.locator("#phone-hangup").click()
    expect(page.locator("#call-state")).to_contain_text("通话结束")
    expect(page.locator("#call-log")).to_contain_text("坐席挂断了")
    expect(one.locator("#phone-status")).to_have_attribute("data-status", "wrap_up")
    wrap = one.locator("form[data-phone-wrap]")
    wrap.locator("select[name=outcome]").select_option("job_created")
    wrap.locator("textarea[name=note]").fill("明天8点两个搬运工，已建岗位")
    wrap.get_by_role("button", name="关闭工单").click()
    expect(one.locator("#phone-status")).to_have_attribute("data-status", "available")

    with runtime.db.transaction() as session:
        agent_call = session.scalars(select(AgentCall)).one()
        assert (agent_call.dial_status, agent_call.outcome) == ("completed", "job_created")
        ticket = session.get(Ticket, agent_call.ticket_id)
        assert ticket is not None
        assert (ticket.status, ticket.resolution) == (TicketStatus.RESOLVED, "明天8点两个搬运工，已建岗位")
        waited = session.scalars(select(QueuedCall).where(QueuedCall.call_sid == call.call_sid)).one()
        assert waited.status == WaitStatus.ANSWERED and waited.answered_by_id == agent_call.agent_id


def test_click_to_call_rings_the_simulated_phone_declined_then_answered(
    live_server: LiveServer, opening_hours: None, page: Page, agent_pages: list[Page]
) -> None:
    agent = agent_pages[0]
    runtime = live_server.runtime
    with runtime.db.transaction() as session:
        worker_id = Market(session).worker(CALLER, name="钱师傅", site="LZ").id
    page.goto(f"{live_server.url}/sim/phone/{CALLER}")
    expect(page.locator("#line")).to_be_hidden()
    agent.goto(f"{live_server.url}/console/people/workers/{worker_id}")

    # The first call is declined: the attempt is kept as no-answer, the ticket stays open.
    agent.locator("form[data-phone-dial]").get_by_role("button", name="拨打").click()
    expect(page.locator("#line-ringing")).to_contain_text("来电")
    page.get_by_role("button", name="拒接").click()
    expect(agent.locator("#phone-status")).to_have_attribute("data-status", "wrap_up")
    wrap = agent.locator("form[data-phone-wrap]")
    wrap.locator("select[name=outcome]").select_option("no_answer")
    wrap.get_by_role("button", name="保持未完成").click()
    expect(agent.locator("#phone-status")).to_have_attribute("data-status", "available")
    with runtime.db.transaction() as session:
        declined = session.scalars(select(AgentCall)).one()
        assert (declined.dial_status, declined.answered_at, declined.outcome) == (
            "no-answer",
            None,
            "no_answer",
        )

    # The second is answered: a line each way, the worker hangs up, the agent wraps up.
    agent.locator("form[data-phone-dial]").get_by_role("button", name="拨打").click()
    page.get_by_role("button", name="接听").click()
    expect(page.locator("#line-talk")).to_be_visible()
    expect(agent.locator("#phone-call-state")).to_have_text("通话中")
    agent.get_by_label("对来电者说的话").fill("钱师傅，明天有活，去吗？")
    agent.get_by_label("对来电者说的话").press("Enter")
    expect(page.locator("#line-log")).to_contain_text("钱师傅，明天有活，去吗？")
    page.get_by_label("对坐席说的话").fill("去，几点？")
    page.get_by_label("对坐席说的话").press("Enter")
    expect(agent.locator("#offline-said")).to_contain_text("去，几点？")
    page.get_by_role("button", name="挂断").click()
    expect(agent.locator("#offline-said")).to_contain_text("对方挂断了")
    expect(agent.locator("#phone-status")).to_have_attribute("data-status", "wrap_up")
    expect(page.locator("#call-state")).to_contain_text("通话结束")
    wrap = agent.locator("form[data-phone-wrap]")
    wrap.locator("select[name=outcome]").select_option("called")
    wrap.locator("textarea[name=note]").fill("明天去，8点")
    wrap.get_by_role("button", name="关闭工单").click()
    expect(agent.locator("#phone-status")).to_have_attribute("data-status", "available")
    with runtime.db.transaction() as session:
        answered = session.scalars(select(AgentCall).order_by(AgentCall.id.desc())).first()
        assert answered is not None and answered.id != declined.id
        assert (answered.dial_status, answered.outcome, answered.note) == (
            "completed",
            "called",
            "明天去，8点",
        )
        assert answered.answered_at is not None
