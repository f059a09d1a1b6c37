"""Reports fixtures: every test on the shared frozen clock, started in week 49 of 2026, and a small
hand-built after-life of jobs in two towns (Taixi street LZ-TX with its village station LZ-TX-WYM, and
Dongjie street LZ-DJ) over weeks 48 and 49, with every figure worked out by hand in `Figures` below.

Week 48 is Mon 23 Nov - Sun 29 Nov 2026, week 49 Mon 30 Nov - Sun 6 Dec, both in Asia/Shanghai.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

import pytest

from dispatch.models import (
    EnrolmentStatus,
    FollowUp,
    FollowUpChannel,
    FollowUpParty,
    FollowUpStatus,
    InsuranceEnrolment,
    Job,
    JobStatus,
    Offer,
    OfferStatus,
    PaidAnswer,
    WageCase,
    WageCaseStatus,
    Worker,
)
from tests.factories import SHANGHAI, Market, commit

NOW = datetime(2026, 12, 3, 10, 0, tzinfo=SHANGHAI)  # Thursday of week 49


def local(month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(2026, month, day, hour, minute, tzinfo=SHANGHAI)


@pytest.fixture
def clock_start() -> datetime:
    return NOW


@pytest.fixture(autouse=True)
def on_the_clock(clock) -> None:
    """Every test here runs on the market's frozen clock."""


@dataclass
class Data:
    market: Market
    jobs: dict[str, Job]
    offers: list[Offer]

    def site_id(self, code: str) -> int:
        return self.market.site(code).id


class Builder:
    def __init__(self, market: Market) -> None:
        self.market = market
        self.session = market.session
        self.offers: list[Offer] = []

    def job(
        self,
        site: str,
        created: datetime,
        headcount: int,
        filled: int = 0,
        filled_after: timedelta | None = None,
        status: JobStatus | None = None,
    ) -> Job:
        job = self.market.job(site=site, headcount=headcount)
        job.created_at = created
        job.filled = filled
        job.filled_at = created + filled_after if filled_after is not None else None
        job.status = status or (JobStatus.FILLED if job.filled_at else JobStatus.OPEN)
        self.session.flush()
        return job

    def placement(self, job: Job) -> Offer:
        worker: Worker = self.market.worker(site=job.site.code)
        offer = Offer(
            job_id=job.id, worker_id=worker.id, status=OfferStatus.ACCEPTED, created_at=job.created_at
        )
        self.session.add(offer)
        self.session.flush()
        self.offers.append(offer)
        return offer

    def follow_up(
        self, offer: Offer, party: FollowUpParty, asked: datetime, stars: int | None, answered: bool = True
    ) -> FollowUp:
        follow_up = FollowUp(
            offer_id=offer.id,
            job_id=offer.job_id,
            worker_id=offer.worker_id,
            employer_id=offer.job.employer_id,
            party=party,
            channel=FollowUpChannel.SMS,
            status=FollowUpStatus.ANSWERED if answered else FollowUpStatus.REMINDED,
            paid=PaidAnswer.FULL if party == FollowUpParty.WORKER and answered else None,
            stars=stars if answered else None,
            asked_at=asked,
            answered_at=asked + timedelta(hours=2) if answered else None,
        )
        self.session.add(follow_up)
        self.session.flush()
        return follow_up

    def case(
        self,
        offer: Offer,
        site_id: int | None,
        opened: datetime,
        owed: int,
        closed: datetime | None = None,
        recovered: int = 0,
    ) -> WageCase:
        case = WageCase(
            offer_id=offer.id,
            job_id=offer.job_id,
            worker_id=offer.worker_id,
            employer_id=offer.job.employer_id,
            site_id=site_id,
            status=WageCaseStatus.RECOVERED if closed else WageCaseStatus.OPEN,
            paid=PaidAnswer.NONE,
            daily_pay=300,
            days=1,
            amount_owed=owed,
            amount_recovered=recovered,
            opened_at=opened,
            closed_at=closed,
        )
        self.session.add(case)
        self.session.flush()
        return case

    def enrolment(self, offer: Offer, work_date: date, status: EnrolmentStatus = EnrolmentStatus.ENROLLED):
        self.session.add(
            InsuranceEnrolment(
                reference=f"LZ{offer.id:06d}{work_date:%m%d}",
                offer_id=offer.id,
                worker_id=offer.worker_id,
                job_id=offer.job_id,
                trade_id=offer.job.trade_id,
                site_id=offer.job.site_id,
                work_date=work_date,
                status=status,
            )
        )
        self.session.flush()


@pytest.fixture
def data(runtime, session, market: Market) -> Data:
    """The hand-built weeks; the expected figures are in tests/console/reports/test_weekly.py."""
    b = Builder(market)
    hour = timedelta(hours=1)
    jobs = {
        # Taixi, week 48: filled in 1 h 30 and in 4 h 10; one posted at 23:30 on the Sunday (local);
        # a draft that never counts.
        "A": b.job("LZ-TX", local(11, 23, 8, 0), headcount=2, filled=2, filled_after=1.5 * hour),
        "E": b.job("LZ-TX", local(11, 25, 10, 0), headcount=1, filled=1, filled_after=timedelta(minutes=250)),
        "B": b.job("LZ-TX", local(11, 29, 23, 30), headcount=3, filled=1),
        "D": b.job("LZ-TX", local(11, 24, 9, 0), headcount=5, status=JobStatus.DRAFT),
        # Dongjie, week 48: filled in 24 h 30.
        "F": b.job("LZ-DJ", local(11, 26, 12, 0), headcount=4, filled=4, filled_after=24.5 * hour),
        # Week 49: Taixi at 00:10 on the Monday; its village station, filled in 30 min.
        "C": b.job("LZ-TX", local(11, 30, 0, 10), headcount=1),
        "G": b.job("LZ-TX-WYM", local(12, 1, 9, 0), headcount=2, filled=2, filled_after=0.5 * hour),
        # Week 47: outside a two-week report.
        "H": b.job("LZ-TX", local(11, 22, 23, 59), headcount=7, filled=7, filled_after=hour),
    }
    a1, a2 = b.placement(jobs["A"]), b.placement(jobs["A"])
    e1, f1, g1 = b.placement(jobs["E"]), b.placement(jobs["F"]), b.placement(jobs["G"])

    # Follow-ups, week 48. Taixi: the worker of A rates the employer 4, the other does not answer;
    # the employer gives one worker 5 and reports the other did not come (0).
    b.follow_up(a1, FollowUpParty.WORKER, local(11, 24, 9), stars=4)
    b.follow_up(a2, FollowUpParty.WORKER, local(11, 24, 9), stars=None, answered=False)
    b.follow_up(a1, FollowUpParty.EMPLOYER, local(11, 24, 9), stars=5)
    b.follow_up(a2, FollowUpParty.EMPLOYER, local(11, 24, 9), stars=0)
    # Dongjie: the worker rates the employer 2, the employer rates the worker 3.
    b.follow_up(f1, FollowUpParty.WORKER, local(11, 27, 9), stars=2)
    b.follow_up(f1, FollowUpParty.EMPLOYER, local(11, 27, 9), stars=3)
    # Week 49, Taixi: one follow-up sent, not answered yet.
    b.follow_up(e1, FollowUpParty.WORKER, local(11, 30, 9), stars=None, answered=False)

    # Wage cases: Dongjie's opened in week 48 (1200 owed) and recovered in full in week 49; Taixi's
    # opened in week 49 (300 owed); one without a site (the district's) opened in week 49 (500).
    b.case(f1, market.site("LZ-DJ").id, local(11, 28, 10), owed=1200, closed=local(12, 2, 15), recovered=1200)
    b.case(a2, market.site("LZ-TX").id, local(12, 1, 11), owed=300)
    b.case(e1, None, local(12, 1, 12), owed=500)

    # Day insurance: Taixi, week 48: A's two workers on Tuesday and E's worker on the Sunday; a failed
    # and a cancelled enrolment never count. Dongjie, week 49: the Monday. The village: Tuesday.
    b.enrolment(a1, date(2026, 11, 24))
    b.enrolment(a2, date(2026, 11, 24))
    b.enrolment(e1, date(2026, 11, 29))
    b.enrolment(a1, date(2026, 11, 25), EnrolmentStatus.FAILED)
    b.enrolment(a2, date(2026, 11, 25), EnrolmentStatus.CANCELLED)
    b.enrolment(f1, date(2026, 11, 30))
    b.enrolment(g1, date(2026, 12, 1))
    commit(runtime, session)
    return Data(market, jobs, b.offers)
