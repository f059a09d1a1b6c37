"""Measuring a simulated day's follow-ups (回访): what was asked and answered the next morning, and the
invariants that must be zero, worked out from the people's own record (which places they were
confirmed for and gave back, what they answered) and the rows the service left, not from the
service's own rules for who is asked (dispatch.followup.placements).

A placement is owed a follow-up when its worker held the place when the work began (a place given
back before the start, a standby or a declined offer is not one); it is due at FOLLOW_UP_TIME the
morning after its last working day (the last day begun, for a place given back mid-job), and counted
as missing once GRACE has passed after that.
"""

from __future__ import annotations

import logging
from collections import Counter
from dataclasses import dataclass
from datetime import datetime, timedelta
from statistics import fmean
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from dispatch.i18n import market_zone
from dispatch.models import (
    Direction,
    FollowUp,
    FollowUpParty,
    FollowUpStatus,
    Job,
    JobStatus,
    Message,
    Offer,
    OfferStatus,
    PaidAnswer,
    WageCase,
    Worker,
)
from dispatch.quiet_hours import quiet_hours_end
from dispatch.settings import Settings
from dispatch.simulation.morning import FollowUpRecord

# The asking round runs every 5 minutes (a worker waiting on an offer is asked once it closes).
GRACE = timedelta(minutes=15)
PAID = {1: PaidAnswer.FULL, 2: PaidAnswer.PART, 3: PaidAnswer.NONE}
# What the simulated people did about their follow-ups, counted by morning.py.
FOLLOW_UP_BEHAVIOURS = (
    "followup_answers",
    "followup_steps",
    "followup_unpaid",
    "followup_silent_workers",
    "followup_ratings",
    "followup_no_shows",
    "followup_silent_employers",
    "followup_not_understood",
)

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Owed:
    """A placement whose worker held the place at the start, and when its follow-up is due."""

    offer_id: int
    due_at: datetime


def owed(session: Session, settings: Settings, record: FollowUpRecord) -> tuple[dict[int, Owed], set[int]]:
    """Placements owed a follow-up (offer id -> due), and the ids of offers that are not (places given
    back or called off before the start); offers never placed are in neither."""
    zone = market_zone(settings)
    rows = session.execute(
        select(Offer.id, Offer.status, Worker.phone, Job)
        .join(Job, Job.id == Offer.job_id)
        .join(Worker, Worker.id == Offer.worker_id)
    ).all()
    held: dict[int, Owed] = {}
    not_held: set[int] = set()
    for offer_id, status, phone, job in rows:
        key = (phone, job.code or "")  # a job has its code once flushed
        if key not in record.placed and status != OfferStatus.ACCEPTED:
            continue  # never a placement: an offer, a standby, a decline
        stop = record.given_back.get(key)
        if job.status == JobStatus.CANCELLED and job.cancelled_at is not None:
            stop = job.cancelled_at if stop is None else min(stop, job.cancelled_at)
        days = [job.work_date + timedelta(days=n) for n in range((job.end_date - job.work_date).days + 1)]
        begun = [day for day in days if stop is None or datetime.combine(day, job.start_time, zone) <= stop]
        if not begun:
            not_held.add(offer_id)
            continue
        due = datetime.combine(begun[-1] + timedelta(days=1), settings.follow_up_time, zone)
        held[offer_id] = Owed(offer_id, due)
    return held, not_held


def measure_follow_ups(
    session: Session, settings: Settings, record: FollowUpRecord, now: datetime, next_morning: bool
) -> dict[str, Any]:
    """The follow-up figures (None without a next morning) and their invariants."""
    held, _ = owed(session, settings, record)
    rows = list(session.scalars(select(FollowUp).order_by(FollowUp.id)))
    report: dict[str, Any] = _figures(session, settings, rows, held, now) if next_morning else {}
    report["invariants"] = {
        "follow_ups_missing": missing(rows, held, now),
        "follow_ups_unwarranted": unwarranted(rows, held),
        "follow_up_answers_lost": answers_lost(session, rows, record),
    }
    return report


def missing(rows: list[FollowUp], held: dict[int, Owed], now: datetime) -> int:
    """Placements due (GRACE ago) without exactly one worker-side and one employer-side follow-up."""
    sides = Counter((row.offer_id, row.party) for row in rows)
    return sum(
        1
        for offer_id, owed_one in held.items()
        if owed_one.due_at + GRACE <= now
        and (sides[(offer_id, FollowUpParty.WORKER)], sides[(offer_id, FollowUpParty.EMPLOYER)]) != (1, 1)
    )


def unwarranted(rows: list[FollowUp], held: dict[int, Owed]) -> int:
    """Placements asked about that are owed nothing (given back or called off before the start, a
    standby or any other offer never placed), or asked before their follow-up was due."""
    wrong = {
        row.offer_id for row in rows if row.offer_id not in held or row.asked_at < held[row.offer_id].due_at
    }
    return len(wrong)


def answers_lost(session: Session, rows: list[FollowUp], record: FollowUpRecord) -> int:
    """Whole answers the people sent that the service did not record as given (a worker's `2`/`3`
    without its wage case counts too)."""
    codes = dict(session.execute(select(Job.id, Job.code)).all())
    phones = dict(session.execute(select(Worker.id, Worker.phone)).all())
    cases = set(session.scalars(select(WageCase.follow_up_id)))
    workers = {(phones[r.worker_id], codes[r.job_id]): r for r in rows if r.party == FollowUpParty.WORKER}
    employers = {(codes[r.job_id], r.seq): r for r in rows if r.party == FollowUpParty.EMPLOYER}
    lost = 0
    for key, (paid, stars) in record.answers.items():
        if key in record.asked_again:
            continue  # the service asked which job it was for; the run ended before the answer came again
        row = workers.get(key)
        if (
            row is None
            or row.status != FollowUpStatus.ANSWERED
            or (row.paid, row.stars) != (PAID[paid], stars)
            or (paid != 1 and row.id not in cases)
        ):
            lost += 1
            _log_lost("worker", key[1], row, f"paid {paid} stars {stars}")
            if row is not None:
                _log_conversation(session, key[0], row)
    for (code, seq), stars in record.ratings.items():
        row = employers.get((code, seq))
        if row is None or row.status != FollowUpStatus.ANSWERED or row.stars != stars:
            lost += 1
            _log_lost("employer", code, row, f"seq {seq} stars {stars}")
    return lost


def _log_conversation(session: Session, phone: str, row: FollowUp) -> None:
    """The worker's texts from an hour before the follow-up was asked: what the service read as what."""
    since = (row.asked_at or row.created_at) - timedelta(hours=1)
    texts = session.execute(
        select(Message.created_at, Message.direction, Message.kind, Message.body)
        .where(Message.phone == phone, Message.created_at >= since)
        .order_by(Message.created_at, Message.id)
        .limit(40)
    )
    for created_at, direction, kind, body in texts:
        log.warning("  follow-up %s: %s %s %s %r", row.id, created_at, direction.value, kind, body[:120])


def _log_lost(party: str, code: str, row: FollowUp | None, sent: str) -> None:
    """Which answer, so a run that counts one can be read (no phone: the follow-up's id names it)."""
    held = (
        "no follow-up"
        if row is None
        else f"follow-up {row.id} {row.status} paid {row.paid} stars {row.stars}"
    )
    log.warning(
        "follow-up answer not recorded: %s of job %s sent %s; the service holds %s", party, code, sent, held
    )


def _figures(
    session: Session, settings: Settings, rows: list[FollowUp], held: dict[int, Owed], now: datetime
) -> dict[str, Any]:
    worker_side = [row for row in rows if row.party == FollowUpParty.WORKER]
    employer_side = [row for row in rows if row.party == FollowUpParty.EMPLOYER]
    given_employers = [row.stars for row in worker_side if row.stars is not None]
    given_workers = [row.stars for row in employer_side if row.stars is not None]
    texts = list(
        session.execute(
            select(Message.created_at, Message.sent_at).where(
                Message.direction == Direction.OUTBOUND,
                Message.kind.like("followup.%"),
                Message.is_reply.is_(False),
            )
        )
    )
    first = min((row.asked_at for row in rows), default=None)
    zone = market_zone(settings)
    return {
        "follow_ups_due": sum(1 for owed_one in held.values() if owed_one.due_at <= now),
        "follow_ups_asked": len({row.offer_id for row in rows}),
        "follow_up_first_asked": None if first is None else first.astimezone(zone).strftime("%H:%M"),
        "follow_up_texts_sent": sum(1 for row in texts if row.sent_at is not None),
        "follow_up_texts_held": sum(1 for row in texts if _quiet(settings, row.created_at)),
        "worker_follow_ups_answered": _share(worker_side),
        "employer_follow_ups_answered": _share(employer_side),
        "wage_cases_opened": len(list(session.scalars(select(WageCase.id)))),
        "stars_for_employers": round(fmean(given_employers), 2) if given_employers else None,
        "stars_for_workers": round(fmean([s for s in given_workers if s > 0]), 2)
        if any(given_workers)
        else None,
        "no_shows_reported": sum(1 for stars in given_workers if stars == 0),
    }


def _share(rows: list[FollowUp]) -> float | None:
    if not rows:
        return None
    return round(sum(row.status == FollowUpStatus.ANSWERED for row in rows) / len(rows), 3)


def _quiet(settings: Settings, moment: datetime) -> bool:
    return quiet_hours_end(moment, settings.quiet_hours, settings.MARKET_TIMEZONE) is not None
