"""Which provider sends a message (SMS_TRANSPORT=routed): chosen per attempt by destination and health.

A mainland China mobile (+86 1...) goes down the `cn` route of SMS_ROUTES (by default the domestic
carrier, then Twilio), any other number down `*` (Twilio). A provider that cannot take the message is
skipped: the carrier sends approved templates only, so a free text (an agent's `agent_text`) or a text
without a carrier template goes to Twilio; with no other provider on the route it goes to the carrier,
which fails it at once (CONTENT_REFUSED, "no carrier template"). A provider that is failing
(dispatch/sms/health.py) is skipped until its probe; when every provider of the route is failing, the
first is used (the message waits out its retries there rather than nowhere).

The attempt records its provider on the message (Message.provider) before it is made, and a message
whose outcome is unknown is looked up at that provider and found absent before another attempt may go
anywhere (dispatch/sms/tasks.py): failing over never sends a message twice.

Any other SMS_TRANSPORT is a route of one: `Router.for_runtime` keeps the transport the runtime has
(which tests may replace) and records nothing. `mainland_mobile` is aliyun.domestic_number's test for a
mobile, here so that routing imports without the carrier's SDK.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime

from redis.exceptions import RedisError

from dispatch.runtime import Runtime
from dispatch.settings import Routes, Settings
from dispatch.sms.gateway import (
    OutboxTransport,
    SendError,
    SendResult,
    SentMessage,
    SmsTransport,
    Templated,
    TwilioTransport,
)
from dispatch.sms.health import ProviderHealth, State

log = logging.getLogger(__name__)
TEMPLATED_ONLY = frozenset({"aliyun"})  # providers that send approved templates, never a free text


def mainland_mobile(phone: str) -> bool:
    """+86 followed by an 11-digit mobile number (1...): what the domestic carrier can send to."""
    return phone.startswith("+861") and len(phone) == 14 and phone[1:].isdigit()


def provider_failed(error: SendError) -> bool:
    """Trouble of the provider's, not an answer about the message: no answer, unreachable, 5xx."""
    return error.ambiguous or error.http_status is None or error.http_status >= 500


class RoutedTransport:
    """The providers SMS_ROUTES names, by name. As an SmsTransport (for anything that asks the runtime
    for one transport) it is the route's choice without failover; the send job uses a Router."""

    name = "routed"

    def __init__(self, settings: Settings, transports: dict[str, SmsTransport] | None = None) -> None:
        self.routes: Routes = settings.sms_routes
        self.transports = transports if transports is not None else _build(settings, self.routes)

    @property
    def sender(self) -> str:
        return self.transports[self.routes.other[0]].sender

    def route(self, phone: str, templated: bool) -> list[str]:
        """The providers this message may go to, first choice first."""
        names = list(self.routes.cn if mainland_mobile(phone) else self.routes.other)
        able = [name for name in names if templated or name not in TEMPLATED_ONLY]
        return able or names[:1]

    def send_sms(
        self,
        to: str,
        body: str,
        status_callback: str | None = None,
        templated: Templated | None = None,
    ) -> SendResult:
        first = self.route(to, templated is not None and templated.params is not None)[0]
        return self.transports[first].send_sms(to, body, status_callback, templated)

    def find_sent(
        self, to: str, body: str, since: datetime, templated: Templated | None = None
    ) -> list[SentMessage]:
        found: list[SentMessage] = []
        for name in self.route(to, templated is not None and templated.params is not None):
            found += self.transports[name].find_sent(to, body, since, templated)
        return sorted(found, key=lambda sent: sent.created_at)


def _build(settings: Settings, routes: Routes) -> dict[str, SmsTransport]:
    transports: dict[str, SmsTransport] = {}
    for name in sorted(routes.providers()):
        if name == "twilio":
            transports[name] = TwilioTransport(settings)
        elif name == "aliyun":
            from dispatch.sms.aliyun import AliyunTransport  # its SDK is the `carrier` extra

            transports[name] = AliyunTransport(settings)
        else:
            transports[name] = OutboxTransport()
    return transports


@dataclass(frozen=True)
class Choice:
    provider: str
    transport: SmsTransport
    probe: bool = False  # the one attempt let through to a provider whose cool-down is over


class Router:
    """The send job's view of the providers: choose one for an attempt, find the one an attempt used,
    record how each attempt went."""

    def __init__(
        self,
        transports: dict[str, SmsTransport],
        routed: RoutedTransport | None,
        health: ProviderHealth | None,
    ) -> None:
        self.transports = transports
        self.routed = routed
        self.health = health

    @classmethod
    def for_runtime(cls, runtime: Runtime) -> Router:
        transport = runtime.transport
        if isinstance(transport, RoutedTransport):
            return cls(transport.transports, transport, ProviderHealth(runtime.redis, runtime.settings))
        return cls({transport.name: transport}, None, None)

    def choose(self, phone: str, templated: bool, now: datetime) -> Choice:
        if self.routed is None or self.health is None:
            [(name, transport)] = self.transports.items()
            return Choice(name, transport)
        names = self.routed.route(phone, templated)
        if len(names) == 1:
            return Choice(names[0], self.transports[names[0]])
        for index, name in enumerate(names):
            state = self.health.check(name, now)
            if state is State.DOWN:
                continue
            if index > 0:
                log.info("SMS routed to %s: %s failing", name, ", ".join(names[:index]))
            return Choice(name, self.transports[name], probe=state is State.PROBE)
        log.warning("SMS: every provider of the route is failing (%s); trying %s", ", ".join(names), names[0])
        return Choice(names[0], self.transports[names[0]])

    def transport(self, provider: str | None) -> SmsTransport:
        """The transport an attempt went to; a message from before routing, the runtime's only one."""
        if provider is not None and provider in self.transports:
            return self.transports[provider]
        if self.routed is not None:
            return self.routed
        return next(iter(self.transports.values()))

    def record(self, choice: Choice, outcome: SendResult | SendError, now: datetime) -> None:
        if self.health is None:
            return
        ok = isinstance(outcome, SendResult) or not provider_failed(outcome)
        try:
            self.health.record(choice.provider, ok, now)
        except RedisError as exc:
            # The attempt's outcome must still be written to its message: a breaker that misses one
            # attempt only judges a little later.
            log.warning("SMS provider %s: outcome not recorded for failover (%s)", choice.provider, exc)
