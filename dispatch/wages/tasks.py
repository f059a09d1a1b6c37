"""RQ jobs of the wage cases: the expiry of the jobs their holds kept from matching."""

from __future__ import annotations

import logging

from dispatch.clock import utcnow
from dispatch.queue import task
from dispatch.runtime import get_runtime

log = logging.getLogger(__name__)
EXPIRY_BATCH = 1000


@task()
def expire_held_jobs() -> dict[str, int]:
    """Periodic: held jobs nobody released before their last day began are over (dispatch.wages.holds)."""
    from dispatch.wages.holds import expire_overdue_held_jobs  # in the task: see dispatch/queue.py

    runtime = get_runtime()
    with runtime.db.transaction() as session:
        expired = expire_overdue_held_jobs(session, runtime.settings, utcnow(), EXPIRY_BATCH)
    if expired:
        log.info("%s held jobs expired", expired)
    return {"expired": expired}
