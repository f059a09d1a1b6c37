"""The simulator's pages: only outside production, the number chooser, and the live SMS chat."""

from __future__ import annotations

import re

import pytest
from flask import Flask
from sqlalchemy import select

from dispatch import create_app
from dispatch.demo import seed_demo
from dispatch.models import Direction, Message, MessageStatus
from tests.conftest import build_runtime, make_settings
from tests.console.helpers import csrf_token
from tests.helpers import run_jobs

WORKER = "+8613900000001"  # the first demo worker


REAL_SERVICES = {
    "production": {
        "DISPATCH_ENV": "production",
        # Production refuses short or published secrets (dispatch/settings.py): these are neither.
        "SECRET_KEY": "Zr4mQ8vT1nXc6bHs0LpW3yKd9FgJ2aEu7oNi5RhVtCe",
        "TWILIO_AUTH_TOKEN": "0d7c4e9a2f61b8350e4d9c7a1f2b6e83",
    },
    "reachable": {"PUBLIC_BASE_URL": "https://jobs.example.cn"},
    "twilio": {
        "SMS_TRANSPORT": "twilio",
        "PUBLIC_BASE_URL": "https://jobs.example.cn",
        "TWILIO_FROM_NUMBER": "+8610690000",
    },
}


@pytest.fixture(params=sorted(REAL_SERVICES))
def production_app(request, runtime, service_urls) -> Flask:
    """A service where something is real (production, a public URL Twilio reaches, real SMS)."""
    settings = make_settings(service_urls, **REAL_SERVICES[request.param])
    app = create_app(runtime=build_runtime(settings, runtime.db, runtime.redis))
    app.testing = True
    return app


def test_the_simulator_exists_only_where_nothing_is_real(production_app, seeded) -> None:
    client = production_app.test_client()
    for path in ["/sim/", f"/sim/phone/{WORKER}", f"/sim/phone/{WORKER}/messages", "/sim/static/sim.js"]:
        assert client.get(path).status_code == 404, path
    for path in ["/sim/call/dial", f"/sim/phone/{WORKER}/sms", "/sim/language"]:
        assert client.post(path, data={"phone": WORKER, "body": "1"}).status_code == 404, path
    assert not [rule for rule in production_app.url_map.iter_rules() if rule.rule.startswith("/sim")]
    assert client.get("/healthz").status_code == 200  # the app itself is there


def test_the_chooser_lists_demo_employers_and_workers_and_opens_any_number(
    client, session, seeded, runtime
) -> None:
    seed_demo(session, runtime.settings, workers=20, employers=3)
    session.commit()
    page = client.get("/sim/").get_data(as_text=True)
    assert "王记装修" in page and "136 0000 0001" in page and "139 0000 0001" in page
    assert "demo" in page and "lingong-demo" in page  # the demo agent's sign-in
    response = client.get("/sim/open?phone=139 1234 5678")
    assert response.status_code == 302 and response.location.endswith("/sim/phone/+8613912345678")
    assert "error=phone" in client.get("/sim/open?phone=12").location
    phone = client.get("/sim/phone/+8613912345678").get_data(as_text=True)
    assert "新号码" in phone and "139 1234 5678" in phone
    assert client.get("/sim/phone/not-a-number").status_code == 404


def test_the_english_switch(client, seeded) -> None:
    response = client.post(
        "/sim/language", data={"lang": "en", "next": "/sim/", "csrf_token": csrf_token(client)}
    )
    assert response.status_code == 302
    assert "Choose a phone number" in client.get("/sim/").get_data(as_text=True)


def test_posts_need_the_csrf_token(client, seeded) -> None:
    assert client.post("/sim/call/dial", data={"phone": WORKER}).status_code == 400
    assert client.post(f"/sim/phone/{WORKER}/sms", data={"body": "帮助"}).status_code == 400


def sms(client, phone: str, body: str) -> str:
    response = client.post(
        f"/sim/phone/{phone}/sms", data={"body": body}, headers={"X-CSRF-Token": csrf_token(client)}
    )
    assert response.status_code == 200, response.get_data(as_text=True)
    return response.get_data(as_text=True)


def version(fragment: str) -> str:
    match = re.search(r'data-version="([0-9a-f]+)"', fragment)
    assert match is not None
    return match.group(1)


def test_the_chat_posts_a_signed_sms_and_shows_the_reply_as_it_is_sent(
    client, session, seeded, runtime
) -> None:
    seed_demo(session, runtime.settings, workers=5, employers=1)
    session.commit()
    fragment = sms(client, WORKER, "帮助")
    session.expire_all()
    inbound = session.scalars(select(Message).where(Message.direction == Direction.INBOUND)).one()
    assert (inbound.phone, inbound.body, inbound.status) == (WORKER, "帮助", MessageStatus.HANDLED)
    [reply] = session.scalars(select(Message).where(Message.direction == Direction.OUTBOUND)).all()
    assert reply.phone == WORKER and reply.kind == "help"
    # The chat shows both; the reply waits for the send queue ...
    assert "帮助" in fragment and reply.body in fragment and "待发送" in fragment
    before = version(fragment)
    assert client.get(f"/sim/phone/{WORKER}/messages?v={before}").status_code == 204  # nothing new
    # ... and the poll shows it sent once the queue worker has sent it.
    run_jobs(runtime)
    polled = client.get(f"/sim/phone/{WORKER}/messages?v={before}")
    assert polled.status_code == 200
    page = polled.get_data(as_text=True)
    assert reply.body in page and "已发送" in page and "待发送" not in page
    assert version(page) != before


def test_another_numbers_messages_are_not_shown(client, session, seeded, runtime) -> None:
    sms(client, "+8613912345678", "帮助")
    page = client.get(f"/sim/phone/{WORKER}/messages").get_data(as_text=True)
    assert "还没有短信" in page and "帮助" not in page
