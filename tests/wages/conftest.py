"""Wage-case fixtures: every test on the shared frozen clock, started a few days after a placement, and
the placement's rows made directly (job, accepted offer, the texts that booked it, the worker's follow-up
answer)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

import pytest
import time_machine
from sqlalchemy import select

from dispatch.clock import utcnow
from dispatch.matching import notices
from dispatch.models import (
    AnsweredVia,
    AuditEvent,
    Direction,
    Employer,
    FollowUp,
    FollowUpChannel,
    FollowUpParty,
    FollowUpStatus,
    Job,
    JobStatus,
    Message,
    MessageStatus,
    Offer,
    OfferStatus,
    OutboxEvent,
    PaidAnswer,
    Worker,
)
from tests.factories import SHANGHAI, Market

NOW = datetime(2026, 12, 10, 10, 0, tzinfo=SHANGHAI)
WORKED_ON = date(2026, 12, 7)  # two days, the 7th and 8th; followed up on the morning of the 9th
TOMORROW = date(2026, 12, 11)
MATCH_JOB = "dispatch.matching.tasks.match_job"


@pytest.fixture
def clock_start() -> datetime:
    return NOW


@pytest.fixture(autouse=True)
def on_the_clock(clock) -> None:
    """Every test here runs on the market's frozen clock."""


@dataclass
class Placement:
    employer: Employer
    worker: Worker
    job: Job
    offer: Offer
    follow_up: FollowUp


def placement(
    session,
    runtime,
    market: Market,
    paid: PaidAnswer = PaidAnswer.NONE,
    employer: Employer | None = None,
    worker_name: str = "李四",
    site: str = "LZ-TX",
    mates: tuple[str, ...] = (),
) -> Placement:
    """A two-day job worked last week, booked by SMS as matching books it, and the worker's answer.
    `mates`: workers placed on the same job at the same moment (one employer notice names them all)."""
    settings = runtime.settings
    employer = employer or market.employer(name="王老板", site=site)
    worker = market.worker(name=worker_name, site=site)
    offered_at = datetime(2026, 12, 5, 9, 0, tzinfo=SHANGHAI)
    with time_machine.travel(offered_at, tick=False):
        job = market.job(
            employer,
            work_date=WORKED_ON,
            days=2,
            pay=300,
            site=site,
            address="太行西街88号",
            headcount=1 + len(mates),
        )
        offer = Offer(job_id=job.id, worker_id=worker.id, wave=1, status=OfferStatus.SENT, sent_at=utcnow())
        session.add(offer)
        session.flush()
        notices.send_offer(session, settings, offer, job, worker, utcnow(), reopened=False)
    confirmed_at = offered_at + timedelta(minutes=7)
    with time_machine.travel(confirmed_at, tick=False):
        session.add(
            Message(
                direction=Direction.INBOUND,
                phone=worker.phone,
                body=f"1 {job.code}",
                provider_sid=f"SM-wages-{offer.id}",
                status=MessageStatus.HANDLED,
                kind="offer.accept",
                worker_id=worker.id,
                created_at=utcnow(),
            )
        )
        offer.status, offer.responded_at = OfferStatus.ACCEPTED, utcnow()
        others = [market.worker(name=name, site=site) for name in mates]
        for other in others:
            session.add(
                Offer(
                    job_id=job.id,
                    worker_id=other.id,
                    wave=1,
                    status=OfferStatus.ACCEPTED,
                    sent_at=offered_at,
                    responded_at=utcnow(),
                )
            )
        job.filled, job.status = 1 + len(others), JobStatus.FILLED
        # Written directly: the confirmation's wording is matching's business (and changes with insurance).
        session.add(
            Message(
                direction=Direction.OUTBOUND,
                phone=worker.phone,
                body=f"【潞州零工】岗位{job.code}已确认：水电工 12月7日8点到太行西街88号上工",
                status=MessageStatus.DELIVERED,
                kind="placement.worker",
                worker_id=worker.id,
                created_at=utcnow(),
            )
        )
    with time_machine.travel(confirmed_at + timedelta(minutes=1), tick=False):
        notices.tell_employer_placed(session, settings, job, [worker, *others], utcnow())
    follow_up = FollowUp(
        offer_id=offer.id,
        job_id=job.id,
        worker_id=worker.id,
        employer_id=employer.id,
        party=FollowUpParty.WORKER,
        channel=FollowUpChannel.SMS,
        status=FollowUpStatus.ANSWERED,
        paid=paid,
        stars=1,
        answered_via=AnsweredVia.SMS,
        asked_at=datetime(2026, 12, 9, 9, 0, tzinfo=SHANGHAI),
        answered_at=datetime(2026, 12, 9, 9, 30, tzinfo=SHANGHAI),
    )
    session.add(follow_up)
    session.flush()
    return Placement(employer, worker, job, offer, follow_up)


def audit_actions(session, target_type: str | None = None, target_id: int | None = None) -> list[str]:
    session.expire_all()
    query = select(AuditEvent).order_by(AuditEvent.id)
    if target_type is not None:
        query = query.where(AuditEvent.target_type == target_type, AuditEvent.target_id == target_id)
    return [event.action for event in session.scalars(query)]


def match_job_rows(session, job_id: int) -> list[OutboxEvent]:
    session.expire_all()
    rows = session.scalars(select(OutboxEvent).where(OutboxEvent.task == MATCH_JOB).order_by(OutboxEvent.id))
    return [row for row in rows if row.args == [job_id]]


def offers_of(session, job_id: int) -> list[Offer]:
    session.expire_all()
    return list(session.scalars(select(Offer).where(Offer.job_id == job_id)))
