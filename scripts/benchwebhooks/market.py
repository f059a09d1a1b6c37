"""The population the webhooks meet: registered workers, employers, and open jobs with open offers."""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import date, timedelta
from datetime import time as clock_time
from zoneinfo import ZoneInfo

from sqlalchemy import insert, select

from dispatch.clock import utcnow
from dispatch.db import Database
from dispatch.models import (
    Contact,
    Employer,
    Job,
    JobSource,
    JobStatus,
    Offer,
    OfferStatus,
    RegisteredVia,
    Site,
    Trade,
    Worker,
    WorkerStatus,
    WorkerTrade,
)

SHANGHAI = ZoneInfo("Asia/Shanghai")


@dataclass
class Market:
    worker_phones: list[str]
    offers: list[tuple[str, str]]  # (worker phone, job code) of every open offer
    employers: list[tuple[int, int]]  # (employer id, site id)
    trades: list[int]
    sites: list[int]
    counts: dict[str, int] = field(default_factory=dict)


def tomorrow() -> date:
    return (utcnow().astimezone(SHANGHAI) + timedelta(days=1)).date()


def build_market(url: str, rng: random.Random, workers: int, reply_jobs: int, offers_per_job: int) -> Market:
    """Registered workers (1-2 trades each, at every site), employers, and open jobs with open
    offers: what the replies of the load will find."""
    database = Database(url)
    now = utcnow()
    with database.transaction() as session:
        sites = list(session.scalars(select(Site.id).order_by(Site.id)))
        trades = list(session.scalars(select(Trade.id).order_by(Trade.id)))
        rows = [
            {
                "phone": f"+86139{number:08d}",
                "name": f"工人{number}",
                "home_site_id": rng.choice(sites),
                "min_daily_pay": rng.randrange(150, 260, 10),
                "status": WorkerStatus.ACTIVE,
                "consent_at": now,
                "registered_via": RegisteredVia.SMS,
                "rating_sum": 0,
                "rating_count": 0,
                "placements_worked": rng.randrange(0, 20),
                "no_shows": 0,
                "cancellations": 0,
                "notes": "",
                "created_at": now,
                "updated_at": now,
            }
            for number in range(1, workers + 1)
        ]
        ids = list(session.scalars(insert(Worker).returning(Worker.id, sort_by_parameter_order=True), rows))
        by_trade: dict[int, list[int]] = {trade: [] for trade in trades}
        skills = []
        for worker_id in ids:
            for trade in rng.sample(trades, rng.choice([1, 1, 2])):
                skills.append(
                    {"worker_id": worker_id, "trade_id": trade, "years_experience": rng.randrange(0, 15)}
                )
                by_trade[trade].append(worker_id)
        session.execute(insert(WorkerTrade), skills)
        session.execute(
            insert(Contact),
            [
                {"phone": row["phone"], "language": "en" if rng.random() < 0.1 else "zh", "created_at": now}
                for row in rows
            ],
        )
        phones = {worker_id: row["phone"] for worker_id, row in zip(ids, rows, strict=True)}
        employers = []
        for number in range(1, 41):
            employer = Employer(
                phone=f"+86135{number:08d}",
                name=f"老板{number}",
                site_id=rng.choice(sites),
                address=f"建设路{number}号",
            )
            session.add(employer)
            session.flush()
            employers.append((employer.id, employer.site_id))
        offers = []
        for number in range(reply_jobs):
            employer_id, site_id = rng.choice(employers)
            trade = rng.choice(trades)
            job = Job(
                employer_id=employer_id,
                trade_id=trade,
                headcount=rng.randrange(10, 40),
                filled=0,
                work_date=tomorrow(),
                start_time=clock_time(8, 0),
                days=1,
                end_date=tomorrow(),
                daily_pay=300,
                site_id=site_id,
                address=f"建设路{number}号",
                status=JobStatus.OPEN,
                source=JobSource.IVR,
                wave=1,
                matching={},
            )
            session.add(job)
            session.flush()
            job.code = str(100 + job.id)
            chosen = rng.sample(by_trade[trade], min(offers_per_job, len(by_trade[trade])))
            session.execute(
                insert(Offer),
                [
                    {
                        "job_id": job.id,
                        "worker_id": worker_id,
                        "wave": 1,
                        "status": OfferStatus.SENT,
                        "score": 0.5,
                        "explanation": {},
                        "created_at": now,
                        "sent_at": now,
                        "expires_at": now + timedelta(hours=3),
                    }
                    for worker_id in chosen
                ],
            )
            offers += [(phones[worker_id], job.code) for worker_id in chosen]
    database.engine.dispose()
    return Market(
        worker_phones=[row["phone"] for row in rows],
        offers=offers,
        employers=employers,
        trades=trades,
        sites=sites,
        counts={"workers": workers, "employers": len(employers), "jobs": reply_jobs, "offers": len(offers)},
    )
