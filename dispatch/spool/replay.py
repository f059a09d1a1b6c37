"""Feeding spooled webhooks through the normal path once the database answers again.

One process per machine replays at a time (a file lock), oldest file first, so each sender's requests
are handled in the order they arrived. Each is idempotent on its Sid (MessageSid, CallSid), so a file
replayed twice (a crash between the commit and the unlink) changes nothing the second time. A database
still unavailable stops the pass, keeping the file; any other failure moves that file to failed/ (kept
for an operator, logged) so that one bad request cannot hold up the rest.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

from dispatch.db import can_wait, is_database_unavailable
from dispatch.settings import Settings
from dispatch.spool.store import SpooledRequest, describe

if TYPE_CHECKING:
    from dispatch.runtime import Runtime

log = logging.getLogger(__name__)
Replayer = Callable[["Runtime", SpooledRequest], None]
# How often a process looks for spooled files (one directory read), and retries after a failed pass.
POLL_SECONDS = 1.0


def _replayers() -> dict[str, Replayer]:
    # Each channel names the requests it spools and how to do them again.
    from dispatch.ivr import outage
    from dispatch.sms import aliyun_push, webhooks
    from dispatch.voice import softphone

    return {**webhooks.REPLAYERS, **aliyun_push.REPLAYERS, **outage.REPLAYERS, **softphone.REPLAYERS}


@dataclass
class ReplayResult:
    replayed: int = 0
    failed: int = 0
    left: int = 0  # still waiting: the database did not answer (or another process is replaying)


def settle_seconds(settings: Settings) -> float:
    """The longest a webhook can wait on the database before it gives up and spools itself: connect,
    then the client's answer deadline (dispatch/db.py Timeouts)."""
    return settings.DATABASE_CONNECT_TIMEOUT + settings.DATABASE_STATEMENT_TIMEOUT + 1.0


def replay_pending(runtime: Runtime, now: datetime | None = None) -> ReplayResult:
    """One pass over the spool, oldest first.

    Nothing is replayed before the oldest file is settle_seconds old: a request that went to the
    database when the spool was empty may still be waiting there, and if it then gives up it is spooled
    under its own (earlier) arrival time; replaying later texts of its sender first would turn their
    order round. Once the spool has waited that long, every request still out there has settled.
    """
    spool = runtime.spool
    result = ReplayResult()
    with spool.replaying() as mine:
        files = spool.pending()
        if not mine or not files:
            result.left = len(files)
            return result
        now = now or datetime.now(UTC)
        if now.timestamp() - spool.arrived(files[0]) < settle_seconds(runtime.settings):
            result.left = len(files)
            return result
        replayers = _replayers()
        for index, path in enumerate(files):
            try:
                request = spool.read(path)
                replayers[request.kind](runtime, request)
            except Exception as exc:
                if can_wait(exc) and _may_wait_again(path, exc):
                    # Keep it, and the files after it (they may be its sender's next texts).
                    result.left = len(files) - index
                    reason = type(exc).__name__
                    log.warning("spool: database unavailable or busy (%s); %d waiting", reason, result.left)
                    break
                log.exception("spool: %s could not be replayed; moved to failed/", path.name)
                spool.fail(path)
                result.failed += 1
                continue
            _contention_tries.pop(path.name, None)
            spool.done(path)
            result.replayed += 1
            log.info("spool: replayed %s %s", request.kind, describe(request.form))
    if result.replayed or result.failed:
        log.warning("spool: %d replayed, %d failed, %d waiting", result.replayed, result.failed, result.left)
    return result


# A file that keeps meeting a busy database (a lock or statement timeout, a deadlock) is tried this many
# passes, then set aside in failed/, so that it cannot hold up the spool for ever. An outage counts not.
CONTENTION_TRIES = 5
_contention_tries: dict[str, int] = {}


def _may_wait_again(path: Path, exc: BaseException) -> bool:
    if is_database_unavailable(exc):
        return True
    tries = _contention_tries[path.name] = _contention_tries.get(path.name, 0) + 1
    if tries < CONTENTION_TRIES:
        return True
    del _contention_tries[path.name]
    return False


class SpoolReplayer:
    """A thread of a web or worker process that replays the spool whenever something waits there."""

    def __init__(self, runtime: Runtime, interval: float = POLL_SECONDS) -> None:
        self.runtime = runtime
        self.interval = interval
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._run, name="dispatch-spool-replayer", daemon=True)

    def start(self) -> SpoolReplayer:
        self.thread.start()
        return self

    def _run(self) -> None:
        while not self.stop.wait(self.interval):
            try:
                if self.runtime.spool.has_pending():
                    replay_pending(self.runtime)
            except Exception:  # e.g. the disk: log it and look again next time
                log.exception("spool replay failed")

    def close(self) -> None:
        self.stop.set()
        self.thread.join(timeout=2)
