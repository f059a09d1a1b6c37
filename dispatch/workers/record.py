"""A worker's own record, as `我的` tells it: the places they hold on jobs still to come, and this month's
days of work and their pay (for the jobs they held; a no-show the follow-up recorded is left out)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from dispatch.i18n import market_zone
from dispatch.models import FollowUp, FollowUpParty, Job, JobStatus, Offer, OfferStatus, Worker
from dispatch.settings import Settings

BOOKINGS_LISTED = 2  # in the `我的` text


@dataclass(frozen=True)
class Month:
    days: int
    pay: int


def bookings(session: Session, settings: Settings, worker: Worker, now: datetime) -> list[Job]:
    """Jobs the worker holds a place on whose last day is today or later, soonest first."""
    today = now.astimezone(market_zone(settings)).date()
    query = (
        select(Job)
        .join(Offer, Offer.job_id == Job.id)
        .where(
            Offer.worker_id == worker.id,
            Offer.status == OfferStatus.ACCEPTED,
            Job.status.in_((JobStatus.OPEN, JobStatus.FILLED)),
            Job.end_date >= today,
        )
        .order_by(Job.work_date, Job.start_time, Job.id)
    )
    return list(session.scalars(query))


def this_month(session: Session, settings: Settings, worker: Worker, now: datetime) -> Month:
    """Days worked this month (market time) up to today, and what they paid at the jobs' daily pay.
    A day counts once its job has started; a place the follow-up says the worker did not come to
    (the employer answered 0 stars, `没来`) counts nothing."""
    local = now.astimezone(market_zone(settings))
    first = local.date().replace(day=1)
    absent = select(FollowUp.job_id).where(
        FollowUp.worker_id == worker.id,
        FollowUp.party == FollowUpParty.EMPLOYER,
        FollowUp.stars == 0,  # the employer's 0 stars: the worker did not come
    )
    held = session.scalars(
        select(Job)
        .join(Offer, Offer.job_id == Job.id)
        .where(
            Offer.worker_id == worker.id,
            Offer.status == OfferStatus.ACCEPTED,
            Job.end_date >= first,
            Job.work_date <= local.date(),
            Job.id.not_in(absent),
        )
    )
    days = pay = 0
    for job in held:
        worked = [day for day in _days(job) if first <= day and _started(job, day, local)]
        days += len(worked)
        pay += len(worked) * job.daily_pay
    return Month(days=days, pay=pay)


def _days(job: Job) -> list[date]:
    return [job.work_date + timedelta(days=offset) for offset in range(job.days)]


def _started(job: Job, day: date, local: datetime) -> bool:
    return (day, job.start_time) <= (local.date(), local.time().replace(tzinfo=None))
