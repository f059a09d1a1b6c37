"""Moving due `enqueue_at` jobs onto their queues, from a thread of every `dispatch worker`.

RQ's own scheduler runs in a forked child of one worker, under a lock that lives 60 s past its last
refresh and that the other workers retry only every 10 minutes: a worker killed uncleanly stalled every
scheduled job (held texts, retries, next waves, employer notices) for up to 10 minutes, and its child
could outlive it. Here each worker's ticker thread tries the same per-queue locks every second with a
short lease, so one worker at a time moves the jobs, another takes over within LOCK_TTL_SECONDS of its
death, and there is no child process to orphan. The moving itself is RQ's
(`RQScheduler.enqueue_scheduled_jobs`).
"""

from __future__ import annotations

import logging
import os
import socket

from redis import Redis
from rq.scheduler import RQScheduler
from rq.scripts import acquire_or_refresh_lock

log = logging.getLogger(__name__)

# A dead holder's lease runs out this long after its last refresh (refreshed every tick, each second).
LOCK_TTL_SECONDS = 15


def scheduler_name() -> str:
    """Names the holder in the lock's value, so an operator (or a test) can tell which process it is."""
    return f"dispatch-{socket.gethostname()}-{os.getpid()}"


class InThreadScheduler(RQScheduler):
    """RQ's scheduler, driven by `tick()` from a thread instead of a forked loop, with short leases."""

    def __init__(self, queue_names: tuple[str, ...], connection: Redis, name: str | None = None) -> None:
        super().__init__(list(queue_names), connection=connection, name=name or scheduler_name())
        # The parent class builds its own connection from the pool's settings (for its fork); in a thread
        # the worker's own client does (it is thread safe).
        # rq declares _connection as None (it is built lazily in the fork), so its type is wrong here.
        self._connection = connection  # type: ignore[assignment]

    def acquire_locks(self, auto_start: bool = False) -> set[str]:
        held = set()
        for queue_name in self._queue_names:
            outcome = acquire_or_refresh_lock(
                self.connection, self.get_locking_key(queue_name), self.name, LOCK_TTL_SECONDS
            )
            if outcome in ("acquired", "refreshed"):
                held.add(queue_name)
                if outcome == "acquired":
                    log.info("scheduler %s now moves the scheduled jobs of queue %s", self.name, queue_name)
        if held != self._acquired_locks:
            self._scheduled_job_registries = []
        self._acquired_locks = held
        return held

    def tick(self) -> bool:
        """Refresh (or take) the leases, then move the due jobs of the queues held; True if any."""
        if not self.acquire_locks():
            return False
        self.enqueue_scheduled_jobs()
        return True

    def release(self) -> None:
        """A clean stop hands the queues over at once instead of after the lease."""
        self.release_locks()
