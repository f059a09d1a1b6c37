"""`/readyz`: is the service doing its work? For monitoring, not for a load balancer.

A load balancer should use `/healthz` (is this web process alive): a 503 here (say, every queue worker
stopped) would take every web process out of rotation at once, and then webhooks would go unanswered.
"""

from __future__ import annotations

import logging
from typing import Any

from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from dispatch.ops import probes
from dispatch.ops.errors import first_line
from dispatch.runtime import Runtime

log = logging.getLogger(__name__)

# A due text normally leaves within seconds; the morning's held texts go at SMS_SEND_RATE (1/s per
# sender), so a few hundred of them take minutes. Ten minutes late is an outage of sending.
UNSENT_MAX_SECONDS = 600
# The spool is replayed within seconds of the database's return (after an 8 s settle wait); a request
# older than a minute means the database is still away or the replay is stuck.
SPOOL_PENDING_MAX_SECONDS = 60
# An idle RQ worker beats every 3 s (worker_ttl 18); a busy one before and after each job (a send
# takes seconds). A minute of silence from every worker means none is working.
HEARTBEAT_MAX_SECONDS = 60


def readiness(runtime: Runtime) -> tuple[dict[str, Any], list[str]]:
    """The report and the reasons it is not ready (none: ready). Never raises on an outage."""
    reasons: list[str] = []
    report: dict[str, Any] = {}

    try:
        with probes.probe_session(runtime) as session:
            session.execute(text("SELECT 1"))
            unsent = probes.unsent(session)
        report["database"] = "ok"
        report["unsent"] = unsent.count
        report["oldest_unsent_seconds"] = probes.age(unsent.oldest_seconds)
        if unsent.oldest_seconds is not None and unsent.oldest_seconds > UNSENT_MAX_SECONDS:
            reasons.append(
                f"{unsent.count} outbound texts unsent, the oldest due {unsent.oldest_seconds:.0f} s ago "
                f"(over {UNSENT_MAX_SECONDS} s)"
            )
    except SQLAlchemyError as exc:
        log.warning("readiness: database unavailable: %s", first_line(exc))
        report.update(database="unavailable", unsent=None, oldest_unsent_seconds=None)
        reasons.append(f"database unavailable: {first_line(exc)}")

    redis_error = probes.redis_error(runtime)
    report["redis"] = "ok" if redis_error is None else "unavailable"
    if redis_error is not None:
        reasons.append(f"redis unavailable: {redis_error}")
        report["workers"] = None
    elif runtime.settings.embedded_redis:
        report["workers"] = {"embedded": True}  # the queue worker runs inside `dispatch serve`
    else:
        try:
            workers = probes.workers(runtime.redis)
        except Exception as exc:  # Redis went away between the PING and here
            reasons.append(f"redis unavailable: {first_line(exc)}")
            report["workers"] = None
        else:
            report["workers"] = {
                "count": workers.count,
                "last_heartbeat_seconds": probes.age(workers.heartbeat_seconds),
            }
            if workers.count == 0:
                reasons.append("no queue worker registered (is `dispatch worker` running?)")
            elif workers.heartbeat_seconds is not None and workers.heartbeat_seconds > HEARTBEAT_MAX_SECONDS:
                reasons.append(
                    f"no queue worker heartbeat for {workers.heartbeat_seconds:.0f} s "
                    f"(over {HEARTBEAT_MAX_SECONDS} s)"
                )

    try:
        spool = probes.spool_state(runtime.spool)
    except OSError as exc:
        reasons.append(f"spool unreadable: {exc}")
        report["spool"] = None
    else:
        report["spool"] = {
            "pending": spool.pending,
            "oldest_seconds": probes.age(spool.oldest_seconds),
            "failed": spool.failed,
        }
        if spool.oldest_seconds is not None and spool.oldest_seconds > SPOOL_PENDING_MAX_SECONDS:
            reasons.append(
                f"{spool.pending} webhooks waiting in the spool, the oldest for {spool.oldest_seconds:.0f} s "
                f"(over {SPOOL_PENDING_MAX_SECONDS} s)"
            )
        if spool.failed:
            reasons.append(f"{spool.failed} webhooks in the spool's failed/ need an operator")

    report["status"] = "unavailable" if reasons else "ok"
    report["reasons"] = reasons
    return report, reasons
