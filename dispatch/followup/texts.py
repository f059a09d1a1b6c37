"""The texts of the follow-ups: questions, reminders and the answers to answers. Context only; the
words are in dispatch/sms/templates/<language>/followup_*.txt."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta
from typing import Any

from sqlalchemy.orm import Session

from dispatch.catalogue import trade_short_name
from dispatch.clock import utcnow
from dispatch.inbound.questions import Question
from dispatch.matching.notices import language_of, person_name
from dispatch.models import FollowUp, FollowUpParty, Message, PaidAnswer, QuestionKind
from dispatch.settings import Settings
from dispatch.sms.services import queue_sms, reply

# A rating this low (0: did not come) asks whether to stop sending the worker.
LOW_STARS = 1
# What keeps the texts within their budget (tests/sms/test_templates.py measures them at these).
MAX_PENDING_LISTED = 3  # an employer asked "which worker?" sees this many (code, seq, name)
MAX_CODES_LISTED = 5  # a worker asked "which job?" sees this many codes
# Someone both worker and employer, asked which side they answer: this many of each (the template
# shows no more, whatever it is given).
MAX_SIDE_CODES = 2
MAX_SIDE_PENDING = 1
WAGE_ANSWERS = frozenset({PaidAnswer.PART, PaidAnswer.NONE})
# Follow-ups asked longer ago are chased no more (and SMS answers no longer find them without a code):
# so long the question wants its answer.
MAX_OPEN_DAYS = 30


def missing(follow_up: FollowUp) -> str:
    """What the worker has still to answer: `both`, `paid` or `stars` (the employer: `stars`)."""
    if follow_up.party == FollowUpParty.EMPLOYER:
        return "stars"
    if follow_up.paid is None and follow_up.stars is None:
        return "both"
    return "paid" if follow_up.paid is None else "stars"


def phone_of(follow_up: FollowUp) -> str:
    return follow_up.worker.phone if follow_up.party == FollowUpParty.WORKER else follow_up.employer.phone


def _context(session: Session, follow_up: FollowUp) -> dict[str, Any]:
    """The placement as the person asked will recognise it: the job's code and day, and the other side."""
    language = language_of(session, phone_of(follow_up))
    job = follow_up.job
    if follow_up.party == FollowUpParty.WORKER:
        other = person_name(follow_up.employer.name, language)
    else:
        other = person_name(follow_up.worker.name, language)
    return {
        "code": job.code,
        "date": job.work_date,
        "trade": trade_short_name(job.trade, language),
        "name": other,
        "seq": follow_up.seq,
    }


def _send(
    session: Session, settings: Settings, follow_up: FollowUp, template: str, **context: Any
) -> Message:
    """An SMS nobody just asked for: the SMS layer holds it through quiet hours."""
    worker_side = follow_up.party == FollowUpParty.WORKER
    now = utcnow()
    asks = Question(QuestionKind.FOLLOW_UP, follow_up.job_id, now, now + timedelta(days=MAX_OPEN_DAYS))
    return queue_sms(
        session,
        settings,
        phone=phone_of(follow_up),
        template=template,
        kind=f"followup.{template.removeprefix('followup_')}"[:48],
        worker_id=follow_up.worker_id if worker_side else None,
        employer_id=None if worker_side else follow_up.employer_id,
        asks=asks,
        **_context(session, follow_up),
        **context,
    )


def ask(session: Session, settings: Settings, follow_up: FollowUp) -> Message:
    template = "followup_worker" if follow_up.party == FollowUpParty.WORKER else "followup_employer"
    return _send(session, settings, follow_up, template)


def remind(session: Session, settings: Settings, follow_up: FollowUp) -> Message:
    if follow_up.party == FollowUpParty.WORKER:
        return _send(session, settings, follow_up, "followup_reminder_worker", missing=missing(follow_up))
    return _send(session, settings, follow_up, "followup_reminder_employer")


# -- answers to a text (replies go at once: the person is awake, they just wrote) ----------------------


def answered(
    session: Session, settings: Settings, inbound: Message, follow_up: FollowUp, left: int
) -> Message:
    """Thanks once everything is answered; else the question still open (step by step)."""
    context = _context(session, follow_up)
    wage = follow_up.paid in WAGE_ANSWERS
    if follow_up.party == FollowUpParty.EMPLOYER:
        # A low rating asks whether to send that worker again (`101 2 不要`: dispatch/followup/blocks.py).
        low = follow_up.stars is not None and follow_up.stars <= LOW_STARS
        return reply(
            session,
            settings,
            inbound,
            "followup_thanks_employer",
            "followup.thanks",
            **context,
            left=left,
            ask_block=low,
        )
    still = missing(follow_up)
    if follow_up.paid is not None and follow_up.stars is not None:
        return reply(
            session, settings, inbound, "followup_thanks_worker", "followup.thanks", **context, wage=wage
        )
    return reply(
        session, settings, inbound, "followup_next", "followup.next", **context, missing=still, wage=wage
    )


def already(session: Session, settings: Settings, inbound: Message, follow_up: FollowUp) -> Message:
    return reply(session, settings, inbound, "followup_already", "followup.already", code=follow_up.job.code)


def retry(session: Session, settings: Settings, inbound: Message, follow_up: FollowUp) -> Message:
    """The text looked like an answer but its numbers are out of range: how to write it."""
    return reply(
        session,
        settings,
        inbound,
        "followup_retry",
        "followup.retry",
        party=follow_up.party.value,
        missing=missing(follow_up),
        code=follow_up.job.code,
    )


def which_job(
    session: Session, settings: Settings, inbound: Message, open_ones: Sequence[FollowUp]
) -> Message:
    """A worker with several open follow-ups answered without a code."""
    codes = list(dict.fromkeys(fu.job.code for fu in open_ones))[:MAX_CODES_LISTED]
    return reply(session, settings, inbound, "followup_which_worker", "followup.which", codes=codes)


def which_wage_answer(session: Session, settings: Settings, inbound: Message, follow_up: FollowUp) -> Message:
    """A lone `2` while an offer may still be on the worker's mind: "partly paid", or its no?"""
    return reply(session, settings, inbound, "followup_which_wage", "followup.which", code=follow_up.job.code)


def which_worker(
    session: Session, settings: Settings, inbound: Message, open_ones: Sequence[FollowUp]
) -> Message:
    """An employer's answer fits more than one worker (or none): what to send, worker by worker."""
    language = language_of(session, inbound.phone)
    pending = [
        (fu.job.code, fu.seq, person_name(fu.worker.name, language)) for fu in open_ones[:MAX_PENDING_LISTED]
    ]
    return reply(session, settings, inbound, "followup_which_employer", "followup.which", pending=pending)


def which_side(
    session: Session,
    settings: Settings,
    inbound: Message,
    as_worker: Sequence[FollowUp],
    as_employer: Sequence[FollowUp],
) -> Message:
    """Someone both worker and employer, with both sides open, sent numbers that could be either:
    what to send for each (the job code makes the side plain)."""
    language = language_of(session, inbound.phone)
    codes = list(dict.fromkeys(fu.job.code for fu in as_worker))[:MAX_SIDE_CODES]
    pending = [
        (fu.job.code, fu.seq, person_name(fu.worker.name, language)) for fu in as_employer[:MAX_SIDE_PENDING]
    ]
    return reply(
        session, settings, inbound, "followup_which_side", "followup.which", codes=codes, pending=pending
    )
