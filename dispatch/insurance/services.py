"""Day insurance (零工日险): an enrolment per worker per confirmed working day.

A place confirmed (`matching.services.accept`, which the agent's phone booking goes through too)
enrols each of the job's days still to come; a place given back or a job called off cancels the days
not yet begun. A high-risk trade (config/trades.toml) is dispatched only when every day is enrolled:
matching asks `refusal()` before claiming a place and rolls the claim back if enrolment still fails.
"""

from __future__ import annotations

import logging
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from dispatch.i18n import market_zone
from dispatch.insurance.providers import EnrolmentRefused, get_insurer
from dispatch.models import (
    EnrolmentStatus,
    InsuranceEnrolment,
    Job,
    JobStatus,
    Offer,
    OfferStatus,
    Ticket,
    TicketKind,
    Worker,
)
from dispatch.settings import Settings
from dispatch.tickets import services as tickets
from dispatch.tickets.summaries import Summary

log = logging.getLogger(__name__)


def _local(settings: Settings, moment: datetime) -> datetime:
    return moment.astimezone(market_zone(settings))


def days_to_cover(settings: Settings, job: Job, now: datetime) -> list[date]:
    """The job's working days from today on: a worker placed on day 2 of a job never worked day 1."""
    first = max(job.work_date, _local(settings, now).date())
    return [first + timedelta(days=n) for n in range((job.end_date - first).days + 1)]


def refusal(settings: Settings, worker: Worker, job: Job, now: datetime) -> EnrolmentRefused | None:
    """Why the insurer would not cover this worker on this job's days (asked before a place is taken)."""
    insurer, today = get_insurer(settings), _local(settings, now).date()
    for day in days_to_cover(settings, job, now):
        try:
            insurer.check(worker, job, day, today=today)
        except EnrolmentRefused as refused:
            return refused
    return None


def enrolments_of(session: Session, offer: Offer) -> list[InsuranceEnrolment]:
    query = select(InsuranceEnrolment).where(InsuranceEnrolment.offer_id == offer.id)
    return list(session.scalars(query.order_by(InsuranceEnrolment.work_date)))


def enrol_placement(
    session: Session, settings: Settings, offer: Offer, now: datetime, *, confirmed: bool = False
) -> list[InsuranceEnrolment]:
    """Enrol each day of a place still to come; idempotent (one row per offer and day: an enrolled day
    stays as it is, a day the insurer refused is tried again). A cancelled day is enrolled again only
    when the place was just `confirmed` (matching.services.accept): anywhere else it was cancelled
    because the place was given back or the job called off, and stays so. Returns those days' rows."""
    retry = {EnrolmentStatus.FAILED, EnrolmentStatus.CANCELLED} if confirmed else {EnrolmentStatus.FAILED}
    job, worker = offer.job, offer.worker
    insurer, today = get_insurer(settings), _local(settings, now).date()
    existing = {enrolment.work_date: enrolment for enrolment in enrolments_of(session, offer)}
    enrolments = []
    for day in days_to_cover(settings, job, now):
        enrolment = existing.get(day)
        if enrolment is None:
            enrolment = InsuranceEnrolment(
                offer_id=offer.id,
                worker_id=worker.id,
                job_id=job.id,
                trade_id=job.trade_id,
                site_id=job.site_id,
                work_date=day,
                status=EnrolmentStatus.FAILED,  # until the insurer says yes
                created_at=now,
            )
            session.add(enrolment)
            session.flush()  # the id makes the reference
        if enrolment.status in retry:
            try:
                reference = insurer.enrol(worker, job, day, today=today, number=enrolment.id)
            except EnrolmentRefused as refused:
                enrolment.status, enrolment.error = EnrolmentStatus.FAILED, refused.reason.value
            else:
                # A day enrolled again after a cancellation keeps the reference it had.
                enrolment.reference = enrolment.reference or reference
                enrolment.status, enrolment.error = EnrolmentStatus.ENROLLED, ""
                enrolment.enrolled_at = now
            enrolment.updated_at = now
        enrolments.append(enrolment)
    session.flush()
    return enrolments


def failure(enrolments: list[InsuranceEnrolment]) -> str | None:
    """The insurer's reason for the first day it refused, or None if every day is enrolled."""
    return next((e.error for e in enrolments if e.status != EnrolmentStatus.ENROLLED), None)


def confirmation(enrolments: list[InsuranceEnrolment]) -> dict[str, Any]:
    """What the worker's confirmation SMS says of the cover: the first day's reference, how many days."""
    enrolled = [e for e in enrolments if e.status == EnrolmentStatus.ENROLLED and e.reference]
    return {"insurance": enrolled[0].reference if enrolled else "", "insured_days": len(enrolled)}


def reenrol_worker(session: Session, settings: Settings, worker: Worker, now: datetime) -> int:
    """The worker's details were fixed (an agent typed the real name): the days the insurer refused on
    the places they hold are tried again. For the console to call when it saves a worker's name.
    Returns how many days are enrolled now that were not.

    Locks as matching does (worker, then job, then offer): a place given back or a job called off at
    this moment is either seen as such, or waits until these days are enrolled and then cancels them."""
    session.flush()  # the name just typed is written (and the worker's row ours) before it is locked
    session.execute(select(Worker.id).where(Worker.id == worker.id).with_for_update(key_share=True))
    refused = select(InsuranceEnrolment.offer_id).where(
        InsuranceEnrolment.worker_id == worker.id, InsuranceEnrolment.status == EnrolmentStatus.FAILED
    )
    candidates = select(Offer.id, Offer.job_id).where(Offer.id.in_(refused)).order_by(Offer.id)
    enrolled = 0
    for offer_id, job_id in session.execute(candidates).all():
        job = _locked(session, select(Job).where(Job.id == job_id))
        offer = _locked(session, select(Offer).where(Offer.id == offer_id))
        if offer.status != OfferStatus.ACCEPTED or job.status == JobStatus.CANCELLED:
            continue
        before = {e.id for e in enrolments_of(session, offer) if e.status == EnrolmentStatus.ENROLLED}
        after = enrol_placement(session, settings, offer, now)
        enrolled += sum(1 for e in after if e.status == EnrolmentStatus.ENROLLED and e.id not in before)
    return enrolled


def _locked(session: Session, query: Any) -> Any:
    """The row, locked FOR NO KEY UPDATE and read afresh (what was committed before the lock was ours)."""
    locked = query.with_for_update(key_share=True).execution_options(populate_existing=True)
    return session.scalars(locked).one()


def cancel_unworked(session: Session, settings: Settings, offer: Offer, now: datetime) -> int:
    """The place was given back or the job called off: the days not yet begun are cancelled (a day
    under way stays insured: the worker may be on site). Returns how many were cancelled."""
    job = offer.job
    zone = market_zone(settings)
    cancelled = 0
    for enrolment in enrolments_of(session, offer):
        begins = datetime.combine(enrolment.work_date, job.start_time, tzinfo=zone)
        if enrolment.status != EnrolmentStatus.CANCELLED and begins > now:
            enrolment.status, enrolment.updated_at = EnrolmentStatus.CANCELLED, now
            cancelled += 1
    session.flush()
    return cancelled


def open_ticket(session: Session, offer: Offer, reason: str, now: datetime, placed: bool) -> Ticket | None:
    """An INSURANCE ticket asking an agent to fix the worker's details, once per worker and job.
    `placed`: the worker holds the place uninsured (low priority) or, high-risk, was not placed."""
    job, worker = offer.job, offer.worker
    if tickets.has_open_ticket(session, TicketKind.INSURANCE, job, worker):
        return None
    what = "placed without day insurance" if placed else "not placed: the trade needs day insurance"
    # A high-risk job waits on the fix (no place until then); any other placement goes ahead uninsured,
    # which is less urgent (dispatch/tickets/kinds.py).
    ticket = tickets.open_ticket(
        session,
        TicketKind.INSURANCE,
        job=job,
        summary=Summary.of(
            "insurance_placed" if placed else "insurance_not_placed",
            code=job.code,
            name=worker.name or worker.phone,
        ),
        text=f"{job.code}: {worker.name or worker.phone} {what} ({reason}); "
        "fix the worker's details (real name)" + ("" if placed else ", then book by phone"),
        details={
            "reason": reason,
            "offer_id": offer.id,
            "high_risk": job.trade.high_risk,
            "placed": placed,
            # What the queue page words in the agent's language (console/tickets/summaries.py).
            "job_code": job.code,
            "name": worker.name or worker.phone,
        },
        now=now,
        worker=worker,
    )
    log.info("insurance ticket for worker %s on job %s: %s", worker.id, job.id, reason)
    return ticket
