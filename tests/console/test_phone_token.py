"""The softphone's access token: only for a signed-in agent, identity = the agent's username, a voice grant
for the TwiML App with incoming allowed, short-lived; {"mode": "offline"} without an API key."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

import jwt
import pytest

from dispatch import create_app
from dispatch.callcenter.presence import presence_of
from dispatch.console.phone import tokens, vendor
from dispatch.models import Presence
from tests.console.helpers import console_post, sign_in
from tests.factories import NOW

API_KEY = "SK" + "a1" * 16
API_SECRET = "a-test-api-secret-of-the-softphone"
APP_SID = "AP" + "b2" * 16
TTL = 900


@pytest.fixture
def settings_overrides():
    return {
        "TWILIO_API_KEY": API_KEY,
        "TWILIO_API_SECRET": API_SECRET,
        "TWILIO_TWIML_APP_SID": APP_SID,
        "VOICE_TOKEN_TTL_SECONDS": TTL,
    }


def test_a_signed_in_agent_gets_a_voice_token(clock, agent_client, agent, runtime):
    response = agent_client.get("/console/phone/token")

    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "no-store"
    body = response.get_json()
    assert (body["mode"], body["identity"], body["ttl"]) == ("twilio", f"agent_{agent.id}", TTL)
    claims = jwt.decode(body["token"], API_SECRET, algorithms=["HS256"])
    assert claims["iss"] == API_KEY
    assert claims["sub"] == runtime.settings.TWILIO_ACCOUNT_SID
    assert claims["exp"] == int((NOW + timedelta(seconds=TTL)).timestamp())
    assert claims["grants"]["identity"] == f"agent_{agent.id}"  # a username may hold what Twilio refuses
    # Outgoing through the TwiML App only: the device is never registered to ring.
    assert claims["grants"]["voice"] == {"outgoing": {"application_sid": APP_SID}}
    header = jwt.get_unverified_header(body["token"])
    assert header["cty"] == "twilio-fpa;v=1"


def test_the_token_is_signed_with_the_api_secret(agent_client):
    token = agent_client.get("/console/phone/token").get_json()["token"]
    with pytest.raises(jwt.InvalidSignatureError):
        jwt.decode(token, "another-secret-as-long-as-the-api-secret", algorithms=["HS256"])


def test_no_token_without_signing_in(client, seeded):
    response = client.get("/console/phone/token")
    assert response.status_code == 302 and response.headers["Location"].startswith("/console/sign-in")
    assert b"eyJ" not in response.get_data()  # no JWT


def test_no_token_after_signing_out(agent_client):
    console_post(agent_client, "/console/sign-out")
    assert agent_client.get("/console/phone/token").status_code == 302


@pytest.mark.parametrize("installed", [True, False])
def test_pages_say_the_phone_is_in_twilio_mode(agent_client, monkeypatch, installed):
    monkeypatch.setattr(vendor, "sdk_available", lambda: installed)
    html = agent_client.get("/console/tickets/").get_data(as_text=True)
    assert 'data-phone-mode="twilio"' in html
    assert "phone_offline.js" not in html
    # The SDK's script only when the install fetched it (phone.js then says it is missing).
    assert ('src="/console/static/vendor/twilio.min.js"' in html) is installed


def test_without_an_api_key_the_phone_is_offline(runtime):
    offline = replace(runtime.settings, TWILIO_API_KEY="")
    assert tokens.phone_mode(offline) == tokens.OFFLINE
    assert tokens.voice_token(offline, agent=None) == {"mode": "offline"}  # type: ignore[arg-type]


def test_the_offline_token_endpoint(app_offline_client):
    assert app_offline_client.get("/console/phone/token").get_json() == {"mode": "offline"}


@pytest.fixture
def app_offline_client(runtime, agent, monkeypatch):
    """The same app, its Twilio API key taken away (a first run's settings)."""
    monkeypatch.setattr(runtime, "settings", replace(runtime.settings, TWILIO_API_KEY=""))
    app = create_app(runtime=runtime)
    client = app.test_client()
    sign_in(client, agent.username)
    return client


@pytest.fixture
def unconfigured_client(runtime, agent, monkeypatch):
    """A real deployment (Twilio reaches it: PUBLIC_BASE_URL) without the softphone's API key."""
    settings = replace(runtime.settings, TWILIO_API_KEY="", PUBLIC_BASE_URL="https://dispatch.example.cn")
    monkeypatch.setattr(runtime, "settings", settings)
    app = create_app(runtime=runtime)
    client = app.test_client()
    sign_in(client, agent.username)
    return client


def test_a_real_deployment_without_an_api_key_has_no_phone_not_the_simulator(
    runtime, agent, session, unconfigured_client
):
    assert tokens.phone_mode(runtime.settings) == tokens.UNCONFIGURED
    assert unconfigured_client.get("/console/phone/token").get_json() == {"mode": "unconfigured"}
    html = unconfigured_client.get("/console/tickets/").get_data(as_text=True)
    assert 'data-phone-mode="unconfigured"' in html and "phone_offline.js" not in html
    assert "电话尚未设置（没有Twilio API密钥）：这里不能接打电话。" in html
    # Nobody is held for an agent who cannot answer: available is refused, with the reason.
    json = {"Accept": "application/json"}
    response = console_post(
        unconfigured_client, "/console/phone/presence", {"status": "available"}, headers=json
    )
    assert (response.status_code, response.get_json()) == (
        409,
        {"error": "电话尚未设置：不能置为空闲接听电话。"},
    )
    assert presence_of(session, agent).status == Presence.AWAY
    assert console_post(unconfigured_client, "/console/phone/next", headers=json).status_code == 409
    assert console_post(unconfigured_client, "/console/phone/presence", {"status": "away"}).status_code == 302
