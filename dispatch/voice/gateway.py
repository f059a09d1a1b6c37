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
from dispatch.sms.gateway import BaseUrlHttpClient, SendError, mask_phone, never_connected

log = logging.getLogger(__name__)
HTTP_TIMEOUT = 10.0  # seconds; the follow-up row is not locked meanwhile (see tasks.py)
TOO_MANY_REQUESTS = 20429  # refused before anything was created


class CallError(SendError):
    """The gateway refused or failed to place a call.

    Unlike an SMS, a call is retried only when Twilio surely did not create it: the API said "too many
    requests" (429 / 20429), or the connection was never made. A timeout while waiting for the answer,
    a connection dropped mid-request or a 5xx may each hide a call that is already ringing: trying
    again would ring the worker twice, so those are left to the follow-up's reminder round."""

    def __init__(
        self, message: str, *, code: int | None = None, http_status: int | None = None, sent: bool = True
    ) -> None:
        super().__init__(message, code=code, http_status=http_status, ambiguous=sent)
        self.sent = sent  # the request may have reached Twilio

    @property
    def retryable(self) -> bool:
        return not self.sent or self.code == TOO_MANY_REQUESTS or self.http_status == 429

    @property
    def unknown_outcome(self) -> bool:
        """Twilio may have created the call anyway (no answer read, or a server error)."""
        return not self.retryable and (self.http_status is None or self.http_status >= 500)


class CallTransport(Protocol):
    name: str
    # False when this transport cannot place calls at all (Twilio without a number to call from).
    can_place_calls: bool

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
    can_place_calls = True

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.placed: collections.deque[RecordedCall] = collections.deque(maxlen=1000)

    def place_call(self, to: str, url: str, status_callback: str) -> str:
        sid = "OB" + uuid.uuid4().hex
        with self._lock:
            self.placed.append(RecordedCall(to, url, status_callback, sid))
        log.info("outbox transport: call to %s (%s) recorded as %s, not placed", mask_phone(to), url, sid)
        return sid


class TwilioCallTransport:
    name = "twilio"

    def __init__(self, settings: Settings, timeout: float = HTTP_TIMEOUT) -> None:
        http_client = (
            BaseUrlHttpClient(settings.TWILIO_API_BASE_URL, timeout=timeout)
            if settings.TWILIO_API_BASE_URL
            else TwilioHttpClient(timeout=timeout)
        )
        self.client = Client(settings.TWILIO_ACCOUNT_SID, settings.TWILIO_AUTH_TOKEN, http_client=http_client)
        # A call needs a number to call from: a messaging service cannot place one.
        self.from_number = settings.TWILIO_FROM_NUMBER
        self.can_place_calls = bool(self.from_number)

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
        except requests.RequestException as exc:
            sent = not never_connected(exc)
            what = "gave no answer" if sent else "unreachable"
            raise CallError(f"Twilio {what}: {exc}", sent=sent) from exc
        return str(call.sid)


def make_call_transport(settings: Settings) -> CallTransport:
    if settings.sends_with_twilio:  # `routed` too: calls go through Twilio, whatever carries the texts
        return TwilioCallTransport(settings)
    return OutboxCallTransport()
