"""The day itself (issue 16, part 4): a worker's `到` and an employer's `没来 101`, as the webhook handles
them (real PostgreSQL), at the start of the work, before it, and for a job not on today."""

from __future__ import annotations

from datetime import datetime, time, timedelta

from sqlalchemy import func, select

from dispatch.models import Job, JobStatus, Offer, OfferStatus, Ticket, TicketKind, Worker
from tests.console.conftest import signed_in
from tests.console.helpers import make_agent
from tests.factories import SHANGHAI, Market, commit
from tests.followup.conftest import EVE
from tests.helpers import last_reply, outbound_to
from tests.inbound.test_routes import routed

DAY = EVE.date() + timedelta(days=1)
AT_WORK = datetime.combine(DAY, time(8, 5), tzinfo=SHANGHAI)


def placed_on(session, market: Market, *workers: Worker, standby: tuple[Worker, ...] = (), **job) -> Job:  # type: ignore[no-untyped-def]
    """A job of DAY at 8:00 whose places these workers hold, in this order (and these on standby)."""
    row = market.job(headcount=len(workers), work_date=DAY, start=time(8, 0), **job)
    for minute, worker in enumerate(workers):
        session.add(
            Offer(
                job_id=row.id,
                worker_id=worker.id,
                wave=1,
                status=OfferStatus.ACCEPTED,
                responded_at=EVE + timedelta(minutes=minute),
            )
        )
    for worker in standby:
        session.add(
            Offer(job_id=row.id, worker_id=worker.id, wave=1, status=OfferStatus.STANDBY, responded_at=EVE)
        )
    row.filled = len(workers)
    row.status = JobStatus.FILLED
    session.flush()
    return row


def offer_of(session, job: Job, worker: Worker) -> Offer:  # type: ignore[no-untyped-def]
    session.expire_all()
    return session.scalar(select(Offer).where(Offer.job_id == job.id, Offer.worker_id == worker.id))


def test_dao_notes_the_arrival_once_and_tells_the_employer(
    runtime, session, market: Market, clock, app
) -> None:
    worker = market.worker(name="李四")
    job = placed_on(session, market, worker)
    commit(runtime, session)
    clock.move_to(AT_WORK)
    assert routed(runtime, "到了", worker.phone)[0] == "a worker arrived (到)"
    assert offer_of(session, job, worker).arrived_at is not None
    assert last_reply(session, worker.phone).kind == "arrival.ok"
    told = last_reply(session, job.employer.phone)
    assert told.kind == "arrival.employer" and "李四" in told.body and "08:05" in told.body
    routed(runtime, f"到 {job.code}", worker.phone)  # said twice: the employer hears it once
    assert [m.kind for m in outbound_to(session, job.employer.phone)].count("arrival.employer") == 1
    # The agent's job page shows it beside the placement.
    agent = make_agent(session, "district1", "agent", "LZ")
    page = signed_in(app, agent).get(f"/console/jobs/{job.id}").get_data(as_text=True)
    assert f'data-arrived="{offer_of(session, job, worker).id}"' in page and "已到岗" in page


def test_dao_with_no_place_today_says_so(runtime, session, market: Market, clock) -> None:
    worker = market.worker()
    commit(runtime, session)
    clock.move_to(AT_WORK)
    routed(runtime, "到", worker.phone)
    reply = last_reply(session, worker.phone)
    assert reply.kind == "arrival.which" and "没有已接的活" in reply.body


def test_mei_lai_frees_the_place_and_offers_it_to_the_standby_list(
    runtime, session, market: Market, clock
) -> None:
    absent, waiting = market.worker(name="王五"), market.worker()
    # Two days: at 08:05 on the first, the second's start can still be offered (never a start gone by).
    job = placed_on(session, market, absent, standby=(waiting,), days=2)
    commit(runtime, session)
    clock.move_to(AT_WORK)
    assert routed(runtime, f"没来 {job.code}", job.employer.phone)[0] == "a worker did not come (没来 101)"
    offer = offer_of(session, job, absent)
    assert offer.status == OfferStatus.CANCELLED and offer.no_show_at is not None
    assert session.get(Worker, absent.id).no_shows == 1
    fresh = session.get(Job, job.id)
    assert (fresh.filled, fresh.status) == (0, JobStatus.OPEN)
    assert offer_of(session, job, waiting).status == OfferStatus.SENT  # the standby worker is asked first
    told = last_reply(session, job.employer.phone)
    assert told.kind == "no_show.ok" and "王五" in told.body and "候补的1人" in told.body
    assert last_reply(session, absent.phone).kind == "no_show.worker"
    # A late yes from the absent worker takes nothing back.
    routed(runtime, f"1 {job.code}", absent.phone)
    assert offer_of(session, job, absent).status == OfferStatus.CANCELLED


def test_with_nobody_on_standby_after_the_start_an_agent_finds_someone(
    runtime, session, market: Market, clock
) -> None:
    absent = market.worker()
    job = placed_on(session, market, absent)
    commit(runtime, session)
    clock.move_to(AT_WORK)
    routed(runtime, f"没来{job.code}", job.employer.phone)
    session.expire_all()
    assert session.get(Job, job.id).status == JobStatus.ESCALATED
    tickets = select(func.count(Ticket.id)).where(
        Ticket.job_id == job.id, Ticket.kind == TicketKind.UNFILLED_JOB
    )
    assert session.scalar(tickets) == 1
    assert "工作人员会尽快帮您找人" in last_reply(session, job.employer.phone).body


def test_early_in_the_morning_before_the_start_a_refill_wave_goes(
    runtime, session, market: Market, clock
) -> None:
    """At 06:40, before the 8:00 start: the place reopens for a normal refill wave, no agent."""
    absent = market.worker()
    job = placed_on(session, market, absent)
    commit(runtime, session)
    clock.move_to(datetime.combine(DAY, time(6, 40), tzinfo=SHANGHAI))
    routed(runtime, f"没来 {job.code}", job.employer.phone)
    session.expire_all()
    assert session.get(Job, job.id).status == JobStatus.OPEN
    assert session.scalar(select(func.count(Ticket.id)).where(Ticket.job_id == job.id)) == 0


def test_several_not_arrived_the_employer_says_which(runtime, session, market: Market, clock) -> None:
    first, second, third = market.worker(name="甲"), market.worker(name="乙"), market.worker(name="丙")
    job = placed_on(session, market, first, second, third)
    commit(runtime, session)
    clock.move_to(AT_WORK)
    routed(runtime, "到", first.phone)
    routed(runtime, f"没来 {job.code}", job.employer.phone)
    asked = last_reply(session, job.employer.phone)
    assert asked.kind == "no_show.which" and "2号乙" in asked.body and "3号丙" in asked.body
    assert "甲" not in asked.body
    routed(runtime, f"没来 {job.code} 3", job.employer.phone)
    assert offer_of(session, job, third).status == OfferStatus.CANCELLED
    assert offer_of(session, job, second).status == OfferStatus.ACCEPTED


def test_mei_lai_for_a_job_not_on_today_changes_nothing(runtime, session, market: Market, clock) -> None:
    worker = market.worker()
    job = placed_on(session, market, worker)
    commit(runtime, session)
    routed(runtime, f"没来 {job.code}", job.employer.phone)  # the eve: the job is tomorrow
    assert last_reply(session, job.employer.phone).kind == "no_show.unknown"
    assert offer_of(session, job, worker).status == OfferStatus.ACCEPTED
