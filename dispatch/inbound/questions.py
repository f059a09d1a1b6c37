"""The one question a contact was last asked, so that a bare answer goes where it belongs.

`1` may take an offer, answer a follow-up (paid: 1 yes) or pick a trade in a dialogue. Rather than each
handler guessing from its own tables whether it was asked last, the code that texts a question records
it here (one record per contact, replaced by the next question: RapidPro keeps one waiting session per
contact for the same reason), and the router (routes.py) reads it. A dialogue in progress
(registration, a job request: a `Conversation`) comes before any question.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from dispatch.models import Contact, QuestionKind


@dataclass(frozen=True)
class Question:
    kind: QuestionKind
    job_id: int | None
    asked_at: datetime
    expires_at: datetime


# An offer question is remembered at least this long, whatever the offer's own expiry: a bare digit
# from a worker texted an offer lately is the offer's (a late yes to a lapsed offer still may win a
# place), not a repeat of a follow-up answered before it. As matching.replies.RECENT.
OFFER_REMEMBERED = timedelta(hours=24)


def offer_question(job_id: int, expires_at: datetime | None, now: datetime) -> Question:
    """The question an offer's text asks: its `1` or `2`, until the offer expires (at least a day)."""
    remembered = now + OFFER_REMEMBERED
    return Question(
        QuestionKind.OFFER, job_id, now, max(expires_at, remembered) if expires_at else remembered
    )


def ask(contact: Contact, question: Question) -> None:
    """Record that `contact` was just asked `question` (it replaces whatever was asked before)."""
    contact.question_kind = question.kind
    contact.question_job_id = question.job_id
    contact.question_asked_at = question.asked_at
    contact.question_expires_at = question.expires_at


def open_question(contact: Contact | None, now: datetime) -> Question | None:
    """The contact's last question while it still wants an answer; None once it expired."""
    if contact is None or contact.question_kind is None:
        return None
    if contact.question_asked_at is None or contact.question_expires_at is None:
        return None
    if contact.question_expires_at <= now:
        return None
    return Question(
        kind=contact.question_kind,
        job_id=contact.question_job_id,
        asked_at=contact.question_asked_at,
        expires_at=contact.question_expires_at,
    )
