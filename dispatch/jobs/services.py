"""Creating and cancelling jobs: one path for the IVR, SMS requests, agents and the API."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from dispatch.clock import utcnow
from dispatch.i18n import market_zone
from dispatch.insurance import services as insurance
from dispatch.jobs.held import close_held_job_tickets, hold_job
from dispatch.matching.tasks import match_job
from dispatch.models import (
    OPEN_OFFER_STATUSES,
    Employer,
    EmployerStatus,
    Job,
    JobSource,
    JobStatus,
    Offer,
    OfferStatus,
    TicketOutcome,
)
from dispatch.queue import defer
from dispatch.settings import Settings

log = logging.getLogger(__name__)
CODE_OFFSET = 100  # codes start at 101: three digits for the first nine hundred jobs


class JobRequestError(ValueError):
    """A job request that cannot be taken as it is (e.g. no places, pay of zero)."""


@dataclass(frozen=True)
class JobRequest:
    """What an employer asks for, as any channel collected it."""

    trade_id: int
    headcount: int
    work_date: date
    start_time: time
    days: int
    daily_pay: int
    site_id: int
    address: str = ""
    notes: str = ""
    recording_url: str = ""

    def check(self) -> None:
        if not 1 <= self.headcount <= 99:
            raise JobRequestError("headcount must be 1-99")
        if not 1 <= self.days <= 60:
            raise JobRequestError("days must be 1-60")
        if not 1 <= self.daily_pay <= 100_000:
            raise JobRequestError("daily pay must be a positive number of yuan")


def create_job(
    session: Session,
    employer: Employer,
    request: JobRequest,
    source: JobSource,
    status: JobStatus | None = None,
    settings: Settings | None = None,
) -> Job:
    """Write the job and, in the same transaction, the outbox row that starts matching.

    An employer whose status is `held` (e.g. an open wage case) gets a `held` job that waits for an
    agent, with a ticket on their queue (see hold_job; `settings` tells it whether the job starts today);
    a `draft` (an SMS request awaiting the employer's `1`) starts nothing yet.
    """
    request.check()
    if status is None:
        status = JobStatus.HELD if employer_held(session, employer) else JobStatus.OPEN
    job = Job(
        employer_id=employer.id,
        trade_id=request.trade_id,
        headcount=request.headcount,
        filled=0,
        work_date=request.work_date,
        start_time=request.start_time,
        days=request.days,
        end_date=Job.last_day(request.work_date, request.days),
        daily_pay=request.daily_pay,
        site_id=request.site_id,
        address=request.address or employer.address,
        notes=request.notes,
        recording_url=request.recording_url,
        status=status,
        source=source,
        matching={},
    )
    session.add(job)
    session.flush()
    job.code = str(CODE_OFFSET + job.id)
    if status == JobStatus.OPEN:
        start_matching(session, job)
    elif status == JobStatus.HELD:
        hold_job(session, job, settings)
    session.flush()
    return job


def employer_held(session: Session, employer: Employer) -> bool:
    """Whether the employer's new jobs wait for an agent, read with their row locked FOR SHARE: a wage
    case opening or closing right now (dispatch.wages.holds, which locks the row to change the status)
    either commits first and is seen here, or waits until this job is committed and then finds it, so
    no job slips past a hold and none stays held after it was lifted."""
    session.flush()  # changes to the employer made in this request are kept, not reloaded over
    query = select(Employer).where(Employer.id == employer.id).with_for_update(read=True)
    session.scalars(query.execution_options(populate_existing=True)).one()
    return employer.status == EmployerStatus.HELD


def start_matching(session: Session, job: Job) -> None:
    """Matching starts after the commit, through the outbox (a draft confirmed, a held job released)."""
    job.status = JobStatus.OPEN
    defer(session, match_job, job.id, queue="matching")


def find_job_by_code(session: Session, code: str) -> Job | None:
    return session.scalar(select(Job).where(Job.code == code.strip()))


def is_late(settings: Settings, job: Job, now: datetime) -> bool:
    """Whether calling the job off now leaves the workers too little time (it counts against the
    employer): on the first day once it has begun (the workers are sent home), or less than
    LATE_CANCEL_HOURS before a working day still to begin."""
    return on_the_first_day(settings, job, now) or lets_down_days_ahead(settings, job, now)


def lets_down_days_ahead(settings: Settings, job: Job, now: datetime) -> bool:
    """Less than LATE_CANCEL_HOURS before the next working day still to begin: too late for the other
    side to find someone else. With every day begun, or the job over, nothing is left to let down."""
    zone = market_zone(settings)
    starts = (
        datetime.combine(job.work_date + timedelta(days=n), job.start_time, tzinfo=zone)
        for n in range((job.end_date - job.work_date).days + 1)
    )
    ahead = next((start for start in starts if start > now), None)
    return ahead is not None and now > ahead - timedelta(hours=settings.LATE_CANCEL_HOURS)


def on_the_first_day(settings: Settings, job: Job, now: datetime) -> bool:
    """The first working day has begun and is not over: a place given back now was not worked at all."""
    zone = market_zone(settings)
    started = datetime.combine(job.work_date, job.start_time, tzinfo=zone)
    return started <= now and now.astimezone(zone).date() == job.work_date


def is_over(settings: Settings, job: Job, now: datetime) -> bool:
    """The job's last day is before the market's today: its work is done, nothing is left to call off."""
    return job.end_date < now.astimezone(market_zone(settings)).date()


def cancel_job(session: Session, job: Job, settings: Settings, now: datetime | None = None) -> list[Offer]:
    """Call the job off: its open offers and accepted places are cancelled, with the insurance of the
    days not yet begun; called off late with a worker confirmed, it counts against the employer.
    Returns the offers whose workers must be told (the caller sends them the cancellation SMS).

    A job whose days are over is not called off (nothing changes, nobody is told): its places were
    worked, and follow-ups and wages go by them."""
    if job.status in {JobStatus.CANCELLED, JobStatus.EXPIRED}:
        return []
    now = now or utcnow()
    if is_over(settings, job, now):
        log.info("job %s is over: not called off", job.id)
        return []
    if job.status == JobStatus.HELD:  # every way of calling it off (console, the employer's IVR)
        close_held_job_tickets(session, job, TicketOutcome.JOB_CLOSED, f"job {job.code} called off", now)
    job.status = JobStatus.CANCELLED
    job.cancelled_at = now
    affected = [
        offer
        for offer in session.scalars(select(Offer).where(Offer.job_id == job.id).with_for_update())
        if offer.status in OPEN_OFFER_STATUSES | {OfferStatus.ACCEPTED, OfferStatus.STANDBY}
    ]
    placed = [offer for offer in affected if offer.status == OfferStatus.ACCEPTED]
    for offer in affected:
        offer.status = OfferStatus.CANCELLED
        offer.responded_at = offer.responded_at or now
    for offer in placed:
        insurance.cancel_unworked(session, settings, offer, now)
    if placed and is_late(settings, job, now):
        # One UPDATE, not read-and-write: two of the employer's jobs may be called off at once.
        session.execute(
            update(Employer)
            .where(Employer.id == job.employer_id)
            .values(late_cancellations=Employer.late_cancellations + 1)
            .execution_options(synchronize_session=False)
        )
        session.expire(job.employer, ["late_cancellations"])
        log.info("job %s called off late with %d workers placed", job.id, len(placed))
    session.flush()
    return affected
