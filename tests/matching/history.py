"""Past offers written straight into the record (tests of the learned estimates and the offer budget)."""

from __future__ import annotations

from datetime import datetime, timedelta

from dispatch.models import Job, JobStatus, Offer, OfferStatus, Worker
from tests.factories import NOW, Market

SENT = NOW - timedelta(days=2)  # a morning two days ago: in the window, in the morning band
YES, NO, SILENT, FILLED = "yes", "no", "silent", "filled"  # FILLED: closed unanswered, the job filled


class History:
    """Past offers written straight into the record, each worker answering as told."""

    def __init__(self, session, market: Market) -> None:
        self.session, self.market = session, market
        self.jobs: list[Job] = []

    def job(self, index: int, pay: int) -> Job:
        while len(self.jobs) <= index:
            job = self.market.job(pay=pay)
            # The record's jobs are over: no waves of their own, nobody booked on days to come.
            job.status = JobStatus.EXPIRED
            job.work_date = job.end_date = SENT.date()
            self.jobs.append(job)
        return self.jobs[index]

    def offers(
        self,
        worker: Worker,
        answers: list[str],
        *,
        km: float = 0.5,
        pay: int = 300,
        sent: datetime = SENT,
        expiry: int = 60,
        delay: int = 5,
    ) -> None:
        """`expiry`: the minutes the worker had to answer; `delay`: the minutes an answer took."""
        for index, answer in enumerate(answers):
            offer = Offer(
                job_id=self.job(index + (0 if pay == 300 else 100), pay).id,
                worker_id=worker.id,
                wave=1,
                status={YES: OfferStatus.ACCEPTED, NO: OfferStatus.DECLINED, SILENT: OfferStatus.EXPIRED}.get(
                    answer, OfferStatus.CANCELLED
                ),
                explanation={"km": km},
                created_at=sent,
                sent_at=sent,
                expires_at=sent + timedelta(minutes=expiry),
                responded_at=sent + timedelta(minutes=delay) if answer in (YES, NO) else None,
            )
            self.session.add(offer)
        self.session.flush()
