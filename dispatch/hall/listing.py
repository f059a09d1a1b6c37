"""The public job list for phones (`/jobs`, by trade and town) and one job's page (`/j/<code>`)."""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session, joinedload

from dispatch.catalogue import towns_in_number_order, trades_in_menu_order
from dispatch.hall import screen
from dispatch.matching.in_time import next_start
from dispatch.matching.services import TAKING
from dispatch.models import Job, JobStatus, Site, SiteLevel, Trade
from dispatch.settings import Settings

PAGE_SIZE = 20
# Not yet published: an SMS request the employer has not confirmed, a job held for an agent's review.
# Their codes exist, but the public is told nothing of them (404, as for a code that names nothing).
UNPUBLISHED = frozenset({JobStatus.DRAFT, JobStatus.HELD})


class JobState(enum.StrEnum):
    OPEN = "open"  # a place can still be taken
    FILLED = "filled"  # every place was taken
    CLOSED = "closed"  # cancelled, expired, or its last working day has begun


@dataclass
class PublicList:
    jobs: list[Job]
    page: int
    has_next: bool
    trades: list[Trade]
    towns: list[Site]
    trade: Trade | None  # the filters chosen (None: all)
    town: Site | None


def job_list(
    session: Session,
    settings: Settings,
    now: datetime,
    trade_code: str | None,
    town_code: str | None,
    page: int,
) -> PublicList:
    """A page of the open jobs, soonest first, of one trade and one town (with its villages) if chosen.
    An unknown trade or town is no filter (a stale shared link still lists something)."""
    trades = trades_in_menu_order(session)
    trade = next((t for t in trades if t.code == trade_code), None)
    town = screen.site_by_code(session, town_code)
    if town is not None and town.level == SiteLevel.DISTRICT:
        town = None  # the whole district is no filter at all
    site_ids = screen.subtree_ids(session, town) if town is not None else None
    page = max(1, page)
    jobs = screen.open_jobs(
        session,
        settings,
        now,
        site_ids,
        trade.id if trade else None,
        limit=PAGE_SIZE + 1,  # one more: is there a next page?
        offset=(page - 1) * PAGE_SIZE,
    )
    return PublicList(
        jobs=jobs[:PAGE_SIZE],
        page=page,
        has_next=len(jobs) > PAGE_SIZE,
        trades=trades,
        towns=towns_in_number_order(session),
        trade=trade,
        town=town,
    )


def job_by_code(
    session: Session, settings: Settings, code: str, now: datetime
) -> tuple[Job, JobState] | None:
    """The published job with this code and what the public may still do with it; None: no such job."""
    if not screen.well_formed(code):
        return None
    job = session.scalar(
        select(Job)
        .where(Job.code == code)
        .options(joinedload(Job.trade), joinedload(Job.site).joinedload(Site.parent))
    )
    if job is None or job.status in UNPUBLISHED:
        return None
    return job, state_of(settings, job, now)


def state_of(settings: Settings, job: Job, now: datetime) -> JobState:
    if next_start(settings, job, now) is None:
        return JobState.FILLED if job.status == JobStatus.FILLED else JobState.CLOSED
    if job.status in TAKING and job.remaining > 0:
        return JobState.OPEN
    if job.status == JobStatus.FILLED or (job.status in TAKING and job.remaining == 0):
        return JobState.FILLED
    return JobState.CLOSED
