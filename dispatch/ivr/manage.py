"""Key 3: an employer hears each open job with its code and how many have confirmed, and may cancel one
(its offers are cancelled and their workers told by SMS)."""

from __future__ import annotations

import logging

from sqlalchemy.orm import Session

from dispatch.ivr import services
from dispatch.ivr.agent import to_agent
from dispatch.ivr.choices import spoken_trade
from dispatch.ivr.menu import ask as ask_menu
from dispatch.ivr.menu import back_to_menu
from dispatch.ivr.turn import INVALID, TIMEOUT, Step, Turn
from dispatch.jobs.services import cancel_job
from dispatch.models import ACTIVE_JOB_STATUSES, Call, CallOutcome, Job
from dispatch.settings import Settings
from dispatch.sms.services import get_or_create_contact, queue_sms
from dispatch.tickets.summaries import Summary

log = logging.getLogger(__name__)


def ask_jobs(turn: Turn, retry: str) -> None:
    call = turn.call
    jobs = services.open_jobs(turn.session, call.employer_id)
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
        turn.keep(_cancel=listed[int(digits) - 1])
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


STEPS = {"jobs": Step(ask_jobs, answer_jobs), "cancel": Step(ask_cancel, answer_cancel)}
