"""Action URLs without PUBLIC_BASE_URL (the request's own root, proxy aware), and opening hours."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from datetime import UTC, datetime

import pytest

from dispatch.ivr.services import agents_available
from dispatch.settings import Settings
from tests.helpers import BASE_URL, sign, signed_post

PARAMS = {"CallSid": "CA" + "7" * 32, "From": "+8613800138000", "To": "+8610690000", "CallStatus": "ringing"}


@pytest.fixture
def settings_overrides() -> dict:
    return {"PUBLIC_BASE_URL": ""}


def test_without_a_public_base_url_actions_are_under_the_requests_own_root(client, seeded) -> None:
    response = signed_post(client, "/ivr/voice", PARAMS)
    gather = ET.fromstring(response.get_data(as_text=True)).find("Gather")
    assert gather is not None and gather.get("action") == f"{BASE_URL}/ivr/step/menu?t=1"


def test_behind_a_proxy_actions_use_the_forwarded_scheme_and_host(client, seeded) -> None:
    url = "https://ivr.example.cn/ivr/voice"
    headers = {"X-Forwarded-Proto": "https", "X-Forwarded-Host": "ivr.example.cn"}
    headers["X-Twilio-Signature"] = sign(url, PARAMS)
    response = client.post("/ivr/voice", data=PARAMS, headers=headers)
    gather = ET.fromstring(response.get_data(as_text=True)).find("Gather")
    assert gather is not None and gather.get("action") == "https://ivr.example.cn/ivr/step/menu?t=1"


def _at(hour: int, minute: int = 0) -> datetime:
    """That time of day in the market (Asia/Shanghai, UTC+8) on 4 December 2026."""
    return datetime(2026, 12, 4, (hour - 8) % 24, minute, tzinfo=UTC)


@pytest.mark.parametrize(
    ("hours", "clock", "open_"),
    [
        ("08:00-18:00", (8, 0), True),
        ("08:00-18:00", (17, 59), True),
        ("08:00-18:00", (18, 0), False),
        ("08:00-18:00", (7, 59), False),
        ("20:00-02:00", (23, 0), True),  # a night shift past midnight
        ("20:00-02:00", (1, 0), True),
        ("20:00-02:00", (12, 0), False),
        ("00:00-00:00", (3, 0), True),  # all day
        ("off", (12, 0), False),  # voicemail only
    ],
)
def test_opening_hours_are_the_markets_local_time(hours: str, clock: tuple[int, int], open_: bool) -> None:
    settings = Settings.load({"OPENING_HOURS": hours}, environ={})
    assert agents_available(settings, _at(*clock)) is open_
