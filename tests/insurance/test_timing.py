"""When a cancellation is late, and which day is "today": the start of the first working day not yet
begun decides, on the market's clock (Asia/Shanghai), never the UTC date."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import select

from dispatch.clock import utcnow
from dispatch.jobs import services as jobs
from dispatch.matching import services
from dispatch.models import AuditEvent, Employer, EnrolmentStatus, JobStatus, Message, OfferStatus, Worker
from tests.console.helpers import console_post, make_agent, sign_in
from tests.factories import SHANGHAI, Market, offered
from tests.helpers import fresh, offers_of, outbound_to, text_in
from tests.insurance.conftest import enrolments_of

ENROLLED, CANCELLED = EnrolmentStatus.ENROLLED, EnrolmentStatus.CANCELLED


def _worker_figures(session, worker: Worker) -> tuple[int, int]:
    session.expire_all()
    worker = session.get(Worker, worker.id)
    return worker.no_shows, worker.cancellations


def _late_cancellations(session, job) -> int:
    session.expire_all()
    return session.get(Employer, job.employer_id).late_cancellations


def _days(session, job) -> list[tuple[int, EnrolmentStatus]]:
    return [(e.work_date.day, e.status) for e in enrolments_of(session, job)]


def test_giving_back_the_days_ahead_of_a_long_job_in_good_time_is_no_no_show(
    runtime, session, market: Market, client, clock
):
    """Five days from 2 December; on day 2 (3 December, under way) the worker gives back days 3-5, the
    next of which begins 23 hours later: an ordinary cancellation, and the days worked stay insured."""
    worker = market.worker(name="张三")
    job = offered(runtime, session, market, worker, days=5)
    text_in(client, f"1 {job.code}", sender=worker.phone)

    clock.move_to(datetime(2026, 12, 3, 9, 0, tzinfo=SHANGHAI))
    text_in(client, f"取消 {job.code}", sender=worker.phone)

    assert _worker_figures(session, worker) == (0, 1)
    assert [(o.given_back_at is not None, o.cancelled_late) for o in offers_of(session, job)] == [
        (True, False)
    ]
    assert _days(session, job) == [
        (2, ENROLLED),
        (3, ENROLLED),
        (4, CANCELLED),
        (5, CANCELLED),
        (6, CANCELLED),
    ]


def test_giving_back_the_next_day_the_evening_before_is_late(runtime, session, market: Market, client, clock):
    worker = market.worker(name="张三")
    job = offered(runtime, session, market, worker, days=3)
    text_in(client, f"1 {job.code}", sender=worker.phone)
    [offer] = offers_of(session, job)

    clock.move_to(datetime(2026, 12, 2, 20, 30, tzinfo=SHANGHAI))  # day 2 begins in 11.5 hours
    text_in(client, f"取消 {job.code}", sender=worker.phone)

    assert _worker_figures(session, worker) == (1, 0)
    assert [o.id for o in offers_of(session, job) if o.cancelled_late] == [offer.id]


def test_giving_back_a_one_day_job_after_its_start_leaves_the_no_show_to_the_employer(
    runtime, session, market: Market, client, clock
):
    """Given back with the day under way: did the worker come at all? The employer says so in the
    follow-up (`0` counts the no-show, tests/followup/test_ended_placements.py): here a cancellation."""
    worker = market.worker(name="张三")
    job = offered(runtime, session, market, worker)
    text_in(client, f"1 {job.code}", sender=worker.phone)

    clock.move_to(datetime(2026, 12, 2, 8, 30, tzinfo=SHANGHAI))
    text_in(client, f"取消 {job.code}", sender=worker.phone)

    assert _worker_figures(session, worker) == (0, 0)
    assert _days(session, job) == [(2, ENROLLED)]  # under way: the worker may be on site after all


def test_an_employer_calling_off_the_days_ahead_in_good_time_is_not_counted(
    runtime, session, market: Market, client, clock
):
    worker = market.worker(name="张三")
    job = offered(runtime, session, market, worker, days=3)
    text_in(client, f"1 {job.code}", sender=worker.phone)

    clock.move_to(datetime(2026, 12, 3, 9, 0, tzinfo=SHANGHAI))  # day 2 under way, day 3 23 hours off
    told = services.cancel_job(session, runtime.settings, fresh(session, job), utcnow())

    assert [offer.worker_id for offer in told] == [worker.id]
    assert _late_cancellations(session, job) == 0
    assert _days(session, job) == [(2, ENROLLED), (3, ENROLLED), (4, CANCELLED)]


def test_calling_off_a_job_whose_every_day_has_begun_is_not_counted(
    runtime, session, market: Market, client, clock
):
    worker = market.worker(name="张三")
    job = offered(runtime, session, market, worker, days=2)
    text_in(client, f"1 {job.code}", sender=worker.phone)

    clock.move_to(datetime(2026, 12, 3, 15, 0, tzinfo=SHANGHAI))  # the last day, under way
    services.cancel_job(session, runtime.settings, fresh(session, job), utcnow())

    assert fresh(session, job).status == JobStatus.CANCELLED
    assert _late_cancellations(session, job) == 0
    assert _days(session, job) == [(2, ENROLLED), (3, ENROLLED)]  # both were worked (or begun)


def test_a_job_whose_days_are_over_is_not_called_off(runtime, session, market: Market, app, client, clock):
    """The console's cancel button is still on a filled job's page after its day: pressing it must not
    cancel places that were worked (follow-ups and wages go by them), nor count against the employer."""
    worker = market.worker(name="张三")
    job = offered(runtime, session, market, worker)
    text_in(client, f"1 {job.code}", sender=worker.phone)
    assert fresh(session, job).status == JobStatus.FILLED
    make_agent(session, "district1", "agent", "LZ")

    clock.move_to(datetime(2026, 12, 5, 10, 0, tzinfo=SHANGHAI))  # the job (2 December) is long over
    agent = app.test_client()
    sign_in(agent, "district1")  # now: a session signed in days ago would have ended
    assert jobs.cancel_job(session, fresh(session, job), runtime.settings, utcnow()) == []
    response = console_post(agent, f"/console/jobs/{job.id}/cancel", {"note": "x"})

    assert response.status_code == 302
    job = fresh(session, job)
    assert (job.status, job.filled, job.cancelled_at) == (JobStatus.FILLED, 1, None)
    assert [offer.status for offer in offers_of(session, job)] == [OfferStatus.ACCEPTED]
    assert _days(session, job) == [(2, ENROLLED)]
    assert _late_cancellations(session, job) == 0
    kinds = [m.kind for m in outbound_to(session, worker.phone)]
    assert kinds == ["offer", "placement.worker", "placement.insurance"]
    # The agent is told why, and nothing is written as if it had been called off.
    assert "工期已经结束" in agent.get(response.headers["Location"]).get_data(as_text=True)
    audit = session.scalars(select(AuditEvent.action).where(AuditEvent.target_id == job.id)).all()
    assert "job.cancel" not in audit


# -- the market's date, not UTC's: 07:00 in Shanghai is 23:00 UTC the day before -------------------


def test_a_place_taken_early_in_the_morning_is_insured_from_the_markets_today(
    runtime, session, market: Market, client, clock
):
    """Three days from 2 December; the worker says yes at 07:00 on 3 December (2 December in UTC):
    2 December is over in the market, it is neither enrolled nor counted."""
    worker = market.worker(name="张三")
    job = offered(runtime, session, market, worker, days=3)

    clock.move_to(datetime(2026, 12, 3, 7, 0, tzinfo=SHANGHAI))
    assert utcnow().date() == date(2026, 12, 2)
    text_in(client, f"1 {job.code}", sender=worker.phone)

    assert fresh(session, job).filled == 1
    assert _days(session, job) == [(3, ENROLLED), (4, ENROLLED)]
    reference = enrolments_of(session, job)[0].reference
    reply = session.scalars(
        select(Message).where(Message.phone == worker.phone).order_by(Message.id.desc()).limit(1)
    ).one()
    assert f"（共2天），保单号{reference}" in reply.body

    # Given back at 07:30: day 2 (3 December) begins in half an hour - late, whatever UTC's date says.
    clock.move_to(datetime(2026, 12, 3, 7, 30, tzinfo=SHANGHAI))
    text_in(client, f"取消 {job.code}", sender=worker.phone)
    assert _worker_figures(session, worker) == (1, 0)
    assert _days(session, job) == [(3, CANCELLED), (4, CANCELLED)]
