"""Service-wide RQ jobs (feature jobs live in <area>/tasks.py)."""

from __future__ import annotations

from datetime import timedelta

from dispatch.queue import relay_all, task
from dispatch.runtime import get_runtime


@task()
def sweep_outbox() -> dict[str, int]:
    """Relay outbox rows the after-commit relay left behind (e.g. while Redis was down)."""
    runtime = get_runtime()
    grace = timedelta(seconds=runtime.settings.OUTBOX_SWEEP_GRACE_SECONDS)
    return {"relayed": relay_all(runtime, older_than=grace)}


@task()
def recover_lost_jobs() -> dict[str, int]:
    """Relay again the outbox jobs Redis lost or whose worker died (dispatch/recovery.py)."""
    from dispatch.recovery import recover_lost_jobs as recover

    return recover(get_runtime())
