"""The call gateway boundary: `place_call(to, url, status_callback) -> sid`, with a Twilio transport and a
record-only outbox transport, chosen by the same SMS_TRANSPORT setting as the SMS gateway.

Twilio fetches the call's TwiML from `url` (an IVR route) once the person picks up, and posts the
call's final status to `status_callback`.
"""

from __future__ import annotations

import collections
import logging
import threading
import uuid
from dataclasses import dataclass
from typing import Protocol

import requests
from twilio.base.exceptions import TwilioRestException
from twilio.http.http_client import TwilioHttpClient
from twilio.rest import Client

from dispatch.settings import Settings
from dispatch.sms.gateway import BaseUrlHttpClient, SendError

log = logging.getLogger(__name__)


class CallError(SendError):
    """The gateway refused or failed to place a call (retryable as a refused SMS is: 429, 5xx, no answer
    from the API at all)."""


class CallTransport(Protocol):
    name: str

    def place_call(self, to: str, url: str, status_callback: str) -> str:
        """Start a call to `to` whose TwiML comes from `url`; the call's sid."""
        ...


@dataclass(frozen=True)
class RecordedCall:
    to: str
    url: str
    status_callback: str
    call_sid: str


class OutboxCallTransport:
    """Development transport: records the call and places none (a first run rings nobody's phone)."""

    name = "outbox"

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.placed: collections.deque[RecordedCall] = collections.deque(maxlen=1000)

    def place_call(self, to: str, url: str, status_callback: str) -> str:
        sid = "OB" + uuid.uuid4().hex
        with self._lock:
            self.placed.append(RecordedCall(to, url, status_callback, sid))
        log.info("outbox transport: call to %s (%s) recorded as %s, not placed", to, url, sid)
        return sid


class TwilioCallTransport:
    name = "twilio"

    def __init__(self, settings: Settings) -> None:
        http_client = (
            BaseUrlHttpClient(settings.TWILIO_API_BASE_URL)
            if settings.TWILIO_API_BASE_URL
            else TwilioHttpClient(timeout=10.0)
        )
        self.client = Client(settings.TWILIO_ACCOUNT_SID, settings.TWILIO_AUTH_TOKEN, http_client=http_client)
        # A call needs a number to call from: a messaging service cannot place one.
        self.from_number = settings.TWILIO_FROM_NUMBER

    def place_call(self, to: str, url: str, status_callback: str) -> str:
        try:
            call = self.client.calls.create(
                to=to,
                from_=self.from_number,
                url=url,
                method="POST",
                status_callback=status_callback,
                status_callback_event=["completed"],
            )
        except TwilioRestException as exc:
            raise CallError(exc.msg, code=exc.code, http_status=exc.status) from exc
        except requests.RequestException as exc:  # no answer at all: safe to try again
            raise CallError(f"Twilio unreachable: {exc}") from exc
        return str(call.sid)


def make_call_transport(settings: Settings) -> CallTransport:
    if settings.SMS_TRANSPORT == "twilio":
        return TwilioCallTransport(settings)
    return OutboxCallTransport()
