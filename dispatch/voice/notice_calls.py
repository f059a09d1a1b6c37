"""Employers who cannot take SMS (a landline: Twilio 21614, an invalid or unreachable number) hear who
is coming by phone: the market calls and reads, for each of their jobs not yet over, the workers who
took a place, each name and number read slowly, the digits one by one (ivr/notice_call.py).

A call is due when a notice of placed workers would go to such a number (matching/employer.py), and
when a number is first found unable to take SMS while workers are placed with it (sms/services.py).
A few attempts, a few minutes apart, never in quiet hours; when nobody picks up any of them, an agent
gets a ticket to phone the employer. Each call is keyed by the newest place it tells of, so a notice
repeated (a job run twice, a second report of the same failure) rings once.

Plain functions that take a session; they flush, never commit.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from dispatch.i18n import market_zone
from dispatch.models import (
    Call,
    CallOutcome,
    Contact,
    Employer,
    Job,
    JobStatus,
    Offer,
    OfferStatus,
    Ticket,
    TicketKind,
    TicketStatus,
    Worker,
)
from dispatch.queue import defer
from dispatch.quiet_hours import quiet_hours_end
from dispatch.settings import Settings
from dispatch.tickets.services import open_ticket
from dispatch.tickets.summaries import Summary
from dispatch.voice import outbound
from dispatch.voice.gateway import CallError
from dispatch.voice.tasks import call_employer

log = logging.getLogger(__name__)
FLOW = "notice_call"  # Call.flow of the calls telling an employer who is coming
ATTEMPTS = 2  # calls at most; the run after the last only checks whether one was picked up
GAP = timedelta(minutes=4)
SUMMARY = "employer_not_told"


@dataclass(frozen=True)
class Coming:
    job: Job
    workers: list[Worker]


def coming(session: Session, settings: Settings, employer_id: int, now: datetime) -> list[Coming]:
    """The employer's jobs not yet over with the workers who hold a place, soonest first."""
    today = now.astimezone(market_zone(settings)).date()
    rows = session.execute(
        select(Job, Worker)
        .join(Offer, Offer.job_id == Job.id)
        .join(Worker, Worker.id == Offer.worker_id)
        .where(
            Job.employer_id == employer_id,
            Job.status != JobStatus.CANCELLED,
            Job.end_date >= today,
            Offer.status == OfferStatus.ACCEPTED,
        )
        .order_by(Job.work_date, Job.start_time, Job.id, Offer.responded_at, Offer.id)
    ).all()
    by_job: dict[int, Coming] = {}
    for job, worker in rows:
        by_job.setdefault(job.id, Coming(job, [])).workers.append(worker)
    return list(by_job.values())


def newest_place(session: Session, employer_id: int, now: datetime) -> int:
    """The newest place the employer may hear of (the call's key); 0 when nobody is coming. Any
    market's today is within a day of UTC's: the call itself reads the jobs by the market's date."""
    today = now.date() - timedelta(days=1)
    query = (
        select(Offer.id)
        .join(Job, Job.id == Offer.job_id)
        .where(
            Job.employer_id == employer_id,
            Job.status != JobStatus.CANCELLED,
            Job.end_date >= today,
            Offer.status == OfferStatus.ACCEPTED,
        )
        .order_by(Offer.id.desc())
        .limit(1)
    )
    return session.scalar(query) or 0


def cannot_text(session: Session, phone: str) -> bool:
    contact = session.scalar(select(Contact).where(Contact.phone == phone))
    return contact is not None and contact.undeliverable_at is not None


def call_later(session: Session, employer: Employer, now: datetime) -> bool:
    """Call the employer with who is coming, if anyone is (True when a call is due)."""
    key = newest_place(session, employer.id, now)
    if not key:
        return False
    defer(session, call_employer, employer.id, key, 1, queue="sms")
    return True


def answer_url(base_url: str, employer_id: int, key: int, attempt: int) -> str:
    return f"{base_url.rstrip('/')}/ivr/notice?e={employer_id}&k={key}&a={attempt}"


def calls_of(session: Session, employer_id: int, key: int) -> list[Call]:
    query = select(Call).where(Call.flow == FLOW, Call.employer_id == employer_id)
    return [call for call in session.scalars(query) if call.answers.get("key") == key]


def row_for(
    session: Session, employer: Employer, key: int, sid: str, attempt: int, status: str = "queued"
) -> tuple[Call, bool]:
    language = session.scalar(select(Contact.language).where(Contact.phone == employer.phone)) or "zh"
    return outbound.open_row(
        session,
        sid,
        phone=employer.phone,
        flow=FLOW,
        step="notice",
        language=language,
        answers={"key": key, "attempt": attempt},
        outcome=CallOutcome.NOTICE_CALL,
        employer_id=employer.id,
        status=status,
    )


def prepare(
    session: Session,
    settings: Settings,
    employer_id: int,
    key: int,
    attempt: int,
    now: datetime,
    can_call: bool = True,
) -> outbound.Plan | str:
    """The call to place for this attempt, claimed; or why none is (a ticket when all attempts failed,
    or when this market cannot place calls at all)."""
    employer = session.get(Employer, employer_id)
    if employer is None:
        return "missing"
    told = coming(session, settings, employer.id, now)
    if not told:
        return "nobody_coming"
    if outbound.picked_up(calls_of(session, employer.id, key)):
        return "picked_up"
    if attempt > ATTEMPTS or not can_call:
        ticket_for(session, employer, told, key, attempt - 1 if can_call else 0)
        return "ticket"
    morning = quiet_hours_end(now, settings.quiet_hours, settings.MARKET_TIMEZONE)
    if morning is not None:
        defer(session, call_employer, employer.id, key, attempt, queue="sms", run_at=morning)
        return "deferred"
    claim = outbound.claim_sid("notice", f"{employer.id}-{key}", attempt)
    _, created = row_for(session, employer, key, claim, attempt)
    if not created:
        return "claimed"
    base = settings.PUBLIC_BASE_URL
    url = answer_url(base, employer.id, key, attempt)
    return outbound.Plan(employer.phone, url, f"{base.rstrip('/')}/ivr/status", claim)


def placed(
    session: Session, employer_id: int, key: int, attempt: int, claim: str, sid: str, now: datetime
) -> None:
    """The call rings: the next attempt (after the last: the check that may open a ticket) is due."""
    outbound.adopt(session, claim, sid)
    log.info("employer %s: notice call attempt %s placed as %s", employer_id, attempt, sid)
    defer(session, call_employer, employer_id, key, attempt + 1, queue="sms", run_at=now + GAP)


def not_placed(
    session: Session, employer_id: int, key: int, attempt: int, claim: str, exc: CallError, now: datetime
) -> None:
    """Refused: the attempt counts as failed. Perhaps placed: the row stays as claimed; either way the
    next run checks whether anyone picked up (a call that did ring adopts the claim when answered)."""
    if not exc.unknown_outcome:
        outbound.not_placed(session, claim)
    log.warning("employer %s: notice call attempt %s not placed: %s", employer_id, attempt, exc.describe())
    defer(session, call_employer, employer_id, key, attempt + 1, queue="sms", run_at=now + GAP)


def ticket_for(session: Session, employer: Employer, told: list[Coming], key: int, attempts: int) -> Ticket:
    """An agent phones the employer: one open ticket per employer, the newest key added to it."""
    found = session.scalar(
        select(Ticket).where(
            Ticket.employer_id == employer.id,
            Ticket.summary_key == SUMMARY,
            Ticket.status != TicketStatus.RESOLVED,
        )
    )
    workers = [
        {"code": item.job.code, "name": worker.name, "phone": worker.phone}
        for item in told
        for worker in item.workers
    ]
    details = {"notice_key": key, "calls": attempts, "workers": workers}
    if found is not None:
        found.details = {**found.details, **details}
        return found
    codes = "、".join(item.job.code or "" for item in told)
    log.warning("employer %s cannot take SMS and answered none of %s calls: ticket", employer.id, attempts)
    return open_ticket(
        session,
        TicketKind.CALL_BACK,
        summary=Summary.of(SUMMARY, code=codes, employer=employer.name),
        text=f"employer cannot take SMS and answered none of {attempts} calls; tell them who is coming",
        job=told[0].job,
        employer=employer,
        phone=employer.phone,
        details=details,
    )
