"""Late cancellations feed the figures matching ranks on: a place given back less than LATE_CANCEL_HOURS
before the start counts as a no-show; an employer calling off a staffed job that late is counted too."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select

from dispatch.clock import utcnow
from dispatch.jobs import services as jobs
from dispatch.matching import services
from dispatch.models import Employer, EnrolmentStatus, Worker
from dispatch.models.people import MatchPool
from tests.console.helpers import console_post, make_agent, sign_in
from tests.factories import SHANGHAI, Market, offered
from tests.helpers import fresh, offers_of, text_in
from tests.insurance.conftest import enrolments_of

# The jobs start tomorrow (2 December) at 08:00; LATE_CANCEL_HOURS is 12: late from 1 December 20:00.
EARLY = datetime(2026, 12, 1, 19, 59, tzinfo=SHANGHAI)
LATE = datetime(2026, 12, 1, 20, 1, tzinfo=SHANGHAI)


def _figures(session, worker: Worker) -> tuple[int, int, int, int]:
    """The worker's no-shows and cancellations, and the copies candidate ranking reads (match_pool)."""
    session.expire_all()
    worker = session.get(Worker, worker.id)
    pool = session.scalars(select(MatchPool).where(MatchPool.worker_id == worker.id)).first()
    return worker.no_shows, worker.cancellations, pool.no_shows, pool.cancellations


def test_a_place_given_back_in_good_time_is_a_cancellation(runtime, session, market: Market, client, clock):
    worker = market.worker(name="张三")
    job = offered(runtime, session, market, worker)
    text_in(client, f"1 {job.code}", sender=worker.phone)

    clock.move_to(EARLY)
    text_in(client, f"取消 {job.code}", sender=worker.phone)

    assert _figures(session, worker) == (0, 1, 0, 1)
    assert [(o.given_back_at is not None, o.cancelled_late) for o in offers_of(session, job)] == [
        (True, False)
    ]


def test_a_place_given_back_late_counts_as_a_no_show(runtime, session, market: Market, client, clock):
    worker = market.worker(name="张三")
    job = offered(runtime, session, market, worker)
    text_in(client, f"1 {job.code}", sender=worker.phone)
    [offer] = offers_of(session, job)

    clock.move_to(LATE)
    text_in(client, f"取消 {job.code}", sender=worker.phone)

    assert _figures(session, worker) == (1, 0, 1, 0)
    assert [o.id for o in offers_of(session, job) if o.cancelled_late] == [offer.id]
    assert [e.status for e in enrolments_of(session, job)] == [EnrolmentStatus.CANCELLED]


def _late_cancellations(session, job) -> int:
    session.expire_all()
    return session.get(Employer, job.employer_id).late_cancellations


def test_an_employer_calling_off_a_staffed_job_late_is_counted(
    runtime, session, market: Market, app, client, clock
):
    """Through the console, as an agent does it for the employer on the phone."""
    worker = market.worker(name="张三")
    job = offered(runtime, session, market, worker)
    text_in(client, f"1 {job.code}", sender=worker.phone)
    make_agent(session, "district1", "agent", "LZ")
    agent = app.test_client()
    sign_in(agent, "district1")

    clock.move_to(LATE)
    response = console_post(agent, f"/console/jobs/{job.id}/cancel", {"note": "老板说不用了"})
    assert response.status_code == 302

    assert _late_cancellations(session, job) == 1
    assert [e.status for e in enrolments_of(session, job)] == [EnrolmentStatus.CANCELLED]


def test_an_employer_calling_off_in_good_time_or_before_anyone_is_placed_is_not(
    runtime, session, market: Market, client, clock
):
    worker = market.worker(name="张三")
    staffed = offered(runtime, session, market, worker)
    text_in(client, f"1 {staffed.code}", sender=worker.phone)
    unstaffed = market.job()  # nobody placed yet: nobody is let down
    session.commit()

    clock.move_to(EARLY)
    services.cancel_job(session, runtime.settings, fresh(session, staffed), utcnow())
    clock.move_to(LATE)
    services.cancel_job(session, runtime.settings, fresh(session, unstaffed), utcnow())

    assert _late_cancellations(session, staffed) == 0
    assert _late_cancellations(session, unstaffed) == 0


def test_the_phone_menus_cancellation_counts_too(runtime, session, market: Market, client, clock):
    """Key 3 of the employer's phone menu calls the jobs service directly (dispatch.ivr.manage)."""
    worker = market.worker(name="张三")
    job = offered(runtime, session, market, worker, days=2)
    text_in(client, f"1 {job.code}", sender=worker.phone)

    clock.move_to(datetime(2026, 12, 2, 9, 0, tzinfo=SHANGHAI))  # day 1 is under way
    told = jobs.cancel_job(session, fresh(session, job), runtime.settings, utcnow())

    assert [offer.worker_id for offer in told] == [worker.id]
    assert _late_cancellations(session, job) == 1
    statuses = [(e.work_date.day, e.status) for e in enrolments_of(session, job)]
    assert statuses == [(2, EnrolmentStatus.ENROLLED), (3, EnrolmentStatus.CANCELLED)]
