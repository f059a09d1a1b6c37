"""The market's own calls that carry news (an offer to a worker, who is coming to an employer): the
claim that makes each attempt ring once, and the `Call` row its webhooks keep their state in.

An attempt is claimed before anything leaves by a `Call` row under a placeholder sid (`claim:...`),
committed before Twilio is asked (no transaction is open meanwhile). A second run of the same
attempt finds the claim and rings nobody. Once Twilio answers, the row takes the call's real sid;
should the person pick up first, the call's own webhook (whose URL names the attempt) does that.
Whether anyone picked up is the row's `turn`: the first webhook makes it 1.

Plain functions that take a session; they flush, never commit.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from dispatch.clock import utcnow
from dispatch.db import insert_ignoring_conflicts
from dispatch.models import Call, CallOutcome

# The status a claim gets when Twilio surely placed no call.
NOT_PLACED = "not-placed"


@dataclass(frozen=True)
class Plan:
    """A call to place: where, the TwiML's URL, the status callback, and the claim's placeholder sid."""

    to: str
    url: str
    status_url: str
    claim: str


def claim_sid(kind: str, key: str | int, attempt: int) -> str:
    return f"claim:{kind}:{key}:{attempt}"[:64]


def find(session: Session, sid: str) -> Call | None:
    """The call's row, locked (its webhooks and the task that placed it wait for each other)."""
    return session.scalar(select(Call).where(Call.call_sid == sid[:64]).with_for_update()) if sid else None


def open_row(
    session: Session,
    sid: str,
    *,
    phone: str,
    flow: str,
    step: str,
    language: str,
    answers: dict[str, Any],
    outcome: CallOutcome,
    job_id: int | None = None,
    worker_id: int | None = None,
    employer_id: int | None = None,
    status: str = "queued",
) -> tuple[Call, bool]:
    """The row under `sid`, made if there is none; True when this made it. Its outcome is set from the
    start: the end of a call the market placed leaves no call-back ticket (ivr/tickets.finish_call)."""
    now = utcnow()
    values = {
        "call_sid": sid[:64],
        "phone": phone,
        "flow": flow,
        "step": step,
        "language": language,
        "answers": answers,
        "retries": 0,
        "turn": 0,
        "last_key": "",
        "last_twiml": "",
        "status": status[:24],
        "outcome": outcome,
        "recording_url": "",
        "job_id": job_id,
        "worker_id": worker_id,
        "employer_id": employer_id,
        "created_at": now,
        "updated_at": now,
    }
    created = insert_ignoring_conflicts(session, Call.__table__, values, "call_sid") is not None
    call = find(session, sid)
    assert call is not None
    return call, created


def adopt(session: Session, claim: str, sid: str) -> Call | None:
    """The call under its real sid: the claim's row renamed by whichever comes first, the task that
    placed the call or the call's first webhook. None when neither row is there."""
    call = find(session, sid)
    if call is not None:
        return call
    claimed = find(session, claim)
    if claimed is not None:
        claimed.call_sid = sid[:64]
        session.flush()
        return claimed
    return find(session, sid)  # the other side renamed it while this one waited for the lock


def picked_up(calls: list[Call]) -> bool:
    """Someone answered one of these calls (its first webhook came)."""
    return any(call.turn > 0 for call in calls)


def not_placed(session: Session, claim: str) -> None:
    """Twilio surely placed no call for this claim: the row says so (and stays, so the attempt is not
    made twice)."""
    call = find(session, claim)
    if call is not None:
        call.status, call.ended_at = NOT_PLACED, utcnow()
        session.flush()
