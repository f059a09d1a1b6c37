"""What the intake forms change: a job taken on the phone, a worker registered at the counter.

A job goes through the IVR's own path (the caller as an employer, `create_job`, the `job_created`
SMS), only with `source=agent`. A worker is registered through dispatch.workers as a phone registration
is: pending, until their `1` to the SMS sent here confirms it through the SMS registration dialogue
(consent, then active) like any SMS registration.

Plain functions that take a session; they flush, never commit.
"""

from __future__ import annotations

from sqlalchemy.orm import Session

from dispatch.catalogue import trade_short_name
from dispatch.console.audit import record
from dispatch.console.intake.forms import JobEntry, WorkerEntry
from dispatch.ivr import services as ivr_services
from dispatch.models import Agent, Job, JobSource, Message, RegisteredVia, Site, Trade, Worker
from dispatch.settings import Settings
from dispatch.sms.services import get_or_create_contact, queue_sms
from dispatch.workers import consent


def post_job(
    db: Session,
    settings: Settings,
    agent: Agent,
    entry: JobEntry,
    language: str | None = None,
    remote_addr: str = "",
    ticket_id: int | None = None,
) -> Job:
    """The job the employer asked for on the phone: written as the IVR writes a confirmed request
    (matching starts after commit; a held employer's job waits), and the employer gets its summary."""
    contact_language = language or get_or_create_contact(db, entry.phone).language
    job = ivr_services.post_requested_job(
        db, settings, entry.phone, entry.request, JobSource.AGENT, contact_language, entry.employer_name
    )
    employer = job.employer
    record(
        db,
        agent,
        "job.create",
        job,
        remote_addr=remote_addr,
        code=job.code,
        employer_id=employer.id,
        status=job.status,
        ticket_id=ticket_id,
    )
    db.flush()
    return job


def register_worker(
    db: Session,
    settings: Settings,
    agent: Agent,
    entry: WorkerEntry,
    remote_addr: str = "",
    ticket_id: int | None = None,
) -> tuple[Worker, Message]:
    """A walk-in worker, pending until they reply `1` to the consent SMS sent here."""
    worker = consent.register_pending(db, entry.details(), RegisteredVia.COUNTER)
    trades = [db.get(Trade, trade_id) for trade_id, _ in entry.trades]
    site = db.get(Site, entry.site_id)
    sms = queue_sms(
        db,
        settings,
        phone=entry.phone,
        template="counter_reg_confirm",
        kind="registration.counter_confirm",
        language=entry.language,
        worker_id=worker.id,
        trade_names=[trade_short_name(trade, entry.language) for trade in trades if trade],
        area=site.name(entry.language) if site else "",
        pay=entry.min_pay,
    )
    record(
        db,
        agent,
        "worker.register",
        worker,
        remote_addr=remote_addr,
        phone=entry.phone,
        trades=entry.trades,
        site_id=entry.site_id,
        min_pay=entry.min_pay,
        language=entry.language,
        prefers_voice=entry.prefers_voice,
        sms_status=sms.status,
        ticket_id=ticket_id,
    )
    db.flush()
    return worker, sms
