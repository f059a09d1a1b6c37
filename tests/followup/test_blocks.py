"""An employer's 0-1 star rating asks whether to stop sending that worker; `101 2 不要` blocks them for
that employer (audited), and matching leaves a blocked worker out of the employer's next job."""

from __future__ import annotations

from datetime import time, timedelta

from sqlalchemy import select

from dispatch.models import AuditEvent, EmployerBlock, Offer
from tests.factories import Market, commit
from tests.followup.conftest import DAY, at, place, run_follow_ups
from tests.helpers import last_reply, run_jobs, text_in

MORNING = at(DAY + timedelta(days=1), time(9, 0))


def rated(runtime, session, client, clock, market: Market, employer, *workers):  # type: ignore[no-untyped-def]
    job = place(runtime, session, client, clock, market, *workers, work_date=DAY, employer=employer)
    clock.move_to(MORNING)
    run_follow_ups(runtime)
    clock.move_to(MORNING + timedelta(minutes=30))
    return job


def blocks(session) -> list[tuple[int, int]]:  # type: ignore[no-untyped-def]
    session.expire_all()
    return [(b.employer_id, b.worker_id) for b in session.scalars(select(EmployerBlock))]


def test_a_low_rating_asks_and_the_answer_blocks_the_worker_from_the_next_job(
    runtime, session, client, clock, market: Market
) -> None:
    employer = market.employer(name="王老板")
    zhang, li = market.worker(name="张三"), market.worker(name="李四")
    job = rated(runtime, session, client, clock, market, employer, zhang, li)
    code = job.code

    text_in(client, f"{code} 1 4", sender=employer.phone)  # a good rating asks nothing
    assert "不要" not in last_reply(session, employer.phone).body
    text_in(client, f"{code} 2 1", sender=employer.phone)
    assert last_reply(session, employer.phone).body == (
        f"【潞州零工】谢谢，已记下岗位{code}第2位工人的评价。不想再用这位工人？回复 {code} 2 不要"
    )
    assert blocks(session) == []

    # The good one cannot be blocked this way (no low rating): the text goes on down the table.
    text_in(client, f"{code} 1 不要", sender=employer.phone)
    assert blocks(session) == []
    text_in(client, f"{code} 2 不要", sender=employer.phone)
    assert blocks(session) == [(employer.id, li.id)]
    assert last_reply(session, employer.phone).body == (
        f"【潞州零工】已记下：岗位{code}第2位工人李四以后不再派给您。要恢复请打市场电话。"
    )
    event = session.scalars(select(AuditEvent).where(AuditEvent.action == "employer_block.add")).one()
    assert (event.agent_id, event.target_type, event.target_id) == (None, "worker", li.id)
    assert event.details == {"employer_id": employer.id, "worker_id": li.id, "via": "sms"}
    text_in(client, f"{code} 不要", sender=employer.phone)  # again, the one low-rated worker: no second row
    assert blocks(session) == [(employer.id, li.id)]

    # The employer's next job: 张三 is offered it, 李四 (blocked for this employer) is not.
    clock.shift(timedelta(hours=1))
    next_job = market.job(employer, work_date=DAY + timedelta(days=4), headcount=2)
    commit(runtime, session)
    run_jobs(runtime)
    session.expire_all()
    offered = set(session.scalars(select(Offer.worker_id).where(Offer.job_id == next_job.id)))
    assert zhang.id in offered and li.id not in offered


def test_a_no_show_asks_too_and_english_block(runtime, session, client, clock, market: Market) -> None:
    employer = market.employer(name="Wang")
    worker = market.worker(name="Zhang")
    job = rated(runtime, session, client, clock, market, employer, worker)
    text_in(client, "EN", sender=employer.phone)
    text_in(client, f"{job.code} 0", sender=employer.phone)  # did not come
    assert last_reply(session, employer.phone).body.endswith(
        f"Not this worker again? Reply {job.code} 1 BLOCK"
    )
    text_in(client, f"{job.code} 1 block", sender=employer.phone)
    assert blocks(session) == [(employer.id, worker.id)]
    assert "will not be sent to you again" in last_reply(session, employer.phone).body


def test_a_worker_or_another_employer_cannot_block(runtime, session, client, clock, market: Market) -> None:
    employer, other = market.employer(), market.employer()
    worker = market.worker()
    job = rated(runtime, session, client, clock, market, employer, worker)
    text_in(client, f"{job.code} 1", sender=employer.phone)
    text_in(client, f"{job.code} 1 不要", sender=other.phone)
    text_in(client, f"{job.code} 1 不要", sender=worker.phone)
    assert blocks(session) == []


def test_two_workers_rated_low_the_bare_code_asks_which(
    runtime, session, client, clock, market: Market
) -> None:
    employer = market.employer()
    zhang, li = market.worker(name="张三"), market.worker(name="李四")
    job = rated(runtime, session, client, clock, market, employer, zhang, li)
    code = job.code
    text_in(client, f"{code} 1 1", sender=employer.phone)
    text_in(client, f"{code} 2 0", sender=employer.phone)
    text_in(client, f"{code} 不要", sender=employer.phone)
    assert last_reply(session, employer.phone).body == (
        f"【潞州零工】岗位{code}有几位工人您评分低：第1、2位。请回复 岗位号 工人序号 不要，如 {code} 1 不要"
    )
    assert blocks(session) == []
    text_in(client, f"{code} 1 不要", sender=employer.phone)
    assert blocks(session) == [(employer.id, zhang.id)]
