"""A caller on the phone: signed voice webhooks, driven by the TwiML the service answered."""

from __future__ import annotations

import itertools
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
import time_machine
from flask.testing import FlaskClient

from dispatch.clock import utcnow
from dispatch.models import Agent
from tests.callcenter.helpers import agent_at
from tests.factories import Market
from tests.helpers import sign

PUBLIC_BASE = "https://dispatch.example.org/lz"
# 10:00 on a Friday in the market (Asia/Shanghai): inside the default opening hours, 08:00-18:00.
OPEN_HOURS_NOW = datetime(2026, 12, 4, 2, 0, tzinfo=UTC)
CLOSED_NOW = datetime(2026, 12, 4, 13, 0, tzinfo=UTC)  # 21:00 in the market
EMPLOYER_PHONE = "+8613700137000"
_sids = itertools.count(1)


@pytest.fixture
def settings_overrides() -> dict[str, Any]:
    return {"PUBLIC_BASE_URL": PUBLIC_BASE, "OPENING_HOURS": "08:00-18:00"}


@pytest.fixture
def market_open() -> Iterator[None]:
    with time_machine.travel(OPEN_HOURS_NOW, tick=True):
        yield


@pytest.fixture
def market_closed() -> Iterator[None]:
    with time_machine.travel(CLOSED_NOW, tick=True):
        yield


@pytest.fixture
def agent_on_duty(session, seeded) -> Agent:
    """An available agent of the district market: every caller's chain reaches them (after the
    overflow wait), so a caller asking for a person is queued rather than offered a call-back."""
    agent = agent_at(session, Market(session), "LZ", available_at=utcnow())
    session.commit()
    return agent


def post_signed(client: FlaskClient, url: str, params: dict[str, str], base: str = PUBLIC_BASE):
    """POST to an absolute URL under `base` as Twilio would, signed over that URL."""
    assert url.startswith(base + "/"), url
    path = url[len(base) :]
    return client.post(path, data=params, headers={"X-Twilio-Signature": sign(url, params)})


class Caller:
    """Someone phoning the market: every request goes where the last TwiML said it should."""

    def __init__(
        self,
        client: FlaskClient,
        phone: str = EMPLOYER_PHONE,
        sid: str | None = None,
        base: str = PUBLIC_BASE,
    ) -> None:
        self.client = client
        self.base = base
        self.phone = phone
        self.sid = sid or f"CA{next(_sids):032x}"
        self.twiml = ""
        self.history: list[str] = []

    def params(self, **extra: str) -> dict[str, str]:
        return {
            "CallSid": self.sid,
            "AccountSid": "AC" + "0" * 32,
            "From": self.phone,
            "To": "+8610690000",
            "CallStatus": "in-progress",
            "Direction": "inbound",
            **extra,
        }

    def _post(self, url: str, params: dict[str, str]) -> str:
        response = post_signed(self.client, url, params, self.base)
        assert response.status_code == 200, response.get_data(as_text=True)
        assert response.mimetype == "text/xml"
        self.twiml = response.get_data(as_text=True)
        self.history.append(self.twiml)
        return self.twiml

    def dial(self) -> str:
        return self._post(f"{self.base}/ivr/voice", self.params(CallStatus="ringing"))

    @property
    def root(self) -> ET.Element:
        return ET.fromstring(self.twiml)

    def action(self) -> str:
        """Where the caller's next keys (or silence, or recording) go."""
        for element in self.root:
            if element.tag in {"Gather", "Record", "Enqueue"} and element.get("action"):
                return element.get("action", "")
        raise AssertionError(f"no way forward in {self.twiml}")

    def press(self, digits: str) -> str:
        assert self.root.find("Gather") is not None, self.twiml
        return self._post(self.action(), self.params(Digits=digits))

    def silence(self) -> str:
        """The Gather timed out: Twilio posts to its action with no digits (actionOnEmptyResult)."""
        return self._post(self.action(), self.params())

    def speak(self, recording_url: str) -> str:
        assert self.root.find("Record") is not None, self.twiml
        return self._post(self.action(), self.params(RecordingUrl=recording_url, RecordingDuration="4"))

    def skip_recording(self) -> str:
        """An empty recording: Twilio skips the action and follows the <Redirect> after <Record>."""
        redirect = self.root.find("Redirect")
        assert redirect is not None and redirect.text, self.twiml
        return self._post(redirect.text, self.params())

    def leave_queue(self, result: str) -> str:
        assert self.root.find("Enqueue") is not None, self.twiml
        return self._post(self.action(), self.params(QueueResult=result))

    def hang_up(self, status: str = "completed") -> None:
        params = self.params(CallStatus=status, CallDuration="42")
        response = post_signed(self.client, f"{self.base}/ivr/status", params, self.base)
        assert response.status_code == 200, response.get_data(as_text=True)

    def said(self) -> str:
        """Everything the last response would say, as one string."""
        return " ".join(element.text or "" for element in self.root.iter("Say"))
