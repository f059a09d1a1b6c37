"""The follow-up rounds: ask both sides of every placement that ended, remind the silent once, then
hand the still silent to an agent (回访 by phone). Plain functions on a session; they flush, never
commit. Each round changes a row's status in the same statement that picks it, so however often the
periodic task runs there is one question, one reminder and one ticket per follow-up.

A placement is asked about when its worker held the place when the work began (see placements.py).
Someone we cannot text (opted out, a number that cannot take SMS) goes straight to an agent."""

from __future__ import annotations

import logging
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import and_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, aliased

from dispatch.db import savepoint
from dispatch.followup import placements, texts
from dispatch.i18n import market_zone
from dispatch.models import (
    OPEN_OFFER_STATUSES,
    Contact,
    FollowUp,
    FollowUpChannel,
    FollowUpParty,
    FollowUpStatus,
    Job,
    Offer,
    OfferStatus,
    Ticket,
    TicketKind,
)
from dispatch.queue import defer
from dispatch.settings import Settings
from dispatch.tickets.services import open_ticket
from dispatch.tickets.summaries import Summary
from dispatch.voice.tasks import call_follow_up

log = logging.getLogger(__name__)
# Placements that ended longer ago are never asked: a first deploy must not text a year of them.
MAX_AGE_DAYS = 14
BATCH = 200  # per round and run; a backlog drains over the next runs (every 5 minutes)
MAX_OPEN_DAYS = texts.MAX_OPEN_DAYS
# A worker reminded late because offers kept coming is reminded anyway once this much past due.
REMINDER_PATIENCE = timedelta(hours=12)
# Why a follow-up went to an agent (the ticket's details["reason"]).
UNANSWERED_REASON = "unanswered"
CANNOT_TEXT = "cannot_text"


def run(session: Session, settings: Settings, now: datetime) -> dict[str, int]:
    """One pass of all three rounds; the counts of what each did."""
    asked = ask_ended(session, settings, now)
    reminded = remind_silent(session, settings, now)
    tickets = hand_to_agents(session, settings, now)
    counts = {"asked": asked, "reminded": reminded, "tickets": tickets}
    if asked or reminded or tickets:
        log.info("follow-ups: %s", counts)
    return counts


def last_end_date_due(settings: Settings, now: datetime) -> date:
    """The latest last working day whose follow-up is due: yesterday once it is FOLLOW_UP_TIME in the
    market, the day before until then."""
    local = now.astimezone(market_zone(settings))
    back = 1 if local.time().replace(tzinfo=None) >= settings.follow_up_time else 2
    return local.date() - timedelta(days=back)


def ask_ended(session: Session, settings: Settings, now: datetime) -> int:
    """Two follow-ups (worker, employer) for each placement that ended and has none; returns how many
    placements were asked."""
    latest = last_end_date_due(settings, now)
    earliest = latest + timedelta(days=1) - timedelta(days=MAX_AGE_DAYS)
    asked_before = select(FollowUp.id).where(FollowUp.offer_id == Offer.id).exists()
    ended_on = placements.ended_on(settings)
    # A worker with an offer waiting for their answer is asked once it closes (an offer lasts an hour
    # at most), so a bare `1` has one question to answer; but never more than a day late: a worker
    # offered job after job is asked all the same (their reply then needs the job's code).
    pending = aliased(Offer)
    busy = (
        select(pending.id)
        .where(pending.worker_id == Offer.worker_id, pending.status.in_(OPEN_OFFER_STATUSES))
        .exists()
    )
    waiting = and_(busy, ended_on >= latest)
    due = session.scalars(
        select(Offer)
        .join(Job, Job.id == Offer.job_id)
        .where(
            Offer.status.in_((OfferStatus.ACCEPTED, OfferStatus.CANCELLED)),
            placements.held_at_start(settings),
            Job.end_date >= earliest,  # the index's range; the placement's own end is within it
            ended_on <= latest,
            ended_on >= earliest,
            ~asked_before,
            ~waiting,
        )
        .order_by(Job.end_date, Offer.job_id, Offer.id)
        .limit(BATCH)
        # Another run working these placements keeps them: skipped here, not asked twice.
        .with_for_update(of=Offer, skip_locked=True)
    ).all()
    seqs: dict[int, dict[int, int]] = {}
    asked = 0
    for offer in due:
        if offer.job_id not in seqs:
            seqs[offer.job_id] = placements.numbers(session, settings, offer.job_id)
        try:
            with savepoint(session):
                _ask(session, settings, offer, seqs[offer.job_id].get(offer.id, 1), now)
        except IntegrityError:
            # A run that began before this one committed asked it first (UNIQUE(offer_id, party)).
            log.info("placement %s was asked by another run", offer.id)
            continue
        asked += 1
    return asked


def _ask(session: Session, settings: Settings, offer: Offer, seq: int, now: datetime) -> None:
    job = offer.job
    rows = {}
    for party in FollowUpParty:
        voice = party == FollowUpParty.WORKER and offer.worker.prefers_voice
        rows[party] = FollowUp(
            offer_id=offer.id,
            job_id=job.id,
            worker_id=offer.worker_id,
            employer_id=job.employer_id,
            party=party,
            channel=FollowUpChannel.VOICE if voice else FollowUpChannel.SMS,
            status=FollowUpStatus.ASKED,
            seq=seq,
            asked_at=now,
            created_at=now,
        )
        session.add(rows[party])
    session.flush()
    for follow_up in rows.values():
        _put_question(session, settings, follow_up, reminder=False, now=now)


def _put_question(
    session: Session, settings: Settings, follow_up: FollowUp, reminder: bool, now: datetime
) -> bool:
    """The question (or the reminder) by call or SMS; False when the person cannot be texted, so the
    follow-up went to an agent at once instead (no text that would never be sent)."""
    if follow_up.channel == FollowUpChannel.VOICE:
        defer(session, call_follow_up, follow_up.id, queue="sms")
    elif not _can_text(session, texts.phone_of(follow_up)):
        _hand_over(session, follow_up, now, CANNOT_TEXT)
        return False
    elif reminder:
        texts.remind(session, settings, follow_up)
    else:
        texts.ask(session, settings, follow_up)
    return True


def _can_text(session: Session, phone: str) -> bool:
    contact = session.scalar(select(Contact).where(Contact.phone == phone))
    return contact is None or contact.may_receive


def remind_silent(session: Session, settings: Settings, now: datetime) -> int:
    """Asked a day ago (FOLLOW_UP_REMINDER_HOURS) and not (fully) answered: asked once more. A worker
    with an offer waiting for their answer is reminded once it closes, at most half a day late."""
    cutoff = now - timedelta(hours=settings.FOLLOW_UP_REMINDER_HOURS)
    pending = aliased(Offer)
    busy = (
        select(pending.id)
        .where(pending.worker_id == FollowUp.worker_id, pending.status.in_(OPEN_OFFER_STATUSES))
        .exists()
    )
    waiting = and_(
        FollowUp.party == FollowUpParty.WORKER, busy, FollowUp.asked_at > cutoff - REMINDER_PATIENCE
    )
    silent = _pick(session, FollowUpStatus.ASKED, FollowUp.asked_at, cutoff, now, ~waiting)
    reminded = 0
    for follow_up in silent:
        follow_up.status = FollowUpStatus.REMINDED
        follow_up.reminded_at = now
        reminded += _put_question(session, settings, follow_up, reminder=True, now=now)
    session.flush()
    return reminded


def hand_to_agents(session: Session, settings: Settings, now: datetime) -> int:
    """Reminded FOLLOW_UP_TICKET_HOURS ago and still silent: a ticket asks an agent to call. A worker
    who said whether they were paid and only left the stars out is not called about the stars: their
    follow-up ends unanswered (a wage case's mediator calls them anyway)."""
    cutoff = now - timedelta(hours=settings.FOLLOW_UP_TICKET_HOURS)
    silent = _pick(session, FollowUpStatus.REMINDED, FollowUp.reminded_at, cutoff, now)
    tickets = 0
    for follow_up in silent:
        if follow_up.party == FollowUpParty.WORKER and follow_up.paid is not None:
            follow_up.status = FollowUpStatus.UNANSWERED
            continue
        _hand_over(session, follow_up, now, UNANSWERED_REASON)
        tickets += 1
    session.flush()
    return tickets


def _hand_over(session: Session, follow_up: FollowUp, now: datetime, reason: str) -> Ticket:
    """One ticket for an agent to ask by phone; the follow-up waits for it (AGENT)."""
    job = follow_up.job
    worker_side = follow_up.party == FollowUpParty.WORKER
    person = follow_up.worker if worker_side else follow_up.employer
    why = "unanswered" if reason == UNANSWERED_REASON else "cannot be texted (opted out or undeliverable)"
    ticket = open_ticket(
        session,
        TicketKind.FOLLOW_UP,
        job=job,
        summary=Summary.of(
            f"follow_up_{follow_up.party.value}_{reason}",
            code=job.code,
            seq=follow_up.seq,
            name=person.name or person.phone,
        ),
        text=f"{job.code} #{follow_up.seq}: follow-up of the {follow_up.party.value} "
        f"{person.name or person.phone} {why}",
        details={
            "follow_up_id": follow_up.id,
            "party": follow_up.party.value,
            "reason": reason,
            # What the queue page words in the agent's language (console/tickets/summaries.py).
            "job_code": job.code,
            "seq": follow_up.seq,
            "name": person.name or person.phone,
        },
        now=now,
        worker=follow_up.worker,
        phone=person.phone,
    )
    follow_up.status = FollowUpStatus.AGENT
    follow_up.ticket_id = ticket.id
    log.info("follow-up %s to an agent (%s): ticket %s", follow_up.id, reason, ticket.id)
    return ticket


def _pick(
    session: Session, status: FollowUpStatus, since: Any, cutoff: datetime, now: datetime, *also: Any
) -> list[FollowUp]:
    """Follow-ups in `status` since before `cutoff` (and asked within MAX_OPEN_DAYS, and meeting `also`),
    locked; rows another run holds are its own."""
    return list(
        session.scalars(
            select(FollowUp)
            .where(
                FollowUp.status == status,
                since <= cutoff,
                FollowUp.asked_at >= now - timedelta(days=MAX_OPEN_DAYS),
                *also,
            )
            .order_by(since, FollowUp.id)
            .limit(BATCH)
            .with_for_update(skip_locked=True)
        )
    )
