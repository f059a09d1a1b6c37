"""Answers to follow-up questions by SMS.

A worker: `1 5` (paid 1-3, the employer's stars 1-5), `123 1 5` with the job's code, or step by
step: `3`, then `4` (`123 3`, `123 4` with the code). An employer: `123 2 4` (job, worker's number,
stars; 0 = did not come), `123 4` when one worker of the job is open, a bare `4` when one is open in
all. The parser has normalised the text (full-width digits, punctuation, Chinese numerals).

A bare digit is also how a worker takes an offer (`1`) or answers a dialogue step: it is read as a
follow-up answer only when the follow-up is the last thing we asked that person; otherwise this
returns False and the offer or dialogue handlers read it. Anything else that is not an answer to
one of the person's follow-ups also returns False, for the other handlers.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import ColumnElement, or_, select
from sqlalchemy.orm import Session, joinedload

from dispatch.clock import utcnow
from dispatch.followup import texts
from dispatch.followup.services import BadAnswer, check_stars, paid_from_digit, record_answer
from dispatch.models import (
    OPEN_FOLLOW_UP_STATUSES,
    OPEN_OFFER_STATUSES,
    AnsweredVia,
    Conversation,
    FollowUp,
    FollowUpParty,
    FollowUpStatus,
    Message,
    Offer,
    PaidAnswer,
)
from dispatch.settings import Settings
from dispatch.sms.parser import Command, CommandKind

# A repeated answer this soon after the follow-up was answered is acknowledged (not counted again).
ACK_WINDOW = timedelta(days=3)
_UNITS = ("星", "分")  # `5星`, `4分`: a star count written with its unit


@dataclass(frozen=True)
class Numbers:
    """An all-digit text: the job code it starts with (3-8 digits), if any, then the small numbers."""

    code: str | None
    values: list[int]


def read_numbers(text: str) -> Numbers | None:
    tokens = [token.removesuffix(_UNITS[0]).removesuffix(_UNITS[1]) for token in text.split()]
    if not 1 <= len(tokens) <= 3 or not all(token.isascii() and token.isdigit() for token in tokens):
        return None
    code = tokens[0] if 3 <= len(tokens[0]) <= 8 and len(tokens) > 1 else None
    rest = tokens[1:] if code else tokens
    if not all(len(token) <= 2 for token in rest):
        return None
    return Numbers(code, [int(token) for token in rest])


def handle_follow_up_reply(session: Session, settings: Settings, message: Message, command: Command) -> bool:
    """An answer to an open follow-up; True when it was one and has been acted on."""
    if command.kind != CommandKind.TEXT:
        return False
    numbers = read_numbers(command.text)
    if numbers is None:
        return False
    now = utcnow()
    if message.worker_id is not None and _worker_answer(session, settings, message, numbers, now):
        return True
    return message.employer_id is not None and _employer_answer(session, settings, message, numbers, now)


def _worker_answer(
    session: Session, settings: Settings, message: Message, numbers: Numbers, now: datetime
) -> bool:
    mine = _follow_ups(session, FollowUp.worker_id == message.worker_id, FollowUpParty.WORKER, now)
    values = numbers.values
    if not mine or len(values) not in (1, 2) or any(len(str(v)) > 1 for v in values):
        return False
    if numbers.code is not None:
        chosen = [fu for fu in mine if fu.job.code == numbers.code]
        if not chosen:
            return False  # `123 1` for an offer of job 123
    else:
        chosen = _unanswered_first(mine)
        if len(values) == 1 and not _asked_last(session, message, chosen, now):
            return False
    follow_up = _one(chosen)
    if follow_up is None:
        texts.which_job(
            session, settings, message, [fu for fu in chosen if fu.status != FollowUpStatus.ANSWERED]
        )
        return True
    if follow_up.status == FollowUpStatus.ANSWERED:
        texts.already(session, settings, message, follow_up)
        return True
    try:
        if len(values) == 2:
            paid, stars = paid_from_digit(values[0]), check_stars(FollowUpParty.WORKER, values[1])
        elif texts.missing(follow_up) == "stars":
            paid, stars = None, check_stars(FollowUpParty.WORKER, values[0])
        else:
            paid, stars = paid_from_digit(values[0]), None
    except BadAnswer:
        texts.retry(session, settings, message, follow_up)
        return True
    _record(session, settings, message, follow_up, paid, stars, now)
    return True


def _employer_answer(
    session: Session, settings: Settings, message: Message, numbers: Numbers, now: datetime
) -> bool:
    mine = _follow_ups(session, FollowUp.employer_id == message.employer_id, FollowUpParty.EMPLOYER, now)
    values = numbers.values
    if not mine:
        return False
    if numbers.code is not None:
        chosen = [fu for fu in mine if fu.job.code == numbers.code]
        if not chosen:
            return False
        if len(values) == 2:  # `123 2 4`: that worker exactly, else the list of who is meant
            chosen = [fu for fu in chosen if fu.seq == values[0]] or _open(chosen) or _open(mine) or chosen
            follow_up = (
                chosen[0] if chosen[0].seq == values[0] and chosen[0].job.code == numbers.code else None
            )
        else:  # `123 4`: the job's one worker still to rate
            chosen = _unanswered_first(chosen)
            follow_up = _one(chosen)
    else:
        chosen = _unanswered_first(mine)
        if not _asked_last(session, message, chosen, now):
            return False
        follow_up = _one(chosen) if len(values) == 1 or not _open(chosen) else None
    if follow_up is None:
        # Several workers could be meant, or the text named none of them: list what to send.
        texts.which_worker(session, settings, message, _open(chosen) or chosen)
        return True
    if follow_up.status == FollowUpStatus.ANSWERED:
        texts.already(session, settings, message, follow_up)
        return True
    try:
        stars = check_stars(FollowUpParty.EMPLOYER, values[-1])
    except BadAnswer:
        texts.retry(session, settings, message, follow_up)
        return True
    _record(session, settings, message, follow_up, None, stars, now)
    return True


def _record(
    session: Session,
    settings: Settings,
    message: Message,
    follow_up: FollowUp,
    paid: PaidAnswer | None,
    stars: int | None,
    now: datetime,
) -> None:
    try:
        record_answer(
            session,
            settings,
            follow_up,
            paid=paid,
            stars=stars,
            via=AnsweredVia.SMS,
            now=now,
            inbound=message,
        )
    except BadAnswer:
        texts.retry(session, settings, message, follow_up)


def _follow_ups(
    session: Session, person: ColumnElement[bool], party: FollowUpParty, now: datetime
) -> list[FollowUp]:
    """The person's open follow-ups, and those they answered lately (a repeated answer is thanked)."""
    query = (
        select(FollowUp)
        .options(joinedload(FollowUp.job), joinedload(FollowUp.worker))
        .where(
            person,
            FollowUp.party == party,
            or_(FollowUp.status.in_(OPEN_FOLLOW_UP_STATUSES), FollowUp.answered_at >= now - ACK_WINDOW),
        )
        .order_by(FollowUp.asked_at, FollowUp.job_id, FollowUp.seq)
    )
    return list(session.scalars(query))


def _open(follow_ups: Sequence[FollowUp]) -> list[FollowUp]:
    return [fu for fu in follow_ups if fu.status in OPEN_FOLLOW_UP_STATUSES]


def _unanswered_first(follow_ups: Sequence[FollowUp]) -> list[FollowUp]:
    """Without a code a text means the open follow-ups; only with none open, the lately answered."""
    return _open(follow_ups) or [max(follow_ups, key=lambda fu: fu.answered_at or fu.asked_at)]


def _one(follow_ups: Sequence[FollowUp]) -> FollowUp | None:
    return follow_ups[0] if len(follow_ups) == 1 else None


def _asked_last(session: Session, message: Message, follow_ups: Sequence[FollowUp], now: datetime) -> bool:
    """Whether the follow-up question is the last thing we asked: no offer still open was texted to
    them since, and no dialogue (registration, a job request) has moved since."""
    moments = [
        fu.answered_at
        if fu.status == FollowUpStatus.ANSWERED and fu.answered_at
        else fu.reminded_at or fu.asked_at
        for fu in follow_ups
    ]
    since = max(moments)
    if message.worker_id is not None:
        newer_offer = session.scalar(
            select(Offer.id)
            .where(
                Offer.worker_id == message.worker_id,
                Offer.status.in_(OPEN_OFFER_STATUSES),
                Offer.sent_at > since,
            )
            .limit(1)
        )
        if newer_offer is not None:
            return False
    # At or after: a dialogue that moved in the same instant (one request's worth of work) was asked later.
    dialogue = session.scalar(
        select(Conversation.id).where(Conversation.phone == message.phone, Conversation.updated_at >= since)
    )
    return dialogue is None
