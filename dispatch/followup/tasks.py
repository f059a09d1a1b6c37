"""RQ entry points of the follow-ups."""

from __future__ import annotations


def run_follow_ups() -> dict[str, int]:
    """Periodic: ask the placements that ended, remind the silent, hand the still silent to agents."""
    return {}
