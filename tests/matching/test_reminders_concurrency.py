"""Reminders are sent once per placement and kind even when runs overlap (two workers' tickers, a run
still going when the next starts): committed transactions on the real PostgreSQL, racing in threads."""

from __future__ import annotations

import threading
from datetime import date, datetime, time, timedelta

import time_machine
from sqlalchemy import func, select

from dispatch.matching import reminders
from dispatch.models import Message, Offer, OfferStatus
from tests.factories import SHANGHAI, Market

RUNS = 4
PLACES = 12
DAY = date(2026, 12, 1)


def test_overlapping_runs_remind_each_placement_once(committed) -> None:
    runtime, _ = committed
    evening = datetime(2026, 12, 1, 19, 1, tzinfo=SHANGHAI)
    morning = datetime(2026, 12, 1, 10, tzinfo=SHANGHAI)
    with time_machine.travel(morning, tick=False), runtime.db.transaction() as session:
        market = Market(session)
        job = market.job(headcount=PLACES, work_date=DAY + timedelta(days=1), start=time(8))
        for _ in range(PLACES):
            worker = market.worker()
            session.add(
                Offer(job_id=job.id, worker_id=worker.id, status=OfferStatus.ACCEPTED, responded_at=morning)
            )
        job.filled = PLACES
    counts: list[int] = []
    barrier = threading.Barrier(RUNS)

    def run() -> None:
        barrier.wait()
        with runtime.db.transaction() as session:
            counts.append(reminders.send_due_reminders(session, runtime.settings, evening)["evening"])

    with time_machine.travel(evening, tick=False):
        threads = [threading.Thread(target=run) for _ in range(RUNS)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=60)
    assert sum(counts) == PLACES and len(counts) == RUNS
    with runtime.db.transaction() as session:
        sent = session.scalar(
            select(func.count()).select_from(Message).where(Message.kind == "reminder.evening")
        )
        reminded = session.scalar(
            select(func.count()).select_from(Offer).where(Offer.reminded_evening_at.is_not(None))
        )
        assert sent == reminded == PLACES
