"""Doing a webhook's work now, or keeping it in the spool for later."""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import TYPE_CHECKING, TypeVar

from werkzeug.exceptions import HTTPException

from dispatch.db import can_wait, is_database_unavailable, is_dropped_connection
from dispatch.spool.store import SpooledRequest, describe

if TYPE_CHECKING:
    from dispatch.runtime import Runtime

log = logging.getLogger(__name__)
T = TypeVar("T")


def now_or_spooled(
    runtime: Runtime,
    kind: str,
    form: Mapping[str, str],
    work: Callable[[], T],
    args: Mapping[str, str] | None = None,
) -> T | None:
    """`work()`'s result, or None when the request was spooled instead: because older requests wait in
    the spool (this one queues behind them, keeping each sender's order), or because the work failed.

    A database that is down or hung is the expected reason; anything else is logged as the bug it is,
    and the request is kept all the same (the replay moves what still fails to the spool's failed/).
    Only an error of the request itself (a 4xx) goes back to the caller.
    """
    spool = runtime.spool
    arrived = datetime.now(UTC)  # before any wait on the database: it orders the spool
    attempts = 0 if spool.has_pending() else 2  # a dropped connection is tried once more
    for attempt in range(1, attempts + 1):
        try:
            return work()
        except HTTPException:
            raise
        except Exception as exc:
            if attempt == 1 and is_dropped_connection(exc):
                # The pool does not ping before use (dispatch/db.py): a connection the server dropped is
                # found by the first statement. The work is idempotent (the replay does it again too).
                log.info("database connection dropped under %s; trying it once more", kind)
                continue
            if is_database_unavailable(exc):
                runtime.database_failed()
            if can_wait(exc):
                reason = type(exc).__name__
                log.warning("database unavailable or busy (%s): %s %s spooled", reason, kind, describe(form))
            else:
                log.exception("%s %s failed; spooled to be tried again", kind, describe(form))
            break
    spool.write(SpooledRequest(kind=kind, form=dict(form), args=dict(args or {}), received_at=arrived))
    return None
