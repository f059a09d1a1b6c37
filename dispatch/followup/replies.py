"""Answers to follow-up questions by SMS.

A worker: `1 5` (paid 1-3, the employer's stars 1-5), `123 1 5` with the job's code, or step by
step: `3`, then `4` (`123 3`, `123 4` with the code). An employer: `123 2 4` (job, worker's number,
stars; 0 = did not come), `123 4` when one worker of the job is open, a bare `4` when one is open in
all. The parser has normalised the text (full-width digits, punctuation, Chinese numerals).

A bare digit is also how a worker takes an offer (`1`) or answers a dialogue step: it is read as a
follow-up answer only when an open follow-up is the last thing we asked that person (no open offer
texted since), and never while a dialogue (registration, a job request) is in progress: any answer
without a code then belongs to the dialogue. A bare digit after the follow-up was answered is a
repeat only when no offer could want it. Otherwise, and for anything that is not an answer to one of
the person's follow-ups, this returns False for the other handlers.

Someone who is both a worker and an employer may have both sides open: the side asked (or reminded)
last gets the answer; when that cannot tell them apart, or the numbers fit only the side asked
earlier, they are asked to add the job's code (both lists in one text).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import ColumnElement, and_, or_, select
from sqlalchemy.orm import Session, joinedload

from dispatch.clock import utcnow
from dispatch.followup import reading, texts
from dispatch.followup.services import (
    ANSWERABLE_STATUSES,
    BadAnswer,
    check_stars,
    paid_from_digit,
    record_answer,
)
from dispatch.followup.texts import MAX_OPEN_DAYS
from dispatch.models import (
    OPEN_FOLLOW_UP_STATUSES,
    AnsweredVia,
    FollowUp,
    FollowUpParty,
    FollowUpStatus,
    Message,
    PaidAnswer,
)
from dispatch.settings import Settings
from dispatch.sms.parser import Command, CommandKind

# A repeated answer this soon after the follow-up was answered is acknowledged (not counted again).
ACK_WINDOW = timedelta(days=3)


@dataclass(frozen=True)
class Asked:
    """The router's word on whether a bare digit may answer this person's follow-ups (dispatch/inbound/):
    `open` ones (no offer asked since still waits), and a `repeat` of answered ones (no offer waits nor
    was texted lately: a late yes to a lapsed offer is matching's)."""

    open: bool
    repeat: bool
    # A lone `2` while an offer was asked since the follow-up, or an offer of the last hours went
    # unanswered: it may be a late no to that offer, and read as "partly paid" it would open a wage
    # case against an employer who may have paid. It must name the job.
    name_the_job_for_a_wage_answer: bool = False

    def allows(self, follow_ups: Sequence[FollowUp]) -> bool:
        return self.open if reading.open_ones(follow_ups) else self.repeat


def handle_follow_up_reply(
    session: Session, settings: Settings, message: Message, command: Command, asked: Asked
) -> bool:
    """An answer to an open follow-up; True when it was one and has been acted on. A bare digit
    answers one only as `asked` allows; a dialogue in progress has had its turn before a text without
    a code reaches this."""
    if command.kind != CommandKind.TEXT:
        return False
    numbers = reading.read_numbers(command.text)
    if numbers is None:
        return False
    now = utcnow()
    named = numbers.code is not None
    workers: list[FollowUp] = []
    employers: list[FollowUp] = []
    if message.worker_id is not None:
        workers = _follow_ups(
            session, FollowUp.worker_id == message.worker_id, FollowUpParty.WORKER, now, named
        )
    if message.employer_id is not None:
        employers = _follow_ups(
            session, FollowUp.employer_id == message.employer_id, FollowUpParty.EMPLOYER, now, named
        )
    worker_values = reading.worker_values(numbers.values, workers)
    meant_workers = reading.named(workers, numbers.code) if worker_values is not None else []
    meant_employers = reading.named(employers, numbers.code)
    if not meant_workers and not meant_employers:
        return False
    party = reading.party(meant_workers, meant_employers, worker_values or [], numbers)
    if party is None:
        both = reading.open_ones(meant_workers) + reading.open_ones(meant_employers)
        if len(numbers.values) == 1 and not named and not asked.allows(both):
            return False
        texts.which_side(
            session, settings, message, reading.open_ones(meant_workers), reading.open_ones(meant_employers)
        )
        return True
    if party == FollowUpParty.WORKER:
        assert worker_values is not None
        return _worker_answer(session, settings, message, numbers.code, worker_values, workers, now, asked)
    return _employer_answer(session, settings, message, numbers, employers, now, asked)


def _worker_answer(
    session: Session,
    settings: Settings,
    message: Message,
    code: str | None,
    values: list[int],
    mine: list[FollowUp],
    now: datetime,
    asked: Asked,
) -> bool:
    if code is not None:
        chosen = reading.named(mine, code)
    else:
        chosen = _unanswered_first(mine)
        if len(values) == 1 and not asked.allows(chosen):
            return False
    follow_up = _one(chosen)
    if follow_up is None:
        texts.which_job(session, settings, message, reading.open_ones(chosen))
        return True
    if follow_up.status == FollowUpStatus.ANSWERED:
        texts.already(session, settings, message, follow_up)
        return True
    if (
        code is None
        and values == [2]
        and asked.name_the_job_for_a_wage_answer
        and texts.missing(follow_up) != "stars"
    ):
        texts.which_wage_answer(session, settings, message, follow_up)
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
    session: Session,
    settings: Settings,
    message: Message,
    numbers: reading.Numbers,
    mine: list[FollowUp],
    now: datetime,
    asked: Asked,
) -> bool:
    values = numbers.values
    if numbers.code is not None:
        chosen = reading.named(mine, numbers.code)
        if len(values) == 2:  # `123 2 4`: that worker exactly, else the list of who is meant
            chosen = (
                [fu for fu in chosen if fu.seq == values[0]]
                or reading.open_ones(chosen)
                or reading.open_ones(mine)
                or chosen
            )
            follow_up = (
                chosen[0] if chosen[0].seq == values[0] and chosen[0].job.code == numbers.code else None
            )
        else:  # `123 4`: the job's one worker still to rate
            chosen = _unanswered_first(chosen)
            follow_up = _one(chosen)
    else:
        chosen = _unanswered_first(mine)
        if not asked.allows(chosen):
            return False
        follow_up = _one(chosen) if len(values) == 1 or not reading.open_ones(chosen) else None
    if follow_up is None:
        # Several workers could be meant, or the text named none of them: list what to send.
        texts.which_worker(session, settings, message, reading.open_ones(chosen) or chosen)
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
    session: Session, person: ColumnElement[bool], party: FollowUpParty, now: datetime, named: bool
) -> list[FollowUp]:
    """The person's open follow-ups (asked within MAX_OPEN_DAYS), those they answered lately (a repeated
    answer is thanked) and, for an answer naming its job, those that ended unanswered (a late answer
    still counts)."""
    recent = FollowUp.asked_at >= now - timedelta(days=MAX_OPEN_DAYS)
    statuses = ANSWERABLE_STATUSES if named else OPEN_FOLLOW_UP_STATUSES
    query = (
        select(FollowUp)
        .options(joinedload(FollowUp.job), joinedload(FollowUp.worker))
        .where(
            person,
            FollowUp.party == party,
            or_(
                and_(FollowUp.status.in_(statuses), recent),
                and_(FollowUp.status == FollowUpStatus.ANSWERED, FollowUp.answered_at >= now - ACK_WINDOW),
            ),
        )
        .order_by(FollowUp.asked_at, FollowUp.job_id, FollowUp.seq)
    )
    return list(session.scalars(query))


def _unanswered_first(follow_ups: Sequence[FollowUp]) -> list[FollowUp]:
    """Without a code a text means the open follow-ups; only with none open, the lately answered."""
    return reading.open_ones(follow_ups) or [max(follow_ups, key=lambda fu: fu.answered_at or fu.asked_at)]


def _one(follow_ups: Sequence[FollowUp]) -> FollowUp | None:
    return follow_ups[0] if len(follow_ups) == 1 else None
