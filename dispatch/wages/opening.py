"""Opening a wage case: from a follow-up answer (`2` or `3`), or from a claim at any time about one
placement (the worker's `欠薪 101`, their key on the IVR, an agent for a worker in the hall).

Whatever opens it, a case is about one placement (the accepted offer: worker and job), carries the
same evidence, opens a dispute ticket and holds the employer. One case per placement: a second claim,
or the follow-up answer after a claim, finds the first. Plain functions; they flush, never commit.
"""

from __future__ import annotations

import logging
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from dispatch.models import (
    Agent,
    CaseOpenedVia,
    FollowUp,
    FollowUpParty,
    Job,
    Offer,
    PaidAnswer,
    TicketKind,
    WageCase,
    WageCaseStatus,
    Worker,
)
from dispatch.settings import Settings
from dispatch.tickets.services import open_ticket
from dispatch.tickets.summaries import Summary
from dispatch.wages import evidence
from dispatch.wages.holds import audit, hold_employer, lock_employer

log = logging.getLogger(__name__)
WAGE_ANSWERS = (PaidAnswer.PART, PaidAnswer.NONE)


def open_case(
    session: Session, settings: Settings, follow_up: FollowUp, now: datetime, agent: Agent | None = None
) -> WageCase:
    """The worker answered `2` (partly paid) or `3` (not paid): a wage case with its evidence, a
    dispute ticket, and the employer held. Idempotent per placement (a claim made before the answer
    is the case). `agent`: who recorded the answer (on the phone), for the audit trail; None when the
    worker answered by SMS or keypad."""
    if follow_up.paid not in WAGE_ANSWERS:
        raise ValueError(f"follow-up {follow_up.id} does not claim unpaid wages ({follow_up.paid})")
    assert follow_up.paid is not None
    offer = session.get_one(Offer, follow_up.offer_id)
    case, _ = _open(session, settings, offer, follow_up, follow_up.paid, CaseOpenedVia.FOLLOW_UP, agent, now)
    return case


def claim_case(
    session: Session,
    settings: Settings,
    offer: Offer,
    now: datetime,
    *,
    via: CaseOpenedVia,
    paid: PaidAnswer = PaidAnswer.NONE,
    agent: Agent | None = None,
    note: str = "",
) -> tuple[WageCase, bool]:
    """A claim about one placement at any time, follow-up or none: the case, and whether this claim
    opened it (False: one was open, or closed, already). The placement's worker follow-up, when there
    is one, is linked; a worker who had answered it "paid" (1) is marked `after_paid`."""
    if paid not in WAGE_ANSWERS:
        raise ValueError(f"a claim is for wages not (fully) paid, not {paid}")
    follow_up = session.scalar(
        select(FollowUp).where(FollowUp.offer_id == offer.id, FollowUp.party == FollowUpParty.WORKER)
    )
    return _open(session, settings, offer, follow_up, paid, via, agent, now, note)


def case_of_offer(session: Session, offer_id: int) -> WageCase | None:
    return session.scalar(select(WageCase).where(WageCase.offer_id == offer_id).order_by(WageCase.id))


def _open(
    session: Session,
    settings: Settings,
    offer: Offer,
    follow_up: FollowUp | None,
    paid: PaidAnswer,
    via: CaseOpenedVia,
    agent: Agent | None,
    now: datetime,
    note: str = "",
) -> tuple[WageCase, bool]:
    existing = case_of_offer(session, offer.id)
    if existing is not None:
        return _linked(existing, follow_up), False
    job = session.get_one(Job, offer.job_id)
    # The employer's lock serialises this with a case of theirs closing, and with a second claim or a
    # second delivery of the same answer (which then finds this case).
    employer = lock_employer(session, job.employer_id)
    existing = case_of_offer(session, offer.id)
    if existing is not None:
        return _linked(existing, follow_up), False
    worker = session.get_one(Worker, offer.worker_id)
    after_paid = follow_up is not None and follow_up.paid == PaidAnswer.FULL
    days = evidence.days_held(session, offer, job)
    owed = evidence.amount_claimed(job, days)
    claim = evidence.Claim(paid=paid, via=via, after_paid=after_paid)
    case = WageCase(
        follow_up_id=follow_up.id if follow_up is not None and _free(session, follow_up) else None,
        offer_id=offer.id,
        job_id=job.id,
        worker_id=worker.id,
        employer_id=employer.id,
        site_id=job.site_id,
        status=WageCaseStatus.OPEN,
        paid=paid,
        opened_via=via,
        after_paid=after_paid,
        daily_pay=job.daily_pay,
        days=days,
        amount_owed=owed,
        amount_recovered=0,
        evidence=evidence.snapshot(session, follow_up, offer, job, worker, employer, now, claim),
        notes=note,
        opened_at=now,
        updated_at=now,
    )
    session.add(case)
    session.flush()
    key = "wage_case_after_paid" if after_paid else f"wage_case_{paid.value}"
    name, boss = worker.name or worker.phone, employer.name or employer.phone
    ticket = open_ticket(
        session,
        TicketKind.WAGE_CASE,
        job=job,
        summary=Summary.of(key, code=job.code, name=name, employer=boss, owed=owed),
        text=(
            f"Wage case {case.id} ({via.value}{', after answering paid' if after_paid else ''}): {name} says "
            f"job {job.code} was {'partly paid' if paid == PaidAnswer.PART else 'not paid'} "
            f"({job.daily_pay} yuan x {days} day(s) = {owed} yuan) by {boss}"
        ),
        details={
            "wage_case_id": case.id,
            # What the queue page words in the agent's language (console/tickets/summaries.py).
            "job_code": job.code,
            "name": name,
            "employer": boss,
            "paid": paid.value,
            "owed": owed,
            "opened_via": via.value,
            "after_paid": after_paid,
        },
        now=now,
        worker=worker,
    )
    case.ticket_id = ticket.id
    held = hold_employer(session, employer, case, agent)
    audit(
        session,
        agent,
        "wage_case.open",
        case,
        note=note,
        new_status=case.status,
        paid=case.paid,
        amount_owed=owed,
        follow_up_id=case.follow_up_id,
        offer_id=offer.id,
        opened_via=via,
        after_paid=after_paid,
        ticket_id=ticket.id,
        employer_held=held,
    )
    session.flush()
    log.info("wage case %s opened for job %s (%s, offer %s)", case.id, job.code, via.value, offer.id)
    return case, True


def _free(session: Session, follow_up: FollowUp) -> bool:
    """The follow-up is no other case's (follow_up_id is unique; one follow-up, one placement)."""
    return session.scalar(select(WageCase.id).where(WageCase.follow_up_id == follow_up.id)) is None


def _linked(case: WageCase, follow_up: FollowUp | None) -> WageCase:
    """A case opened by a claim before the follow-up was asked gets the follow-up once it answers."""
    if case.follow_up_id is None and follow_up is not None:
        case.follow_up_id = follow_up.id
    return case
