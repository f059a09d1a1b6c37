"""No phone number in full in any log line, and a quiet first run (issue 13, points 2 and 10).

The busy day's scan runs with dispatch.logs' masking filter taken off everywhere, so it proves that the
code logs no number, not merely that the filter hides them; the filter is tested on its own. The
development server and gunicorn run as processes of their own with their real log set-up.
"""

from __future__ import annotations

import ast
import io
import logging
import re
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

import dispatch
from dispatch.logs import (
    FORMAT,
    POLLS,
    MaskPhoneNumbers,
    QuietAccessLog,
    QuietRequests,
    configure_logging,
    mask_numbers,
)
from dispatch.settings import PROJECT_ROOT
from tests.console.conftest import signed_in
from tests.console.helpers import csrf_token, make_agent
from tests.console.people.conftest import People
from tests.helpers import first_run_env, run_dispatch
from tests.simulation import days_shared

# A number in full: E.164 (also URL-encoded), a CN mobile of 11 digits, or one spaced as shown; not a
# run of digits inside a random id (the outbox transport's OB56a15806922248d8... holds one by chance).
IN_FULL = re.compile(
    r"(?:\+|%2B)\d{7,}"
    r"|(?<![0-9A-Za-z])1[3-9]\d{9}(?![0-9A-Za-z])"
    r"|(?<![0-9A-Za-z])1[3-9]\d[ -]\d{4}[ -]\d{4}(?![0-9A-Za-z])",
    re.IGNORECASE,
)
KNOWN = "+8613800138000"


@pytest.fixture
def every_line() -> Iterator[list[str]]:
    """Every line the process logs, unmasked (tests/simulation/days_shared.every_line)."""
    with days_shared.every_line() as lines:
        yield lines


def leaks(lines: list[str]) -> list[str]:
    return [line for line in lines if IN_FULL.search(line)]


def test_a_busy_day_logs_no_phone_number_in_full(every_line: list[str]) -> None:
    logging.getLogger("tests.control").info("a number logged in full: %s", KNOWN)
    assert leaks(every_line) == [every_line[-1]]  # the scan sees a number, and nothing masks it

    # The session's small day and voice day (tests/simulation/days_shared.py), each run once under
    # the same capture as this test's control line.
    small, voice = days_shared.small_day(), days_shared.voice_day()
    report = small.day.report

    # The days went through registration, calls, SMS requests, offers, opt-outs, give-backs, quiet
    # hours, follow-ups, offers by call and the worker line: every path that handles a number.
    assert report["sms_sent"] >= 100 and report["people_calls"] >= 1 and report["people_sms_requests"] >= 1
    assert report["people_opt_outs"] >= 1 and report["people_cancellations"] >= 1
    assert report["quiet_hours_held"] >= 1 and report["follow_ups_asked"] >= 1
    voiced = voice.day.report
    assert voiced["calls_offer_calls_answered"] >= 1 and voiced["calls_worker_line_calls"] >= 1
    for lines in (small.lines, voice.lines):
        assert len(lines) >= 500, "the day logged too little to prove anything"
        assert any("rq." in line for line in lines) and any(" INFO dispatch." in line for line in lines)
        assert leaks(lines) == []


def test_console_lookups_post_the_number_and_log_none(app, session, seeded, every_line) -> None:
    people = People(session)
    worker = people.worker(KNOWN, name="李明")
    people.employer("+8613700137000", name="鑫源装饰")
    client = signed_in(app, make_agent(session, "district1", "agent", "LZ"))
    for path in ("/console/people/search", "/console/intake/job"):
        html = client.get(path).get_data(as_text=True)
        assert 'method="get"' not in html and 'hx-get="/console/intake/employer' not in html, path
    intake = client.get("/console/intake/job").get_data(as_text=True)
    assert 'hx-post="/console/intake/employer"' in intake
    search = client.get("/console/people/search").get_data(as_text=True)
    assert search.count('method="post" action="/console/people/search"') == 2  # the header's and the page's

    token = csrf_token(client)
    found = client.post("/console/people/search", data={"q": "138 0013 8000", "csrf_token": token})
    assert found.headers["Location"] == f"/console/people/workers/{worker.id}"
    card = client.post(
        "/console/intake/employer", data={"phone": "13700137000"}, headers={"X-CSRF-Token": token}
    )
    assert "鑫源装饰" in card.get_data(as_text=True)
    assert leaks(every_line) == []  # (the lookups log nothing today; nothing with a number, ever)


# -- the filter, the request lines ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "masked"),
    [
        ("to +8613800138000.", "to 138****8000."),
        ("13800138000", "138****8000"),
        ("电话13800138000。", "电话138****8000。"),
        ("138 0013 8000 and +86 138-0013-8000", "138****8000 and 138****8000"),
        ("GET /sim/phone/%2B8613800138000/messages", "GET /sim/phone/138****8000/messages"),
        ("+14155550100", "141****0100"),
        ("Key (phone)=(+8613800138000) already exists", "Key (phone)=(138****8000) already exists"),
    ],
)
def test_the_filter_masks_every_form_of_a_number(text: str, masked: str) -> None:
    assert mask_numbers(text) == masked
    assert not IN_FULL.search(masked)


@pytest.mark.parametrize(
    "text",
    [
        "SM0123456789012345678901234567890a",  # a Twilio sid
        "job 12345 took 0.13800138000123 s",  # a decimal
        "2026-06-10 12:00:00,123",
        "CA13800138000ffffffffffffffffffffff",
    ],
)
def test_the_filter_leaves_ids_times_and_decimals(text: str) -> None:
    assert mask_numbers(text) == text


def test_the_filter_masks_arguments_tracebacks_and_stacks() -> None:
    logger = logging.getLogger("tests.logs.masking")
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(logging.Formatter(FORMAT))
    handler.addFilter(MaskPhoneNumbers())
    logger.addHandler(handler)
    logger.propagate = False
    try:
        logger.warning("SMS to %s: %d%%", KNOWN, 50)
        try:
            raise ValueError(f"duplicate key {KNOWN}")
        except ValueError:
            logger.exception("insert failed for %s", "13800138000")
        logger.info("where", stack_info=True, extra={"ignored": KNOWN})
        logger.info("bad format %s %s", KNOWN)  # too few arguments: still logged, still masked
    finally:
        logger.removeHandler(handler)
    text = stream.getvalue()
    assert "SMS to 138****8000: 50%" in text
    assert "ValueError: duplicate key 138****8000" in text and "Traceback" in text
    assert "insert failed for 138****8000" in text
    assert not IN_FULL.search(text)


def test_configure_logging_quiets_and_masks_in_a_process_of_its_own() -> None:
    """The root format, INFO, the masking on the root's handler and on gunicorn's loggers, alembic and
    Twilio's HTTP client quiet; idempotent."""
    script = f"""
import logging
from dispatch.logs import configure_logging
configure_logging(); configure_logging()
root = logging.getLogger()
assert len(root.handlers) == 1 and len(root.handlers[0].filters) == 1, root.handlers
assert root.level == logging.INFO
logging.getLogger("dispatch.x").info("texted %s", "{KNOWN}")
logging.getLogger("dispatch.x").debug("not at INFO")
logging.getLogger("alembic.runtime.migration").info("Running upgrade 0001 -> 0002")
logging.getLogger("twilio.http_client").info("POST To={KNOWN}")
logging.getLogger("gunicorn.error").propagate = False
logging.getLogger("gunicorn.error").addHandler(logging.StreamHandler())
logging.getLogger("gunicorn.error").info("booting %s", "{KNOWN}")
configure_logging(debug=True)
logging.getLogger("dispatch.x").debug("at DEBUG now")
logging.getLogger("alembic.runtime.migration").info("alembic talks with --debug")
"""
    result = subprocess.run(
        [sys.executable, "-c", script],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=PROJECT_ROOT,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    lines = result.stderr.splitlines()
    assert re.match(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3} INFO dispatch\.x: ", lines[0]), lines
    assert [re.sub(r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3} ", "", line) for line in lines] == [
        "INFO dispatch.x: texted 138****8000",
        "booting 138****8000",  # gunicorn's own handler, the filter on its logger
        "DEBUG dispatch.x: at DEBUG now",
        "INFO alembic.runtime.migration: alembic talks with --debug",
    ]


def _request_record(line: str, status: int) -> logging.LogRecord:
    """A record as werkzeug's request handler makes it."""
    return logging.LogRecord(
        "werkzeug", logging.INFO, __file__, 1, '127.0.0.1 - - [date] "%s" %s %s', (line, status, "-"), None
    )


def test_the_development_servers_polls_are_quiet_and_its_paths_have_no_query() -> None:
    quiet = QuietRequests()
    assert not quiet.filter(_request_record("GET /console/tickets/rows?view=open HTTP/1.1", 200))
    assert not quiet.filter(_request_record("GET /sim/phone/+8613800138000/messages?v=3 HTTP/1.1", 204))
    assert not quiet.filter(_request_record("GET /console/people/workers/7/timeline HTTP/1.1", 200))
    failed = _request_record("GET /console/tickets/rows HTTP/1.1", 500)
    assert quiet.filter(failed) and failed.getMessage().endswith('"GET /console/tickets/rows HTTP/1.1" 500 -')
    typed = _request_record("GET /console/people/search?q=13800138000 HTTP/1.1", 200)
    assert quiet.filter(typed) and typed.getMessage().endswith('"GET /console/people/search HTTP/1.1" 200 -')
    banner = logging.LogRecord("werkzeug", logging.INFO, __file__, 1, "Press CTRL+C to quit", (), None)
    assert quiet.filter(banner)


def test_gunicorns_access_lines_drop_polls_queries_and_referrers() -> None:
    access = QuietAccessLog()
    fmt = '"%(r)s" %(s)s %(q)s "%(f)s"'

    def record(path: str, status: str, query: str = "", referer: str = "-") -> logging.LogRecord:
        atoms = {"m": "GET", "U": path, "q": query, "H": "HTTP/1.1", "s": status, "f": referer}
        atoms["r"] = f"GET {path}{'?' + query if query else ''} HTTP/1.1"
        return logging.LogRecord("gunicorn.access", logging.INFO, __file__, 1, fmt, (atoms,), None)

    assert not access.filter(record("/console/tickets/rows", "200", "view=open"))
    kept = record("/console/people/search", "200", "q=13800138000", "https://x/console/people/search?q=138")
    assert access.filter(kept)
    assert (
        kept.getMessage() == '"GET /console/people/search HTTP/1.1" 200 - "https://x/console/people/search"'
    )
    assert access.filter(record("/console/tickets/rows", "502"))
    assert POLLS.match("/sim/phone/+8613800138000/messages") and not POLLS.match("/console/tickets/")


# -- the code itself ----------------------------------------------------------------------------------

LOG_METHODS = {"debug", "info", "warning", "error", "exception", "critical", "log"}
PHONE_NAMES = re.compile(r"(^|_|\.)(phone|phones|number|msisdn|caller|sender|recipient|to|from_?)($|_)", re.I)


def test_no_log_call_passes_a_phone_number_unmasked() -> None:
    """Any log call's argument that names a phone (phone, number, to, ...) goes through mask_phone."""
    offending = []
    package = Path(dispatch.__file__).parent
    for path in sorted(package.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)):
                continue
            if node.func.attr not in LOG_METHODS or not ast.unparse(node.func.value).endswith("log"):
                continue
            for argument in node.args[1:]:
                names = [
                    ast.unparse(n) for n in ast.walk(argument) if isinstance(n, ast.Name | ast.Attribute)
                ]
                masked = "mask_phone(" in ast.unparse(argument)
                if not masked and any(PHONE_NAMES.search(name.split(".")[-1]) for name in names):
                    offending.append(f"{path.relative_to(package)}:{node.lineno}: {ast.unparse(argument)}")
    assert offending == []


# -- processes of their own: the first run's commands, the development server, gunicorn -------------


@pytest.fixture(scope="module")
def migrated(tmp_path_factory) -> tuple[dict[str, str], subprocess.CompletedProcess[str]]:
    database = tmp_path_factory.mktemp("first-run") / "dispatch.sqlite3"
    env = first_run_env(database)
    return env, run_dispatch(env, "db", "upgrade", timeout=120)


def test_db_upgrade_on_a_fresh_database_prints_a_line_or_two(migrated) -> None:
    """Needs dispatch/cli.py to call dispatch.logs.configure_logging at start-up (alembic at WARNING);
    with cli.py's old logging.basicConfig this shows alembic's INFO lines, one per revision."""
    _, result = migrated
    assert result.returncode == 0, result.stderr
    printed = (result.stdout + result.stderr).strip().splitlines()
    assert 1 <= len(printed) <= 2, printed
    assert "alembic" not in result.stderr


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class _NoRedirects(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        return None  # the 302 itself is the answer


_OPENER = urllib.request.build_opener(_NoRedirects)


def _get(url: str) -> int:
    try:
        with _OPENER.open(url, timeout=10) as response:
            return response.status
    except urllib.error.HTTPError as error:
        return error.code


def _serve(command: list[str], env: dict[str, str], port: int) -> str:
    """Start the server, make the requests of a lookup, polls and a path with a number; its output."""
    server = subprocess.Popen(
        command, env=env, cwd=PROJECT_ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while _get_or_none(f"{base}/healthz") != 200:
            assert server.poll() is None and time.monotonic() < deadline, "the server did not start"
            time.sleep(0.1)
        for _ in range(3):
            assert _get(f"{base}/sim/phone/%2B8613800138000/messages?v=x") == 200  # a poll
        assert _get(f"{base}/console/people/search?q=13800138000") == 302  # a bookmarked lookup
        assert _get(f"{base}/console/intake/employer?phone=%2B8613700137000") == 302
        assert _get(f"{base}/sim/phone/%2B8613900139000") == 200
        assert _get(f"{base}/no/such/page/13600136000") == 404
    finally:
        server.terminate()
        output, _ = server.communicate(timeout=20)
    return output


def _get_or_none(url: str) -> int | None:
    try:
        return _get(url)
    except OSError:
        return None


def _assert_private_and_quiet(output: str) -> None:
    assert "/console/people/search" in output and "/console/intake/employer" in output, output
    assert "/no/such/page/136****6000" in output and "139****9000" in output, output
    assert "/messages" not in output, "a successful poll was logged"
    assert "?" not in "".join(line for line in output.splitlines() if "GET /" in line), "a query string"
    assert leaks(output.splitlines()) == [], output


def test_the_development_server_logs_no_number_no_query_and_no_poll(migrated) -> None:
    env, upgraded = migrated
    assert upgraded.returncode == 0, upgraded.stderr
    port = _free_port()
    output = _serve([sys.executable, "-m", "dispatch.cli", "serve", "--port", str(port)], env, port)
    _assert_private_and_quiet(output)


def test_gunicorn_logs_no_number_no_query_and_no_poll(migrated) -> None:
    """config/gunicorn.conf.py as in production: its access-log format and its post_fork hook."""
    env, upgraded = migrated
    assert upgraded.returncode == 0, upgraded.stderr
    port = _free_port()
    env = {**env, "BIND": f"127.0.0.1:{port}", "WEB_CONCURRENCY": "1"}
    gunicorn = [sys.executable, "-m", "gunicorn", "-c", "config/gunicorn.conf.py", "dispatch.wsgi:app"]
    output = _serve([*gunicorn, "--no-control-socket"], env, port)
    access = [line for line in output.splitlines() if '"GET /' in line]
    assert access, output
    assert all(re.search(r'"GET /\S* HTTP/1\.1" \d{3} \d+ \d+ms "', line) for line in access), access
    _assert_private_and_quiet(output)


def test_a_traceback_from_the_app_is_masked_too() -> None:
    """The safety net catches what the code did not mean to log: an exception's text."""
    record = logging.LogRecord("dispatch.x", logging.ERROR, __file__, 1, "failed", (), None)
    try:
        raise RuntimeError("DETAIL:  Key (phone)=(+8613800138000) already exists.")
    except RuntimeError:
        record.exc_info = sys.exc_info()
    MaskPhoneNumbers().filter(record)
    assert "138****8000" in record.exc_text and not IN_FULL.search(record.exc_text)


def test_configure_logging_in_this_process_keeps_the_runner_handlers(every_line) -> None:
    """configure_logging() adds no second handler where one is already on the root (a test runner's)."""
    before = list(logging.getLogger().handlers)
    configure_logging()
    try:
        assert logging.getLogger().handlers == before
        logging.getLogger("dispatch.x").info("texted %s", KNOWN)
        assert every_line[-1].endswith("texted 138****8000")  # the masking filter is on the runner's
    finally:
        for handler in logging.getLogger().handlers:
            handler.filters = [f for f in handler.filters if not isinstance(f, MaskPhoneNumbers)]
