"""A registration taken down for the worker by someone else (the IVR's keypad, an agent at the counter).

The worker is written pending and the SMS registration dialogue waits at its confirmation with these
details: the worker's `1` registers them with consent, exactly as an SMS registration does (and the jobs
friends passed to the number follow), and `2` starts the dialogue afresh. Each channel sends its own SMS
asking for that `1`.

Apart from dispatch.workers.services because the dialogue itself registers through those services.
"""

from __future__ import annotations

from sqlalchemy.orm import Session

from dispatch.models import RegisteredVia, Worker
from dispatch.sms import registration
from dispatch.workers import services
from dispatch.workers.services import WorkerDetails


def register_pending(session: Session, details: WorkerDetails, via: RegisteredVia) -> Worker:
    """The worker, pending if new (an existing one changes when they confirm), awaiting their `1`."""
    worker = services.register(session, details, via, consent=False)
    registration.await_confirmation(session, details)
    return worker
