"""RQ entry points of the follow-ups."""

from __future__ import annotations

from dispatch.clock import utcnow
from dispatch.queue import task
from dispatch.runtime import get_runtime


@task()
def run_follow_ups() -> dict[str, int]:
    """Periodic: ask the placements that ended, remind the silent, hand the still silent to agents."""
    from dispatch.followup import asking  # in the task: see "The task registry" in dispatch/queue.py

    runtime = get_runtime()
    with runtime.db.transaction() as session:
        return asking.run(session, runtime.settings, utcnow())
