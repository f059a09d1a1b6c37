"""The evidence a wage case carries: a snapshot, taken when the case opens, of the job, the agreed pay,
the amount claimed, when each side confirmed, the follow-up answer and the texts exchanged.

A snapshot and not a live view: a mediator (and, later, a labour inspector) must see what was on
record when the worker complained, even if the job or the people's details change afterwards.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from dispatch.models import (
    AnsweredVia,
    CaseOpenedVia,
    Direction,
    Employer,
    EnrolmentStatus,
    FollowUp,
    InsuranceEnrolment,
    Job,
    Message,
    Offer,
    PaidAnswer,
    Worker,
)
from dispatch.phones import display

MAX_MESSAGES = 50  # the head and the tail of a long exchange are kept: the booking and the follow-up
EMPLOYER_NOTICE_KIND = "placement.employer"  # dispatch.matching.notices.tell_employer_placed


@dataclass(frozen=True)
class Claim:
    """What the case opens on: paid in part or not at all, who opened it, and whether the worker had
    answered the follow-up "paid in full" before (the mediator's first question is why)."""

    paid: PaidAnswer
    via: CaseOpenedVia = CaseOpenedVia.FOLLOW_UP
    after_paid: bool = False


def _at(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment is not None else None


def days_held(session: Session, offer: Offer, job: Job) -> int:
    """The days the worker held the place: the days their day insurance was kept for (a place taken
    mid-job starts later; one cut short ends sooner), at most the job's."""
    statuses = list(
        session.execute(
            select(InsuranceEnrolment.status).where(InsuranceEnrolment.offer_id == offer.id)
        ).scalars()
    )
    if not statuses:  # placed before day insurance was kept: every day of the job
        return job.days
    kept = sum(status in (EnrolmentStatus.ENROLLED, EnrolmentStatus.FAILED) for status in statuses)
    return max(1, min(kept, job.days))


def amount_claimed(job: Job, days: int) -> int:
    """What the worker is owed for the placement as agreed: the daily pay for every day they held it.

    Part-paid workers start from the same total (what they were paid is not known yet); the agent
    corrects it on the case page after the first call.
    """
    return job.daily_pay * days


def snapshot(
    session: Session,
    follow_up: FollowUp | None,
    offer: Offer,
    job: Job,
    worker: Worker,
    employer: Employer,
    now: datetime,
    claim: Claim | None = None,
) -> dict[str, Any]:
    """The evidence of one placement (`offer`); `follow_up`: the worker's, when they were asked one;
    `claim`: what opened the case (the follow-up's answer when None)."""
    if claim is None:
        assert follow_up is not None and follow_up.paid is not None
        claim = Claim(paid=follow_up.paid)
    notice = employer_notice(session, offer, job, worker, employer)
    days = days_held(session, offer, job)
    messages, total = exchanged(session, follow_up, offer, job, worker, notice, now)
    return {
        "taken_at": now.isoformat(),
        "job": {
            "id": job.id,
            "code": job.code,
            "trade": {"code": job.trade.code, "zh": job.trade.name_zh, "en": job.trade.name_en},
            "work_date": job.work_date.isoformat(),
            "end_date": job.end_date.isoformat(),
            "start_time": job.start_time.strftime("%H:%M"),
            "days": job.days,
            "daily_pay": job.daily_pay,
            "headcount": job.headcount,
            "address": job.address,
            "site": {"code": job.site.code, "zh": job.site.name_zh, "en": job.site.name_en},
            "source": job.source.value,
            "posted_at": _at(job.created_at),
        },
        "worker": {"id": worker.id, "name": worker.name, "phone": display(worker.phone)},
        "employer": {"id": employer.id, "name": employer.name, "phone": display(employer.phone)},
        "claim": {
            "paid": claim.paid.value,
            "daily_pay": job.daily_pay,
            "days": days,
            "amount_owed": amount_claimed(job, days),
            # `2`: partly paid. How much is still owed is the agent's first question.
            "amount_to_confirm": claim.paid == PaidAnswer.PART,
            "opened_via": claim.via.value,
            "after_paid": claim.after_paid,
        },
        "confirmed": {
            "worker_at": _at(offer.responded_at),
            "offer_id": offer.id,
            "offer_sent_at": _at(offer.sent_at),
            "employer_notice_at": _at(notice.sent_at or notice.created_at) if notice else None,
            "employer_notice_message_id": notice.id if notice else None,
        },
        "follow_up": _follow_up(follow_up),
        "messages": messages,
        "messages_total": total,
    }


def _follow_up(follow_up: FollowUp | None) -> dict[str, Any] | None:
    if follow_up is None:  # claimed before the follow-up was asked (or of a placement never asked)
        return None
    return {
        "id": follow_up.id,
        "paid": follow_up.paid.value if follow_up.paid else None,
        "stars": follow_up.stars,
        "answered_at": _at(follow_up.answered_at),
        "answered_via": follow_up.answered_via.value if follow_up.answered_via else None,
    }


def employer_notice(
    session: Session, offer: Offer, job: Job, worker: Worker, employer: Employer
) -> Message | None:
    """The text that told the employer this worker confirmed: the employer's placement notice naming
    the job's code and the worker's number (one notice may list several workers)."""
    since = offer.responded_at or offer.created_at
    notices = session.scalars(
        select(Message)
        .where(
            Message.direction == Direction.OUTBOUND,
            Message.kind == EMPLOYER_NOTICE_KIND,
            or_(Message.employer_id == employer.id, Message.phone == employer.phone),
            Message.created_at >= since,
        )
        .order_by(Message.created_at, Message.id)
    )
    worker_phone = display(worker.phone)
    return next(
        (m for m in notices if job.code and job.code in m.body and worker_phone in m.body),
        None,
    )


def exchanged(
    session: Session,
    follow_up: FollowUp | None,
    offer: Offer,
    job: Job,
    worker: Worker,
    notice: Message | None,
    now: datetime,
) -> tuple[list[dict[str, Any]], int]:
    """The texts about this placement, capped: the worker's texts with the service since the offer that
    name the job's code, the worker's texts those answered (a bare `1`) or that answered them, the
    follow-up answer, and the employer's placement notice. Nothing else of the employer's: their
    texts are about other workers and other jobs too, and those are not the mediator's to read."""
    rows = list(
        session.scalars(
            select(Message)
            .where(
                or_(Message.worker_id == worker.id, Message.phone == worker.phone),
                Message.created_at >= offer.created_at,
                Message.created_at <= now,
            )
            .order_by(Message.created_at, Message.id)
        )
    )
    names_job = re.compile(rf"(?<!\d){re.escape(job.code or '')}(?!\d)") if job.code else None
    kept = {message.id for message in rows if names_job and names_job.search(message.body)}
    answer = _follow_up_answer(rows, follow_up)
    if answer is not None:
        kept.add(answer.id)
    # A reply is about what it replies to: `1` taken as this job's acceptance, a code-less answer to
    # a text about this job.
    kept |= {message.in_reply_to_id for message in rows if message.id in kept and message.in_reply_to_id}
    kept |= {message.id for message in rows if message.in_reply_to_id in kept}
    chosen = [(message, "worker", message.body) for message in rows if message.id in kept]
    if notice is not None:
        chosen.append((notice, "employer", _only_this_worker(session, notice, job, worker)))
    chosen.sort(key=lambda row: (row[0].created_at, row[0].id))
    total = len(chosen)
    if total > MAX_MESSAGES:
        half = MAX_MESSAGES // 2
        chosen = chosen[:half] + chosen[-half:]
    return [
        {
            "id": message.id,
            "direction": message.direction.value,
            "party": party,
            "at": _at(message.created_at),
            "kind": message.kind,
            "body": body,
        }
        for message, party, body in chosen
    ], total


def _follow_up_answer(rows: list[Message], follow_up: FollowUp | None) -> Message | None:
    """The worker's text that answered the follow-up (`3`, `3 1`, and `1 5` before a later claim: no
    code when only one was asked): their last text before the answer was recorded."""
    if follow_up is None or follow_up.answered_via != AnsweredVia.SMS or follow_up.answered_at is None:
        return None
    answers = [
        message
        for message in rows
        if message.direction == Direction.INBOUND
        and follow_up.asked_at <= message.created_at <= follow_up.answered_at
    ]
    return answers[-1] if answers else None


def _only_this_worker(session: Session, notice: Message, job: Job, worker: Worker) -> str:
    """The employer's notice as evidence: one notice lists up to three workers of the job; the others'
    names and numbers are blanked (`***`), theirs is no part of this worker's case."""
    others = session.scalars(
        select(Worker.phone)
        .join(Offer, Offer.worker_id == Worker.id)
        .where(Offer.job_id == job.id, Worker.id != worker.id)
    )
    body = notice.body
    for phone in set(others):
        # From the separator before the entry (`：`, `；`, `: `, `; `) to the number: name and number.
        body = re.sub(rf"(?<=[：:；;])[^：:；;]*?{re.escape(display(phone))}", " ***", body)
    return body
