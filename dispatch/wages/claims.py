"""A worker's wage claim at any time (`欠薪 101`, `没给钱 101`, `unpaid 101`, or their key on the IVR):
which placement it is about, and the case it opens.

Only the worker who held a place on that job when its work began may claim it (the placements the
follow-up asks about: dispatch.followup.placements.held_at_start), and only once the work has begun.
A wrong or missing code is answered with the worker's recent jobs; a second claim with the case
already there.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session, joinedload

from dispatch.clock import utcnow
from dispatch.followup.placements import held_at_start
from dispatch.matching.notices import local_date
from dispatch.models import (
    OPEN_WAGE_CASE_STATUSES,
    Agent,
    CaseOpenedVia,
    Job,
    Message,
    Offer,
    PaidAnswer,
    WageCase,
    Worker,
)
from dispatch.settings import Settings
from dispatch.sms.parser import Command, CommandKind
from dispatch.sms.services import reply
from dispatch.wages.opening import claim_case

log = logging.getLogger(__name__)
# The recent jobs a worker whose code named none of theirs is shown (an English text holds three).
CODES_LISTED = 3
CLAIM_WORDS = (
    "没给工钱",
    "工钱没给",
    "没发工资",
    "拖欠工资",
    "没给钱",
    "欠工资",
    "欠薪",
    "notpaid",
    "unpaid",
)


def claimed_code(text: str) -> str | None:
    """`欠薪 101`, `欠薪101`, `101 欠薪`, `unpaid 101` give "101"; `欠薪` alone gives ""; None when the
    text is no wage claim. Read on the normalised text (digits already half-width)."""
    word = "".join(text.casefold().split())
    for claim in CLAIM_WORDS:  # longest first where one contains another (没给工钱 before 没给钱)
        if word.startswith(claim):
            rest = word[len(claim) :]
        elif word.endswith(claim):
            rest = word[: -len(claim)]
        else:
            continue
        if rest == "" or (rest.isascii() and rest.isdigit() and len(rest) <= 8):
            return rest
    return None


@dataclass(frozen=True)
class Claimed:
    """What a claim came to: `case` (and whether this claim `opened` it), or, with no case, the codes
    the worker might have meant."""

    case: WageCase | None
    opened: bool
    recent: list[str]


def placement(session: Session, settings: Settings, worker: Worker, code: str, now: datetime) -> Offer | None:
    """The worker's place on job `code` held when its work began (and begun by now), else None."""
    return session.scalar(
        select(Offer)
        .join(Job, Job.id == Offer.job_id)
        .where(
            Offer.worker_id == worker.id,
            Job.code == code,
            Job.work_date <= local_date(settings, now),
            held_at_start(settings),
        )
        .order_by(Offer.id.desc())
        .limit(1)
    )


def recent_codes(session: Session, settings: Settings, worker: Worker, now: datetime) -> list[str]:
    """The codes of the worker's latest placements whose work has begun, latest first."""
    codes = session.scalars(
        select(Job.code)
        .join(Offer, Offer.job_id == Job.id)
        .where(
            Offer.worker_id == worker.id,
            Job.work_date <= local_date(settings, now),
            Job.code.is_not(None),
            held_at_start(settings),
        )
        .order_by(Job.work_date.desc(), Job.id.desc())
        .limit(CODES_LISTED)
    )
    return [code for code in codes if code]


def claimable(
    session: Session,
    settings: Settings,
    now: datetime,
    *,
    worker_id: int | None = None,
    job_id: int | None = None,
    limit: int = 20,
) -> list[Offer]:
    """Placements of a worker (or on a job) whose work has begun and that have no case yet, latest
    first: what an agent may open a case for."""
    query = (
        select(Offer)
        .join(Job, Job.id == Offer.job_id)
        .options(joinedload(Offer.job), joinedload(Offer.worker))
        .where(
            Job.work_date <= local_date(settings, now),
            held_at_start(settings),
            ~select(WageCase.id).where(WageCase.offer_id == Offer.id).exists(),
        )
        .order_by(Job.work_date.desc(), Offer.id.desc())
        .limit(limit)
    )
    if worker_id is not None:
        query = query.where(Offer.worker_id == worker_id)
    if job_id is not None:
        query = query.where(Offer.job_id == job_id)
    return list(session.scalars(query))


def claim(
    session: Session,
    settings: Settings,
    worker: Worker,
    code: str,
    now: datetime,
    *,
    via: CaseOpenedVia,
    paid: PaidAnswer = PaidAnswer.NONE,
    agent: Agent | None = None,
    note: str = "",
) -> Claimed:
    """Open (or find) the case of the worker's placement on job `code`."""
    offer = placement(session, settings, worker, code, now) if code else None
    if offer is None:
        return Claimed(None, False, recent_codes(session, settings, worker, now))
    case, opened = claim_case(session, settings, offer, now, via=via, paid=paid, agent=agent, note=note)
    return Claimed(case, opened, [])


def handle_claim_sms(session: Session, settings: Settings, message: Message, command: Command) -> bool:
    """`欠薪 101` from a worker: the case opened (or already there), or the jobs they may mean."""
    if command.kind != CommandKind.TEXT or message.worker_id is None:
        return False
    code = claimed_code(command.text)
    if code is None:
        return False
    worker = session.get_one(Worker, message.worker_id)
    result = claim(session, settings, worker, code, utcnow(), via=CaseOpenedVia.SMS)
    case = result.case
    if case is None:
        reply(
            session,
            settings,
            message,
            "wage_claim_which",
            "wage_claim.which",
            claim_code=code,
            claim_codes=result.recent,
        )
    elif result.opened:
        code = case.job.code or code
        reply(
            session,
            settings,
            message,
            "wage_claim_opened",
            "wage_claim.opened",
            code=code,
            case_owed=case.amount_owed,
        )
        log.info("wage claim by SMS: case %s for job %s", case.id, code)
    else:
        is_open = case.status in OPEN_WAGE_CASE_STATUSES
        reply(
            session,
            settings,
            message,
            "wage_claim_already",
            "wage_claim.already",
            code=code,
            case_open=is_open,
        )
    return True
