"""A psycopg connection that stops waiting for a server that stopped answering.

PostgreSQL's statement and lock timeouts are enforced by the server; a server that is hung (stopped,
swapping, a dead network path whose peer still acknowledges) enforces nothing, and psycopg would wait
forever on the socket. Every wait of this connection has a deadline instead; when it passes, the
connection is closed (SQLAlchemy then treats it as a disconnect and drops it from the pool) and an
OperationalError says what happened.
"""

from __future__ import annotations

from typing import Any

import psycopg
from psycopg import errors


class _NoWaitTimeout(Exception):
    """Stands in for psycopg's class where a version lacks it (then nothing is caught)."""


# psycopg raises this private class when a wait's timeout expires.
_WAIT_TIMEOUT: type[BaseException] = getattr(errors, "_WaitTimeout", _NoWaitTimeout)


class DatabaseNotAnswering(psycopg.OperationalError):
    """The server took the request and did not answer within the deadline."""


class DeadlineConnection(psycopg.Connection[Any]):
    answer_timeout: float | None = None

    def wait(self, gen: Any, interval: float = 0.1, timeout: float | None = None) -> Any:
        deadline = timeout if timeout is not None else self.answer_timeout
        try:
            return super().wait(gen, interval=interval, timeout=deadline)
        except _WAIT_TIMEOUT as exc:
            if timeout is not None:  # psycopg's own bounded wait (e.g. a cancel): its error, as is
                raise
            # Mid-protocol: the connection cannot be reused. Closing it needs no answer from the server.
            self.close()
            raise DatabaseNotAnswering(f"the database did not answer within {deadline:g} s") from exc
