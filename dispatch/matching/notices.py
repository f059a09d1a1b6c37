"""The texts matching sends: offers, confirmations, employers' summaries. Context only; the words
are in dispatch/sms/templates/<language>/ (offer*, placement*, match_*)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from dispatch.catalogue import trade_short_name
from dispatch.clock import utcnow
from dispatch.i18n import market_zone, pick_language
from dispatch.inbound.questions import offer_question
from dispatch.matching import in_time
from dispatch.models import Contact, Job, Message, MessageStatus, Offer, Worker
from dispatch.phones import display
from dispatch.quiet_hours import quiet_hours_end
from dispatch.settings import Settings
from dispatch.sms.segments import is_gsm7
from dispatch.sms.services import get_or_create_contact, queue_sms, reply
from dispatch.voice import offer_calls

# What keeps every text within its budget (tests/sms/test_templates.py measures them at these).
MAX_ADDRESS = {"zh": 30, "en": 36}
MAX_NAME = 10
WORKERS_PER_SMS = 3  # an employer's summary lists this many workers a text
MAX_CODES_LISTED = 5
_DAY_WORDS = {0: "today", 1: "tomorrow", 2: "day_after"}


def language_of(session: Session, phone: str) -> str:
    return get_or_create_contact(session, phone).language


def send_time(settings: Settings, now: datetime) -> datetime:
    """When a text queued now goes out: at once, or when quiet hours end."""
    return quiet_hours_end(now, settings.quiet_hours, settings.MARKET_TIMEZONE) or now


def local_date(settings: Settings, moment: datetime) -> date:
    return moment.astimezone(market_zone(settings)).date()


def when(job: Job, settings: Settings, read_at: datetime) -> dict[str, Any]:
    """The job's start as the reader will see it: `today`/`tomorrow`/... relative to `read_at`."""
    ahead = (job.work_date - local_date(settings, read_at)).days
    return {
        "date": job.work_date,
        "day_word": _DAY_WORDS.get(ahead, ""),
        "hour": job.start_time.hour,
        "minute": job.start_time.minute,
    }


def job_context(job: Job, language: str, settings: Settings, read_at: datetime) -> dict[str, Any]:
    return {
        "code": job.code,
        "trade": trade_short_name(job.trade, language),
        "days": job.days,
        "pay": job.daily_pay,
        "area": job.site.name(language),
        "headcount": job.headcount,
        **when(job, settings, read_at),
    }


def _shorten(text: str, limit: int) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + ("…" if not text.isascii() else ".")


def address(job: Job, language: str) -> str:
    """Where to go, within the text's budget; an English text never carries Chinese (it would turn the
    whole text into UCS-2), so it names the job's site instead of a Chinese street address."""
    text = job.address or job.site.name(language)
    if language == "en" and not is_gsm7(text):
        text = job.site.name_en
    return _shorten(text, MAX_ADDRESS[pick_language(language)])


def person_name(name: str, language: str) -> str:
    name = _shorten(name, MAX_NAME)
    return name if language != "en" or is_gsm7(name) else ""


def send_offer(
    session: Session,
    settings: Settings,
    offer: Offer,
    job: Job,
    worker: Worker,
    now: datetime,
    reopened: bool,
    urgent: bool = False,
) -> Message:
    """The offer's text; never sent after the start it is for (in_time.next_start), and with `urgent`
    (a job starting before quiet hours end) it may go inside the urgent hours."""
    language = language_of(session, worker.phone)
    context = job_context(job, language, settings, offer.sent_at or send_time(settings, now))
    kind = "offer.reopened" if reopened else "offer"
    # The worker's next bare `1` or `2` answers this offer.
    asks = offer_question(job.id, offer.expires_at, now)
    # A worker who prefers voice is also called (the SMS stays: the code in writing, a bare `1` answers).
    offer_calls.call_later(session, settings, offer, worker, now)
    return queue_sms(
        session,
        settings,
        phone=worker.phone,
        template="offer",
        kind=kind,
        worker_id=worker.id,
        asks=asks,
        urgent=urgent,
        not_after=in_time.next_start(settings, job, now),
        reopened=reopened,
        reply_by=_reply_by(settings, offer),
        **context,
    )


def reaches(session: Session, message: Message, worker: Worker) -> bool:
    """The offer gets to the worker: by its text, or, when the number takes no SMS (a landline), by the
    call a worker who prefers voice gets anyway (send_offer). An opted-out number gets neither."""
    if message.status != MessageStatus.SUPPRESSED:
        return True
    if not worker.prefers_voice:
        return False
    contact = session.scalar(select(Contact).where(Contact.phone == worker.phone))
    return contact is not None and contact.opted_out_at is None and contact.undeliverable_at is not None


def _reply_by(settings: Settings, offer: Offer) -> str:
    """When the offer lapses, as the worker reads it (`14:30`): a yes after it may find the place gone."""
    if offer.expires_at is None:
        return ""
    return offer.expires_at.astimezone(market_zone(settings)).strftime("%H:%M")


def _answer(
    session: Session,
    settings: Settings,
    inbound: Message | None,
    worker: Worker,
    template: str,
    kind: str,
    **context: Any,
) -> Message:
    """A reply to the worker's text, or (no text to answer, e.g. an agent acted) a plain SMS."""
    if inbound is not None:
        return reply(session, settings, inbound, template, kind, **context)
    return queue_sms(
        session, settings, phone=worker.phone, template=template, kind=kind, worker_id=worker.id, **context
    )


def tell_worker(
    session: Session,
    settings: Settings,
    inbound: Message | None,
    worker: Worker,
    template: str,
    kind: str,
    job: Job | None = None,
    now: datetime | None = None,
    **context: Any,
) -> Message:
    """A matching text to a worker, with the job's details when there is a job."""
    if job is not None:
        language = language_of(session, worker.phone)
        context = {**job_context(job, language, settings, now or utcnow()), **context}
        if template == "placement_worker":
            context["address"] = address(job, language)
            context["employer_phone"] = display(job.employer.phone)
            context["employer_name"] = person_name(job.employer.name, language)
    return _answer(session, settings, inbound, worker, template, kind, **context)


def tell_employer_placed(
    session: Session, settings: Settings, job: Job, workers: Sequence[Worker], now: datetime
) -> list[Message]:
    """The workers who confirmed, a few a text: each with name and phone."""
    employer = job.employer
    language = language_of(session, employer.phone)
    base = job_context(job, language, settings, now)
    messages = []
    told_before = job.filled - len(workers)
    for start in range(0, len(workers), WORKERS_PER_SMS):
        chunk = workers[start : start + WORKERS_PER_SMS]
        placed = [(person_name(worker.name, language), display(worker.phone)) for worker in chunk]
        filled = told_before + start + len(chunk)  # a running count: the last text says the total
        messages.append(
            queue_sms(
                session,
                settings,
                phone=employer.phone,
                template="placement_employer",
                kind="placement.employer",
                employer_id=employer.id,
                placed=placed,
                filled=filled,
                **base,
            )
        )
    return messages


def tell_employer(
    session: Session,
    settings: Settings,
    job: Job,
    template: str,
    kind: str,
    now: datetime,
    **context: Any,
) -> Message:
    """A matching text to the job's employer; `urgent=True` in the context: it may go inside the urgent
    hours (a job about to start)."""
    urgent = bool(context.pop("urgent", False))
    employer = job.employer
    language = language_of(session, employer.phone)
    return queue_sms(
        session,
        settings,
        phone=employer.phone,
        template=template,
        kind=kind,
        employer_id=employer.id,
        urgent=urgent,
        **{**job_context(job, language, settings, now), **context},
    )


def worker_for_employer(worker: Worker, language: str) -> dict[str, str]:
    return {"name": person_name(worker.name, language), "worker_phone": display(worker.phone)}


def expiry(
    settings: Settings, minutes_same_day: int, minutes_later: int, job: Job, sent_at: datetime
) -> datetime:
    """A job starting the day the offer goes out needs a quicker answer."""
    same_day = job.work_date <= local_date(settings, sent_at)
    return sent_at + timedelta(minutes=minutes_same_day if same_day else minutes_later)
