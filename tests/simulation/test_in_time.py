"""The simulated day in time (issue 16): evening and before-dawn postings drawn apart from the morning's
(whose draws stay as they were), and the invariant "offers sent after their job's start" that sees an
offer text sent late."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

from sqlalchemy import select

from dispatch.models import Message, MessageStatus, Offer
from dispatch.simulation.market import LATE_HOURS, Market, build_market
from dispatch.simulation.people import ivr_keys, sms_request
from dispatch.simulation.report import offers_after_start
from tests.factories import SHANGHAI, commit
from tests.factories import Market as Factory
from tests.helpers import offers_of, run_jobs
from tests.simulation.places import seeded_places

DAY = date(2026, 6, 10)


def _market(session, late_jobs: int, seed: int = 7) -> Market:
    sites, trades = seeded_places(session)
    return build_market(
        seed,
        workers=50,
        employers=6,
        jobs=30,
        day=DAY,
        timezone="Asia/Shanghai",
        sites=sites,
        trades=trades,
        late_jobs=late_jobs,
    )


def test_late_postings_leave_the_morning_as_it_was(session, seeded) -> None:
    without, with_late = _market(session, 0), _market(session, 12)
    assert with_late.jobs[:30] == without.jobs and with_late.workers == without.workers
    late = with_late.jobs[30:]
    assert len(late) == 12 and [job.index for job in late] == list(range(30, 42))
    for job in late:
        local = job.at.astimezone(SHANGHAI)
        evening = time(18) <= local.time() < time(23, 40)
        dawn = time(5, 5) <= local.time() < time(6, 25)
        assert local.date() == DAY and (evening or dawn), local
        assert job.day_offset == (1 if evening else 0) and job.hour in LATE_HOURS
        # what the employer texts or keys in means that day and hour
        assert ("明天" if evening else "今天") in sms_request(with_late, job)
        assert ivr_keys(with_late, job, "date") == ("2" if evening else "1")
    assert {job.day_offset for job in late} == {0, 1}


def test_the_invariant_counts_offer_texts_sent_after_their_start(
    runtime, session, market: Factory, clock
) -> None:
    worker = market.worker()
    job = market.job(work_date=date(2026, 12, 2), start=time(7))
    commit(runtime, session)
    run_jobs(runtime)
    [offer] = offers_of(session, job)
    message = session.get(Message, offer.message_id)
    start = datetime(2026, 12, 2, 7, tzinfo=SHANGHAI)
    assert message.not_after == start
    settings = runtime.settings

    message.status, message.sent_at = MessageStatus.SENT, start - timedelta(minutes=40)
    session.flush()
    assert offers_after_start(session, settings) == 0
    message.sent_at = start + timedelta(minutes=5)  # what the delivery's check prevents
    session.flush()
    assert offers_after_start(session, settings) == 1
    message.sent_at, message.not_after = start - timedelta(minutes=40), None  # a text with no deadline
    session.flush()
    assert offers_after_start(session, settings) == 1
    assert session.scalars(select(Offer)).all() == [offer] and worker.id == offer.worker_id
