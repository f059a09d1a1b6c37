"""Twilio's side of the stack: the fake API (in this process), a carrier that "sends" what it took, and
questions about what it received.

Real Twilio sends a queued message within a second or so, and only then does the message carry a
`date_sent` (which the Messages list's DateSent filters match). The fake leaves messages queued until
told otherwise, so `Carrier` marks each one sent shortly after it was created: a reconciliation that
looks a message up by date then sees what it would see at Twilio. No status callbacks are posted: the
service must learn each Sid from its own send or from its own look-up.
"""

from __future__ import annotations

import contextlib
import threading
import time
from typing import Any

from tests.fakes.twilio_api import FakeTwilioApi, RecordedRequest

CARRIER_DELAY = 0.3


class Carrier:
    """A thread that marks every message the fake created as sent, CARRIER_DELAY seconds after it saw it."""

    def __init__(self, fake: FakeTwilioApi) -> None:
        self.fake = fake
        self.stop_event = threading.Event()
        self.first_seen: dict[str, float] = {}
        self.thread = threading.Thread(target=self._run, name="fault-carrier", daemon=True)

    def start(self) -> Carrier:
        if hasattr(self.fake, "mark_sent"):  # an older fake has no notion of "sent": nothing to do
            self.thread.start()
        return self

    def stop(self) -> None:
        self.stop_event.set()
        if self.thread.is_alive():
            self.thread.join(timeout=5)

    def _run(self) -> None:
        while not self.stop_event.wait(0.1):
            now = time.monotonic()
            for message in self.fake.messages:
                if message.get("date_sent") is not None:
                    continue
                seen = self.first_seen.setdefault(message["sid"], now)
                if now - seen >= CARRIER_DELAY:
                    with contextlib.suppress(KeyError):  # reset() between tests forgot it
                        self.fake.mark_sent(message["sid"])


def messages_to(fake: FakeTwilioApi, phones: set[str] | list[str]) -> list[dict[str, Any]]:
    """What Twilio took for these numbers (what this suite counts as delivered)."""
    wanted = set(phones)
    return [message for message in fake.messages if message.get("to") in wanted]


def creates(fake: FakeTwilioApi, since: float = 0.0) -> list[RecordedRequest]:
    """Every message create (POST .../Messages.json) the fake received since `since` (monotonic)."""
    return [
        request
        for request in fake.requests
        if request.method == "POST"
        and request.path.endswith("/Messages.json")
        and request.received_at >= since
    ]


def create_to(request: RecordedRequest) -> str:
    return (request.form.get("To") or [""])[0]


def first_create_to(fake: FakeTwilioApi, since: float) -> str | None:
    """The To of the first create after `since`: whom an armed fault (delay, drop, fail) hit."""
    found = creates(fake, since)
    return create_to(found[0]) if found else None
