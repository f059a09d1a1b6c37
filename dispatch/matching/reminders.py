"""Reminders to placed workers: the evening before the job, and a set time before its start.

Each restates the job (day, time, place, pay, the employer's phone) and how to give the place back
(`取消 <code>`), by SMS, and by a call to a worker who prefers voice (voice/reminder_calls.py). A
reminder is sent once per placement and kind: `Offer.reminded_evening_at` / `reminded_soon_at` are
set in the transaction that queues it.

- The evening one goes at REMINDER_EVENING_TIME (not in quiet hours: the settings refuse that) the day
  before the job's first day, to workers placed before that time (a worker placed later has just had
  the confirmation). Once quiet hours begin it is not sent at all: the one before the start follows.
- The one before the start goes REMINDER_BEFORE_MINUTES before the first day's start, to workers placed
  before that moment. It is urgent: in quiet hours it goes only inside URGENT_HOURS (a 07:00 start's
  05:30 reminder goes at 06:00), never after the start (it is then not sent).

Only places still held on jobs still on get one: a place given back (`取消`), an offer cancelled, a
job cancelled or over get none. Plain functions that take a session and never commit.
"""

from __future__ import annotations

import logging
from datetime import date, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session, joinedload

from dispatch.i18n import market_zone
from dispatch.matching import in_time, notices
from dispatch.models import Job, JobStatus, Offer, OfferStatus
from dispatch.phones import display
from dispatch.quiet_hours import hold_until, quiet_hours_end
from dispatch.settings import Settings
from dispatch.sms.services import queue_sms
from dispatch.voice import reminder_calls

log = logging.getLogger(__name__)
# A job in these statuses still takes place (an escalated one may still have workers placed).
TAKING_PLACE = (JobStatus.OPEN, JobStatus.FILLED, JobStatus.ESCALATED)
BATCH = 500


def send_due_reminders(session: Session, settings: Settings, now: datetime) -> dict[str, int]:
    """Queue every reminder due at `now` and mark it sent; returns how many of each kind."""
    return {"evening": _evening(session, settings, now), "soon": _soon(session, settings, now)}


def _placements(session: Session, column, work_dates: list[date]) -> list[Offer]:
    """Placements still held on jobs still on, working on one of `work_dates`, not yet reminded
    (`column`). Locked, skipping rows a worker's answer holds now: the next run sees them."""
    query = (
        select(Offer)
        .join(Job, Job.id == Offer.job_id)
        .where(
            Offer.status == OfferStatus.ACCEPTED,
            column.is_(None),
            Job.status.in_(TAKING_PLACE),
            Job.work_date.in_(work_dates),
        )
        .options(joinedload(Offer.job), joinedload(Offer.worker))
        .order_by(Offer.id)
        .limit(BATCH)
        .with_for_update(of=Offer, skip_locked=True)
    )
    return list(session.scalars(query).unique())


def _evening(session: Session, settings: Settings, now: datetime) -> int:
    zone = market_zone(settings)
    local = now.astimezone(zone)
    evening = datetime.combine(local.date(), settings.reminder_evening_time, tzinfo=zone)
    if now < evening or quiet_hours_end(now, settings.quiet_hours, settings.MARKET_TIMEZONE) is not None:
        return 0
    sent = 0
    for offer in _placements(session, Offer.reminded_evening_at, [local.date() + timedelta(days=1)]):
        if offer.responded_at is not None and offer.responded_at >= evening:
            continue  # placed this evening: the confirmation said it all
        _remind(session, settings, offer, now, soon=False)
        offer.reminded_evening_at = now
        sent += 1
    return sent


def _soon(session: Session, settings: Settings, now: datetime) -> int:
    before = timedelta(minutes=settings.REMINDER_BEFORE_MINUTES)
    if not before:
        return 0
    # Urgent hours closed (in quiet hours): wait for them; a reminder still due then goes then.
    if hold_until(now, settings.quiet_hours, settings.MARKET_TIMEZONE, settings.urgent_hours) is not None:
        return 0
    today = now.astimezone(market_zone(settings)).date()
    sent = 0
    for offer in _placements(session, Offer.reminded_soon_at, [today, today + timedelta(days=1)]):
        start = in_time.first_start(settings, offer.job)
        due = start - before
        if not due <= now < start:
            continue
        if offer.responded_at is not None and offer.responded_at >= due:
            continue  # placed inside the reminder's window: the confirmation is fresh
        _remind(session, settings, offer, now, soon=True)
        offer.reminded_soon_at = now
        sent += 1
    return sent


def _remind(session: Session, settings: Settings, offer: Offer, now: datetime, soon: bool) -> None:
    job, worker = offer.job, offer.worker
    language = notices.language_of(session, worker.phone)
    queue_sms(
        session,
        settings,
        phone=worker.phone,
        template="reminder",
        kind="reminder.soon" if soon else "reminder.evening",
        worker_id=worker.id,
        urgent=soon,
        not_after=in_time.first_start(settings, job),
        soon=soon,
        address=notices.address(job, language),
        employer_phone=display(job.employer.phone),
        **notices.job_context(job, language, settings, now),
    )
    reminder_calls.call_later(session, offer, worker, soon)
    log.info("job %s: %s reminder to worker %s", job.code, "soon" if soon else "evening", worker.id)
