"""Key 3: an employer hears each open job with its code and how many have confirmed, and may cancel one
(its offers are cancelled and their workers told by SMS). On a day of a job with workers placed (a
filled one too), the job's key first offers to report a worker who did not come (`没来 101` by SMS
does the same: dispatch/matching/attendance.py), then to cancel it."""

from __future__ import annotations

import logging

from sqlalchemy import and_, or_, select
from sqlalchemy.orm import Session

from dispatch.clock import utcnow
from dispatch.i18n import market_zone
from dispatch.ivr import services
from dispatch.ivr.agent import to_agent
from dispatch.ivr.choices import spoken_trade
from dispatch.ivr.menu import ask as ask_menu
from dispatch.ivr.menu import back_to_menu
from dispatch.ivr.turn import INVALID, TIMEOUT, Step, Turn
from dispatch.jobs.services import cancel_job
from dispatch.matching import attendance, notices
from dispatch.models import ACTIVE_JOB_STATUSES, Call, CallOutcome, Job, JobStatus
from dispatch.settings import Settings
from dispatch.sms.services import get_or_create_contact, queue_sms
from dispatch.tickets.summaries import Summary

log = logging.getLogger(__name__)


def jobs_to_manage(turn: Turn) -> list[Job]:
    """The caller's jobs that still want workers, and those taking place today (a filled one's workers
    may not come), soonest first."""
    if turn.call.employer_id is None:
        return []
    today = utcnow().astimezone(market_zone(turn.settings)).date()
    today_filled = and_(Job.status == JobStatus.FILLED, Job.work_date <= today, Job.end_date >= today)
    query = (
        select(Job)
        .where(
            Job.employer_id == turn.call.employer_id, or_(Job.status.in_(ACTIVE_JOB_STATUSES), today_filled)
        )
        .order_by(Job.work_date, Job.id)
        .limit(services.MAX_LISTED_JOBS)
    )
    return list(turn.session.scalars(query))


def ask_jobs(turn: Turn, retry: str) -> None:
    call = turn.call
    jobs = jobs_to_manage(turn)
    if not jobs:
        turn.say("no_jobs")
        call.flow, call.step = "menu", "menu"
        ask_menu(turn, "")
        return
    if call.outcome is None:
        call.outcome = CallOutcome.JOBS_HEARD
    # The keys stand for this list, even if a job fills or ends before the caller presses one.
    turn.keep(_listed=[job.id for job in jobs])
    gather = turn.gather("jobs", retry)
    listed = [
        {**services.job_summary(job, turn.language), "trade": spoken_trade(job.trade, turn.language)}
        for job in jobs
    ]
    turn.say("jobs_list", gather, jobs=listed)
    turn.say("jobs_keys", gather)


def answer_jobs(turn: Turn, digits: str) -> str:
    listed = turn.call.answers.get("_listed", [])
    if digits.isascii() and digits.isdigit() and 1 <= int(digits) <= min(len(listed), 8):
        job = turn.session.get(Job, listed[int(digits) - 1])
        turn.keep(_cancel=listed[int(digits) - 1])
        if job is not None and _no_show_possible(turn, job):
            return "job_day"
        return "cancel"
    if digits == "*":
        return back_to_menu(turn)
    if digits == "0":
        return to_agent(
            turn, "employer asked for an agent about their jobs", Summary.of("agent_asked_about_jobs")
        )
    if digits == "9":
        return "jobs"
    return INVALID if digits else TIMEOUT


def _job_to_cancel(turn: Turn) -> Job | None:
    job = turn.session.get(Job, int(turn.call.answers.get("_cancel", 0)))
    if job is None or job.employer_id != turn.call.employer_id or job.status not in ACTIVE_JOB_STATUSES:
        return None
    return job


def _no_show_possible(turn: Turn, job: Job) -> bool:
    return (
        job.employer_id == turn.call.employer_id
        and attendance.under_way(turn.settings, job, utcnow())
        and bool(attendance.not_arrived(turn.session, job))
    )


def _chosen_job(turn: Turn) -> Job | None:
    job = turn.session.get(Job, int(turn.call.answers.get("_cancel", 0)))
    return job if job is not None and job.employer_id == turn.call.employer_id else None


def ask_job_day(turn: Turn, retry: str) -> None:
    """A job taking place today: someone did not come (1), cancel it (2, while it is still active)."""
    job = _chosen_job(turn)
    if job is None or not _no_show_possible(turn, job):
        turn.call.step = "jobs"
        ask_jobs(turn, "")
        return
    cancellable = job.status in ACTIVE_JOB_STATUSES
    turn.say("job_day", turn.gather("job_day", retry), code=job.code, cancellable=cancellable)


def answer_job_day(turn: Turn, digits: str) -> str:
    job = _chosen_job(turn)
    if digits == "1":
        return "no_show"
    if digits == "2" and job is not None and job.status in ACTIVE_JOB_STATUSES:
        return "cancel"
    if digits == "*":
        turn.drop("_cancel")
        return "jobs"
    return INVALID if digits else TIMEOUT


def ask_no_show(turn: Turn, retry: str) -> None:
    """Who did not come: the job's placed workers not yet on site, by their number in this list."""
    job = _chosen_job(turn)
    missing = attendance.not_arrived(turn.session, job) if job is not None else []
    if job is None or not missing:
        turn.drop("_cancel", "_missing")
        turn.call.step = "jobs"
        ask_jobs(turn, "")
        return
    turn.keep(_missing=[offer.id for offer in missing[:8]])
    names = [notices.person_name(offer.worker.name, turn.language) for offer in missing[:8]]
    turn.say("no_show_list", turn.gather("no_show", retry), code=job.code, names=names)


def answer_no_show(turn: Turn, digits: str) -> str:
    listed = turn.call.answers.get("_missing", [])
    if digits.isascii() and digits.isdigit() and 1 <= int(digits) <= len(listed):
        employer_id = turn.call.employer_id or 0
        worker = attendance.no_show_by_key(
            turn.session, turn.settings, employer_id, listed[int(digits) - 1], utcnow()
        )
        name = notices.person_name(worker.name, turn.language) if worker is not None else ""
        turn.say("no_show_noted" if worker is not None else "no_show_gone", name=name)
        turn.drop("_cancel", "_missing")
        return "jobs"
    if digits == "*":
        turn.drop("_cancel", "_missing")
        return "jobs"
    return INVALID if digits else TIMEOUT


def ask_cancel(turn: Turn, retry: str) -> None:
    job = _job_to_cancel(turn)
    if job is None:
        turn.call.step = "jobs"
        ask_jobs(turn, "")
        return
    turn.say("cancel_confirm", turn.gather("cancel", retry), code=job.code)


def answer_cancel(turn: Turn, digits: str) -> str:
    if digits == "1":
        job = _job_to_cancel(turn)
        if job is not None:
            told = cancel_for_caller(turn.session, turn.settings, turn.call, job)
            turn.say("cancelled", code=job.code, told=told)
        turn.drop("_cancel")
        return "jobs"
    if digits == "2":
        turn.drop("_cancel")
        return "jobs"
    return INVALID if digits else TIMEOUT


def cancel_for_caller(session: Session, settings: Settings, call: Call, job: Job) -> int:
    """Cancel the caller's job; every worker it had an offer or a place for is told by SMS."""
    offers = cancel_job(session, job, settings)
    for offer in offers:
        worker = offer.worker
        language = get_or_create_contact(session, worker.phone).language
        queue_sms(
            session,
            settings,
            phone=worker.phone,
            template="job_cancelled",
            kind="job.cancelled",
            language=language,
            worker_id=worker.id,
            **services.job_summary(job, language),
        )
    if call.outcome in {None, CallOutcome.JOBS_HEARD}:
        call.outcome = CallOutcome.CANCELLED
    log.info("call %s cancelled job %s; %d workers told", call.call_sid, job.code, len(offers))
    return len(offers)


STEPS = {
    "jobs": Step(ask_jobs, answer_jobs),
    "cancel": Step(ask_cancel, answer_cancel),
    "job_day": Step(ask_job_day, answer_job_day),
    "no_show": Step(ask_no_show, answer_no_show),
}
