"""Phone intake's domain changes: calls, the caller as an employer, and the jobs calls end in
(tickets are in tickets.py, workers registered by phone in workers.py).

Plain functions that take a session; they flush, never commit.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from datetime import date, datetime, time, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from dispatch.callcenter import routing
from dispatch.clock import utcnow
from dispatch.db import insert_ignoring_conflicts
from dispatch.i18n import market_zone
from dispatch.ivr import tickets
from dispatch.jobs.request_parser import has_started
from dispatch.jobs.services import JobRequest, create_job
from dispatch.jobs.sms_requests import sms_summary
from dispatch.matching import in_time
from dispatch.models import (
    Call,
    CallOutcome,
    Employer,
    EmployerStatus,
    Job,
    JobSource,
    JobStatus,
    QueuedCall,
    WaitStatus,
)
from dispatch.phones import try_e164
from dispatch.settings import Settings, parse_quiet_hours
from dispatch.sms.services import queue_sms

log = logging.getLogger(__name__)

MAX_LISTED_JOBS = 8  # the manage menu keys jobs 1-8; 9 repeats
STALE_CALL_AFTER = timedelta(minutes=30)  # no webhook for this long and not ended: the hang-up was missed
STALE_CALL_BATCH = 500
STALE_CALL_STATUS = "stale"  # the status a call gets when it is finished for want of a status callback


# -- calls --------------------------------------------------------------------------------------


def open_call(session: Session, settings: Settings, form: Mapping[str, str]) -> tuple[Call, bool]:
    """The call for the form's CallSid, created on its first webhook; True when it is new."""
    sid = form["CallSid"].strip()[:64]
    raw_from = (form.get("From") or "").strip()
    phone = try_e164(raw_from, settings.DEFAULT_REGION) or raw_from[:40]
    now = utcnow()
    values = {
        "call_sid": sid,
        "phone": phone,
        "flow": "menu",
        "step": "menu",
        "language": "zh",
        "answers": {},
        "retries": 0,
        "turn": 0,
        "last_key": "",
        "last_twiml": "",
        "status": (form.get("CallStatus") or "ringing")[:24],
        "recording_url": "",
        "created_at": now,
        "updated_at": now,
    }
    created = insert_ignoring_conflicts(session, Call.__table__, values, "call_sid") is not None
    call = find_call(session, sid)
    assert call is not None
    if created:
        employer = employer_for(session, call.phone)
        call.employer_id = employer.id if employer else None
    return call, created


def find_call(session: Session, call_sid: str) -> Call | None:
    """The call, locked: two deliveries of one step wait for each other instead of both acting."""
    call_sid = call_sid.strip()[:64]  # as open_call stores it
    if not call_sid:
        return None
    return session.scalar(select(Call).where(Call.call_sid == call_sid).with_for_update())


def can_text(call: Call, settings: Settings) -> bool:
    """A number we can text and call back: a valid one, not a withheld (`anonymous`, `+266696687`) one."""
    return bool(call.phone) and try_e164(call.phone, settings.DEFAULT_REGION) == call.phone


def employer_for(session: Session, phone: str) -> Employer | None:
    return session.scalar(select(Employer).where(Employer.phone == phone)) if phone else None


def last_job(session: Session, employer_id: int | None) -> Job | None:
    if employer_id is None:
        return None
    query = select(Job).where(Job.employer_id == employer_id).order_by(Job.created_at.desc(), Job.id.desc())
    return session.scalars(query.limit(1)).first()


def finish_stale_calls(
    session: Session, now: datetime | None = None, settings: Settings | None = None
) -> dict[str, int]:
    """A safety net for hang-ups whose status callback never came: calls not ended and untouched for
    STALE_CALL_AFTER are finished as a status callback would finish them (a call-back ticket for one
    left part-way; the market's follow-up calls, given `settings`, as their own status route does,
    keeping the answers keyed). Calls another process holds are skipped, to be taken on the next run."""
    from dispatch.ivr import followup  # followup builds on this module

    cutoff = (now or utcnow()) - STALE_CALL_AFTER
    query = (
        select(Call)
        .where(Call.ended_at.is_(None), Call.updated_at < cutoff)
        .order_by(Call.id)
        .limit(STALE_CALL_BATCH)
        .with_for_update(skip_locked=True)
    )
    finished = ticketed = 0
    for call in session.scalars(query).all():
        if settings is not None and call.flow == followup.calls.FLOW:
            followup.call_ended(session, settings, call, STALE_CALL_STATUS)
            ticket = None
        else:
            ticket = tickets.finish_call(session, call, STALE_CALL_STATUS)
        finished += 1
        ticketed += ticket is not None
        log.info("call %s had no status callback for %s: finished", call.call_sid, STALE_CALL_AFTER)
    closed = close_ghost_waits(session, now or utcnow())
    session.flush()
    return {"finished": finished, "tickets": ticketed, "waits_closed": closed}


def close_ghost_waits(session: Session, now: datetime) -> int:
    """Waits in the agents' queue still open although their call has ended (ended before
    tickets.finish_call closed them, or by a path that does not): closed as finish_call closes them."""
    query = (
        select(QueuedCall.call_sid)
        .join(Call, Call.id == QueuedCall.call_id)
        .where(QueuedCall.left_at.is_(None), Call.ended_at.is_not(None))
        .limit(STALE_CALL_BATCH)
    )
    sids = list(session.scalars(query))
    for sid in sids:
        routing.caller_left(session, sid, WaitStatus.ABANDONED, now)
        log.info("call %s had ended with its wait in the queue still open: closed", sid)
    return len(sids)


# -- the market's clock -------------------------------------------------------------------------


def market_now(settings: Settings, now: datetime | None = None) -> datetime:
    return (now or utcnow()).astimezone(market_zone(settings))


def market_today(settings: Settings, now: datetime | None = None) -> date:
    return market_now(settings, now).date()


def start_passed(
    settings: Settings, work_date: date, hour: int, now: datetime | None = None, minute: int = 0
) -> bool:
    """Work from `hour`:`minute` on `work_date` would start at or before the current hour (half hour,
    for a half-past start) in the market."""
    return has_started(work_date, hour, market_now(settings, now), minute)


def agents_available(settings: Settings, now: datetime | None = None) -> bool:
    """Inside OPENING_HOURS (market time). `08:00-08:00` is all day; `off` is never (voicemail only)."""
    window = parse_quiet_hours(settings.OPENING_HOURS)
    if window is None:
        return False
    start, end = window
    clock = (now or utcnow()).astimezone(market_zone(settings)).time().replace(tzinfo=None)
    if start == end:
        return True
    return start <= clock < end if start < end else (clock >= start or clock < end)


# -- jobs ---------------------------------------------------------------------------------------


def job_request(answers: Mapping[str, Any], note: str = "") -> JobRequest:
    return JobRequest(
        trade_id=int(answers["trade"]),
        headcount=int(answers["headcount"]),
        work_date=date.fromisoformat(answers["date"]),
        start_time=time(int(answers["hour"]), int(answers.get("minute", 0))),
        days=int(answers["days"]),
        daily_pay=int(answers["pay"]),
        site_id=int(answers["site"]),
        notes=note,
        recording_url=answers.get("recording", ""),
    )


def employer_by_phone(session: Session, phone: str) -> Employer:
    """The caller as an employer; an unknown caller becomes one."""
    employer = employer_for(session, phone)
    if employer is None:
        # Two calls from one new number may confirm at once: the second finds the first one's row.
        values = {"phone": phone, "name": "", "address": "", "status": EmployerStatus.ACTIVE}
        insert_ignoring_conflicts(session, Employer.__table__, {**values, "created_at": utcnow()}, "phone")
        employer = employer_for(session, phone)
        assert employer is not None
    return employer


def post_job(session: Session, settings: Settings, call: Call) -> Job:
    """The confirmed request becomes a job (matching starts after commit); the caller gets its summary.
    A held employer's job waits for an agent, and the summary says so."""
    job = post_requested_job(
        session, settings, call.phone, job_request(call.answers), JobSource.IVR, call.language
    )
    call.employer_id, call.job_id, call.outcome = job.employer_id, job.id, CallOutcome.JOB
    session.flush()
    return job


def post_requested_job(
    session: Session,
    settings: Settings,
    phone: str,
    request: JobRequest,
    source: JobSource,
    language: str,
    employer_name: str = "",
) -> Job:
    """What every phone channel does with a confirmed request (the IVR's keypad, an agent's intake
    form): the employer of that number, the job with its matching outbox row, the summary SMS."""
    employer = employer_by_phone(session, phone)
    if not employer.name and employer_name:
        employer.name = employer_name
    if employer.site_id is None:
        employer.site_id = request.site_id
    job = create_job(session, employer, request, source, settings=settings)
    # The summary answers the call just made: it goes at once, even at night (issue 16), and says when
    # the offers will go if the night holds them.
    queue_sms(
        session,
        settings,
        phone=phone,
        template="job_created",
        kind="job.created",
        language=language,
        employer_id=employer.id,
        at_once=True,
        held=job.status == JobStatus.HELD,
        **in_time.posting_notice(settings, job, utcnow()),
        **job_summary(job, language),
    )
    return job


def job_summary(job: Job, language: str) -> dict[str, Any]:
    """What an SMS or a read-back says about a job."""
    return {**sms_summary(job, language), "filled": job.filled}


def days_ahead(today: date, wanted: date) -> int:
    return (wanted - today) // timedelta(days=1)
