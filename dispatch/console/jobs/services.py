"""What an agent does to a job: a wave now, a wider search, an offer to one worker, a yes taken on the
phone, a higher pay, a cancellation. Each takes (db, agent, ...), works through matching's own
functions (dispatch.matching.rescue, services) and is written to the audit log."""

from __future__ import annotations

import unicodedata
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from dispatch.console.audit import record
from dispatch.console.tickets.work import close_job_tickets
from dispatch.jobs.held import close_held_job_tickets
from dispatch.jobs.services import is_over
from dispatch.matching import rescue
from dispatch.matching import services as matching
from dispatch.matching.locking import lock_job
from dispatch.models import Agent, Job, JobStatus, Offer, TicketOutcome, Worker
from dispatch.phones import try_e164
from dispatch.settings import Settings

MAX_DAILY_PAY = 100_000  # as JobRequest.check allows


class JobActionRefused(Exception):
    """Nothing was changed; `key` names the text under `jobs.refused` that tells the agent why."""

    def __init__(self, key: str, **details: Any) -> None:
        super().__init__(key)
        self.key = key
        self.details = details


@contextmanager
def _refusals() -> Iterator[None]:
    """Matching's refusal of a rescue, as the refusal the agent is shown (nothing was changed)."""
    try:
        yield
    except rescue.RescueRefused as refused:
        raise JobActionRefused(refused.refusal.value, **refused.details) from refused


def worker_by_phone(db: Session, raw: str) -> Worker:
    """The registered worker with this number, however it was typed."""
    phone = try_e164(raw)
    if phone is None:
        raise JobActionRefused("bad_phone", phone=raw.strip()[:20])
    worker = db.scalar(select(Worker).where(Worker.phone == phone))
    if worker is None:
        raise JobActionRefused("no_worker", phone=raw.strip()[:20])
    return worker


def send_next_wave(
    db: Session, agent: Agent, settings: Settings, job: Job, now: datetime, remote_addr: str = ""
) -> list[Offer]:
    """The next wave at once, at the next radius, instead of waiting for the current one to lapse."""
    return _wave(db, agent, settings, job, now, remote_addr, every_town=False)


def widen_search(
    db: Session, agent: Agent, settings: Settings, job: Job, now: datetime, remote_addr: str = ""
) -> list[Offer]:
    """A wave at once over every town of the market."""
    return _wave(db, agent, settings, job, now, remote_addr, every_town=True)


def _wave(
    db: Session, agent: Agent, settings: Settings, job: Job, now: datetime, remote_addr: str, every_town: bool
) -> list[Offer]:
    with _refusals():
        number, radius, offers = rescue.wave_now(db, settings, job.id, now, every_town=every_town)
    record(
        db,
        agent,
        "job.widen" if every_town else "job.next_wave",
        job,
        remote_addr=remote_addr,
        wave=number,
        radius_km=round(radius, 1),
        offers=len(offers),
    )
    return offers


def offer_to_worker(
    db: Session,
    agent: Agent,
    settings: Settings,
    job: Job,
    worker: Worker,
    now: datetime,
    remote_addr: str = "",
) -> Offer:
    """Offer the job by SMS to one worker the agent chose (who must fit it as a wave's worker would)."""
    with _refusals():
        offer = rescue.offer_one(db, settings, job.id, worker.id, now)
    record(db, agent, "job.offer", job, remote_addr=remote_addr, worker_id=worker.id, offer_id=offer.id)
    return offer


def confirm_by_phone(
    db: Session,
    agent: Agent,
    settings: Settings,
    job: Job,
    worker: Worker,
    now: datetime,
    note: str = "",
    remote_addr: str = "",
) -> matching.Outcome:
    """The worker said yes on the phone: booked as a `1 <code>` text would book them."""
    with _refusals():
        outcome, offer = rescue.confirm_by_phone(db, settings, job.id, worker.id, now)
    record(
        db,
        agent,
        "job.confirm_by_phone",
        job,
        note=note,
        remote_addr=remote_addr,
        worker_id=worker.id,
        offer_id=offer.id,
        outcome=outcome,
        filled=job.filled,
    )
    return outcome


def raise_pay(
    db: Session,
    agent: Agent,
    settings: Settings,
    job: Job,
    new_pay: int,
    employer_agreed: bool,
    now: datetime,
    note: str = "",
    remote_addr: str = "",
) -> list[Offer]:
    """A higher daily pay the employer agreed to on the phone; then a wave at once, so that workers
    whose pay floor was above the old pay are asked. Returns that wave's offers (none if nobody is
    in reach, or its last day has begun: the pay is raised all the same)."""
    if not employer_agreed:
        raise JobActionRefused("consent")
    job = lock_job(db, job.id)
    if job.status not in matching.TAKING:
        full = job.status == JobStatus.FILLED
        raise JobActionRefused((rescue.Refusal.FULL if full else rescue.Refusal.CLOSED).value)
    if not job.daily_pay < new_pay <= MAX_DAILY_PAY:
        raise JobActionRefused("pay_not_higher", pay=job.daily_pay)
    old_pay, job.daily_pay = job.daily_pay, new_pay
    db.flush()
    record(
        db,
        agent,
        "job.raise_pay",
        job,
        note=note,
        remote_addr=remote_addr,
        old_pay=old_pay,
        new_pay=new_pay,
        employer_agreed=True,
    )
    try:
        _, _, offers = rescue.wave_now(db, settings, job.id, now)
    except rescue.RescueRefused:
        return []
    return offers


def cancel_job(
    db: Session,
    agent: Agent,
    settings: Settings,
    job: Job,
    now: datetime,
    note: str = "",
    remote_addr: str = "",
) -> list[Offer]:
    """Call the job off for the employer: every worker with a place, an open offer or a standby is texted."""
    job = lock_job(db, job.id)
    if job.status in (JobStatus.CANCELLED, JobStatus.EXPIRED):
        raise JobActionRefused(rescue.Refusal.CLOSED.value)
    if is_over(settings, job, now):  # the work is done: its follow-ups and wage cases must stay
        raise JobActionRefused(rescue.Refusal.OVER.value)
    before = job.status
    if before == JobStatus.HELD:  # its review ticket closes with it, by this agent
        for ticket in close_held_job_tickets(
            db, job, TicketOutcome.JOB_CLOSED, f"job {job.code} cancelled", now, agent_id=agent.id
        ):
            record(db, agent, "ticket.resolve", ticket, remote_addr=remote_addr, outcome="job_closed")
    affected = matching.cancel_job(db, settings, job, now)
    close_job_tickets(db, agent, job.id, f"job {job.code} cancelled", remote_addr)
    record(
        db,
        agent,
        "job.cancel",
        job,
        note=note,
        remote_addr=remote_addr,
        status_before=before,
        workers_told=len(affected),
    )
    return affected


def parse_pay(raw: str) -> int:
    """Integer yuan as typed (full-width digits too)."""
    text = unicodedata.normalize("NFKC", raw or "").strip().removesuffix("元")
    if not (text.isascii() and text.isdigit()) or len(text) > 6:
        raise JobActionRefused("bad_pay")
    return int(text)
