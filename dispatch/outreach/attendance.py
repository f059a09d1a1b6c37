"""Attendance taken at the counter (issue 18, part 3): who came to an event, who finished a training
(which adds the training's trade to the worker, so that matching offers them its jobs at once), and
walk-ins who never signed up. Plain functions on a session; they flush, never commit; the console
audits each mark."""

from __future__ import annotations

import enum
import logging
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from dispatch.models import Event, EventKind, EventSignup, SignupStatus, Trade, Worker, WorkerTrade

log = logging.getLogger(__name__)


class Mark(enum.StrEnum):
    CAME = "came"
    COMPLETED = "completed"  # a training finished: came, and its trade is the worker's
    ABSENT = "absent"  # a mark undone (a wrong row clicked)


@dataclass(frozen=True)
class Marked:
    signup: EventSignup
    trade_added: Trade | None = None  # the training's trade, new to the worker


def may_complete(event: Event) -> bool:
    return event.kind == EventKind.TRAINING


def mark(session: Session, signup: EventSignup, how: Mark, now: datetime) -> Marked:
    """Mark a sign-up (any status: someone on the waiting list may come and find a seat). Completing
    a training that names a trade gives the worker that trade with 0 years, if not had already."""
    event = signup.event
    if how == Mark.COMPLETED and not may_complete(event):
        how = Mark.CAME
    if how == Mark.ABSENT:
        signup.attended_at, signup.completed_at = None, None
        session.flush()
        return Marked(signup)
    signup.attended_at = signup.attended_at or now
    if how == Mark.CAME:
        signup.completed_at = None
        session.flush()
        return Marked(signup)
    signup.completed_at = signup.completed_at or now
    added = _add_trade(session, signup.worker, event.trade) if event.trade is not None else None
    session.flush()
    return Marked(signup, added)


def _add_trade(session: Session, worker: Worker, trade: Trade) -> Trade | None:
    """The trade, with 0 years, unless the worker has it. Matching reads trades from match_pool, which
    the database keeps in step with worker_trade (migration 0004): offers follow from the flush."""
    held = session.get(WorkerTrade, (worker.id, trade.id))
    if held is not None:
        return None
    session.add(WorkerTrade(worker_id=worker.id, trade_id=trade.id, years_experience=0))
    log.info("worker %s: trade %s added on finishing a training", worker.id, trade.code)
    return trade


def walk_in(session: Session, event: Event, worker: Worker, now: datetime) -> EventSignup:
    """Someone who came without a place: their sign-up if they have one (marked as come), else a new
    one, a walk-in. A walk-in is given a place (status booked): they are in the room."""
    signup = session.scalar(
        select(EventSignup).where(EventSignup.event_id == event.id, EventSignup.worker_id == worker.id)
    )
    if signup is None:
        signup = EventSignup(
            event_id=event.id, worker_id=worker.id, status=SignupStatus.BOOKED, created_at=now, walk_in=True
        )
        session.add(signup)
    elif signup.status == SignupStatus.CANCELLED:
        signup.status, signup.cancelled_at, signup.walk_in = SignupStatus.BOOKED, None, True
    signup.attended_at = signup.attended_at or now
    session.flush()
    log.info("event %s: worker %s came (walk-in %s)", event.id, worker.id, signup.walk_in)
    return signup
