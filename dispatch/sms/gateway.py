"""The SMS gateway boundary: one small interface, a Twilio transport and a record-only outbox transport.

A Chinese carrier gateway with two-way SMS (上行) is a third class with the same `send_sms` and
`find_sent` (aliyun.py): it sends a registered template and its variables, not the text, so both take
the message's `Templated` form too; Twilio and the outbox ignore it.

A provider that took a message but whose answer never arrived (a read timeout, a connection dropped
after the request went out, a 5xx) is not a refusal: `SendError.ambiguous` says the message may exist.
Twilio has no idempotency key, so the caller must look it up (`find_sent`) before sending it again.
"""

from __future__ import annotations

import collections
import logging
import threading
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Protocol

import requests
from twilio.base.exceptions import TwilioException, TwilioRestException
from twilio.http.http_client import TwilioHttpClient
from twilio.rest import Client
from urllib3.exceptions import NewConnectionError

from dispatch.settings import Settings

log = logging.getLogger(__name__)
# The Twilio client logs every request at INFO, query included: a message lookup's To= would put a full
# phone number in the log. Its warnings still show.
logging.getLogger("twilio.http_client").setLevel(logging.WARNING)

TWILIO_API_ORIGIN = "https://api.twilio.com"
OPTED_OUT_ERRORS = frozenset({21610})  # the recipient replied STOP at the carrier
UNDELIVERABLE_ERRORS = frozenset({21211, 21614, 30006})  # invalid, not a mobile, landline/unreachable
RETRYABLE_ERRORS = frozenset({20429, 30003})  # too many requests; unreachable for now


# How many of the newest messages to a number a lookup reads: an attempt seconds or minutes old is
# among them unless that number was sent this many texts since.
LOOKUP_LIMIT = 50


class SendError(Exception):
    """The gateway refused or failed to take a message; `ambiguous`: it may have taken it after all."""

    def __init__(
        self,
        message: str,
        *,
        code: int | None = None,
        http_status: int | None = None,
        ambiguous: bool = False,
    ) -> None:
        super().__init__(message)
        self.code = code
        self.http_status = http_status
        self.ambiguous = ambiguous
        # A refusal that says when to try again (a carrier's per-number frequency limit): seconds.
        self.retry_after: float | None = None

    def describe(self) -> str:
        """For the log: the provider's code and status, not its text (which may quote the number)."""
        if self.code is None and self.http_status is None:
            cause = type(self.__cause__).__name__ if self.__cause__ is not None else "error"
            return f"{'no answer' if self.ambiguous else 'unreachable'}: {cause}"
        return f"code {self.code}, HTTP {self.http_status}"

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


class ProviderLookupError(Exception):
    """The provider could not be asked what it holds (unreachable, refused): try again later."""


@dataclass(frozen=True)
class Templated:
    """A message as a templated carrier takes it: our id (the carrier's OutId, what a lookup finds it
    by), the SMS template it was rendered from, and that template's carrier variables."""

    message_id: int
    template: str
    language: str
    params: dict[str, str] | None  # None: the template has no carrier template (see carrier_templates)
    carrier_text: str | None = None  # which carrier template: its text with ${name} variables


@dataclass(frozen=True)
class SendResult:
    provider_sid: str
    status: str  # the gateway's first status, e.g. queued


@dataclass(frozen=True)
class SentMessage:
    """A message the provider holds, as its list reports it."""

    provider_sid: str
    status: str
    created_at: datetime


class SmsTransport(Protocol):
    name: str

    @property
    def sender(self) -> str:
        """The sending number or service: the rate limit is kept per sender."""
        ...

    def send_sms(
        self,
        to: str,
        body: str,
        status_callback: str | None = None,
        templated: Templated | None = None,
    ) -> SendResult: ...

    def find_sent(
        self, to: str, body: str, since: datetime, templated: Templated | None = None
    ) -> list[SentMessage]:
        """Messages the provider holds from us to `to` with exactly `body` (a templated carrier: that
        message's id), created at or after `since`, oldest first. Raises ProviderLookupError when the
        provider cannot be asked."""
        ...


@dataclass(frozen=True)
class RecordedSms:
    to: str
    body: str
    status_callback: str | None
    provider_sid: str
    created_at: datetime


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

    def send_sms(
        self,
        to: str,
        body: str,
        status_callback: str | None = None,
        templated: Templated | None = None,
    ) -> SendResult:
        sid = "OB" + uuid.uuid4().hex
        with self._lock:
            self.sent.append(RecordedSms(to, body, status_callback, sid, datetime.now(UTC)))
        log.info("outbox transport: SMS to %s recorded as %s", mask_phone(to), sid)
        return SendResult(provider_sid=sid, status="sent")

    def find_sent(
        self, to: str, body: str, since: datetime, templated: Templated | None = None
    ) -> list[SentMessage]:
        with self._lock:
            recorded = list(self.sent)
        return [
            SentMessage(sms.provider_sid, "sent", sms.created_at)
            for sms in recorded
            if sms.to == to and sms.body == body and sms.created_at >= since
        ]


class BaseUrlHttpClient(TwilioHttpClient):
    """Sends the real Twilio client's requests to a Twilio-compatible server (tests, staging)."""

    def __init__(self, base_url: str, timeout: float = 10.0) -> None:
        super().__init__(timeout=timeout)
        self.base_url = base_url.rstrip("/")

    def request(self, method, url, *args, **kwargs):
        if url.startswith(TWILIO_API_ORIGIN):
            url = self.base_url + url[len(TWILIO_API_ORIGIN) :]
        return super().request(method, url, *args, **kwargs)


class TwilioTransport:
    name = "twilio"

    def __init__(self, settings: Settings) -> None:
        timeout = settings.TWILIO_HTTP_TIMEOUT
        http_client = (
            BaseUrlHttpClient(settings.TWILIO_API_BASE_URL, timeout=timeout)
            if settings.TWILIO_API_BASE_URL
            else TwilioHttpClient(timeout=timeout)
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

    def send_sms(
        self,
        to: str,
        body: str,
        status_callback: str | None = None,
        templated: Templated | None = None,
    ) -> SendResult:
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
            # A 4xx is a refusal; a 5xx may come from a proxy after Twilio took the message.
            ambiguous = exc.status >= 500
            raise SendError(exc.msg, code=exc.code, http_status=exc.status, ambiguous=ambiguous) from exc
        except requests.RequestException as exc:
            if never_connected(exc):
                raise SendError(f"Twilio unreachable: {exc}") from exc
            raise SendError(f"Twilio gave no answer: {exc}", ambiguous=True) from exc
        return SendResult(provider_sid=str(message.sid), status=str(message.status or "queued"))

    def find_sent(
        self, to: str, body: str, since: datetime, templated: Templated | None = None
    ) -> list[SentMessage]:
        # By To (and From) only: a message Twilio still queues has no date_sent, so a DateSent filter
        # would miss exactly the message being looked for. Newest first; LOOKUP_LIMIT is plenty.
        filters: dict[str, str] = {"to": to}
        if not self.messaging_service_sid:
            filters["from_"] = self.from_number
        try:
            listed = self.messages.list(limit=LOOKUP_LIMIT, page_size=LOOKUP_LIMIT, **filters)
        except (TwilioException, requests.RequestException) as exc:
            # Not the exception's text: it quotes the request URL, To= number included.
            status = getattr(exc.args[1], "status_code", "") if len(exc.args) > 1 else ""
            raise ProviderLookupError(
                f"Twilio's message list unavailable: {type(exc).__name__} {status}"
            ) from exc
        found = []
        for message in listed:
            created = message.date_created
            if message.body != body or created is None or created < since:
                continue
            if self.messaging_service_sid and message.messaging_service_sid != self.messaging_service_sid:
                continue
            found.append(SentMessage(str(message.sid), str(message.status or "queued"), created))
        return sorted(found, key=lambda sent: sent.created_at)


def never_connected(exc: requests.RequestException) -> bool:
    """The request never left: the connection to the API could not be opened (refused, no route, DNS,
    connect timeout). A read timeout or a connection dropped later may have created the message."""
    if isinstance(exc, requests.ConnectTimeout):
        return True
    reason = getattr(exc.args[0], "reason", None) if exc.args else None
    return isinstance(exc, requests.ConnectionError) and isinstance(reason, NewConnectionError)


def mask_phone(phone: str) -> str:
    """138****5678: enough for an operator to tell numbers apart, not enough to call one."""
    digits = phone[-11:] if len(phone) >= 11 else phone
    if len(digits) < 7:
        return "*" * len(digits)
    return f"{digits[:3]}****{digits[-4:]}"


def make_transport(settings: Settings) -> SmsTransport:
    if settings.SMS_TRANSPORT == "twilio":
        return TwilioTransport(settings)
    if settings.SMS_TRANSPORT == "aliyun":
        from dispatch.sms.aliyun import AliyunTransport  # its SDK is the `carrier` extra

        return AliyunTransport(settings)
    if settings.SMS_TRANSPORT == "routed":
        from dispatch.sms.routing import RoutedTransport  # it builds on this module

        return RoutedTransport(settings)
    if settings.sim_carrier:
        from dispatch.sim.carrier import SimulatedCarrier  # a first run's stand-in for the carrier

        return SimulatedCarrier(settings)
    return OutboxTransport()
