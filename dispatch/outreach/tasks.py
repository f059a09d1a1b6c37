"""RQ entry points of outreach."""

from __future__ import annotations

from dispatch.clock import utcnow
from dispatch.queue import task
from dispatch.runtime import get_runtime


@task()
def send_outreach(outreach_id: int) -> dict[str, int]:
    """A scheduled send: text its audience (once, however often it runs)."""
    from dispatch.outreach import services  # in the task: see "The task registry" in dispatch/queue.py

    runtime = get_runtime()
    with runtime.db.transaction() as session:
        return services.send(session, runtime.settings, outreach_id, utcnow())
