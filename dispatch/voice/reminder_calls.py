"""Reminders by phone for workers who prefer voice (a landline's only reminder): besides the reminder's
SMS (matching/reminders.py), the market calls once; when the worker picks up they hear the booking and
then their own worker line (ivr/reminder_call.py): 2 their bookings again, 0 an agent (to give the place
back by voice), and so on.

One attempt per reminder: a reminder is not an offer, and its text (where one can go) stands. The call is
claimed before it rings, as every market call is (voice/outbound.py), and is not placed once the
job has started or the place is no longer held. Plain functions that take a session; they flush.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from dispatch.matching import in_time
from dispatch.models import CallOutcome, Contact, Offer, OfferStatus, Worker
from dispatch.queue import defer
from dispatch.settings import Settings
from dispatch.voice import outbound
from dispatch.voice.tasks import call_reminder

FLOW = "reminder_call"  # until picked up; then the worker line's (ivr/reminder_call.py)


def call_later(session: Session, offer: Offer, worker: Worker, soon: bool) -> None:
    """A reminder is queued: a worker who prefers voice is also called, at once (the periodic run that
    queues reminders runs only when they may go)."""
    if worker.prefers_voice:
        defer(session, call_reminder, offer.id, int(soon), queue="sms")


def answer_url(base_url: str, offer_id: int, soon: int) -> str:
    return f"{base_url.rstrip('/')}/ivr/reminder?o={offer_id}&s={soon}"


def prepare(
    session: Session, settings: Settings, offer_id: int, soon: int, now: datetime
) -> outbound.Plan | str:
    """The call to place, claimed; or why none is placed."""
    offer = session.get(Offer, offer_id)
    if offer is None or offer.status != OfferStatus.ACCEPTED:
        return "not_held"
    if now >= in_time.first_start(settings, offer.job):
        return "started"
    worker = offer.worker
    claim = outbound.claim_sid("reminder", f"{offer_id}-{soon}", 1)
    language = session.scalar(select(Contact.language).where(Contact.phone == worker.phone)) or "zh"
    _, created = outbound.open_row(
        session,
        claim,
        phone=worker.phone,
        flow=FLOW,
        step="reminder",
        language=language,
        answers={"reminder": offer.id, "soon": soon},
        outcome=CallOutcome.WORKER_LINE,
        job_id=offer.job_id,
        worker_id=worker.id,
    )
    if not created:
        return "claimed"
    base = settings.PUBLIC_BASE_URL
    return outbound.Plan(
        worker.phone, answer_url(base, offer_id, soon), f"{base.rstrip('/')}/ivr/status", claim
    )
