"""What the screen and the public list show: only jobs that still take workers and have a day not yet
begun, of the site's subtree, soonest first; each job's texts in both languages, at any hour (the day
words `今天`/`明天` follow the market's date, not UTC's)."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

import pytest

from dispatch.hall import screen
from dispatch.hall.listing import JobState, job_by_code, state_of
from dispatch.models import JobStatus
from tests.factories import NOW, SHANGHAI, Market, today, tomorrow


@pytest.fixture(autouse=True)
def _clock(clock):
    return clock


def _shown(session, settings, site_code: str | None = None, **options) -> list[str]:
    site = screen.site_by_code(session, site_code) if site_code else None
    ids = screen.subtree_ids(session, site) if site is not None else None
    return [job.code for job in screen.open_jobs(session, settings, datetime.now(SHANGHAI), ids, **options)]


def test_only_jobs_that_still_take_workers_are_shown(session, market: Market, runtime) -> None:
    settings = runtime.settings
    open_job = market.job(headcount=2)
    escalated = market.job()
    escalated.status = JobStatus.ESCALATED
    filled = market.job()
    filled.status, filled.filled = JobStatus.FILLED, 1
    full_but_open = market.job(headcount=2)  # the last place taken an instant before the status moved
    full_but_open.filled = 2
    cancelled = market.job()
    cancelled.status = JobStatus.CANCELLED
    expired = market.job()
    expired.status = JobStatus.EXPIRED
    held = market.job()
    held.status = JobStatus.HELD  # waits for an agent's review: not published
    draft = market.job()
    draft.status = JobStatus.DRAFT  # an SMS request the employer has not confirmed
    half = market.job(headcount=3)
    half.filled = 1
    session.flush()

    assert set(_shown(session, settings)) == {open_job.code, escalated.code, half.code}
    row = screen.public_row(settings, half, NOW, "010-6900 00")
    assert (
        row["left"] == 2
        and row["text"]["zh"]["left"] == "还缺2人"
        and row["text"]["en"]["left"] == "2 wanted"
    )


def test_a_job_goes_when_its_start_has_passed_and_a_longer_one_stays_for_its_days_ahead(
    session, market: Market, runtime
) -> None:
    settings = runtime.settings  # NOW is 10:00 on 1 December
    began = market.job(work_date=today(), start=time(8, 0))
    later_today = market.job(work_date=today(), start=time(14, 0))
    three_days = market.job(work_date=today(), start=time(8, 0), days=3)
    yesterday = market.job(work_date=today() - timedelta(days=1), days=1)
    session.flush()

    assert _shown(session, settings) == [three_days.code, later_today.code]
    assert began.code not in _shown(session, settings) and yesterday.code not in _shown(session, settings)
    row = screen.public_row(settings, three_days, NOW, "")
    # A newcomer would start tomorrow, for the two days left.
    assert (row["text"]["zh"]["when"], row["text"]["zh"]["days"]) == ("明天 08:00", "2天")
    assert (row["text"]["en"]["when"], row["text"]["en"]["days"]) == ("Tomorrow 08:00", "2 d")


def test_a_site_shows_its_own_jobs_and_its_villages(session, market: Market, runtime) -> None:
    settings = runtime.settings
    town = market.job(site="LZ-TX")
    village = market.job(site="LZ-TX-WYM")
    other_town = market.job(site="LZ-DJ")
    other_village = market.job(site="LZ-LDS-GC")
    session.flush()

    assert set(_shown(session, settings, "LZ-TX")) == {town.code, village.code}
    assert _shown(session, settings, "LZ-TX-WYM") == [village.code]
    assert set(_shown(session, settings, "LZ")) == {
        town.code,
        village.code,
        other_town.code,
        other_village.code,
    }
    assert set(_shown(session, settings)) == set(_shown(session, settings, "LZ"))
    row = screen.public_row(settings, village, NOW, "")
    assert row["text"]["zh"]["place"] == "太行西街 · 威远门北路"
    assert row["text"]["en"]["place"] == "Weiyuanmen North Road Community Station, Taihang West Street"


def test_a_trade_filter_and_the_order_soonest_first(session, market: Market, runtime) -> None:
    settings = runtime.settings
    later = market.job(trade="cleaner", work_date=tomorrow() + timedelta(days=3))
    soon = market.job(trade="cleaner", start=time(7, 0))
    plumber = market.job(trade="plumber_electrician", start=time(6, 0))
    session.flush()

    assert _shown(session, settings) == [plumber.code, soon.code, later.code]
    cleaner = market.trade("cleaner")
    assert _shown(session, settings, trade_id=cleaner.id) == [soon.code, later.code]
    row = screen.public_row(settings, later, NOW, "")
    assert row["text"]["zh"]["when"] == "12月5日 周六 08:00"
    assert row["text"]["en"]["when"] == "Sat 5 Dec 08:00"


@pytest.mark.parametrize(
    ("moment", "zh", "en"),
    [
        # 23:30 the night before: the market's tomorrow, though UTC's date is already the 2nd (15:30Z)
        (datetime(2026, 12, 1, 23, 30, tzinfo=SHANGHAI), "明天 07:00", "Tomorrow 07:00"),
        # 00:30 (16:30Z on the 1st in UTC): the market's today
        (datetime(2026, 12, 2, 0, 30, tzinfo=SHANGHAI), "今天 07:00", "Today 07:00"),
        # 06:00 in the early morning, an hour before the start
        (datetime(2026, 12, 2, 6, 0, tzinfo=SHANGHAI), "今天 07:00", "Today 07:00"),
    ],
)
def test_at_night_and_early_in_the_morning_the_day_is_the_markets(
    session, market: Market, runtime, clock, moment: datetime, zh: str, en: str
) -> None:
    job = market.job(work_date=date(2026, 12, 2), start=time(7, 0))
    session.flush()
    clock.move_to(moment)
    assert _shown(session, runtime.settings) == [job.code]
    row = screen.public_row(runtime.settings, job, moment, "")
    assert (row["text"]["zh"]["when"], row["text"]["en"]["when"]) == (zh, en)


def test_at_the_start_the_job_leaves_the_screen(session, market: Market, runtime, clock) -> None:
    job = market.job(work_date=date(2026, 12, 2), start=time(7, 0))
    session.flush()
    clock.move_to(datetime(2026, 12, 2, 6, 59, tzinfo=SHANGHAI))
    assert _shown(session, runtime.settings) == [job.code]
    clock.move_to(datetime(2026, 12, 2, 7, 0, tzinfo=SHANGHAI))
    assert _shown(session, runtime.settings) == []
    assert state_of(runtime.settings, job, datetime.now(SHANGHAI)) == JobState.CLOSED


def test_a_job_by_its_code_says_what_became_of_it(session, market: Market, runtime) -> None:
    settings = runtime.settings
    job = market.job(headcount=1)
    session.flush()
    assert job_by_code(session, settings, job.code, NOW) == (job, JobState.OPEN)
    job.filled, job.status = 1, JobStatus.FILLED
    assert job_by_code(session, settings, job.code, NOW) == (job, JobState.FILLED)
    job.status = JobStatus.CANCELLED
    assert job_by_code(session, settings, job.code, NOW) == (job, JobState.CLOSED)
    for unpublished in (JobStatus.DRAFT, JobStatus.HELD):
        job.status = unpublished
        assert job_by_code(session, settings, job.code, NOW) is None
    assert job_by_code(session, settings, "99999", NOW) is None
    assert job_by_code(session, settings, "1\x00", NOW) is None  # refused before the database sees it
