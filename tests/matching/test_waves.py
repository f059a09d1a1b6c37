"""Offer waves with a controlled clock: sizes, expiry, the widening radius, an early next wave when
declines exhaust one, escalation to an agent's ticket, idempotent re-runs, refills, the safety sweep.

Waves run as real RQ jobs: scheduled through the outbox for their expiry, moved by RQ's scheduler
when the (travelled) clock reaches it."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

import pytest
import time_machine
from rq.registry import ScheduledJobRegistry
from sqlalchemy import select

from dispatch.matching import tasks
from dispatch.models import (
    Contact,
    Job,
    JobStatus,
    Offer,
    OfferStatus,
    Ticket,
    TicketKind,
    TicketStatus,
    Worker,
    WorkerStatus,
)
from dispatch.queue import get_queue
from tests.factories import NOW, SHANGHAI, TOMORROW, Market, commit
from tests.helpers import fresh, offers_of, outbound_to, run_jobs, text_in

START = NOW  # where the shared `clock` starts


def scheduled_waves(runtime) -> list[tuple[list, datetime]]:
    registry = ScheduledJobRegistry(queue=get_queue("matching", runtime.redis))
    waves = []
    for job_id in registry.get_job_ids():
        job = get_queue("matching", runtime.redis).fetch_job(job_id)
        waves.append((list(job.args), registry.get_scheduled_time(job_id)))
    return sorted(waves, key=lambda wave: wave[1])


def start(runtime, session, market: Market, **job_options) -> Job:
    job = market.job(**job_options)
    commit(runtime, session)
    run_jobs(runtime)
    return job


def test_wave_one_goes_to_the_best_near_workers(runtime, session, market: Market, clock) -> None:
    near = [market.worker(site="LZ-TX", rating=(5 * i, i)) for i in range(8)]
    market.worker(site="LZ-XBT")  # 8.6 km away: not in wave 1's 1 km
    job = start(runtime, session, market, headcount=2)

    offers = offers_of(session, job)
    # ceil(2 places * overfill 1.2 / acceptance 0.4) = 6, the best rated first
    assert len(offers) == 6
    assert [offer.worker_id for offer in offers] == [worker.id for worker in near[::-1][:6]]
    assert {(offer.wave, offer.status) for offer in offers} == {(1, OfferStatus.SENT)}
    assert {offer.expires_at for offer in offers} == {START + timedelta(minutes=60)}
    # each offer an SMS, naming the job's code, and how to answer
    [sms] = outbound_to(session, near[7].phone)
    by = (START + timedelta(minutes=60)).astimezone(SHANGHAI).strftime("%H:%M")  # when it lapses
    assert sms.body == (
        f"【潞州零工】水电工 明天8点 1天 300元/天 太行西街街道。"
        f"{by}前回复 1 {job.code} 接单，2 {job.code} 不接"
    )
    assert sms.kind == "offer" and offers[0].message_id is not None
    assert outbound_to(session, near[0].phone) == []  # the two lowest rated wait for a later wave
    # the explanation an agent sees
    shares = offers[0].explanation["shares"]
    assert set(shares) == {"distance", "rating", "reliability", "fairness", "experience"}
    assert sum(shares.values()) == pytest.approx(offers[0].score)
    # rotation: the workers offered go to the back of the line
    session.expire_all()
    assert session.get(Worker, near[7].id).last_offered_at == START
    assert session.get(Worker, near[0].id).last_offered_at is None
    # the next wave is an RQ job scheduled for the expiry
    assert scheduled_waves(runtime) == [([job.id, 2], START + timedelta(minutes=60))]
    assert fresh(session, job).wave == 1


def test_a_job_starting_today_gets_quicker_answers(runtime, session, market: Market, clock) -> None:
    market.worker()
    job = start(runtime, session, market, work_date=START.date(), start=time(14, 30))
    [offer] = offers_of(session, job)
    assert offer.expires_at == START + timedelta(minutes=10)
    [sms] = outbound_to(session, offer.worker.phone)
    assert "今天14点30分" in sms.body


def test_in_english(runtime, session, market: Market, clock) -> None:
    worker = market.worker(language="en")
    job = start(runtime, session, market, days=2, start=time(7, 30))
    [sms] = outbound_to(session, worker.phone)
    [offer] = offers_of(session, job)
    by = offer.expires_at.astimezone(SHANGHAI).strftime("%H:%M")
    assert sms.body == (
        f"Luzhou Jobs: plumber, tomorrow 7:30, 2 days, ¥300/day, Taihang West Street. "
        f"Reply by {by}: 1 {job.code}=yes, 2 {job.code}=no"
    )
    assert sms.segments == 1


def test_expiry_brings_wave_two_with_a_wider_radius(runtime, session, market: Market, clock) -> None:
    first = market.worker(site="LZ-TX-FHX")  # 0.6 km: wave 1 (1 km)
    town = [market.worker(site="LZ-XJ"), market.worker(site="LZ-CQ")]  # 1.3 and 1.7 km: wave 2 (3 km)
    market.worker(site="LZ-LDS")  # 6.7 km: wave 3 (8 km)
    job = start(runtime, session, market)
    assert [o.worker_id for o in offers_of(session, job)] == [first.id]

    clock.shift(timedelta(minutes=59))
    run_jobs(runtime, with_scheduler=True)
    assert len(offers_of(session, job)) == 1  # not yet

    clock.shift(timedelta(minutes=1))
    run_jobs(runtime, with_scheduler=True)
    offers = {o.worker_id: (o.wave, o.status) for o in offers_of(session, job)}
    assert offers == {
        first.id: (1, OfferStatus.EXPIRED),
        town[0].id: (2, OfferStatus.SENT),
        town[1].id: (2, OfferStatus.SENT),
    }
    job = fresh(session, job)
    assert job.wave == 2
    history = [(w["wave"], w["radius_km"], w["offers"]) for w in job.matching["waves"]]
    assert history == [(1, 1.0, 1), (2, 3.0, 2)]
    assert scheduled_waves(runtime) == [([job.id, 3], START + timedelta(minutes=120))]


def test_declines_that_exhaust_a_wave_bring_the_next_at_once(
    runtime, session, market: Market, client, clock
) -> None:
    near = [market.worker(site="LZ-TX") for _ in range(3)]
    further = market.worker(site="LZ-CQ")  # 1.7 km
    job = start(runtime, session, market)
    assert {o.worker_id for o in offers_of(session, job)} == {w.id for w in near}

    text_in(client, f"2 {job.code}", sender=near[0].phone)
    text_in(client, "没空", sender=near[1].phone)
    run_jobs(runtime)
    assert len(offers_of(session, job)) == 3  # one still out: wait for it
    text_in(client, "N", sender=near[2].phone)
    run_jobs(runtime)  # no clock shift: the next wave went at once

    offers = offers_of(session, job)
    assert [o.status for o in offers[:3]] == [OfferStatus.DECLINED] * 3
    assert (offers[3].worker_id, offers[3].wave, offers[3].status) == (further.id, 2, OfferStatus.SENT)
    assert (
        outbound_to(session, near[0].phone)[-1].body
        == f"【潞州零工】收到，岗位{job.code}您不接。有合适的活再通知您。"
    )


def test_running_a_wave_twice_sends_each_offer_once(runtime, session, market: Market, clock) -> None:
    near = market.worker(site="LZ-TX")
    further = market.worker(site="LZ-CQ")
    job = start(runtime, session, market)
    assert tasks.match_job(job.id) == {"skipped": 1}  # wave 1 again: already out

    clock.shift(timedelta(hours=1))
    assert tasks.send_wave(job.id, 2) == {"expired": 1, "wave": 2, "offers": 1}
    assert tasks.send_wave(job.id, 2) == {"skipped": 1}
    run_jobs(runtime, with_scheduler=True)  # the scheduled copy of wave 2 finds it done
    assert [(o.worker_id, o.wave) for o in offers_of(session, job)] == [(near.id, 1), (further.id, 2)]
    assert len(outbound_to(session, further.phone)) == 1


def test_after_the_last_wave_an_agent_gets_the_job(runtime, session, market: Market, client, clock) -> None:
    workers = [
        market.worker(site=code) for code in ("LZ-TX", "LZ-CQ", "LZ-LDS", "LZ-XBT")
    ]  # 0, 1.7, 6.7, 8.6 km
    job = start(runtime, session, market, headcount=2)
    for wave in range(1, 5):
        assert fresh(session, job).wave == wave
        clock.shift(timedelta(hours=1))
        run_jobs(runtime, with_scheduler=True)
    assert [(o.worker_id, o.wave, o.status) for o in offers_of(session, job)] == [
        (workers[0].id, 1, OfferStatus.EXPIRED),
        (workers[1].id, 2, OfferStatus.EXPIRED),
        (workers[2].id, 3, OfferStatus.EXPIRED),
        (workers[3].id, 4, OfferStatus.EXPIRED),
    ]
    job = fresh(session, job)
    assert job.status == JobStatus.ESCALATED
    [ticket] = session.scalars(select(Ticket).where(Ticket.job_id == job.id)).all()
    assert (ticket.kind, ticket.status, ticket.employer_id, ticket.site_id) == (
        TicketKind.UNFILLED_JOB,
        TicketStatus.OPEN,
        job.employer_id,
        job.site_id,
    )
    assert ticket.details == {"waves": 4, "offers": 4, "declined": 0, "expired": 4, "remaining": 2}
    [told] = outbound_to(session, job.employer.phone)
    assert told.body == f"【潞州零工】岗位{job.code}（水电工）还差2人没招到，客服会尽快联系您。"
    assert scheduled_waves(runtime) == []

    # A late yes still takes a place on an escalated job; filling it resolves the ticket.
    text_in(client, f"1 {job.code}", sender=workers[0].phone)
    text_in(client, f"好 {job.code}", sender=workers[3].phone)
    session.expire_all()
    assert fresh(session, job).status == JobStatus.FILLED
    assert session.get(Ticket, ticket.id).status == TicketStatus.RESOLVED


def test_nobody_in_reach_goes_to_an_agent_at_once(runtime, session, market: Market, clock) -> None:
    market.worker(trades=("porter",))
    market.worker(pay=500)
    job = start(runtime, session, market)
    job = fresh(session, job)
    assert job.status == JobStatus.ESCALATED and job.wave == 4
    assert offers_of(session, job) == []
    assert session.scalar(select(Ticket.kind).where(Ticket.job_id == job.id)) == TicketKind.UNFILLED_JOB


def test_a_wave_jumps_to_the_first_radius_with_anyone(runtime, session, market: Market, clock) -> None:
    far = market.worker(site="LZ-XBT")  # 8.6 km from Taihang West: only the last wave reaches it
    job = start(runtime, session, market)
    [offer] = offers_of(session, job)
    assert (offer.worker_id, offer.wave) == (far.id, 4)
    assert scheduled_waves(runtime) == [([job.id, 5], START + timedelta(minutes=60))]


def test_a_cancelled_place_goes_to_standby_first(runtime, session, market: Market, client, clock) -> None:
    a, b, c = (market.worker(site="LZ-TX", name=name) for name in ("张三", "李四", "王五"))
    job = start(runtime, session, market)
    text_in(client, f"1 {job.code}", sender=a.phone)
    text_in(client, f"1 {job.code}", sender=b.phone)  # full: standby
    clock.shift(timedelta(minutes=2))
    run_jobs(runtime, with_scheduler=True)  # the employer hears of 张三
    assert outbound_to(session, b.phone)[-1].body == (
        f"【潞州零工】岗位{job.code}名额已满，谢谢您！您已排上候补，有人取消会先通知您。"
    )

    text_in(client, f"取消 {job.code}", sender=a.phone)
    run_jobs(runtime)
    offers = {o.worker_id: o for o in offers_of(session, job)}
    assert offers[a.id].status == OfferStatus.CANCELLED
    assert offers[b.id].status == OfferStatus.SENT  # offered again, first in line
    assert offers[c.id].status == OfferStatus.CANCELLED  # closed when the job filled; not re-offered
    assert outbound_to(session, b.phone)[-1].body.startswith("【潞州零工】有空位了！水电工 明天8点")
    session.expire_all()
    assert session.get(Worker, a.id).cancellations == 1
    assert fresh(session, job).status == JobStatus.OPEN and fresh(session, job).filled == 0
    assert outbound_to(session, job.employer.phone)[-1].body.startswith("【潞州零工】张三 137")

    text_in(client, "1", sender=b.phone)
    assert fresh(session, job).status == JobStatus.FILLED


def test_a_cancelled_place_without_standby_brings_a_refill_wave(
    runtime, session, market: Market, client, clock
) -> None:
    near = [market.worker(site="LZ-TX") for _ in range(3)]
    later = market.worker(site="LZ-CQ")
    job = start(runtime, session, market)
    text_in(client, f"1 {job.code}", sender=near[0].phone)  # fills it: the other two offers close
    text_in(client, f"CANCEL {job.code}", sender=near[0].phone)
    run_jobs(runtime)
    offers = {o.worker_id: (o.wave, o.status) for o in offers_of(session, job)}
    assert offers == {
        near[0].id: (1, OfferStatus.CANCELLED),
        near[1].id: (1, OfferStatus.CANCELLED),
        near[2].id: (1, OfferStatus.CANCELLED),
        later.id: (2, OfferStatus.SENT),
    }


def test_the_sweep_restarts_a_job_whose_wave_job_was_lost(runtime, session, market: Market, clock) -> None:
    market.worker(site="LZ-TX")
    further = market.worker(site="LZ-CQ")
    job = start(runtime, session, market)
    runtime.redis.flushdb()  # Redis lost the scheduled wave 2

    clock.shift(timedelta(minutes=61))
    assert tasks.sweep_offers() == {"expired": 0, "restarted": 0, "never_started": 0}  # within the grace
    clock.shift(timedelta(minutes=2))
    assert tasks.sweep_offers() == {"expired": 1, "restarted": 1, "never_started": 0}
    run_jobs(runtime)
    assert [(o.worker_id, o.wave) for o in offers_of(session, job)][-1] == (further.id, 2)


def test_the_sweep_starts_a_job_whose_first_wave_never_went(runtime, session, market: Market, clock) -> None:
    worker = market.worker()
    job = market.job()
    session.commit()  # committed, but its outbox row never relayed (and Redis lost)
    clock.shift(timedelta(minutes=3))
    assert tasks.sweep_offers() == {"expired": 0, "restarted": 0, "never_started": 1}
    run_jobs(runtime)
    assert [o.worker_id for o in offers_of(session, job)] == [worker.id]


@pytest.mark.parametrize("settings_overrides", [{"QUIET_HOURS": "21:00-08:00"}])
def test_offers_made_at_night_go_out_and_expire_from_the_morning(runtime, session, market: Market) -> None:
    night = datetime(2026, 12, 1, 22, 30, tzinfo=SHANGHAI)
    morning = datetime(2026, 12, 2, 8, 0, tzinfo=SHANGHAI)
    with time_machine.travel(night, tick=False):
        worker = market.worker()
        job = start(runtime, session, market, work_date=date(2026, 12, 3))
        [offer] = offers_of(session, job)
        [sms] = outbound_to(session, worker.phone)
    assert sms.send_after == morning
    assert offer.expires_at == morning + timedelta(minutes=60)
    assert "明天8点" in sms.body  # read on the 2nd: the 3rd is tomorrow


def test_a_job_whose_days_are_over_is_left_alone(runtime, session, market: Market, clock) -> None:
    market.worker(site="LZ-TX")
    market.worker(site="LZ-CQ")
    job = start(runtime, session, market, work_date=START.date(), start=time(18))
    clock.shift(timedelta(days=1))
    assert tasks.send_wave(job.id, 2) == {"expired": 1, "job_over": 1}
    assert fresh(session, job).status == JobStatus.EXPIRED
    assert [o.status for o in offers_of(session, job)] == [OfferStatus.EXPIRED]


def test_the_sweep_moves_a_job_whose_declined_wave_lost_its_next(
    runtime, session, market: Market, client, clock
) -> None:
    near = [market.worker(site="LZ-TX") for _ in range(2)]
    further = market.worker(site="LZ-CQ")  # 1.7 km: wave 2
    job = start(runtime, session, market)
    for worker in near:
        text_in(client, f"2 {job.code}", sender=worker.phone)
    runtime.redis.flushdb()  # the next wave, queued at the last decline, is lost
    assert [o.status for o in offers_of(session, job)] == [OfferStatus.DECLINED] * 2

    assert tasks.sweep_offers() == {"expired": 0, "restarted": 0, "never_started": 0}  # within the grace
    clock.shift(timedelta(minutes=3))
    assert tasks.sweep_offers() == {"expired": 0, "restarted": 1, "never_started": 0}
    run_jobs(runtime)
    assert [(o.worker_id, o.wave, o.status) for o in offers_of(session, job)][-1] == (
        further.id,
        2,
        OfferStatus.SENT,
    )
    assert fresh(session, job).wave == 2


def test_standby_workers_are_checked_again_before_a_reopened_place(
    runtime, session, market: Market, client, clock
) -> None:
    a, e, paused, gone, booked, fine = (market.worker(site="LZ-TX") for _ in range(6))
    job = start(runtime, session, market, headcount=2)
    other = market.job(work_date=TOMORROW, trade="porter")  # a place elsewhere on the same day
    session.add(Offer(job_id=other.id, worker_id=booked.id, wave=1, status=OfferStatus.ACCEPTED))
    commit(runtime, session)
    for worker in (a, e, paused, gone, booked, fine):
        text_in(client, f"1 {job.code}", sender=worker.phone)  # a and e placed; the rest on standby
    with runtime.db.transaction() as work:
        work.get(Worker, paused.id).status = WorkerStatus.PAUSED
        contact = work.scalar(select(Contact).where(Contact.phone == gone.phone))
        contact.opted_out_at = START
    text_in(client, f"取消 {job.code}", sender=a.phone)
    run_jobs(runtime)
    offers = {o.worker_id: o.status for o in offers_of(session, job)}
    assert offers[fine.id] == OfferStatus.SENT
    assert (offers[paused.id], offers[gone.id], offers[booked.id]) == (OfferStatus.CANCELLED,) * 3
    for worker in (paused, gone, booked):
        assert not outbound_to(session, worker.phone)[-1].body.startswith("【潞州零工】有空位了")


def test_a_refill_after_the_last_wave_asks_again_at_the_widest_radius(
    runtime, session, market: Market, client, clock
) -> None:
    far = market.worker(site="LZ-XBT")  # only the last wave reaches it
    job = start(runtime, session, market)
    assert fresh(session, job).wave == 4
    text_in(client, f"1 {job.code}", sender=far.phone)
    newcomer = market.worker(site="LZ-LDS")  # registered since: 6.7 km
    commit(runtime, session)
    text_in(client, f"取消 {job.code}", sender=far.phone)
    run_jobs(runtime)
    job = fresh(session, job)
    assert job.status == JobStatus.OPEN and job.wave == 5
    assert [(o.worker_id, o.wave, o.status) for o in offers_of(session, job)][-1] == (
        newcomer.id,
        5,
        OfferStatus.SENT,
    )
    assert job.matching["waves"][-1]["radius_km"] == job.matching["waves"][0]["radius_km"]  # the widest
    assert session.scalars(select(Ticket).where(Ticket.job_id == job.id)).all() == []


def test_no_wave_goes_out_once_the_last_working_day_has_begun(
    runtime, session, market: Market, clock
) -> None:
    market.worker(site="LZ-TX")
    market.worker(site="LZ-CQ")
    job = start(runtime, session, market, work_date=START.date(), start=time(11, 0))
    assert len(offers_of(session, job)) == 1  # wave 1: the nearest worker
    clock.shift(timedelta(hours=1, minutes=5))  # 11:05: work has started, the place is still open
    assert tasks.send_wave(job.id, 2) == {"expired": 1, "started": 1}
    assert fresh(session, job).status == JobStatus.ESCALATED
    assert [offer.status for offer in offers_of(session, job)] == [OfferStatus.EXPIRED]
    tickets = session.scalars(select(Ticket).where(Ticket.job_id == job.id)).all()
    assert [ticket.kind for ticket in tickets] == [TicketKind.UNFILLED_JOB]


def test_a_job_of_several_days_is_still_offered_after_its_first_day_began(
    runtime, session, market: Market, clock
) -> None:
    market.worker(site="LZ-TX")
    market.worker(site="LZ-CQ")
    job = start(runtime, session, market, work_date=START.date(), start=time(11, 0), days=3)
    clock.shift(timedelta(hours=1, minutes=5))  # day 1 has begun; days 2 and 3 are still ahead
    counts = tasks.send_wave(job.id, 2)
    assert counts.get("started") is None and fresh(session, job).status == JobStatus.OPEN
    assert len(offers_of(session, job)) == 2
