"""Registering and updating a worker: the one path for the SMS dialogue, the IVR, the console's counter
form and the demo data.

Consent comes only from the worker: the `1` that confirms the SMS dialogue's summary. A registration
taken down by someone else (the IVR's keypad, an agent at the counter) is written pending and waits for
that `1` (dispatch.workers.consent), which registers the same details again, with consent.

Plain functions that take a session; they flush, never commit.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, NamedTuple

from sqlalchemy import select
from sqlalchemy.orm import Session

from dispatch.clock import utcnow
from dispatch.models import Contact, RegisteredVia, Site, Trade, Worker, WorkerStatus, WorkerTrade
from dispatch.sms.services import get_or_create_contact
from dispatch.workers import limits


class WorkerDetailsError(ValueError):
    """Details no channel should have let through (a name too long, a pay that is no daily wage)."""


class Skill(NamedTuple):
    trade_id: int
    years: int | None = None  # of experience; None keeps what the worker had (0 for a trade new to them)


@dataclass(frozen=True)
class WorkerDetails:
    """What a registration says about a worker, as any channel collected it; None leaves a field as it is."""

    phone: str
    trades: tuple[Skill, ...]
    home_site_id: int
    min_daily_pay: int
    # None for a phone registration: the name was spoken, and an agent types it onto the worker later.
    name: str | None = None
    language: str | None = None  # the number's language for every later SMS and call
    notes: str | None = None
    prefers_voice: bool | None = None

    def check(self) -> None:
        if self.name is not None and not limits.name_fits(self.name):
            raise WorkerDetailsError(f"a name has 1-{limits.NAME_MAX_LENGTH} characters")
        if not limits.pay_fits(self.min_daily_pay):
            raise WorkerDetailsError(f"a daily pay is {limits.MIN_DAILY_PAY}-{limits.MAX_DAILY_PAY} yuan")
        trade_ids = [skill.trade_id for skill in self.trades]
        if not limits.trade_count_fits(len(trade_ids)) or len(set(trade_ids)) != len(trade_ids):
            raise WorkerDetailsError(f"1-{limits.MAX_TRADES} different trades")
        if any(skill.years is not None and not limits.years_fit(skill.years) for skill in self.trades):
            raise WorkerDetailsError(f"years of experience are 0-{limits.MAX_YEARS}")


def register(
    session: Session,
    details: WorkerDetails,
    via: RegisteredVia,
    *,
    consent: bool,
    now: datetime | None = None,
) -> Worker:
    """The number's worker with these details. A new worker is written pending until consent (`via`
    says how they first registered). An existing one changes only with consent: what someone else took
    down must not overwrite what the worker said until the worker confirms it."""
    details.check()
    worker = session.scalar(select(Worker).where(Worker.phone == details.phone))
    if worker is None:
        worker = Worker(phone=details.phone, name="", registered_via=via, status=WorkerStatus.PENDING)
        session.add(worker)
        _apply(worker, details)
    elif consent:
        _apply(worker, details)
    if details.language is not None:
        get_or_create_contact(session, details.phone).language = details.language
    if consent:
        _consent(session, worker, now or utcnow())
    session.flush()
    return worker


def update(session: Session, worker: Worker, details: WorkerDetails) -> None:
    """Change what the worker does, where and for how much (and name, notes, language where given):
    the one path for a correction, whoever makes it. Matching sees it at once (the match pool follows
    the worker's rows by trigger)."""
    details.check()
    if details.phone != worker.phone:
        raise WorkerDetailsError("the details are another number's")
    voice_before = worker.prefers_voice
    _apply(worker, details)
    if details.language is not None:
        get_or_create_contact(session, details.phone).language = details.language
    if worker.prefers_voice != voice_before and worker.status in {
        WorkerStatus.ACTIVE,
        WorkerStatus.UNDELIVERABLE,
    }:
        # A number that takes no SMS is reachable again by the offers' calls, or no longer.
        worker.status = usual_status(session, worker)
    session.flush()


def record_of(session: Session, worker: Worker) -> dict[str, Any]:
    """What a correction may change, as plain values (trade and site codes): an audit's before/after."""
    contact = session.scalar(select(Contact).where(Contact.phone == worker.phone))
    trades = {row.trade_id: row.years_experience for row in worker.trades}
    codes = dict(session.execute(select(Trade.id, Trade.code).where(Trade.id.in_(trades))).all())
    return {
        "name": worker.name,
        "trades": {codes[trade_id]: years for trade_id, years in sorted(trades.items())},
        "min_daily_pay": worker.min_daily_pay,
        # By id: the relationship still holds the old site until the row is read again.
        "home_site": site.code if (site := session.get(Site, worker.home_site_id or 0)) else None,
        "language": contact.language if contact is not None else "zh",
        "prefers_voice": worker.prefers_voice,
    }


def rename(session: Session, worker: Worker, name: str) -> None:
    """A name an agent typed from the worker's recording (or the full name an insurer needs)."""
    worker.name = name.strip()[: limits.TYPED_NAME_MAX_LENGTH]
    session.flush()


def usual_status(session: Session, worker: Worker) -> WorkerStatus:
    """The status the worker's own answers and the carrier give them, with no agent's block."""
    contact = session.scalar(select(Contact).where(Contact.phone == worker.phone))
    if contact is not None and contact.opted_out_at is not None:
        return WorkerStatus.OPTED_OUT
    if contact is not None and contact.undeliverable_at is not None and not worker.prefers_voice:
        return WorkerStatus.UNDELIVERABLE  # a voice worker's landline still takes the offers' calls
    return WorkerStatus.ACTIVE if worker.consent_at else WorkerStatus.PENDING


def _apply(worker: Worker, details: WorkerDetails) -> None:
    if details.name is not None:
        worker.name = details.name
    worker.home_site_id = details.home_site_id
    worker.min_daily_pay = details.min_daily_pay
    if details.notes is not None:
        worker.notes = details.notes
    if details.prefers_voice is not None:
        worker.prefers_voice = details.prefers_voice
    # A trade kept keeps its row (and its years, unless new ones are given).
    wanted = {skill.trade_id: skill for skill in details.trades}
    kept = [row for row in worker.trades if row.trade_id in wanted]
    held = {row.trade_id for row in kept}
    worker.trades = kept + [
        WorkerTrade(trade_id=skill.trade_id, years_experience=0)
        for skill in details.trades
        if skill.trade_id not in held
    ]
    for row in worker.trades:
        years = wanted[row.trade_id].years
        if years is not None:
            row.years_experience = years


def _consent(session: Session, worker: Worker, now: datetime) -> None:
    """Confirming the summary is the worker's consent to get offers."""
    worker.consent_at = worker.consent_at or now
    contact = session.scalar(select(Contact).where(Contact.phone == worker.phone))
    if contact is not None and contact.opted_out_at is not None:
        # Only START/订阅 lifts an opt-out; registering while opted out must not make the worker active.
        worker.status = WorkerStatus.OPTED_OUT
    elif worker.status in {WorkerStatus.PENDING, WorkerStatus.UNDELIVERABLE}:
        # Paused or blocked stays so: registering again is no `空`, nor an agent's unblock.
        worker.status = WorkerStatus.ACTIVE
