"""An employer who rated a worker 0 or 1 star is asked whether to stop sending that worker; the answer
`101 2 不要` (the job's code and the worker's number, as the rating named them; `101 不要` when the job
had one such worker) adds an EmployerBlock, which matching honours. Plain functions; they flush,
never commit.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session, joinedload

from dispatch.clock import utcnow
from dispatch.followup.texts import LOW_STARS
from dispatch.matching.notices import language_of, person_name
from dispatch.models import (
    Agent,
    AuditEvent,
    EmployerBlock,
    FollowUp,
    FollowUpParty,
    Job,
    Message,
)
from dispatch.settings import Settings
from dispatch.sms.parser import Command, CommandKind
from dispatch.sms.services import reply

log = logging.getLogger(__name__)
SEQS_LISTED = 3  # an employer asked which of a job's low-rated workers is meant sees this many
_BLOCK = re.compile(r"^(\d{3,8})(?:\s+(\d{1,2}))?\s*(?:不要了|不要|别派了|block)$")


@dataclass(frozen=True)
class BlockAsked:
    code: str
    seq: int | None


def read_block(text: str) -> BlockAsked | None:
    """`101 2 不要`, `101 不要`, `101 2 block`; None when the text is no such answer."""
    found = _BLOCK.match(" ".join(text.casefold().split()))
    if found is None:
        return None
    return BlockAsked(found.group(1), int(found.group(2)) if found.group(2) else None)


def handle_block_sms(session: Session, settings: Settings, message: Message, command: Command) -> bool:
    """An employer's `101 2 不要` after rating that worker low: the block, and a text saying so. False
    (for the other handlers) when the text names no worker this employer rated low on that job."""
    if command.kind != CommandKind.TEXT or message.employer_id is None:
        return False
    asked = read_block(command.text)
    if asked is None:
        return False
    rated = list(
        session.scalars(
            select(FollowUp)
            .join(Job, Job.id == FollowUp.job_id)
            .options(joinedload(FollowUp.worker), joinedload(FollowUp.job))
            .where(
                FollowUp.employer_id == message.employer_id,
                FollowUp.party == FollowUpParty.EMPLOYER,
                Job.code == asked.code,
                FollowUp.stars.is_not(None),
                FollowUp.stars <= LOW_STARS,
            )
            .order_by(FollowUp.seq)
        )
    )
    if asked.seq is not None:
        rated = [fu for fu in rated if fu.seq == asked.seq]
    if not rated:
        return False
    if len(rated) > 1:  # `101 不要` with two workers rated low: which one
        seqs = [fu.seq for fu in rated][:SEQS_LISTED]
        reply(
            session,
            settings,
            message,
            "followup_block_which",
            "followup.block_which",
            code=asked.code,
            seqs=seqs,
        )
        return True
    follow_up = rated[0]
    add_block(
        session,
        follow_up.employer_id,
        follow_up.worker_id,
        block_reason(follow_up),
        None,
        utcnow(),
        via="sms",
    )
    name = person_name(follow_up.worker.name, language_of(session, message.phone))
    reply(
        session,
        settings,
        message,
        "followup_block_done",
        "followup.block_done",
        code=asked.code,
        seq=follow_up.seq,
        name=name,
    )
    return True


def block_reason(follow_up: FollowUp) -> str:
    # Kept as written for agents and reports, not shown to the people (the console words it).
    stars = "?" if follow_up.stars is None else follow_up.stars
    return f"rated {stars} star(s) on job {follow_up.job.code} (follow-up {follow_up.id})"


def add_block(
    session: Session,
    employer_id: int,
    worker_id: int,
    reason: str,
    agent: Agent | None,
    now: datetime,
    via: str,
    remote_addr: str = "",
) -> bool:
    """The worker is not offered this employer's jobs again; audited. False: already blocked."""
    existing = session.get(EmployerBlock, (employer_id, worker_id), with_for_update=True)
    if existing is not None:
        return False
    session.add(EmployerBlock(employer_id=employer_id, worker_id=worker_id, reason=reason, created_at=now))
    _audit(session, agent, "employer_block.add", employer_id, worker_id, reason, via, remote_addr)
    session.flush()
    log.info("employer %s blocked worker %s (%s)", employer_id, worker_id, via)
    return True


def remove_block(
    session: Session,
    employer_id: int,
    worker_id: int,
    agent: Agent,
    note: str = "",
    remote_addr: str = "",
) -> bool:
    """The worker may be offered this employer's jobs again; audited. False: was not blocked."""
    existing = session.get(EmployerBlock, (employer_id, worker_id), with_for_update=True)
    if existing is None:
        return False
    reason = existing.reason
    session.delete(existing)
    _audit(
        session, agent, "employer_block.remove", employer_id, worker_id, note, "agent", remote_addr, reason
    )
    session.flush()
    return True


def _audit(
    session: Session,
    agent: Agent | None,
    action: str,
    employer_id: int,
    worker_id: int,
    note: str,
    via: str,
    remote_addr: str,
    was: str = "",
) -> None:
    """Written here (not through dispatch.console.audit): this runs in SMS webhooks, and importing the
    console package from there would import every console view. The worker is the target; the
    employer's page finds it by `employer_id`."""
    details: dict[str, object] = {"employer_id": employer_id, "worker_id": worker_id, "via": via}
    if was:
        details["reason"] = was
    session.add(
        AuditEvent(
            agent_id=agent.id if agent else None,
            action=action,
            target_type="worker",
            target_id=worker_id,
            details=details,
            note=note[:4000],
            remote_addr=remote_addr[:64],
        )
    )
