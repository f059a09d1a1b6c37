"""Recording follow-up answers (by SMS, the keypad or an agent) and what they change: ratings, no-shows,
wage cases. Plain functions that take a session; they flush, never commit."""

from __future__ import annotations

import logging
from datetime import datetime

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from dispatch.followup import texts
from dispatch.models import (
    OPEN_FOLLOW_UP_STATUSES,
    Agent,
    AnsweredVia,
    Employer,
    FollowUp,
    FollowUpParty,
    FollowUpStatus,
    Message,
    PaidAnswer,
    Ticket,
    TicketOutcome,
    TicketStatus,
    Worker,
)
from dispatch.settings import Settings
from dispatch.wages import services as wages

log = logging.getLogger(__name__)
MAX_STARS = 5
# What an answer may still fill in: open follow-ups, and those whose chasing ended unanswered (a late
# answer naming the job is still worth having: "not paid" most of all).
ANSWERABLE_STATUSES = OPEN_FOLLOW_UP_STATUSES | {FollowUpStatus.UNANSWERED}


class BadAnswer(ValueError):
    """A value out of range (paid 1-3, stars 1-5; an employer's 0 = did not come)."""


def paid_from_digit(digit: int) -> PaidAnswer:
    try:
        return {1: PaidAnswer.FULL, 2: PaidAnswer.PART, 3: PaidAnswer.NONE}[digit]
    except KeyError:
        raise BadAnswer(f"paid must be 1-3, not {digit}") from None


def check_stars(party: FollowUpParty, stars: int) -> int:
    lowest = 0 if party == FollowUpParty.EMPLOYER else 1  # only the employer's 0 means something
    if not lowest <= stars <= MAX_STARS:
        raise BadAnswer(f"stars must be {lowest}-{MAX_STARS}, not {stars}")
    return stars


def record_answer(
    session: Session,
    settings: Settings,
    follow_up: FollowUp,
    *,
    paid: PaidAnswer | None,
    stars: int | None,
    via: AnsweredVia,
    now: datetime,
    inbound: Message | None = None,
    agent: Agent | None = None,
) -> bool:
    """Store what is still missing of one side's answers and count it where matching will see it.

    An answer already given is kept: a second `1 5` (or a keypad answer after an SMS one) changes
    nothing, so nothing is ever counted twice. The follow-up row is locked first, so two answers
    arriving at once are applied one after the other, the second finding the first. With `inbound`
    (an answer by SMS), the person gets a text back: thanks, the question still open, or "already
    have it". `agent`: who recorded it by phone (on the audit of a wage case it opens). Returns whether
    anything new was recorded.
    """
    # Lock the row alone (a refresh would lock whatever the follow-up was loaded joined with), then
    # read it as the answer before ours left it.
    session.execute(select(FollowUp.id).where(FollowUp.id == follow_up.id).with_for_update())
    session.refresh(follow_up)
    if stars is not None:
        check_stars(follow_up.party, stars)
    new_paid = paid if follow_up.party == FollowUpParty.WORKER and follow_up.paid is None else None
    new_stars = stars if follow_up.stars is None else None
    if follow_up.status not in ANSWERABLE_STATUSES or (new_paid is None and new_stars is None):
        if inbound is not None:
            texts.already(session, settings, inbound, follow_up)
        return False
    if new_paid is not None:
        follow_up.paid = new_paid
    if new_stars is not None:
        follow_up.stars = new_stars
        _count_stars(session, follow_up, new_stars)
    done = follow_up.stars is not None and (
        follow_up.party == FollowUpParty.EMPLOYER or follow_up.paid is not None
    )
    if done:
        follow_up.status = FollowUpStatus.ANSWERED
        follow_up.answered_via = via
        follow_up.answered_at = now
        if via != AnsweredVia.AGENT:  # an agent's answer resolves the ticket themselves (as called)
            _resolve_ticket(session, follow_up, via, now)
    session.flush()
    if new_paid in texts.WAGE_ANSWERS:
        wages.open_case(session, settings, follow_up, now, agent=agent)
    if inbound is not None:
        texts.answered(session, settings, inbound, follow_up, left=_left_to_rate(session, follow_up))
    log.info(
        "follow-up %s (%s) answered via %s: paid=%s stars=%s", follow_up.id, follow_up.party, via, paid, stars
    )
    return True


def end_unanswered(session: Session, follow_up: FollowUp) -> bool:
    """Chasing is over without (every) answer: the follow-up leaves the open ones, so that SMS answers
    no longer need to tell it apart from newer ones and the employer's "left to rate" forgets it.
    False if it was answered meanwhile."""
    session.execute(select(FollowUp.id).where(FollowUp.id == follow_up.id).with_for_update())
    session.refresh(follow_up)
    if follow_up.status not in OPEN_FOLLOW_UP_STATUSES:
        return False
    follow_up.status = FollowUpStatus.UNANSWERED
    session.flush()
    return True


def _count_stars(session: Session, follow_up: FollowUp, stars: int) -> None:
    """The worker's stars go to the employer; the employer's to the worker, 0 as a no-show. Atomic
    increments: two follow-ups of one worker answered at once must both count (the match_pool
    triggers copy these columns for ranking)."""
    if follow_up.party == FollowUpParty.WORKER:
        statement = (
            update(Employer)
            .where(Employer.id == follow_up.employer_id)
            .values(rating_sum=Employer.rating_sum + stars, rating_count=Employer.rating_count + 1)
        )
    elif stars == 0:
        if follow_up.offer.cancelled_late:
            return  # gave the place back too late: that no-show is counted already (matching.give_back)
        statement = (
            update(Worker).where(Worker.id == follow_up.worker_id).values(no_shows=Worker.no_shows + 1)
        )
    else:
        statement = (
            update(Worker)
            .where(Worker.id == follow_up.worker_id)
            .values(
                rating_sum=Worker.rating_sum + stars,
                rating_count=Worker.rating_count + 1,
                placements_worked=Worker.placements_worked + 1,
            )
        )
    session.execute(statement.execution_options(synchronize_session="fetch"))


def _resolve_ticket(session: Session, follow_up: FollowUp, via: AnsweredVia, now: datetime) -> None:
    """The person answered on their own while an agent's ticket waited to call them: nothing to call for."""
    if follow_up.ticket_id is None:
        return
    ticket = session.get(Ticket, follow_up.ticket_id, with_for_update=True)
    if ticket is None or ticket.status == TicketStatus.RESOLVED:
        return
    ticket.status = TicketStatus.RESOLVED
    ticket.outcome = TicketOutcome.DONE.value
    ticket.resolution = f"answered by {via.value}"
    ticket.resolved_at = now


def _left_to_rate(session: Session, follow_up: FollowUp) -> int:
    """The employer's follow-ups of the same job still waiting (for the thank-you text)."""
    if follow_up.party != FollowUpParty.EMPLOYER:
        return 0
    return (
        session.scalar(
            select(func.count())
            .select_from(FollowUp)
            .where(
                FollowUp.job_id == follow_up.job_id,
                FollowUp.party == FollowUpParty.EMPLOYER,
                FollowUp.status.in_(OPEN_FOLLOW_UP_STATUSES),
            )
        )
        or 0
    )
