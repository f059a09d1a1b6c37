"""The console's security headers and no-store, set in one place: on every page an agent can open, on
its fragments and errors, on the sign-in page and on the simulator's pages; static files may be cached."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from flask import Flask
from sqlalchemy import select

import dispatch
from dispatch.console import CONTENT_SECURITY_POLICY
from dispatch.models import Ticket
from tests.console.conftest import signed_in
from tests.console.helpers import make_agent
from tests.console.people.conftest import People
from tests.helpers import text_in

SECURITY = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
}
PACKAGE = Path(dispatch.__file__).parent
REFUSED = re.compile(r"""\son[a-z]+\s*=|\sstyle\s*=|<style|javascript:|hx-on|['"]js:""", re.IGNORECASE)
ALLOWED_SCRIPT = re.compile(r"""<script [^>]*(src=|type="application/json")""")


def assert_private(response, path: str) -> None:
    for name, value in SECURITY.items():
        assert response.headers.get(name) == value, f"{path}: {name}"
    assert response.headers.get("Cache-Control") == "no-store", path
    assert "Strict-Transport-Security" not in response.headers, f"{path}: HSTS over plain http"


def console_pages(app: Flask) -> list[str]:
    """Every console GET route without parameters, from the app's own URL map."""
    paths = []
    for rule in app.url_map.iter_rules():
        if rule.endpoint.startswith("console.") and "GET" in (rule.methods or ()) and not rule.arguments:
            paths.append(rule.rule)
    return sorted(paths)


def test_the_policy_is_same_origin_only() -> None:
    directives = dict(part.strip().split(" ", 1) for part in CONTENT_SECURITY_POLICY.split(";"))
    assert directives["default-src"] == "'self'"
    assert directives["frame-ancestors"] == "'none'" and directives["object-src"] == "'none'"
    assert directives["base-uri"] == "'self'" and directives["form-action"] == "'self'"
    assert "unsafe-inline" not in CONTENT_SECURITY_POLICY and "unsafe-eval" not in CONTENT_SECURITY_POLICY


def test_every_console_page_an_admin_opens_carries_the_headers(app, session, seeded) -> None:
    client = signed_in(app, make_agent(session, "admin1", "admin", "LZ"))
    paths = console_pages(app)
    assert {"/console/tickets/", "/console/intake/job", "/console/people/search", "/console/reports/"} <= set(
        paths
    )
    for path in paths:
        response = client.get(path)
        assert response.status_code < 500, path
        assert_private(response, path)


def test_pages_with_ids_fragments_and_errors_carry_them(app, client, session, seeded, agent) -> None:
    people = People(session)
    worker = people.worker("+8613800138000", name="李明")
    employer = people.employer("+8613700137000", name="鑫源装饰")
    job = people.job(employer)
    text_in(client, "asdf qwer", sender="+8613911112222")  # an unreadable text: a ticket
    ticket_id = session.scalar(select(Ticket.id).order_by(Ticket.id.desc()))
    assert ticket_id is not None
    agent_client = signed_in(app, agent)
    paths = [
        f"/console/people/workers/{worker.id}",
        f"/console/people/employers/{employer.id}",
        f"/console/people/workers/{worker.id}/timeline",  # an htmx fragment
        f"/console/jobs/{job.id}",
        f"/console/tickets/{ticket_id}",
        "/console/tickets/rows",  # the queue's poll
        "/console/people/workers/999999",  # 404
        "/console/intake/job?ticket=abc",
    ]
    for path in paths:
        assert_private(agent_client.get(path), path)
    token = _csrf(agent_client)
    for path, form in [
        ("/console/people/search", {"q": "13800138000"}),
        ("/console/intake/employer", {"phone": "13700137000"}),
    ]:
        response = agent_client.post(path, data=form, headers={"X-CSRF-Token": token})
        assert response.status_code in {200, 302}, path
        assert_private(response, path)
    refused = agent_client.post("/console/people/search", data={"q": "1"})  # no CSRF token: 400
    assert refused.status_code == 400
    assert_private(refused, "a refused POST")


def test_the_sign_in_page_and_a_redirect_to_it_carry_them(client) -> None:
    for path in ("/console/sign-in", "/console/tickets/"):
        assert_private(client.get(path), path)


def test_static_files_may_be_cached_but_are_not_sniffed(client) -> None:
    for path in ("/console/static/console.js", "/console/static/htmx.min.js", "/console/static/console.css"):
        response = client.get(path)
        assert response.status_code == 200, path
        assert response.headers["X-Content-Type-Options"] == "nosniff"
        assert "no-store" not in response.headers.get("Cache-Control", "")
        response.close()


def test_hsts_only_over_https(app, agent) -> None:
    client = signed_in(app, agent)
    response = client.get("/console/tickets/", base_url="https://console.example")
    assert response.headers["Strict-Transport-Security"].startswith("max-age=")
    assert "Strict-Transport-Security" not in client.get("/console/tickets/").headers


@pytest.mark.parametrize("path", ["/sim/", "/sim/phone/+8613800138000", "/sim/phone/+8613800138000/messages"])
def test_the_simulator_pages_carry_them_too(client, seeded, path) -> None:
    response = client.get(path)
    assert response.status_code == 200
    assert_private(response, path)


def test_the_pages_use_no_inline_script_or_style() -> None:
    """What the policy would refuse: inline scripts, event-handler and style attributes, javascript:
    URLs and htmx's eval (hx-on, js: values)."""
    offending = []
    for template in [*PACKAGE.glob("console/**/*.html"), *PACKAGE.glob("sim/**/*.html")]:
        for number, line in enumerate(template.read_text(encoding="utf-8").splitlines(), 1):
            if REFUSED.search(line) or ("<script" in line and not ALLOWED_SCRIPT.search(line)):
                offending.append(f"{template.relative_to(PACKAGE)}:{number}: {line.strip()}")
    assert offending == []


def _csrf(client) -> str:
    with client.session_transaction() as flask_session:
        return flask_session["_csrf"]
