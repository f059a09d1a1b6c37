"""Employers' one-line job requests by SMS: `招 水电工 2人 明天 300元 太西`, `NEED 2 plumber tomorrow 300`.

A request from a known employer becomes a draft job with its code; the reply reads it back and asks
for `1` (post it) or `2` (drop it). The confirmation is a `Conversation` in this module's flow, so any
process takes the answer. What cannot be read goes to an agent's ticket.
"""

from __future__ import annotations

import logging
from datetime import time

from sqlalchemy import select
from sqlalchemy.orm import Session

from dispatch.catalogue import trade_short_name
from dispatch.clock import utcnow
from dispatch.i18n import market_zone
from dispatch.jobs.held import hold_job
from dispatch.jobs.request_parser import (
    DEFAULT_HOUR,
    ParsedRequest,
    has_started,
    parse_request,
    strip_keyword,
)
from dispatch.jobs.services import JobRequest, create_job, employer_held, start_matching
from dispatch.matching import in_time
from dispatch.models import (
    Conversation,
    Employer,
    EmployerStatus,
    Job,
    JobSource,
    JobStatus,
    Message,
    MessageStatus,
    TicketKind,
)
from dispatch.settings import Settings
from dispatch.sms.parser import Command
from dispatch.sms.registration import NO_WORDS, YES_WORDS
from dispatch.sms.services import get_or_create_contact, reply
from dispatch.tickets.services import open_ticket
from dispatch.tickets.summaries import Summary

log = logging.getLogger(__name__)
FLOW = "job_request"
MAX_RETRIES = 2


def handle_job_request(session: Session, settings: Settings, message: Message, command: Command) -> bool:
    """True when the text was a job request from a known employer and has been acted on."""
    # Read with the message's sender (dispatch/inbound/context.py): from the session, not the database.
    employer = session.get(Employer, message.employer_id) if message.employer_id is not None else None
    if employer is None:
        return False  # only known employers post by SMS; the text goes to an agent as any other
    body = strip_keyword(command.text)
    if body is None:
        return False
    _take_request(session, settings, message, employer, body)
    return True


def _take_request(
    session: Session, settings: Settings, message: Message, employer: Employer, body: str
) -> None:
    today = utcnow().astimezone(market_zone(settings)).date()
    parsed = parse_request(session, body, today)
    if parsed.site_id is None:
        parsed.site_id = last_job_site(session, employer.id) or employer.site_id
    missing = parsed.missing() + ([] if parsed.site_id is not None else ["place"])
    if missing or employer.status == EmployerStatus.BLOCKED:
        if missing:
            text = f"job request not taken: missing {', '.join(missing)}"
            _to_agent(session, settings, message, text, "job_request_missing", missing=missing)
        else:
            _to_agent(
                session, settings, message, "job request not taken: blocked employer", "job_request_blocked"
            )
        return
    job = create_job(session, employer, _request(parsed), JobSource.SMS, status=JobStatus.DRAFT)
    conversation = session.scalar(select(Conversation).where(Conversation.phone == message.phone))
    if conversation is None:
        conversation = Conversation(phone=message.phone)
        session.add(conversation)
    conversation.flow, conversation.step = FLOW, "confirm"
    conversation.answers = {"job_id": job.id}
    conversation.updated_at = utcnow()
    session.flush()
    _ask(session, settings, message, job)


def last_job_site(session: Session, employer_id: int) -> int | None:
    query = (
        select(Job.site_id)
        .where(Job.employer_id == employer_id)
        .order_by(Job.created_at.desc(), Job.id.desc())
    )
    return session.scalars(query.limit(1)).first()


def _request(parsed: ParsedRequest) -> JobRequest:
    assert parsed.trade_id and parsed.work_date and parsed.pay and parsed.site_id
    return JobRequest(
        trade_id=parsed.trade_id,
        headcount=parsed.headcount or 1,
        work_date=parsed.work_date,
        start_time=time(parsed.hour if parsed.hour is not None else DEFAULT_HOUR),
        days=parsed.days or 1,
        daily_pay=parsed.pay,
        site_id=parsed.site_id,
        notes=" ".join(parsed.unknown)[:500],
    )


def answer(
    session: Session, settings: Settings, message: Message, conversation: Conversation, text: str
) -> None:
    """The employer's answer to the read-back: 1 posts the job (unless its start has passed meanwhile:
    then it is dropped and a new request asked for), 2 drops it; a new request replaces it."""
    job = session.get(Job, int(conversation.answers.get("job_id", 0)))
    key = text.casefold()
    if job is None or job.status != JobStatus.DRAFT:
        session.delete(conversation)
        session.flush()
        _to_agent(session, settings, message, "job request answer without a draft", "job_request_no_draft")
        return
    if key in YES_WORDS or key in NO_WORDS:
        session.delete(conversation)
        if key in YES_WORDS and _start_passed(settings, job):
            # Too late to post: the draft goes, and the employer is asked for a new request.
            job.status, job.cancelled_at = JobStatus.CANCELLED, utcnow()
            session.flush()
            _reply(session, settings, message, "job_request_expired", "job_request.expired", job)
        elif key in YES_WORDS:
            held = employer_held(session, job.employer)
            if held:
                hold_job(session, job, settings)  # waits for an agent, like any job of a held employer
            else:
                start_matching(session, job)
            session.flush()
            notice = in_time.posting_notice(settings, job, utcnow())
            _reply(
                session,
                settings,
                message,
                "job_request_posted",
                "job_request.posted",
                job,
                held=held,
                **notice,
            )
        else:
            job.status, job.cancelled_at = JobStatus.CANCELLED, utcnow()
            session.flush()
            _reply(session, settings, message, "job_request_dropped", "job_request.dropped", job)
        return
    body = strip_keyword(text)
    if body is not None:  # a corrected request replaces the draft
        job.status, job.cancelled_at = JobStatus.CANCELLED, utcnow()
        session.delete(conversation)
        session.flush()
        _take_request(session, settings, message, job.employer, body)
        return
    retries = int(conversation.answers.get("retries", 0)) + 1
    if retries > MAX_RETRIES:
        session.delete(conversation)
        session.flush()
        text = f"job request {job.code}: confirmation not understood"
        _to_agent(session, settings, message, text, "job_request_unclear", job, code=job.code)
        return
    conversation.answers = {**conversation.answers, "retries": retries}
    session.flush()
    _ask(session, settings, message, job, retry=True)


def _start_passed(settings: Settings, job: Job) -> bool:
    market_now = utcnow().astimezone(market_zone(settings))
    return has_started(job.work_date, job.start_time.hour, market_now)


def _ask(session: Session, settings: Settings, message: Message, job: Job, retry: bool = False) -> None:
    _reply(session, settings, message, "job_request_confirm", "job_request.confirm", job, retry=retry)


def _reply(
    session: Session,
    settings: Settings,
    message: Message,
    template: str,
    kind: str,
    job: Job,
    **extra: object,
) -> None:
    language = get_or_create_contact(session, message.phone).language
    reply(session, settings, message, template, kind, **sms_summary(job, language), **extra)


def sms_summary(job: Job, language: str) -> dict[str, object]:
    return {
        "code": job.code or "",
        "trade": trade_short_name(job.trade, language),
        "headcount": job.headcount,
        "date": job.work_date,
        "hour": job.start_time.hour,
        "minute": job.start_time.minute,
        "days": job.days,
        "pay": job.daily_pay,
        "area": job.site.name(language),
    }


def _to_agent(
    session: Session,
    settings: Settings,
    message: Message,
    text: str,
    key: str,
    job: Job | None = None,
    **fields: object,
) -> None:
    """The text waits for an agent (on the job's site when there is a draft, else the employer's)."""
    message.status = MessageStatus.UNPARSED
    body = message.body[:400]
    summary = Summary.of(key, body=body, **fields)
    open_ticket(
        session, TicketKind.UNPARSED_SMS, message=message, job=job, summary=summary, text=f"{text}: {body}"
    )
    reply(session, settings, message, "job_request_unclear", "job_request.unclear")
