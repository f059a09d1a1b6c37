"""Browser fixtures: the real app served over HTTP from a thread; Debian's Chromium driven by Playwright.

`live_server` serves `create_app(runtime=...)` on the `committed` runtime (real PostgreSQL with
committed data, real Redis, seeded; tables emptied after the test), so the browser, webhooks posted
by the test and the test's own sessions all see the same rows. RQ jobs do not run by themselves:
a test calls `tests.helpers.run_jobs(live_server.runtime)` where the real worker would have run
them, which keeps each step deterministic.

Playwright's own browser download does not work here, so the browser is /usr/bin/chromium (Debian's
`chromium` package; .ci/run installs it). Without it the browser tests are skipped loudly, or fail
the run when DISPATCH_REQUIRE_SERVICES=1 (CI).
"""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from flask import Flask, got_request_exception
from werkzeug.serving import BaseWSGIServer, make_server

from dispatch import create_app
from dispatch.runtime import Runtime
from tests.conftest import _loud, _require_services

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
]
TIMEOUT_MS = 10_000  # longer than the queue page's polling interval, short enough to fail fast

try:
    from playwright.sync_api import Browser, Page, expect, sync_playwright
except ImportError:  # the test extra is not installed; reported by the `browser` fixture
    sync_playwright = None  # type: ignore[assignment]
else:
    expect.set_options(timeout=TIMEOUT_MS)


def _unavailable(reason: str) -> None:
    if _require_services():
        pytest.fail(f"browser tests need {reason} (DISPATCH_REQUIRE_SERVICES=1)", pytrace=False)
    _loud(f"{reason}: SKIPPING THE BROWSER TESTS")
    pytest.skip(reason)


@dataclass
class LiveServer:
    url: str
    runtime: Runtime
    app: Flask
    errors: list[BaseException] = field(default_factory=list)


@pytest.fixture
def live_server(committed: tuple[Runtime, Flask], monkeypatch: pytest.MonkeyPatch) -> Iterator[LiveServer]:
    """The real app on a free 127.0.0.1 port, served by werkzeug from a background thread."""
    runtime, _ = committed
    # The queue and the floor board poll every 3 and 5 s; 1 s here, so that a test waiting for the
    # page to show a change waits a second, not a whole interval (as test_hall_screen does for the hall).
    from dispatch.console.floor import views as floor_views
    from dispatch.console.tickets import views as ticket_views

    monkeypatch.setattr(floor_views, "POLL_SECONDS", 1)
    monkeypatch.setattr(ticket_views, "POLL_SECONDS", 1)
    app = create_app(runtime=runtime)
    server: BaseWSGIServer = make_server("127.0.0.1", 0, app, threaded=True)
    live = LiveServer(url=f"http://127.0.0.1:{server.server_port}", runtime=runtime, app=app)

    # A view that raised shows the browser an error page; keep the exception so the test fails with
    # the server's traceback instead of a timeout on a missing element.
    def note_error(sender: Flask, exception: BaseException, **extra: Any) -> None:
        live.errors.append(exception)

    got_request_exception.connect(note_error, app)
    thread = threading.Thread(target=server.serve_forever, name="live-server", daemon=True)
    thread.start()
    try:
        yield live
    finally:
        server.shutdown()
        thread.join(timeout=10)
        server.server_close()
        got_request_exception.disconnect(note_error, app)
    if live.errors:
        pytest.fail(f"the live server raised: {live.errors!r}")


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    """One headless Chromium for the whole run."""
    if sync_playwright is None:
        _unavailable("the playwright package is not installed (pip install -e '.[test]')")
    if not os.access(CHROMIUM, os.X_OK):
        _unavailable(f"{CHROMIUM} is missing (apt-get install chromium)")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo) -> Iterator[None]:
    # Keep each phase's report on the test, for the screenshot on failure below.
    report = yield
    setattr(item, f"report_{report.when}", report)
    return report


@pytest.fixture
def page(browser: Browser, request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Page]:
    """A fresh context (no cookies) and page per test; a failing test leaves a screenshot in tmp_path."""
    context = browser.new_context(
        locale="zh-CN", timezone_id="Asia/Shanghai", viewport={"width": 1280, "height": 800}
    )
    context.set_default_timeout(TIMEOUT_MS)
    page = context.new_page()
    yield page
    report = getattr(request.node, "report_call", None)
    if report is not None and report.failed:
        shot = tmp_path / "failure.png"
        try:
            page.screenshot(path=str(shot), full_page=True)
            print(f"\nscreenshot of the failing page ({page.url}): {shot}")
        except Exception as exc:  # the page may be gone; the test's own failure is what matters
            print(f"\nno screenshot: {exc}")
    context.close()
