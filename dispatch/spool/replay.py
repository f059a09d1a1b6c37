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
from typing import TYPE_CHECKING

from dispatch.db import is_database_unavailable
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
    from dispatch.sms import webhooks

    return {**webhooks.REPLAYERS, **outage.REPLAYERS}


@dataclass
class ReplayResult:
    replayed: int = 0
    failed: int = 0
    left: int = 0  # still waiting: the database did not answer (or another process is replaying)


def replay_pending(runtime: Runtime) -> ReplayResult:
    """One pass over the spool, oldest first."""
    spool = runtime.spool
    result = ReplayResult()
    with spool.replaying() as mine:
        if not mine:
            result.left = len(spool.pending())
            return result
        replayers = _replayers()
        files = spool.pending()
        for index, path in enumerate(files):
            try:
                request = spool.read(path)
                replayers[request.kind](runtime, request)
            except Exception as exc:
                if is_database_unavailable(exc):
                    result.left = len(files) - index
                    reason = type(exc).__name__
                    log.warning("spool: database still unavailable (%s); %d waiting", reason, result.left)
                    break
                log.exception("spool: %s could not be replayed; moved to failed/", path.name)
                spool.fail(path)
                result.failed += 1
                continue
            spool.done(path)
            result.replayed += 1
            log.info("spool: replayed %s %s", request.kind, describe(request.form))
    if result.replayed or result.failed:
        log.warning("spool: %d replayed, %d failed, %d waiting", result.replayed, result.failed, result.left)
    return result


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
