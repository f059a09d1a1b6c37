"""Follow-up calls' domain changes: which follow-ups may be called, their URLs, and the `Call` row each
call keeps its state in.

Plain functions that take a session; they flush, never commit.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from dispatch.clock import utcnow
from dispatch.db import insert_ignoring_conflicts
from dispatch.ivr.services import find_call
from dispatch.models import (
    Call,
    CallOutcome,
    Contact,
    FollowUp,
    FollowUpChannel,
    FollowUpParty,
    FollowUpStatus,
    WorkerStatus,
)

FLOW = "followup"  # Call.flow of the market's follow-up calls
FIRST_STEP = "answer"
CALLING, TEXTED = "calling", "sms"  # how a round was claimed (see claim)
# The rounds a follow-up is called in: when it is asked, and once more when it is reminded.
CALLED_STATUSES = frozenset({FollowUpStatus.ASKED, FollowUpStatus.REMINDED})
# Workers who left the market or were blocked are not rung, whatever their follow-up says.
NOT_CALLED_WORKERS = frozenset({WorkerStatus.OPTED_OUT, WorkerStatus.BLOCKED})


def callable_follow_up(follow_up: FollowUp | None) -> bool:
    """A worker's voice follow-up still waiting in a round the market calls in (asked or reminded):
    the keypad menu asks the worker's questions only."""
    return (
        follow_up is not None
        and follow_up.party == FollowUpParty.WORKER
        and follow_up.channel == FollowUpChannel.VOICE
        and follow_up.status in CALLED_STATUSES
        and follow_up.worker.status not in NOT_CALLED_WORKERS
    )


def round_of(follow_up: FollowUp) -> str:
    return follow_up.status.value


def claim(follow_up: FollowUp, how: str = CALLING) -> None:
    """Mark this round as taken before anything leaves (a call is placed with no transaction open, so
    no row lock stands in for this): `<round>:calling` until the call's sid replaces it, for good
    should the process die in between or Twilio's answer be lost (better no call than two), and
    `<round>:sms` when the question went by text instead."""
    follow_up.call_sid = f"{round_of(follow_up)}:{how}"


def called_this_round(session: Session, follow_up: FollowUp) -> bool:
    """Whether this round (asked, or reminded) is taken: claimed (being called, or asked by text), or a
    call of this follow-up in this round has a row, whoever made it (the task, or the call's own
    webhooks should the task have failed to record the sid)."""
    if (follow_up.call_sid or "").startswith(f"{round_of(follow_up)}:"):
        return True
    calls = session.scalars(
        select(Call).where(
            Call.job_id == follow_up.job_id, Call.worker_id == follow_up.worker_id, Call.flow == FLOW
        )
    )
    return any(
        call.answers.get("follow_up") == follow_up.id and call.answers.get("round") == round_of(follow_up)
        for call in calls
    )


def answer_url(base_url: str, follow_up_id: int) -> str:
    """Where Twilio fetches the call's TwiML when the worker picks up (the follow-up's id is signed
    into the URL with everything else Twilio sends)."""
    return f"{base_url.rstrip('/')}/ivr/followup?f={follow_up_id}"


def status_url(base_url: str, follow_up_id: int) -> str:
    return f"{base_url.rstrip('/')}/ivr/followup/status?f={follow_up_id}"


def language_of(session: Session, phone: str) -> str:
    return session.scalar(select(Contact.language).where(Contact.phone == phone)) or "zh"


def follow_up_call(
    session: Session, follow_up: FollowUp, call_sid: str, status: str, round_: str | None = None
) -> Call:
    """The call's row, locked, made by whichever comes first: the task that placed the call (in the
    round it claimed), or one of the call's webhooks (the other then finds it; a concurrent insert
    waits for the first to commit)."""
    now = utcnow()
    values = {
        "call_sid": call_sid[:64],
        "phone": follow_up.worker.phone,
        "flow": FLOW,
        "step": FIRST_STEP,
        "language": language_of(session, follow_up.worker.phone),
        "answers": {"follow_up": follow_up.id, "round": round_ or round_of(follow_up)},
        "retries": 0,
        "turn": 0,
        "last_key": "",
        "last_twiml": "",
        "status": status[:24],
        # Not left for agents as an unfinished call: the follow-up has its own reminder and ticket.
        "outcome": CallOutcome.FOLLOW_UP,
        "recording_url": "",
        "job_id": follow_up.job_id,
        "worker_id": follow_up.worker_id,
        "created_at": now,
        "updated_at": now,
    }
    insert_ignoring_conflicts(session, Call.__table__, values, "call_sid")
    call = find_call(session, call_sid)
    assert call is not None
    return call


def follow_up_of(session: Session, call: Call) -> FollowUp | None:
    follow_up_id = call.answers.get("follow_up")
    return session.get(FollowUp, int(follow_up_id)) if isinstance(follow_up_id, int) else None
