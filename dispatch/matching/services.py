"""Placements: a worker takes, declines or gives back an offer, without ever overbooking a job.

A place is claimed with one conditional UPDATE (`filled = filled + 1 WHERE filled < headcount`),
which cannot overbook under READ COMMITTED; the worker's row is locked first, so one worker's two
answers (or two jobs on the same days) are decided one after the other. Locks are always taken in
the order worker, job, offer, so concurrent answers never deadlock.
"""

from __future__ import annotations

import enum
import logging
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Select, and_, select, update
from sqlalchemy.orm import Session, SessionTransaction, contains_eager
from sqlalchemy.orm.attributes import set_committed_value

from dispatch.i18n import market_zone
from dispatch.insurance import services as insurance
from dispatch.jobs import services as jobs
from dispatch.matching import employer, insured, notices
from dispatch.matching.locking import CLAIMABLE, lock_job, lock_worker, maybe_next_wave, open_offers
from dispatch.matching.tasks import refill_job
from dispatch.models import (
    OPEN_OFFER_STATUSES,
    EmployerBlock,
    InsuranceEnrolment,
    Job,
    JobStatus,
    Message,
    Offer,
    OfferStatus,
    Ticket,
    TicketKind,
    TicketStatus,
    Worker,
    WorkerStatus,
)
from dispatch.queue import defer
from dispatch.settings import Settings
from dispatch.tickets.services import has_open_ticket, open_ticket
from dispatch.tickets.summaries import Summary

log = logging.getLogger(__name__)

# A job in these statuses still takes a yes (an escalated job is still wanted, by agents too).
TAKING = (JobStatus.OPEN, JobStatus.ESCALATED)
OPTED_OUT = "placed_worker_opted_out"  # the reason on the ticket of a placed worker's opt-out


class Outcome(enum.StrEnum):
    PLACED = "placed"  # the worker has the place
    ALREADY = "already"  # the worker had it already (a repeated yes)
    FULL = "full"  # no place left: 名额已满 (and standby, if enabled)
    OVERLAP = "overlap"  # the worker holds another job on those days
    CLOSED = "closed"  # the job was cancelled or is over
    DECLINED = "declined"
    GIVEN_BACK = "given_back"  # a placed worker cancelled
    NOT_HELD = "not_held"  # a cancel for a place the worker does not hold
    REFUSED = "refused"  # the worker may not take this offer (paused, blocked, refused or gave it back)
    UNINSURED = "uninsured"  # a high-risk job and the insurer will not cover this worker: no place


def clashing_job(session: Session, worker: Worker, job: Job) -> Job | None:
    """Another job the worker holds a place on, on any of `job`'s days."""
    return session.scalar(_clashing(worker, job))


def _clashing(worker: Worker, job: Job) -> Select[Job]:
    return (
        select(Job)
        .join(Offer, Offer.job_id == Job.id)
        .where(
            Offer.worker_id == worker.id,
            Offer.status == OfferStatus.ACCEPTED,
            Offer.job_id != job.id,
            Job.work_date <= job.end_date,
            Job.end_date >= job.work_date,
        )
        .limit(1)
    )


@dataclass(frozen=True)
class Obstacles:
    blocked: bool  # the employer blocked the worker
    clash_id: int | None  # another job the worker holds a place on, on one of this job's days


def obstacles_to(session: Session, worker: Worker, job: Job) -> Obstacles:
    """What stands between the worker and a place on the job, in one statement."""
    blocked = (
        select(EmployerBlock.worker_id)
        .where(EmployerBlock.employer_id == job.employer_id, EmployerBlock.worker_id == worker.id)
        .exists()
    )
    clash = _clashing(worker, job).with_only_columns(Job.id).scalar_subquery()
    row = session.execute(select(blocked.label("blocked"), clash.label("clash_id"))).one()
    return Obstacles(blocked=bool(row.blocked), clash_id=row.clash_id)


def accept(
    session: Session,
    settings: Settings,
    offer: Offer,
    inbound: Message | None,
    now: datetime,
    locked_worker: Worker | None = None,
) -> Outcome:
    """The worker says yes: a place if one is left, else 名额已满 (and standby, if enabled).

    `locked_worker`: the caller locked the worker, then read the offer (with offers_with_jobs)."""
    worker = locked_worker
    if worker is None:
        worker = lock_worker(session, offer.worker_id)
        # What other answers committed while we waited for the lock: the offer and its job read again.
        offer = session.scalars(offers_with_jobs().where(Offer.id == offer.id)).one()
    job = offer.job
    if offer.status == OfferStatus.ACCEPTED:
        _confirm(session, settings, inbound, worker, job, insurance.enrolments_of(session, offer), now)
        return Outcome.ALREADY
    if job.status not in (*TAKING, JobStatus.FILLED) or job.end_date < notices.local_date(settings, now):
        _tell_closed(session, settings, inbound, worker, job, now)
        return Outcome.CLOSED
    obstacles = obstacles_to(session, worker, job)
    if not _may_take(worker, job, offer, obstacles.blocked):
        _close_unanswered(session, job, offer, OfferStatus.CANCELLED, now)  # paused or blocked since
        notices.tell_worker(
            session, settings, inbound, worker, "match_offer_gone", "match.offer_gone", job, now
        )
        return Outcome.REFUSED
    clash = session.get(Job, obstacles.clash_id) if obstacles.clash_id is not None else None
    if clash is not None:
        _close_unanswered(session, job, offer, OfferStatus.DECLINED, now)
        notices.tell_worker(
            session,
            settings,
            inbound,
            worker,
            "match_overlap",
            "match.overlap",
            job,
            now,
            other_code=clash.code,
        )
        return Outcome.OVERLAP
    # An offer closed when the job filled still hears 名额已满 (and may wait on standby); it never
    # claims a place itself, even one that reopened meanwhile (standby workers are asked first).
    claimable = offer.status in CLAIMABLE or insured.closed_for_insurance(session, job, offer)
    if claimable and job.trade.high_risk:
        # Electrical work and work at height go out only insured: ask before taking anything.
        refused = insurance.refusal(settings, worker, job, now)
        if refused is not None:
            insured.refuse(session, settings, inbound, offer, refused.reason.value, now)
            return Outcome.UNINSURED
    # If the insurer still refuses once the place is taken, the claim is undone with this savepoint.
    savepoint = session.begin_nested() if job.trade.high_risk else None
    claimed = _claim_place(session, job, now) if claimable else False
    if not claimed:
        session.refresh(job)  # full: read it as committed
        if savepoint is not None:
            savepoint.commit()
        return _not_placed(session, settings, inbound, worker, job, offer, now)
    return _placed(session, settings, inbound, worker, job, offer, savepoint, now)


def _claim_place(session: Session, job: Job, now: datetime) -> bool:
    """One place, if one is left: the conditional UPDATE that cannot overbook. A claimed row comes
    back whole (RETURNING) into `job`, as committed; its loaded trade, site and employer stay."""
    claimed = session.execute(
        update(Job)
        .where(Job.id == job.id, Job.filled < Job.headcount, Job.status.in_(TAKING))
        .values(filled=Job.filled + 1, updated_at=now)
        .returning(*Job.__table__.columns)
        .execution_options(synchronize_session=False)
    ).first()
    if claimed is None:
        return False
    for key, value in claimed._mapping.items():
        set_committed_value(job, _JOB_ATTRIBUTES[key], value)
    return True


_JOB_ATTRIBUTES = {column.key: prop.key for prop in Job.__mapper__.column_attrs for column in prop.columns}


def offers_with_jobs() -> Select[Offer]:
    """Offers read as committed now, with their job and what an answer's texts name: the job's
    trade, site and employer (one statement; add the WHERE)."""
    return (
        select(Offer)
        .join(Job, Job.id == Offer.job_id)
        .options(
            contains_eager(Offer.job).joinedload(Job.trade),
            contains_eager(Offer.job).joinedload(Job.site),
            contains_eager(Offer.job).joinedload(Job.employer),
        )
        .execution_options(populate_existing=True)
    )


def _close_unanswered(session: Session, job: Job, offer: Offer, status: OfferStatus, now: datetime) -> None:
    """A yes that cannot take the offer closes it if it was still waiting; the next wave may follow."""
    if offer.status not in OPEN_OFFER_STATUSES:
        return
    job = lock_job(session, job.id)  # before the offer's row, as everywhere
    session.refresh(offer)
    if offer.status in OPEN_OFFER_STATUSES:
        offer.status = status
        offer.responded_at = now
        session.flush()
        maybe_next_wave(session, job)


def _not_placed(
    session: Session,
    settings: Settings,
    inbound: Message | None,
    worker: Worker,
    job: Job,
    offer: Offer,
    now: datetime,
) -> Outcome:
    """No place was claimed: the job closed meanwhile, or it is full (名额已满, standby if enabled)."""
    if job.status not in (*TAKING, JobStatus.FILLED):
        _tell_closed(session, settings, inbound, worker, job, now)
        return Outcome.CLOSED
    offer.status = OfferStatus.STANDBY if settings.STANDBY_ENABLED else OfferStatus.LATE
    offer.responded_at = now
    notices.tell_worker(
        session,
        settings,
        inbound,
        worker,
        "match_full",
        "match.full",
        job,
        now,
        standby=settings.STANDBY_ENABLED,
    )
    return Outcome.FULL


def _placed(
    session: Session,
    settings: Settings,
    inbound: Message | None,
    worker: Worker,
    job: Job,
    offer: Offer,
    savepoint: SessionTransaction | None,
    now: datetime,
) -> Outcome:
    """The place is the worker's: enrolled for day insurance (a high-risk place the insurer refuses
    after all is rolled back to the savepoint), confirmed to the worker, the employer's notice due."""
    offer.status = OfferStatus.ACCEPTED
    offer.responded_at = now
    worker.last_placed_at = now
    if job.filled >= job.headcount:
        _filled(session, job, now)
    session.flush()
    enrolments = insurance.enrol_placement(session, settings, offer, now, confirmed=True)
    failed = insurance.failure(enrolments)
    if savepoint is not None:
        if failed is not None:
            savepoint.rollback()  # a high-risk job is never dispatched uninsured: no place after all
            for row in (worker, job, offer):
                session.refresh(row)
            insured.refuse(session, settings, inbound, offer, failed, now)
            return Outcome.UNINSURED
        savepoint.commit()
    elif failed is not None:
        insurance.open_ticket(session, offer, failed, now, placed=True)  # placed all the same
    _confirm(session, settings, inbound, worker, job, enrolments, now)
    employer.notice_due(session, settings, job, now)
    maybe_next_wave(session, job)
    return Outcome.PLACED


def _confirm(
    session: Session,
    settings: Settings,
    inbound: Message | None,
    worker: Worker,
    job: Job,
    enrolments: list[InsuranceEnrolment],
    now: datetime,
) -> None:
    """The confirmation (where and when, the pay, the employer's name and number, how to cancel), then
    the day insurance's reference in a text of its own: both would not fit two segments."""
    notices.tell_worker(session, settings, inbound, worker, "placement_worker", "placement.worker", job, now)
    cover = insurance.confirmation(enrolments)
    if cover["insurance"]:
        template, kind = "placement_insurance", "placement.insurance"
        notices.tell_worker(session, settings, inbound, worker, template, kind, job, now, **cover)


def _may_take(worker: Worker, job: Job, offer: Offer, blocked: bool) -> bool:
    """Whether this worker may still say yes to this offer at all (places aside): an active worker the
    employer has not blocked, answering an offer they did not refuse, give back or hear was full; or
    one closed when the job filled, while it is still full (名额已满, standby)."""
    if worker.status != WorkerStatus.ACTIVE or blocked:
        return False
    if offer.status in CLAIMABLE or insured.uninsured_offer(offer):
        return True  # (an uninsured offer claims nothing while standby workers wait: 名额已满)
    given_back = offer.given_back_at is not None
    closed_by_filling = offer.status in (OfferStatus.CANCELLED, OfferStatus.LATE) and not given_back
    return closed_by_filling and job.status == JobStatus.FILLED


def _filled(session: Session, job: Job, now: datetime) -> None:
    """The last place went: outstanding offers close (late answers get 名额已满), the agents' ticket
    for this job, if any, is resolved."""
    job.status = JobStatus.FILLED
    job.filled_at = now
    for offer in open_offers(session, job):
        offer.status = OfferStatus.CANCELLED
        offer.responded_at = now
    tickets = select(Ticket).where(
        Ticket.job_id == job.id,
        Ticket.kind == TicketKind.UNFILLED_JOB,
        Ticket.status != TicketStatus.RESOLVED,
    )
    for ticket in session.scalars(tickets):
        if ticket.details.get("reason") == OPTED_OUT:
            continue  # filling the job does not tell whether the worker who opted out still comes
        ticket.status = TicketStatus.RESOLVED
        ticket.resolved_at = now
        ticket.resolution = "filled by SMS replies"


def _tell_closed(
    session: Session, settings: Settings, inbound: Message | None, worker: Worker, job: Job, now: datetime
) -> None:
    cancelled = job.status == JobStatus.CANCELLED
    notices.tell_worker(
        session, settings, inbound, worker, "match_closed", "match.closed", job, now, cancelled=cancelled
    )


def decline(
    session: Session, settings: Settings, offer: Offer, inbound: Message | None, now: datetime
) -> Outcome:
    """The worker says no: the offer's place goes to the next wave, at once if nobody else is left."""
    job = lock_job(session, offer.job_id)
    session.refresh(offer)
    worker = offer.worker
    if offer.status == OfferStatus.ACCEPTED:
        # `2 123` from the worker who holds 123: giving a place back takes `取消 123`, said plainly.
        template, kind = "match_confirm_cancel", "match.confirm_cancel"
        notices.tell_worker(session, settings, inbound, worker, template, kind, codes=[job.code])
        return Outcome.NOT_HELD
    if offer.uninsured and offer.status == OfferStatus.CANCELLED:
        # Closed for want of insurance and now refused: a later yes to it must not take a place.
        offer.status = OfferStatus.DECLINED
        offer.responded_at = now
        offer.uninsured = False
        session.flush()
    if offer.status in (*OPEN_OFFER_STATUSES, OfferStatus.STANDBY, OfferStatus.EXPIRED, OfferStatus.LATE):
        offer.status = OfferStatus.DECLINED
        offer.responded_at = now
        session.flush()
        maybe_next_wave(session, job)
    notices.tell_worker(session, settings, inbound, worker, "match_declined", "match.declined", job, now)
    return Outcome.DECLINED


def give_back(
    session: Session, settings: Settings, offer: Offer, inbound: Message | None, now: datetime
) -> Outcome:
    """A placed worker cancels (`取消 123`): the place reopens, the employer is told, a refill goes out,
    and the worker's reliability remembers it."""
    worker = lock_worker(session, offer.worker_id)
    session.refresh(offer)
    if offer.status != OfferStatus.ACCEPTED:
        return decline(session, settings, offer, inbound, now)
    job = offer.job
    session.refresh(job)
    if job.end_date < notices.local_date(settings, now):  # the work is done: nothing to give back
        notices.tell_worker(
            session, settings, inbound, worker, "match_cancel_over", "match.cancel_over", job, now
        )
        return Outcome.NOT_HELD
    job = lock_job(session, job.id)  # before the offer's row, as everywhere
    # The employer's notice may have gone out while we waited for the job's row (it holds that lock).
    session.refresh(offer, ["employer_told_at"])
    release_place(session, settings, job, offer, now)
    if jobs.lets_down_days_ahead(settings, job, now):
        # Too late for the employer to find someone else in time: as bad as not coming at all (and
        # counted once: the employer's `0` in the follow-up adds nothing to it).
        worker.no_shows += 1
        offer.cancelled_late = True
    elif jobs.on_the_first_day(settings, job, now):
        pass  # the first day under way: whether they came is the employer's to say (`0` in the follow-up)
    else:
        worker.cancellations += 1
    session.flush()
    notices.tell_worker(session, settings, inbound, worker, "match_cancel_ok", "match.cancel_ok", job, now)
    if offer.employer_told_at is not None:  # the employer heard of this worker: of the cancellation too
        language = notices.language_of(session, job.employer.phone)
        notices.tell_employer(
            session,
            settings,
            job,
            "match_cancel_employer",
            "match.cancel_employer",
            now,
            filled=job.filled,
            **notices.worker_for_employer(worker, language),
        )
    if job.status == JobStatus.OPEN:
        refill_after_drop(session, settings, job, worker, now)
    return Outcome.GIVEN_BACK


def _under_way(settings: Settings, job: Job, now: datetime) -> bool:
    """The job's work has started: its first day's start time is past (and its last day not over)."""
    local = now.astimezone(market_zone(settings))
    started = datetime.combine(job.work_date, job.start_time, tzinfo=local.tzinfo)
    return local >= started and local.date() <= job.end_date


def release_place(session: Session, settings: Settings, job: Job, offer: Offer, now: datetime) -> None:
    """A placed worker's place goes back to the job (given back, or not come: attendance.py): one fewer
    filled, the offer closed for good (a later yes to it takes nothing), the days not yet begun
    uninsured, a full job taking workers again. The job's row is locked by the caller."""
    session.execute(
        update(Job)
        .where(Job.id == job.id, Job.filled > 0)
        .values(filled=Job.filled - 1, updated_at=now)
        .execution_options(synchronize_session=False)
    )
    session.refresh(job)
    offer.status = OfferStatus.CANCELLED
    offer.responded_at = offer.given_back_at = now
    insurance.cancel_unworked(session, settings, offer, now)
    if job.status == JobStatus.FILLED:
        job.status = JobStatus.OPEN
        job.filled_at = None


def refill_after_drop(session: Session, settings: Settings, job: Job, worker: Worker, now: datetime) -> None:
    """A placed worker dropped out: a refill wave, or once the work is under way, an agent (texts would
    not find someone in time)."""
    if _under_way(settings, job, now):
        _call_for_refill(session, job, worker, now)
    else:
        defer(session, refill_job, job.id, queue="matching")


def _call_for_refill(session: Session, job: Job, worker: Worker, now: datetime) -> Ticket:
    """A placed worker dropped out after the start: the job goes to an agent (no automatic wave)."""
    job.status = JobStatus.ESCALATED
    return open_ticket(
        session,
        TicketKind.UNFILLED_JOB,
        job=job,
        summary=Summary.of(
            "unfilled_after_start",
            code=job.code,
            name=worker.name or worker.phone,
            filled=job.filled,
            headcount=job.headcount,
        ),
        text=f"{job.code}: {worker.name} cancelled after the start; {job.filled}/{job.headcount}, "
        "find a replacement by phone",
        details={"reason": "cancelled_after_start", "remaining": job.remaining},
        now=now,
        worker=worker,
        phone=job.employer.phone,
    )


def not_over(settings: Settings, now: datetime):
    """The condition for a job that still takes (or holds) workers: still wanted, its last day to come."""
    return and_(
        Job.status.in_((*TAKING, JobStatus.FILLED)), Job.end_date >= notices.local_date(settings, now)
    )


def on_worker_opted_out(session: Session, settings: Settings, worker: Worker, now: datetime) -> list[Ticket]:
    """A placed worker sent a bare opt-out (`CANCEL`, `退订`): the place is not given back by itself
    (an opt-out is no cancellation), but an agent is asked to call, once per place. Returns new tickets."""
    held = session.scalars(
        select(Offer)
        .join(Job, Job.id == Offer.job_id)
        .where(Offer.worker_id == worker.id, Offer.status == OfferStatus.ACCEPTED, not_over(settings, now))
        .order_by(Offer.id)
    ).all()
    tickets = []
    for offer in held:
        job = offer.job
        if has_open_ticket(session, TicketKind.UNFILLED_JOB, job, worker):
            continue
        ticket = open_ticket(
            session,
            TicketKind.UNFILLED_JOB,
            job=job,
            summary=Summary.of("unfilled_opted_out", code=job.code, name=worker.name, phone=worker.phone),
            text=f"{job.code}: placed worker {worker.name} ({worker.phone}) opted out of texts; "
            "call to confirm they still come",
            details={"reason": OPTED_OUT, "offer_id": offer.id},
            now=now,
            worker=worker,
        )
        tickets.append(ticket)
    session.flush()
    if tickets:
        log.info("worker %s opted out holding %s places: tickets opened", worker.id, len(tickets))
    return tickets


def cancel_job(session: Session, settings: Settings, job: Job, now: datetime) -> list[Offer]:
    """An employer (or an agent for them) calls the job off: every worker with an open offer, a place
    or a standby is told. Returns those offers."""
    lock_job(session, job.id)  # the job before its offers, as every answer locks them
    affected = jobs.cancel_job(session, job, settings, now)
    for offer in affected:
        notices.tell_worker(
            session, settings, None, offer.worker, "job_cancelled", "match.job_cancelled", job, now
        )
    return affected
