"""The console's phone bar and softphone in Chromium, in offline mode (no Twilio API key): presence set
from the bar and kept across page changes, callers waiting shown without reload, answering the next
caller with the screen pop, the end and the wrap-up; click-to-call from a worker's page. All under the
console's Content-Security-Policy.

The device is a stand-in with the Voice SDK's shape (the contract phone.js and phone_offline.js share),
so the test decides when the other side answers and hangs up; the simulator's own device is tested
with the simulator.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from dataclasses import replace
from datetime import timedelta

import pytest
from flask import request, request_finished
from playwright.sync_api import ConsoleMessage, Page, expect
from sqlalchemy import select

from dispatch.callcenter import calls
from dispatch.callcenter.routing import queue_caller
from dispatch.clock import utcnow
from dispatch.console.phone import vendor
from dispatch.models import (
    Agent,
    AgentCall,
    AgentPresence,
    Call,
    Presence,
    QueuedCall,
    Ticket,
    TicketKind,
    TicketStatus,
    WaitStatus,
)
from dispatch.tickets.services import open_ticket
from tests.browser.conftest import LiveServer
from tests.browser.test_console import signed_in
from tests.browser.test_csp import REPORT_VIOLATIONS
from tests.factories import Market

pytestmark = pytest.mark.committed

# window.OfflineDevice as the test's stand-in: connect() hands back a call the test drives through
# window.testCalls (accept, then disconnect), as the other side of the line would.
FAKE_DEVICE = """
(function () {
  function FakeCall(params) {
    this.params = params; this.handlers = {}; this.digits = "";
  }
  FakeCall.prototype.on = function (name, fn) { (this.handlers[name] = this.handlers[name] || []).push(fn); };
  FakeCall.prototype.emit = function (name) { (this.handlers[name] || []).forEach(function (fn) { fn(); }); };
  FakeCall.prototype.disconnect = function () { this.emit("disconnect"); };
  FakeCall.prototype.sendDigits = function (d) { this.digits += d; };
  function FakeDevice(token) { this.token = token; }
  FakeDevice.prototype.on = function () {};
  FakeDevice.prototype.connect = function (options) {
    var call = new FakeCall(options.params);
    window.testCalls.push(call);
    return Promise.resolve(call);
  };
  window.testCalls = [];
  window.OfflineDevice = FakeDevice;
})();
"""


@pytest.fixture
def phone_page(page: Page) -> Iterator[tuple[Page, list[str]]]:
    """The page with the stand-in device (the simulator's script, if installed, is not loaded) and a list
    of the policy violations and script errors it reports."""
    problems: list[str] = []

    def on_console(message: ConsoleMessage) -> None:
        if "Content Security Policy" in message.text or "Refused to" in message.text:
            problems.append(message.text)

    page.add_init_script(REPORT_VIOLATIONS)
    page.add_init_script(FAKE_DEVICE)
    page.route(
        "**/console/static/phone_offline.js",
        lambda route: route.fulfill(body="", content_type="text/javascript"),
    )
    page.on("console", on_console)
    page.on("pageerror", lambda error: problems.append(f"page error: {error}"))
    yield page, problems


def presence(live_server: LiveServer, username: str) -> Presence | None:
    with live_server.runtime.db.transaction() as session:
        row = session.scalar(select(AgentPresence).join(Agent).where(Agent.username == username))
        return row.status if row else None


def wait_for_beats(page: Page, on_path: str, count: int) -> None:
    """Until the page at `on_path` has sent `count` heartbeats (the load's, then the return beat 5 s
    later, by which time the last page's beacon has surely been handled)."""
    beats: list[str] = []

    def note(response) -> None:
        if response.url.endswith("/console/phone/heartbeat") and on_path in (
            response.request.headers.get("referer") or ""
        ):
            beats.append(response.url)

    page.on("response", note)
    while len(beats) < count:
        page.wait_for_event("response", timeout=10_000)
    page.remove_listener("response", note)


def test_the_agent_sets_available_and_stays_so_across_pages(live_server: LiveServer, phone_page) -> None:
    page, problems = phone_page
    signed_in(live_server, page, "phone1")
    bar = page.locator("#phone-bar")
    expect(bar).to_have_attribute("data-phone-mode", "offline")
    expect(page.locator("#phone-status")).to_have_text("离开")

    page.get_by_role("button", name="置为空闲").click()

    expect(page.locator("#phone-status")).to_have_text("空闲")
    expect(bar).to_have_class("phone-bar phone-available")
    expect(page.get_by_role("button", name="置为空闲")).to_be_disabled()
    assert presence(live_server, "phone1") == Presence.AVAILABLE

    # Another console page: the page left sends its beacon (away), the new page's heartbeat undoes it.
    page.goto(f"{live_server.url}/console/jobs/")
    wait_for_beats(page, "/console/jobs/", 2)
    assert presence(live_server, "phone1") == Presence.AVAILABLE
    expect(page.locator("#phone-status")).to_have_text("空闲")

    page.get_by_role("button", name="置为离开").click()
    expect(page.locator("#phone-status")).to_have_text("离开")
    assert presence(live_server, "phone1") == Presence.AWAY
    page.get_by_role("button", name="置为空闲").click()
    expect(page.locator("#phone-status")).to_have_text("空闲")
    assert problems == []

    # The console closed: its beacon sets the agent away, and no page of theirs says otherwise.
    left = threading.Event()

    def handled(sender, response, **extra) -> None:
        if request.path == "/console/phone/left" and response.status_code == 204:
            left.set()

    request_finished.connect(handled, live_server.app)
    try:
        page.close()
        assert left.wait(timeout=10)
    finally:
        request_finished.disconnect(handled, live_server.app)
    assert presence(live_server, "phone1") == Presence.AWAY


def test_answer_next_pops_the_caller_and_the_call_is_wrapped_up(live_server: LiveServer, phone_page) -> None:
    page, problems = phone_page
    signed_in(live_server, page, "phone2")
    page.get_by_role("button", name="置为空闲").click()
    expect(page.locator("#phone-status")).to_have_text("空闲")

    # A caller of the district presses 0 and waits, having said they want three workers.
    with live_server.runtime.db.transaction() as session:
        market = Market(session)
        worker = market.worker("+8613700004321", name="赵师傅", site="LZ")
        call = Call(
            call_sid="CA" + "7" * 32, phone=worker.phone, worker_id=worker.id, answers={"headcount": "3"}
        )
        session.add(call)
        session.flush()
        ticket = open_ticket(session, TicketKind.AGENT_CALL, call=call)
        queue_caller(session, call, ticket, utcnow() - timedelta(seconds=20))
        ticket_id = ticket.id
    expect(page.locator("#phone-waiting")).to_have_text("1人等您接听")  # the bar's poll, no reload

    page.get_by_role("button", name="接听下一位").click()

    pop = page.locator("#phone-pop-card")
    expect(pop).to_contain_text("赵师傅")
    expect(pop.locator("#pop-answers")).to_contain_text("3")
    expect(pop.locator("#pop-answers")).to_contain_text("人数")
    expect(page.locator("#phone-status")).to_have_text("通话中")
    params = page.evaluate("window.testCalls[0].params")
    with live_server.runtime.db.transaction() as session:
        agent_call = session.scalars(select(AgentCall)).one()
        assert params == {"answer": str(agent_call.id)}
        calls.bind_answered(session, agent_call, call.call_sid, utcnow())  # what the simulator does
    page.evaluate("window.testCalls[0].emit('accept')")
    expect(page.locator("#phone-call-state")).to_have_text("通话中")
    page.locator("#phone-digits").fill("1")
    page.locator("#phone-digits").dispatch_event("input")
    assert page.evaluate("window.testCalls[0].digits") == "1"

    page.get_by_role("button", name="挂断").click()

    expect(page.locator("#phone-status")).to_have_text("话后整理")
    pop.get_by_label("处理结果").select_option("called")
    pop.get_by_label("备注").fill("已约明早派工")
    pop.get_by_role("button", name="关闭工单").click()
    expect(page.locator("#phone-status")).to_have_text("空闲")
    expect(page.locator("#phone-message")).to_have_text(f"工单#{ticket_id}已关闭。")
    expect(page.locator("#phone-pop")).to_be_hidden()
    with live_server.runtime.db.transaction() as session:
        resolved = session.get(Ticket, ticket_id)
        assert resolved is not None and (resolved.status, resolved.outcome) == (
            TicketStatus.RESOLVED,
            "called",
        )
        agent_call = session.scalars(select(AgentCall)).one()
        assert (agent_call.dial_status, agent_call.outcome, agent_call.note) == (
            "completed",
            "called",
            "已约明早派工",
        )
    assert problems == []


def test_click_to_call_from_a_workers_page(live_server: LiveServer, phone_page) -> None:
    page, problems = phone_page
    signed_in(live_server, page, "phone3")
    with live_server.runtime.db.transaction() as session:
        worker = Market(session).worker("+8613700008765", name="钱师傅", site="LZ")
        worker_id = worker.id
    page.goto(f"{live_server.url}/console/people/workers/{worker_id}")
    page.locator("form[data-phone-dial]").get_by_role("button", name="拨打").click()

    expect(page.locator("#phone-pop-card")).to_contain_text("外呼")
    expect(page.locator("#phone-status")).to_have_text("通话中")
    with live_server.runtime.db.transaction() as session:
        agent_call = session.scalars(select(AgentCall)).one()
        assert (agent_call.phone, agent_call.worker_id) == ("+8613700008765", worker_id)
    assert page.evaluate("window.testCalls[0].params") == {"dial": str(agent_call.id)}
    page.evaluate("window.testCalls[0].disconnect()")  # nobody answered
    expect(page.locator("#phone-status")).to_have_text("话后整理")
    page.locator("#phone-pop-card").get_by_label("处理结果").select_option("no_answer")
    page.locator("#phone-pop-card").get_by_role("button", name="保持未完成").click()
    expect(page.locator("#phone-status")).to_have_text("空闲")
    with live_server.runtime.db.transaction() as session:
        agent_call = session.scalars(select(AgentCall)).one()
        assert (agent_call.dial_status, agent_call.outcome) == ("canceled", "no_answer")
        ticket = session.get(Ticket, agent_call.ticket_id)
        assert ticket is not None and ticket.status == TicketStatus.OPEN  # the attempt on record
    assert problems == []


@pytest.mark.skipif(
    not vendor.sdk_available(), reason="the Voice SDK was not fetched (scripts/run fetches it)"
)
def test_twilio_mode_loads_the_voice_sdk_under_the_policy(
    live_server: LiveServer, page: Page, monkeypatch
) -> None:
    """With an API key the page loads the vendored Twilio.Device (no eval, nothing inline) and no
    offline device; no call is placed (that needs a Twilio account)."""
    problems: list[str] = []
    page.add_init_script(REPORT_VIOLATIONS)
    page.on(
        "console",
        lambda message: problems.append(message.text) if "Content Security Policy" in message.text else None,
    )
    page.on("pageerror", lambda error: problems.append(f"page error: {error}"))
    keys = {
        "TWILIO_API_KEY": "SK" + "c3" * 16,
        "TWILIO_API_SECRET": "s" * 32,
        "TWILIO_TWIML_APP_SID": "AP" + "d4" * 16,
    }
    monkeypatch.setattr(live_server.runtime, "settings", replace(live_server.runtime.settings, **keys))
    signed_in(live_server, page, "phone4")
    expect(page.locator("#phone-bar")).to_have_attribute("data-phone-mode", "twilio")
    page.wait_for_load_state("load")  # the SDK is a deferred script: run by the load event (CI under load)
    assert page.evaluate("typeof window.Twilio.Device") == "function"
    assert page.evaluate("typeof window.OfflineDevice") == "undefined"
    token = page.evaluate("fetch('/console/phone/token').then(function (r) { return r.json(); })")
    with live_server.runtime.db.transaction() as session:
        agent_id = session.scalar(select(Agent.id).where(Agent.username == "phone4"))
    assert (token["mode"], token["identity"]) == ("twilio", f"agent_{agent_id}")
    assert problems == []


# Twilio mode's device as a stand-in (no account): a Twilio.Device whose connect fails, and the
# microphone allowed or refused as the test says (window.testMicrophone).
FAILING_TWILIO = """
(function () {
  function FailingDevice(token) { this.token = token; }
  FailingDevice.prototype.on = function () {};
  FailingDevice.prototype.connect = function () {
    window.testConnects = (window.testConnects || 0) + 1;
    return Promise.reject(new Error("token rejected"));
  };
  window.Twilio = { Device: FailingDevice };
  var media = navigator.mediaDevices || {};
  media.getUserMedia = function () {
    if (window.testMicrophone === "refused") { return Promise.reject(new Error("NotAllowedError")); }
    return Promise.resolve({ getTracks: function () { return []; } });
  };
  if (!navigator.mediaDevices) { Object.defineProperty(navigator, "mediaDevices", { value: media }); }
})();
"""
TWILIO_KEYS = {
    "TWILIO_API_KEY": "SK" + "c3" * 16,
    "TWILIO_API_SECRET": "s" * 32,
    "TWILIO_TWIML_APP_SID": "AP" + "d4" * 16,
}


def _a_caller_waiting(live_server: LiveServer, sid: str) -> None:
    with live_server.runtime.db.transaction() as session:
        call = Call(call_sid=sid, phone="+8613700004999", answers={})
        session.add(call)
        session.flush()
        queue_caller(session, call, None, utcnow() - timedelta(seconds=20))


def _twilio_phone(live_server: LiveServer, page: Page, monkeypatch, username: str) -> list[str]:
    problems: list[str] = []
    page.on("pageerror", lambda error: problems.append(f"page error: {error}"))
    page.add_init_script(FAILING_TWILIO)
    page.route(
        "**/console/static/vendor/twilio.min.js",
        lambda route: route.fulfill(body="", content_type="text/javascript"),
    )
    monkeypatch.setattr(live_server.runtime, "settings", replace(live_server.runtime.settings, **TWILIO_KEYS))
    signed_in(live_server, page, username)
    expect(page.locator("#phone-bar")).to_have_attribute("data-phone-mode", "twilio")
    page.get_by_role("button", name="置为空闲").click()
    expect(page.locator("#phone-status")).to_have_text("空闲")
    return problems


def test_a_refused_microphone_reserves_no_caller(live_server: LiveServer, page: Page, monkeypatch) -> None:
    """The softphone is made ready (device and microphone) before "answer next" reserves anyone."""
    problems = _twilio_phone(live_server, page, monkeypatch, "phone5")
    _a_caller_waiting(live_server, "CA" + "5" * 32)
    page.evaluate("window.testMicrophone = 'refused'")
    expect(page.locator("#phone-waiting")).to_have_text("1人等您接听")
    page.get_by_role("button", name="接听下一位").click()
    expect(page.locator("#phone-message")).to_have_text("请允许使用麦克风，才能接听电话。")
    with live_server.runtime.db.transaction() as session:
        assert session.scalars(select(AgentCall)).all() == []
    assert presence(live_server, "phone5") == Presence.AVAILABLE
    assert page.evaluate("window.testConnects || 0") == 0
    assert problems == []


def test_a_softphone_that_fails_to_connect_gives_the_caller_back(
    live_server: LiveServer, page: Page, monkeypatch
) -> None:
    """Twilio mode, the device's connect fails (a token refused): the page reports the call abandoned,
    so the caller reserved for it waits again and the agent wraps up, rather than both stuck."""
    problems = _twilio_phone(live_server, page, monkeypatch, "phone6")
    _a_caller_waiting(live_server, "CA" + "6" * 32)
    expect(page.locator("#phone-waiting")).to_have_text("1人等您接听")
    page.get_by_role("button", name="接听下一位").click()
    expect(page.locator("#phone-status")).to_have_text("话后整理")
    assert page.evaluate("window.testConnects") == 1
    with live_server.runtime.db.transaction() as session:
        agent_call = session.scalars(select(AgentCall)).one()
        assert (agent_call.dial_status, agent_call.ended_at is not None) == ("failed", True)
        queued = session.scalars(select(QueuedCall)).one()
        assert (queued.status, queued.answered_by_id) == (WaitStatus.WAITING, None)
    assert problems == []
