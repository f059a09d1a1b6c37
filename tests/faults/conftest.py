"""The fault suite's stack fixture, its report and its diagnostics.

One stack per session (PostgreSQL, Redis, gunicorn, `dispatch worker`, fake Twilio: see stack.py),
brought back to health before every test, stopped at the end whatever happened. Each test is one row of
issue 12's table ("Nothing lost, nothing sent twice"); the rows are printed at the end of the session
and, when FAULT_REPORT names a file, written there as JSON.

Figures of a row: sent = webhooks posted; stored = of those, inbound rows holding their MessageSid;
delivered = expected replies (one per text) present at the fake Twilio; lost = sent - (stored, answered
200 within Twilio's 15 s, and replied to), counted per sender; duplicated = messages at the fake beyond
the replies expected (or second reply rows to one text); recovery = seconds from the end of the fault
until everything was stored and delivered (each test says what "end" and "everything" are for its row).

When a test fails, the tails of the service logs are attached to its report (phone numbers masked).
Set FAULT_KEEP_DIR=1 to keep the stack's directory (logs, spool, cluster) after the session.
"""

from __future__ import annotations

import atexit
import importlib.util
import itertools
import os
import shutil
import signal
import sys
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path
from types import FrameType

import pytest

from tests.faults.report import ROWS, table, write_json
from tests.faults.services import postgres_bindir, redis_binary
from tests.faults.stack import Stack

REPO = Path(__file__).resolve().parents[2]
_current: Stack | None = None
_kept: list[Path] = []  # stack directories kept (FAULT_KEEP_DIR), named in the summary
_blocks = itertools.count(1001)


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "fault(row): a row of issue 12's fault table, e.g. fault('1')")


def _row_of(item: pytest.Item) -> str:
    mark = item.get_closest_marker("fault")
    return str(mark.args[0]) if mark is not None and mark.args else "~"


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Run the fault tests in the table's order, row 0 (no fault: the harness itself) first; they keep
    their places among the rest of the suite's tests."""
    slots = [index for index, item in enumerate(items) if item.get_closest_marker("fault") is not None]
    ordered = sorted((items[index] for index in slots), key=_row_of)
    for index, item in zip(slots, ordered, strict=True):
        items[index] = item


def _missing_services() -> list[str]:
    missing = []
    if redis_binary() is None:
        missing.append("redis-server")
    if postgres_bindir() is None:
        missing.append("PostgreSQL server binaries (/usr/lib/postgresql/<ver>/bin: initdb, pg_ctl, postgres)")
    if importlib.util.find_spec("gunicorn") is None:
        missing.append("gunicorn (in this virtualenv)")
    if os.geteuid() == 0 and shutil.which("runuser") is None:
        missing.append("runuser (initdb refuses to run as root)")
    return missing


def _interrupt(signum: int, _frame: FrameType | None) -> None:
    raise KeyboardInterrupt(f"signal {signum}")


@pytest.fixture(scope="session")
def stack() -> Iterator[Stack]:
    missing = _missing_services()
    if missing:
        reason = "FAULT SUITE NOT RUN: missing " + "; ".join(missing)
        if os.environ.get("DISPATCH_REQUIRE_SERVICES", "") in {"1", "true", "yes"}:
            pytest.fail(reason + " (DISPATCH_REQUIRE_SERVICES=1)", pytrace=False)
        print(f"\n{'!' * 100}\n{reason}\n{'!' * 100}", file=sys.stderr)
        pytest.skip(reason)
    base = Path(tempfile.mkdtemp(prefix="dispatch-faults-"))
    base.chmod(0o755)  # the cluster's user must reach its directory inside
    global _current
    _current = built = Stack(REPO, base)
    atexit.register(built.stop)  # an interrupted session still stops its processes
    # CI stops a job with SIGTERM: make it an interrupt, so that pytest tears the stack down as for Ctrl-C.
    previous = signal.signal(signal.SIGTERM, _interrupt)
    try:
        built.start()
        yield built
    finally:
        built.stop()
        signal.signal(signal.SIGTERM, previous)
        _current = None
        if os.environ.get("FAULT_KEEP_DIR") in {"1", "true", "yes"}:
            _kept.append(base)
        else:
            shutil.rmtree(base, ignore_errors=True)


@pytest.fixture(autouse=True)
def healthy_stack(stack: Stack) -> Stack:
    """Every test starts from a healthy stack with one worker, so order does not matter."""
    stack.restore(workers=1)
    return stack


@pytest.fixture
def phones() -> Callable[[int], str]:
    """Sender numbers of this test's own: phones(i) -> +86138BBBBIIII, a block per test."""
    block = next(_blocks)
    return lambda index: f"+86138{block:04d}{index:04d}"


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Iterator[None]:
    report = yield
    if report.failed and _current is not None and not _current.stopped:
        try:
            report.sections.append(("fault stack logs (tails)", _current.log_tails()))
        except Exception as exc:  # diagnostics must never hide the failure itself
            report.sections.append(("fault stack logs (tails)", f"could not read the logs: {exc!r}"))
    return report


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    if not ROWS:
        return
    terminalreporter.write_sep("=", "fault suite: issue 12, nothing lost, nothing sent twice")
    terminalreporter.write_line(table(ROWS))
    target = os.environ.get("FAULT_REPORT")
    if target:
        write_json(ROWS, Path(target))
        terminalreporter.write_line(f"fault rows written to {target}")
    for kept in _kept:
        terminalreporter.write_line(f"fault stack directory kept at {kept} (logs/, spool/, pg/)")
