"""RQ entry points of the follow-ups."""

from __future__ import annotations

from dispatch.clock import utcnow
from dispatch.followup import asking
from dispatch.runtime import get_runtime


def run_follow_ups() -> dict[str, int]:
    """Periodic: ask the placements that ended, remind the silent, hand the still silent to agents."""
    runtime = get_runtime()
    with runtime.db.transaction() as session:
        return asking.run(session, runtime.settings, utcnow())
