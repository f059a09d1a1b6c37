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


@task()
def remind_signup(signup_id: int) -> dict[str, int]:
    """The evening before an event: its reminder to a worker with a place (once)."""
    from dispatch.outreach import signups  # in the task: see "The task registry" in dispatch/queue.py

    runtime = get_runtime()
    with runtime.db.transaction() as session:
        return signups.remind(session, runtime.settings, signup_id, utcnow())
