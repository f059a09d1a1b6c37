"""An agent's follow-up call (回访 by phone): what the ticket page shows, and recording what the person
said or that nobody answered. Plain functions on a session; they flush, never commit."""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from dispatch.console.audit import record
from dispatch.console.people import editing
from dispatch.console.tickets.services import resolve_ticket
from dispatch.console.tickets.work import hold
from dispatch.followup.blocks import add_block, block_reason
from dispatch.followup.services import BadAnswer, check_stars, end_unanswered, paid_from_digit, record_answer
from dispatch.models import (
    Agent,
    AnsweredVia,
    Employer,
    FollowUp,
    FollowUpParty,
    Job,
    PaidAnswer,
    Ticket,
    TicketKind,
    TicketOutcome,
    Trade,
    Worker,
    WorkerStatus,
)
from dispatch.settings import Settings
from dispatch.workers import limits
from dispatch.workers import services as workers
from dispatch.workers.services import Skill


@dataclass(frozen=True)
class Panel:
    """What the agent calling needs: whom to ask what, about which placement, and the other side."""

    follow_up: FollowUp
    job: Job
    person: Worker | Employer  # the one to call
    other: Worker | Employer  # the other side of the placement

    @property
    def asks_paid(self) -> bool:
        return self.follow_up.party == FollowUpParty.WORKER

    @property
    def lowest_stars(self) -> int:
        return 0 if self.follow_up.party == FollowUpParty.EMPLOYER else 1


def panel(db: Session, ticket: Ticket) -> Panel | None:
    """The follow-up a follow-up ticket is about (None for any other ticket)."""
    if ticket.kind != TicketKind.FOLLOW_UP:
        return None
    follow_up_id = ticket.details.get("follow_up_id")
    follow_up = db.get(FollowUp, follow_up_id) if isinstance(follow_up_id, int) else None
    if follow_up is None:
        return None
    worker_side = follow_up.party == FollowUpParty.WORKER
    person = follow_up.worker if worker_side else follow_up.employer
    other = follow_up.employer if worker_side else follow_up.worker
    return Panel(follow_up, follow_up.job, person, other)


def read_answer(follow_up: FollowUp, form) -> tuple[PaidAnswer | None, int]:
    """The form's answers, checked as an SMS answer would be; BadAnswer when one is missing or wrong."""
    paid = None
    if follow_up.party == FollowUpParty.WORKER:
        paid = paid_from_digit(_digit(form.get("paid", "")))
    return paid, check_stars(follow_up.party, _digit(form.get("stars", "")))


def _digit(raw: str) -> int:
    raw = raw.strip()
    if not (raw.isascii() and raw.isdigit() and len(raw) == 1):
        raise BadAnswer(f"not a digit: {raw!r}")
    return int(raw)


def answer_by_phone(
    db: Session,
    settings: Settings,
    agent: Agent,
    ticket: Ticket,
    follow_up: FollowUp,
    paid: PaidAnswer | None,
    stars: int,
    note: str,
    now: datetime,
    remote_addr: str = "",
    block: bool = False,
) -> None:
    """Record what the person said on the phone; the ticket is resolved as called. `block`: the
    employer said not to send this worker again (the question an SMS rating of 0-1 star asks, asked by
    the agent on the call): the same block as the employer's `101 2 不要`, audited as the agent's."""
    hold(db, agent, ticket, remote_addr)
    recorded = record_answer(
        db, settings, follow_up, paid=paid, stars=stars, via=AnsweredVia.AGENT, now=now, agent=agent
    )
    blocked = block and follow_up.party == FollowUpParty.EMPLOYER
    if blocked:
        blocked = add_block(
            db,
            follow_up.employer_id,
            follow_up.worker_id,
            block_reason(follow_up),
            agent,
            now,
            via="agent",
            remote_addr=remote_addr,
        )
    record(
        db,
        agent,
        "follow_up.answer",
        follow_up,
        note=note,
        remote_addr=remote_addr,
        party=follow_up.party,
        paid=paid,
        stars=stars,
        recorded=recorded,
        blocked=blocked,
        ticket_id=ticket.id,
    )
    resolve_ticket(db, agent, ticket, TicketOutcome.CALLED, note, remote_addr)


def nobody_answered(
    db: Session, agent: Agent, ticket: Ticket, follow_up: FollowUp, note: str, remote_addr: str = ""
) -> None:
    """The call found nobody: the follow-up ends unanswered (UNANSWERED, no longer open: a bare `1`
    is then never read as its answer; an SMS answer naming the job still counts)."""
    hold(db, agent, ticket, remote_addr)
    ended = end_unanswered(db, follow_up)
    record(
        db,
        agent,
        "follow_up.no_answer",
        follow_up,
        note=note,
        remote_addr=remote_addr,
        ticket_id=ticket.id,
        ended=ended,
    )
    resolve_ticket(db, agent, ticket, TicketOutcome.NO_ANSWER, note, remote_addr)


def placement_follow_ups(db: Session, job_id: int) -> dict[int, dict[str, FollowUp]]:
    """A job's follow-ups for its page: by placement (offer id), then by party."""
    found: dict[int, dict[str, FollowUp]] = {}
    for follow_up in db.scalars(select(FollowUp).where(FollowUp.job_id == job_id)):
        found.setdefault(follow_up.offer_id, {})[follow_up.party.value] = follow_up
    return found


def set_prefers_voice(db: Session, agent: Agent, worker: Worker, wanted: bool, remote_addr: str = "") -> bool:
    """Follow-ups by phone call (a keypad menu) instead of SMS, for this worker; False if unchanged."""
    if worker.prefers_voice == wanted:
        return False
    worker.prefers_voice = wanted
    if worker.status in {WorkerStatus.ACTIVE, WorkerStatus.UNDELIVERABLE}:
        # A number that takes no SMS: reachable again by the offers' calls, or no longer.
        worker.status = workers.usual_status(db, worker)
    record(db, agent, "worker.prefers_voice", worker, remote_addr=remote_addr, prefers_voice=wanted)
    db.flush()
    return True


# -- a correction of the worker's record ----------------------------------------------------------

CORRECTION_LIMITS = {
    "low": limits.MIN_DAILY_PAY,
    "high": limits.MAX_DAILY_PAY,
    "years": limits.MAX_YEARS,
    "trades": limits.MAX_TRADES,
}


def read_correction(db: Session, form) -> tuple[int | None, Skill | None, str | None]:
    """The correction form: a pay floor and/or a trade with its years, each optional; a text key when
    a field is wrong."""
    raw_pay = _field(form, "min_pay")
    min_pay = None
    if raw_pay:
        if not (
            raw_pay.isascii() and raw_pay.isdigit() and len(raw_pay) < 6 and limits.pay_fits(int(raw_pay))
        ):
            return None, None, "followups.correction.bad_pay"
        min_pay = int(raw_pay)
    raw_trade, raw_years = _field(form, "trade"), _field(form, "years") or "0"
    skill = None
    if raw_trade:
        trade_id = _trade_id(db, raw_trade)
        fits = raw_years.isascii() and raw_years.isdigit() and len(raw_years) < 4
        if trade_id is None or not fits or not limits.years_fit(int(raw_years)):
            return None, None, "followups.correction.bad_trade"
        skill = Skill(trade_id, int(raw_years))
    return min_pay, skill, None


def correct_worker(
    db: Session,
    agent: Agent,
    worker: Worker,
    follow_up: FollowUp,
    min_pay: int | None,
    skill: Skill | None,
    remote_addr: str = "",
) -> dict:
    """Write the correction on the worker (dispatch.workers, audited before/after, the follow-up named)."""
    return editing.correct_worker(
        db, agent, worker, min_pay, skill, remote_addr, via="follow_up", follow_up_id=follow_up.id
    )


def _trade_id(db: Session, raw: str) -> int | None:
    if not (raw.isascii() and raw.isdigit() and len(raw) < 10):
        return None
    return db.scalar(select(Trade.id).where(Trade.id == int(raw)))


def _field(form, name: str) -> str:
    return unicodedata.normalize("NFKC", form.get(name, "") or "").strip()
