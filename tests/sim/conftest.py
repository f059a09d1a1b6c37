"""The phone simulator's fixtures: a simulated phone driving the simulator's own endpoints."""

from __future__ import annotations

from typing import Any

import pytest
from flask.testing import FlaskClient

from tests.console.helpers import csrf_token


class SimPhone:
    """What the simulator's page script does: post the caller's actions to /sim/call/<action> with the
    state the last answer gave (TwiML, its URL, the waiting verb), and keep the new state."""

    def __init__(self, client: FlaskClient, phone: str) -> None:
        self.client = client
        self.phone = phone
        self.state: dict[str, Any] = {}
        self.events: list[dict[str, Any]] = []

    def _send(self, action: str, **fields: str) -> dict[str, Any]:
        wait = self.state.get("wait") or {}
        data = {
            "phone": self.phone,
            "call_sid": self.state.get("call_sid", ""),
            "twiml": self.state.get("twiml", ""),
            "url": self.state.get("url", ""),
            "index": str(wait.get("index", "")),
            **fields,
        }
        response = self.client.post(
            f"/sim/call/{action}", data=data, headers={"X-CSRF-Token": csrf_token(self.client)}
        )
        assert response.status_code == 200, response.get_data(as_text=True)
        self.state = response.get_json()
        self.events.extend(self.state["events"])
        return self.state

    @property
    def wait(self) -> dict[str, Any]:
        return self.state["wait"]

    def dial(self) -> dict[str, Any]:
        return self._send("dial")

    def press(self, keys: str) -> dict[str, Any]:
        assert self.wait["kind"] == "gather", self.wait
        return self._send("press", keys=keys)

    def time_out(self) -> dict[str, Any]:
        return self._send("press", keys="", timed_out="1")

    def say(self, words: str) -> dict[str, Any]:
        assert self.wait["kind"] == "record", self.wait
        return self._send("record", said=words)

    def queue(self, outcome: str) -> dict[str, Any]:
        assert self.wait["kind"] == "enqueue", self.wait
        return self._send("queue", outcome=outcome, queue_time=str(self.wait.get("queue_time", 0)))

    def hang_up(self) -> dict[str, Any]:
        return self._send("hangup", duration="30")

    def said(self) -> str:
        """Everything the last answer said, as one string."""
        return " ".join(event["text"] for event in self.state["events"] if event["kind"] == "say")

    def requests(self) -> list[tuple[str, int]]:
        """Every webhook the simulator posted in this call: (path and query, status)."""
        return [
            ("/" + event["url"].split("//", 1)[1].split("/", 1)[1], event["status"])
            for event in self.events
            if event["kind"] == "request"
        ]


@pytest.fixture
def sim_phone(client: FlaskClient):
    def make(phone: str) -> SimPhone:
        return SimPhone(client, phone)

    return make
