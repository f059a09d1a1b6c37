"""The SMS gateway boundary: one small interface, a Twilio transport and a record-only outbox transport.

A Chinese carrier gateway with two-way SMS (上行) would be a third class with the same `send_sms`.
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

log = logging.getLogger(__name__)

TWILIO_API_ORIGIN = "https://api.twilio.com"
OPTED_OUT_ERRORS = frozenset({21610})  # the recipient replied STOP at the carrier
UNDELIVERABLE_ERRORS = frozenset({21211, 21614, 30006})  # invalid, not a mobile, landline/unreachable
RETRYABLE_ERRORS = frozenset({20429, 30003})  # too many requests; unreachable for now


class SendError(Exception):
    """The gateway refused or failed to take a message."""

    def __init__(self, message: str, *, code: int | None = None, http_status: int | None = None) -> None:
        super().__init__(message)
        self.code = code
        self.http_status = http_status

    @property
    def retryable(self) -> bool:
        if self.code in RETRYABLE_ERRORS or self.http_status == 429:
            return True
        return self.http_status is None or self.http_status >= 500

    @property
    def opted_out(self) -> bool:
        return self.code in OPTED_OUT_ERRORS

    @property
    def undeliverable(self) -> bool:
        return self.code in UNDELIVERABLE_ERRORS


@dataclass(frozen=True)
class SendResult:
    provider_sid: str
    status: str  # the gateway's first status, e.g. queued


class SmsTransport(Protocol):
    name: str

    @property
    def sender(self) -> str:
        """The sending number or service: the rate limit is kept per sender."""
        ...

    def send_sms(self, to: str, body: str, status_callback: str | None = None) -> SendResult: ...


@dataclass(frozen=True)
class RecordedSms:
    to: str
    body: str
    status_callback: str | None
    provider_sid: str


class OutboxTransport:
    """Development transport: records the message (the Message row is the real record) and sends nothing."""

    name = "outbox"

    def __init__(self, sender: str = "outbox") -> None:
        self._sender = sender
        self._lock = threading.Lock()
        self.sent: collections.deque[RecordedSms] = collections.deque(maxlen=1000)

    @property
    def sender(self) -> str:
        return self._sender

    def send_sms(self, to: str, body: str, status_callback: str | None = None) -> SendResult:
        sid = "OB" + uuid.uuid4().hex
        with self._lock:
            self.sent.append(RecordedSms(to, body, status_callback, sid))
        log.info("outbox transport: SMS to %s recorded as %s", to, sid)
        return SendResult(provider_sid=sid, status="sent")


class BaseUrlHttpClient(TwilioHttpClient):
    """Sends the real Twilio client's requests to a Twilio-compatible server (tests, staging)."""

    def __init__(self, base_url: str, timeout: float = 10.0) -> None:
        super().__init__(timeout=timeout)
        self.base_url = base_url.rstrip("/")

    def request(self, method, url, *args, **kwargs):  # type: ignore[no-untyped-def, override]
        if url.startswith(TWILIO_API_ORIGIN):
            url = self.base_url + url[len(TWILIO_API_ORIGIN) :]
        return super().request(method, url, *args, **kwargs)


class TwilioTransport:
    name = "twilio"

    def __init__(self, settings: Settings) -> None:
        http_client = (
            BaseUrlHttpClient(settings.TWILIO_API_BASE_URL)
            if settings.TWILIO_API_BASE_URL
            else TwilioHttpClient(timeout=10.0)
        )
        self.client = Client(settings.TWILIO_ACCOUNT_SID, settings.TWILIO_AUTH_TOKEN, http_client=http_client)
        # Resolved now: the client imports its API modules lazily (~100 ms), and a first send that
        # paid for that after its rate slot would arrive late and bunch up with the next one.
        self.messages = self.client.messages
        self.from_number = settings.TWILIO_FROM_NUMBER
        self.messaging_service_sid = settings.TWILIO_MESSAGING_SERVICE_SID

    @property
    def sender(self) -> str:
        return self.messaging_service_sid or self.from_number

    def send_sms(self, to: str, body: str, status_callback: str | None = None) -> SendResult:
        params: dict[str, str] = {"to": to, "body": body}
        if self.messaging_service_sid:
            params["messaging_service_sid"] = self.messaging_service_sid
        else:
            params["from_"] = self.from_number
        if status_callback:
            params["status_callback"] = status_callback
        try:
            message = self.messages.create(**params)
        except TwilioRestException as exc:
            raise SendError(exc.msg, code=exc.code, http_status=exc.status) from exc
        except requests.RequestException as exc:  # no answer at all: safe to try again
            raise SendError(f"Twilio unreachable: {exc}") from exc
        return SendResult(provider_sid=str(message.sid), status=str(message.status or "queued"))


def make_transport(settings: Settings) -> SmsTransport:
    if settings.SMS_TRANSPORT == "twilio":
        return TwilioTransport(settings)
    return OutboxTransport()
