"""A worker asks for work (`找活`, issue 16 part 7): the nearest open jobs they fit, each with its code,
and `1 <code>` takes one under the first-come rules; `我的` tells the places held and the month's work."""

from __future__ import annotations

from datetime import time, timedelta

from sqlalchemy import select

from dispatch.models import Job, JobStatus, Offer, OfferStatus, Worker, WorkerStatus
from tests.factories import Market, commit
from tests.followup.conftest import EVE
from tests.helpers import last_reply, outbound_to
from tests.inbound.test_routes import routed


def offer_of(session, job: Job, worker: Worker) -> Offer | None:  # type: ignore[no-untyped-def]
    session.expire_all()
    return session.scalar(select(Offer).where(Offer.job_id == job.id, Offer.worker_id == worker.id))


def quiet_job(session, market: Market, **options) -> Job:  # type: ignore[no-untyped-def]
    """An open job no wave has texted yet (its matching not run)."""
    return market.job(**options)


def test_zhao_huo_lists_the_nearest_fitting_jobs_and_1_code_takes_one(
    runtime, session, market: Market
) -> None:
    worker = market.worker(site="LZ-TX", trades=("porter",), pay=200)
    near = quiet_job(session, market, trade="porter", site="LZ-TX", pay=260)
    far = quiet_job(session, market, trade="porter", site="LZ-DJ", pay=300)
    other_trade = quiet_job(session, market, trade="painter", site="LZ-TX")
    too_cheap = quiet_job(session, market, trade="porter", site="LZ-TX", pay=150)
    commit(runtime, session)

    name, _ = routed(runtime, "找活", worker.phone)
    assert name == "a worker asks for jobs (找活)"
    text = last_reply(session, worker.phone)
    assert text.kind == "pull.jobs"
    assert text.body.index(near.code) < text.body.index(far.code)  # nearest first
    assert other_trade.code not in text.body and too_cheap.code not in text.body
    assert offer_of(session, near, worker).status == OfferStatus.SENT
    assert offer_of(session, other_trade, worker) is None

    routed(runtime, f"1 {near.code}", worker.phone)
    assert offer_of(session, near, worker).status == OfferStatus.ACCEPTED
    session.expire_all()
    assert session.get(Job, near.id).filled == 1


def test_zhao_huo_with_a_trade_lists_only_that_trade(runtime, session, market: Market) -> None:
    worker = market.worker(trades=("porter", "painter"))
    porter = quiet_job(session, market, trade="porter")
    painter = quiet_job(session, market, trade="painter")
    commit(runtime, session)
    routed(runtime, "找活 油漆工", worker.phone)
    body = last_reply(session, worker.phone).body
    assert painter.code in body and porter.code not in body


def test_a_full_job_and_one_the_worker_turned_down_are_not_listed(runtime, session, market: Market) -> None:
    worker = market.worker(trades=("porter",))
    full = quiet_job(session, market, trade="porter")
    full.filled = full.headcount
    full.status = JobStatus.FILLED
    refused = quiet_job(session, market, trade="porter")
    commit(runtime, session)
    routed(runtime, "找活", worker.phone)
    routed(runtime, f"2 {refused.code}", worker.phone)
    assert offer_of(session, refused, worker).status == OfferStatus.DECLINED
    routed(runtime, "找活", worker.phone)
    reply = last_reply(session, worker.phone)
    assert reply.kind == "pull.none"
    assert "暂时没有适合您的活" in reply.body
    assert offer_of(session, full, worker) is None


def test_at_most_three_jobs_in_one_text_of_two_segments(runtime, session, market: Market) -> None:
    worker = market.worker(trades=("porter",))
    jobs = [quiet_job(session, market, trade="porter") for _ in range(5)]
    commit(runtime, session)
    routed(runtime, "找活", worker.phone)
    reply = last_reply(session, worker.phone)
    assert sum(job.code in reply.body for job in jobs) == 3
    assert reply.segments <= 2
    offered = [job for job in jobs if offer_of(session, job, worker) is not None]
    assert len(offered) == 3
    assert all(offer_of(session, job, worker).message_id == reply.id for job in offered)


def test_a_paused_worker_is_told_so_not_listed_jobs(runtime, session, market: Market) -> None:
    worker = market.worker(trades=("porter",))
    worker.status = WorkerStatus.PAUSED
    job = quiet_job(session, market, trade="porter")
    commit(runtime, session)
    routed(runtime, "找活", worker.phone)
    assert last_reply(session, worker.phone).kind == "pull.not_active"
    assert offer_of(session, job, worker) is None


def test_late_at_night_a_job_starting_too_soon_for_an_answer_is_not_listed(
    runtime, session, market: Market, clock
) -> None:
    """At 23:58 a job starting at 00:05 leaves less than an offer's 10 minutes to answer; 8:00 does not.
    The listing is a reply: it goes at once, quiet hours or not."""
    worker = market.worker(trades=("porter",))
    night = EVE.replace(hour=23, minute=58)
    clock.move_to(night)
    day = (night + timedelta(days=1)).date()
    soon = quiet_job(session, market, trade="porter", work_date=day, start=time(0, 5))
    later = quiet_job(session, market, trade="porter", work_date=day, start=time(8, 0))
    commit(runtime, session)
    routed(runtime, "找活", worker.phone)
    body = last_reply(session, worker.phone).body
    assert later.code in body and soon.code not in body


def test_wo_de_tells_the_places_held_and_this_months_work(runtime, session, market: Market, clock) -> None:
    worker = market.worker(trades=("porter",))
    done = quiet_job(
        session, market, trade="porter", work_date=EVE.date() - timedelta(days=3), days=2, pay=250
    )
    coming = quiet_job(session, market, trade="porter", work_date=EVE.date() + timedelta(days=2))
    for job in (done, coming):
        session.add(Offer(job_id=job.id, worker_id=worker.id, wave=1, status=OfferStatus.ACCEPTED))
        job.filled = 1
    commit(runtime, session)
    routed(runtime, "我的", worker.phone)
    profile, record = outbound_to(session, worker.phone)[-2:]
    assert (profile.kind, record.kind) == ("worker.profile", "worker.record")
    assert f"岗位{coming.code}" in record.body and f"岗位{done.code}" not in record.body
    assert "本月做工2天，约500元" in record.body


def test_wo_de_with_nothing_held_or_worked_is_the_profile_alone(runtime, session, market: Market) -> None:
    worker = market.worker()
    commit(runtime, session)
    routed(runtime, "我的", worker.phone)
    assert [m.kind for m in outbound_to(session, worker.phone)] == ["worker.profile"]
