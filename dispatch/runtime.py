"""The process's wiring: settings, database, Redis and the SMS and call transports, shared by web and jobs.

RQ jobs are plain module-level functions that take ids; they reach the database and the transport
through `get_runtime()`, set up by `create_app` in a web process and by `dispatch worker` in a worker.
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from redis import Redis

from dispatch.db import Database, Timeouts
from dispatch.settings import Settings, SettingsError

if TYPE_CHECKING:
    from dispatch.sms.gateway import SmsTransport
    from dispatch.spool.store import Spool
    from dispatch.voice.gateway import CallTransport

log = logging.getLogger(__name__)

_current: Runtime | None = None
_embedded_server = None
_embedded_lock = threading.Lock()


@dataclass
class Runtime:
    settings: Settings
    db: Database
    redis: Redis
    _transport: SmsTransport | None = field(default=None, repr=False)
    _call_transport: CallTransport | None = field(default=None, repr=False)
    _spool: Spool | None = field(default=None, repr=False)
    # When Redis refused the outbox relay, requests leave relaying to the sweeper until then
    # (time.monotonic()), instead of each waiting out Redis's connect timeout.
    relay_paused_until: float = 0.0
    # When this process last found the database unavailable (time.monotonic()): a caller is then
    # answered with the outage apology at once for a few seconds, not after the timeouts again.
    database_failed_at: float = float("-inf")

    def database_failed(self) -> None:
        self.database_failed_at = time.monotonic()

    def database_failed_recently(self, within: float = 5.0) -> bool:
        return time.monotonic() - self.database_failed_at < within

    @property
    def transport(self) -> SmsTransport:
        if self._transport is None:
            from dispatch.sms.gateway import make_transport

            self._transport = make_transport(self.settings)
        return self._transport

    @transport.setter
    def transport(self, value: SmsTransport) -> None:
        self._transport = value

    @property
    def spool(self) -> Spool:
        """Where webhooks wait while the database cannot take them (dispatch/spool/)."""
        if self._spool is None:
            from dispatch.spool.store import Spool

            self._spool = Spool(self.settings.SPOOL_DIR)
        return self._spool

    @property
    def call_transport(self) -> CallTransport:
        """Outbound calls (voice follow-ups), chosen by SMS_TRANSPORT like the SMS transport."""
        if self._call_transport is None:
            from dispatch.voice.gateway import make_call_transport

            self._call_transport = make_call_transport(self.settings)
        return self._call_transport

    @call_transport.setter
    def call_transport(self, value: CallTransport) -> None:
        self._call_transport = value


def connect_redis(url: str) -> Redis:
    """`embedded` is an in-process fakeredis (Lua included, so RQ's scheduler runs on it)."""
    if url == "embedded":
        try:
            import fakeredis
        except ModuleNotFoundError:
            raise SettingsError(
                "REDIS_URL=embedded (the first run's in-process Redis) needs the first-run extra: "
                "pip install -c constraints.txt -e '.[first-run]' (./scripts/run does), "
                "or set REDIS_URL=redis://host:6379/0"
            ) from None

        global _embedded_server
        with _embedded_lock:
            if _embedded_server is None:
                _embedded_server = fakeredis.FakeServer()
        return fakeredis.FakeRedis(server=_embedded_server)
    return Redis.from_url(url, socket_connect_timeout=2, socket_timeout=5)


def init_runtime(settings: Settings) -> Runtime:
    global _current
    runtime = Runtime(
        settings=settings,
        db=Database(settings.DATABASE_URL, timeouts=Timeouts.from_settings(settings)),
        redis=connect_redis(settings.REDIS_URL),
    )
    wire_outbox(runtime)
    _current = runtime
    return runtime


def wire_outbox(runtime: Runtime) -> None:
    """Relay what each transaction writes to the outbox: marked relayed in it and enqueued after its
    commit (dispatch/queue.py), or, while Redis refuses, by the after-commit relay and the sweeper."""
    from dispatch.queue import enqueue_claimed, relay_outbox_after_commit, relays_in_transaction

    runtime.db.after_commit_hooks.append(lambda ids: relay_outbox_after_commit(runtime, ids))
    runtime.db.relay_in_transaction = lambda: relays_in_transaction(runtime)
    runtime.db.enqueue_claimed = lambda events: enqueue_claimed(runtime, events)


def get_runtime() -> Runtime:
    if _current is None:
        raise RuntimeError("dispatch runtime not initialised: call create_app() or init_runtime() first")
    return _current


def set_runtime(runtime: Runtime | None) -> None:
    global _current
    _current = runtime
