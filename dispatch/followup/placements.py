"""Which placements are followed up, when they ended, and their numbers on the job (SQL pieces of the
asking round).

A placement is followed up when its worker held the place when the work began: one still standing,
or one cut short after the job's start (the job called off mid-job, the place given back after the
start): that work was (partly) done, and "were you paid?" matters for it as much. A job called off or a
place given back before the start, and the standby workers of a job called off, are never asked.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import ColumnElement, and_, case, func, or_, select
from sqlalchemy.orm import Session

from dispatch.models import EnrolmentStatus, FollowUp, InsuranceEnrolment, Job, JobStatus, Offer, OfferStatus
from dispatch.settings import Settings

# Days a placement's worker was insured for and did not lose: every day of a place still standing, and
# of a place cut short, the days already begun (matching.services.accept enrols every place it confirms;
# giving a place back or calling a job off cancels only the days not yet begun). Plain SQL, so the
# follow-ups run on SQLite (a first run) as on PostgreSQL.
_KEPT = (EnrolmentStatus.ENROLLED, EnrolmentStatus.FAILED)


def _kept_days() -> Any:
    return select(InsuranceEnrolment.work_date).where(
        InsuranceEnrolment.offer_id == Offer.id, InsuranceEnrolment.status.in_(_KEPT)
    )


def held_at_start(settings: Settings) -> ColumnElement[bool]:
    """The worker held the place when the work began: a placement still standing, or one cancelled at
    or after a working day's start (the job called off, or the place given back, mid-job), which kept
    the insurance of the days begun. Standby and open offers cancelled with the job were never insured,
    and a place given back before the start lost every day's."""
    return or_(
        and_(Offer.status == OfferStatus.ACCEPTED, Job.status != JobStatus.CANCELLED),
        and_(Offer.status == OfferStatus.CANCELLED, _kept_days().exists()),
    )


def ended_on(settings: Settings) -> Any:
    """The placement's last day: the job's, or the last day begun when it was cut short."""
    last_kept = _kept_days().with_only_columns(func.max(InsuranceEnrolment.work_date)).scalar_subquery()
    return case((Offer.status == OfferStatus.ACCEPTED, Job.end_date), else_=last_kept)


def numbers(session: Session, settings: Settings, job_id: int) -> dict[int, int]:
    """Each placement's number among its job's (1, 2 ...), in the order the workers confirmed: the
    order the job page lists them in and the employer was told them. A number already given to a
    placement asked earlier (one given back mid-job, asked sooner) stays its own."""
    offers = session.execute(
        select(Offer.id)
        .join(Job, Job.id == Offer.job_id)
        .where(Offer.job_id == job_id, held_at_start(settings))
        .order_by(Offer.responded_at, Offer.id)
    ).scalars()
    numbered = session.execute(select(FollowUp.offer_id, FollowUp.seq).where(FollowUp.job_id == job_id))
    given = {offer_id: seq for offer_id, seq in numbered}
    used = set(given.values())
    seqs: dict[int, int] = {}
    for number, offer_id in enumerate(offers, start=1):
        if offer_id in given:
            seqs[offer_id] = given[offer_id]
            continue
        seq = max(used) + 1 if number in used else number
        seqs[offer_id] = seq
        used.add(seq)
    return seqs
