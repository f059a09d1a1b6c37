"""The call center's periodic RQ jobs."""

from __future__ import annotations

from dispatch.clock import utcnow
from dispatch.queue import task
from dispatch.runtime import get_runtime


@task()
def set_idle_agents_away() -> dict[str, int]:
    """Agents whose console went quiet are set away (see presence.set_idle_agents_away)."""
    from dispatch.callcenter import presence  # in the task: see "The task registry" in dispatch/queue.py

    runtime = get_runtime()
    with runtime.db.transaction() as session:
        return {"away": presence.set_idle_agents_away(session, runtime.settings, utcnow())}


@task()
def release_stuck_calls() -> dict[str, int]:
    """Reserved callers whose agent's softphone never connected wait again; busy agents whose console
    went silent are set away (see stuck.release_stuck)."""
    from dispatch.callcenter import stuck  # in the task: see "The task registry" in dispatch/queue.py

    runtime = get_runtime()
    with runtime.db.transaction() as session:
        return stuck.release_stuck(session, runtime.settings, utcnow())
