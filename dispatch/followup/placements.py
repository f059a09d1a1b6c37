"""Which placements are followed up, when they ended, and their numbers on the job (SQL pieces of the
asking round).

A placement is followed up when its worker held the place when the work began: one still standing,
or one cut short after the job's start (the job called off mid-job, the place given back after the
start): that work was (partly) done, and "were you paid?" matters for it as much. A job called off or a
place given back before the start, and the standby workers of a job called off, are never asked.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Boolean, ColumnElement, Date, and_, case, cast, func, literal, or_, select
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Session

from dispatch.models import FollowUp, InsuranceEnrolment, Job, JobStatus, Offer, OfferStatus
from dispatch.settings import Settings


def given_back() -> ColumnElement[bool]:
    """The offer is one its worker gave back (`取消 123`): matching lists those in job.matching."""
    matching = func.coalesce(cast(Job.matching, JSONB), cast(literal("{}"), JSONB))
    wanted = func.jsonb_build_object("given_back", func.jsonb_build_array(Offer.id))
    return matching.op("@>", return_type=Boolean)(wanted)


def _local(settings: Settings, moment: Any) -> Any:
    """A timestamptz as the market's wall clock (a timestamp without zone), in SQL."""
    return func.timezone(settings.MARKET_TIMEZONE, moment)


def held_at_start(settings: Settings) -> ColumnElement[bool]:
    """The worker held the place when the work began: a placement still standing, or one cancelled at
    or after the job's start (the job called off, or the place given back, mid-job). Standby and open
    offers are cancelled with the job too; only a place taken was ever insured, so an insurance row
    tells a place from those (matching.services.accept enrols every place it confirms)."""
    starts = Job.work_date + Job.start_time  # the market's wall clock
    was_placed = select(InsuranceEnrolment.id).where(InsuranceEnrolment.offer_id == Offer.id).exists()
    returned = given_back()
    return or_(
        and_(Offer.status == OfferStatus.ACCEPTED, Job.status != JobStatus.CANCELLED),
        and_(
            Offer.status == OfferStatus.CANCELLED,
            was_placed,
            or_(
                and_(returned, _local(settings, Offer.responded_at) >= starts),
                and_(
                    ~returned,
                    Job.status == JobStatus.CANCELLED,
                    _local(settings, Job.cancelled_at) >= starts,
                ),
            ),
        ),
    )


def ended_on(settings: Settings) -> Any:
    """The placement's last day: the job's, or the day it was called off or given back if sooner."""
    stopped = case((given_back(), Offer.responded_at), else_=Job.cancelled_at)
    return case(
        (Offer.status == OfferStatus.ACCEPTED, Job.end_date),
        else_=func.least(Job.end_date, cast(_local(settings, stopped), Date)),
    )


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
