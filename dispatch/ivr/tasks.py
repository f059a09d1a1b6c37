"""Phone intake's periodic RQ jobs."""

from __future__ import annotations

from dispatch.queue import task
from dispatch.runtime import get_runtime


@task()
def finish_stale_calls() -> dict[str, int]:
    """Finish calls whose status callback never arrived (see services.finish_stale_calls)."""
    from dispatch.ivr import services  # in the task: see "The task registry" in dispatch/queue.py

    runtime = get_runtime()
    with runtime.db.transaction() as session:
        return services.finish_stale_calls(session, settings=runtime.settings)
