"""RQ jobs of the tickets: the periodic sweep that closes tickets whose subject is over."""

from __future__ import annotations

import logging

from dispatch.clock import utcnow
from dispatch.queue import task
from dispatch.runtime import get_runtime

log = logging.getLogger(__name__)
CLOSING_BATCH = 500  # per reason and run; a backlog drains over a few runs


@task()
def close_over_tickets() -> dict[str, int]:
    """Periodic: escalated jobs past their days expire, and tickets whose subject is over are resolved
    (dispatch.tickets.closing)."""
    from dispatch.tickets.closing import close_over_tickets as close  # in the task: see dispatch/queue.py

    runtime = get_runtime()
    with runtime.db.transaction() as session:
        counts = close(session, runtime.settings, utcnow(), CLOSING_BATCH)
    closed = {reason: count for reason, count in counts.items() if count}
    if closed:
        log.info("tickets closed by the service: %s", closed)
    return closed
