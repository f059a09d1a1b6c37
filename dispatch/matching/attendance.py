"""The day itself (issue 16, part 4): a worker's `到` records that they arrived and tells the employer;
an employer's `没来 101` on the day records that a worker did not come, frees the place at once and
offers it to those waiting on standby (or, with nobody there, to an agent, as the work is under way).

A no-show counts against the worker's reliability as the follow-up's `0` does (Worker.no_shows); the
place is closed, so no follow-up asks about it again.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from dispatch.i18n import market_zone
from dispatch.matching import notices, services, waves
from dispatch.matching.locking import lock_job, lock_worker
from dispatch.models import Employer, Job, Message, Offer, OfferStatus, Worker
from dispatch.settings import Settings
from dispatch.sms.services import reply

ARRIVAL_WORDS = frozenset(
    {"到", "到了", "已到", "我到了", "我已到", "我已经到了", "到达", "已到达", "已经到了", "到岗", "已到岗"}
    | {"arrived", "here", "im here", "i'm here", "i am here"}
)
_ARRIVAL = re.compile(r"^(?:(?P<word>[^\d\s]+) ?(?P<code>\d{3,8})|(?P<code2>\d{3,8}) ?(?P<word2>[^\d\s]+))$")
NO_SHOW_WORDS = ("没来", "没到", "未到", "没有来", "人没来", "no show", "noshow", "absent")
_NO_SHOW = re.compile(
    r"^(?P<word>"
    + "|".join(re.escape(w) for w in NO_SHOW_WORDS)
    + r") ?(?P<code>\d{3,8})(?: (?P<seq>\d{1,2}))?$"
)


@dataclass(frozen=True)
class NoShow:
    code: str
    seq: int | None  # the worker's number in the employer's list (`没来 101 2`), when there are several


def read_arrival(text: str) -> str | None:
    """`到`, `我到了` gives ""; `到 101`, `到101`, `101 到了` gives "101"; None: not an arrival."""
    folded = " ".join(text.casefold().split())
    if folded in ARRIVAL_WORDS:
        return ""
    match = _ARRIVAL.match(folded)
    if match is None:
        return None
    word, code = match.group("word") or match.group("word2"), match.group("code") or match.group("code2")
    return code if word in ARRIVAL_WORDS else None


def read_no_show(text: str) -> NoShow | None:
    """`没来 101`, `没来101`, `没来 101 2`; None otherwise."""
    match = _NO_SHOW.match(" ".join(text.casefold().split()))
    if match is None:
        return None
    return NoShow(match.group("code"), int(match.group("seq")) if match.group("seq") else None)


def record_arrival(session: Session, settings: Settings, message: Message, worker: Worker, code: str) -> None:
    """`到` by text: the place they hold today (the one named, or their only one) notes the time, the
    worker hears it is noted; with none or several, which job (`到 101`)."""
    arrived = arrive(session, settings, worker, code, message.created_at)
    if isinstance(arrived, list):
        codes = [offer.job.code for offer in arrived][: notices.MAX_CODES_LISTED]
        reply(session, settings, message, "arrival_which", "arrival.which", codes=codes)
        return
    notices.tell_worker(
        session, settings, message, worker, "arrival_ok", "arrival.ok", arrived.job, message.created_at
    )


def arrive(
    session: Session, settings: Settings, worker: Worker, code: str, now: datetime
) -> Offer | list[Offer]:
    """The worker is on site (by text or the worker line's key): the place they hold today, the one
    named or their only one, notes the time and the employer is told (once). Returns that place, or
    the places held today when there is not exactly one (none, or several and no code)."""
    today = _today(settings, now)
    held = [offer for offer in _held_on(session, worker, today) if not code or offer.job.code == code]
    if len(held) != 1:
        return held
    offer = held[0]
    job = lock_job(session, offer.job_id)
    session.refresh(offer)
    if offer.arrived_at is None:
        offer.arrived_at = now
        language = notices.language_of(session, job.employer.phone)
        notices.tell_employer(
            session,
            settings,
            job,
            "arrival_employer",
            "arrival.employer",
            now,
            arrived=_clock(settings, now),
            **notices.worker_for_employer(worker, language),
        )
    return offer


def record_no_show(
    session: Session, settings: Settings, message: Message, employer: Employer, asked: NoShow
) -> None:
    """The employer says a placed worker did not come, on a day of the job: the place is freed at once
    and offered to the standby list, or to an agent with nobody there. With several workers not yet
    arrived and no number said, the employer is asked which (`没来 101 2`)."""
    now = message.created_at
    job = session.scalar(select(Job).where(Job.code == asked.code, Job.employer_id == employer.id))
    today = _today(settings, now)
    if job is None or not job.work_date <= today <= job.end_date:
        reply(session, settings, message, "no_show_unknown", "no_show.unknown", code=asked.code)
        return
    placed = _placed(session, job)
    if asked.seq is not None:
        chosen = [placed[asked.seq - 1]] if 0 < asked.seq <= len(placed) else []
    else:
        chosen = [offer for offer in placed if offer.arrived_at is None]
    if len(chosen) != 1:
        language = notices.language_of(session, employer.phone)
        listed = [
            (number, notices.person_name(offer.worker.name, language))
            for number, offer in enumerate(placed, start=1)
            if offer.arrived_at is None
        ]
        reply(session, settings, message, "no_show_which", "no_show.which", code=job.code, listed=listed)
        return
    if _no_show(session, settings, chosen[0], now) is None:
        reply(session, settings, message, "no_show_unknown", "no_show.unknown", code=job.code)


def under_way(settings: Settings, job: Job, now: datetime) -> bool:
    """Today is one of the job's days: the day a no-show can be reported."""
    return job.work_date <= _today(settings, now) <= job.end_date


def not_arrived(session: Session, job: Job) -> list[Offer]:
    """The job's placed workers not yet on site, in the employer's list order."""
    return [offer for offer in _placed(session, job) if offer.arrived_at is None]


def no_show_by_key(
    session: Session, settings: Settings, employer_id: int, offer_id: int, now: datetime
) -> Worker | None:
    """The employer's key on the phone (ivr/manage.py): the worker of this placement did not come, on a
    day of the job; None if the place is no longer theirs to report (given back, reported already)."""
    offer = session.get(Offer, offer_id)
    if offer is None or offer.job.employer_id != employer_id or not under_way(settings, offer.job, now):
        return None
    return _no_show(session, settings, offer, now)


def _no_show(session: Session, settings: Settings, offer: Offer, now: datetime) -> Worker | None:
    """Record the no-show and refill the place; the worker, or None when the place is not held."""
    worker = lock_worker(session, offer.worker_id)  # worker, then job, as every answer locks them
    job = lock_job(session, offer.job_id)
    session.refresh(offer)
    if offer.status != OfferStatus.ACCEPTED:
        return None
    services.release_place(session, settings, job, offer, now)
    offer.no_show_at = now
    worker.no_shows += 1
    session.flush()
    reoffered = waves.reoffer_standby(session, settings, job, now)
    if not reoffered:
        services.refill_after_drop(session, settings, job, worker, now)
    language = notices.language_of(session, job.employer.phone)
    notices.tell_employer(
        session,
        settings,
        job,
        "no_show_ok",
        "no_show.ok",
        now,
        reoffered=reoffered,
        **notices.worker_for_employer(worker, language),
    )
    notices.tell_worker(session, settings, None, worker, "no_show_worker", "no_show.worker", job, now)
    return worker


def _held_on(session: Session, worker: Worker, day: date) -> list[Offer]:
    query = (
        select(Offer)
        .join(Job, Job.id == Offer.job_id)
        .where(
            Offer.worker_id == worker.id,
            Offer.status == OfferStatus.ACCEPTED,
            Job.work_date <= day,
            Job.end_date >= day,
        )
        .order_by(Job.start_time, Job.id)
    )
    return list(session.scalars(query))


def _placed(session: Session, job: Job) -> list[Offer]:
    """The job's placed workers in the order they took their places (the employer's list numbers)."""
    query = (
        select(Offer)
        .where(Offer.job_id == job.id, Offer.status == OfferStatus.ACCEPTED)
        .order_by(Offer.responded_at, Offer.id)
    )
    return list(session.scalars(query))


def _today(settings: Settings, now: datetime) -> date:
    return now.astimezone(market_zone(settings)).date()


def _clock(settings: Settings, now: datetime) -> str:
    return now.astimezone(market_zone(settings)).strftime("%H:%M")
