"""The rescue actions of the job page: each changes the job through matching's own paths (offers and
their texts through the outbox, a yes on the phone through the same place claim as an SMS yes), is
audited, and refuses with a reason (changing nothing) when it cannot be done."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select

from dispatch.models import (
    Contact,
    EmployerBlock,
    JobStatus,
    OfferStatus,
    OutboxEvent,
    Ticket,
    TicketKind,
    TicketStatus,
    WorkerStatus,
)
from tests.console.helpers import console_post
from tests.console.jobs.conftest import audit_of, matched
from tests.factories import NOW, TOMORROW, Market, commit
from tests.helpers import fresh, offers_of, outbound_to, placed_reply, run_jobs, text_in


def act(client, job, action: str, **data):
    response = console_post(client, f"/console/jobs/{job.id}/{action}", data)
    assert response.status_code == 302, response.get_data(as_text=True)
    return client.get(response.headers["Location"]).get_data(as_text=True)


def test_next_wave_now_asks_the_next_radius_at_once(runtime, session, market: Market, agent_client) -> None:
    near = market.worker(site="LZ-TX")
    further = market.worker(site="LZ-XJ")  # 1.3 km: the 3 km wave
    job = matched(runtime, session, market)
    [first] = offers_of(session, job)
    assert (first.worker_id, first.wave, first.status) == (near.id, 1, OfferStatus.SENT)

    page = act(agent_client, job, "next-wave")
    assert "已发出新一轮邀请：1人。" in page
    first, second = offers_of(session, job)
    # wave 1 counts as lapsed (a late yes still takes a place); wave 2 went to the next radius
    assert first.status == OfferStatus.EXPIRED
    assert (second.worker_id, second.wave, second.status) == (further.id, 2, OfferStatus.SENT)
    [sms] = outbound_to(session, further.phone)
    assert sms.kind == "offer" and f"回复 1 {job.code} 接单" in sms.body
    job = fresh(session, job)
    assert job.wave == 2
    # the history the page shows: wave 1 ended now, wave 2 lapses an hour from now
    lapsed = [datetime.fromisoformat(wave["expires_at"]) for wave in job.matching["waves"]]
    assert lapsed == [NOW, NOW + timedelta(minutes=60)]
    # as after any wave, the next one is scheduled for this one's expiry
    scheduled = session.scalars(
        select(OutboxEvent).where(OutboxEvent.task == "dispatch.matching.tasks.send_wave")
    ).all()
    assert [job.id, 3] in [event.args for event in scheduled]
    [audit] = audit_of(session, "job.next_wave")
    assert (audit.target_id, audit.details) == (job.id, {"wave": 2, "radius_km": 3.0, "offers": 1})

    # the old wave's worker can still take the place by text
    text_in(agent_client, f"1 {job.code}", sender=near.phone)
    assert fresh(session, job).filled == 1


def test_next_wave_with_nobody_left_in_reach_changes_nothing(
    runtime, session, market: Market, agent_client
) -> None:
    market.worker(site="LZ-TX")
    market.worker(site="LZ-MC")  # 9.7 km: beyond wave 2's 3 km
    job = matched(runtime, session, market)
    page = act(agent_client, job, "next-wave")
    assert "3.0公里范围内没有还没邀请过的合适零工。" in page
    [offer] = offers_of(session, job)
    assert offer.status == OfferStatus.SENT  # the wave out keeps running
    assert fresh(session, job).wave == 1 and audit_of(session, "job.next_wave") == []


def test_widening_reaches_every_town_of_an_escalated_job(
    runtime, session, market: Market, agent_client
) -> None:
    job = matched(runtime, session, market)  # nobody registered: every wave empty, an agent's ticket
    assert fresh(session, job).status == JobStatus.ESCALATED
    far = market.worker(site="LZ-MC")  # registered since
    commit(runtime, session)

    page = act(agent_client, job, "widen")
    assert "已向全区发出邀请：1人。" in page
    [offer] = offers_of(session, job)
    assert (offer.worker_id, offer.status) == (far.id, OfferStatus.SENT)
    assert offer.explanation["km"] > 9 and offer.score > 0
    assert outbound_to(session, far.phone)[0].kind == "offer"
    job = fresh(session, job)
    # an escalated job stays with the agents: no automatic wave follows theirs
    assert job.status == JobStatus.ESCALATED and job.matching["waves"][-1]["radius_km"] == 20.0
    new_events = session.scalars(
        select(OutboxEvent).where(OutboxEvent.task == "dispatch.matching.tasks.send_wave")
    ).all()
    assert [job.id, offer.wave + 1] not in [event.args for event in new_events]
    [audit] = audit_of(session, "job.widen")
    assert audit.details["offers"] == 1

    # its yes books the worker as any yes would, and the agents' ticket closes itself
    text_in(agent_client, f"1 {job.code}", sender=far.phone)
    assert fresh(session, job).status == JobStatus.FILLED
    ticket = session.scalar(select(Ticket).where(Ticket.job_id == job.id))
    assert (ticket.kind, ticket.status) == (TicketKind.UNFILLED_JOB, TicketStatus.RESOLVED)


def test_the_candidates_to_call_and_an_offer_to_one_of_them(
    runtime, session, market: Market, agent_client
) -> None:
    workers = [market.worker(name=f"工{i}", rating=(5 * i, i)) for i in range(5)]
    job = matched(runtime, session, market)  # wave 1: the 3 best rated
    offered = {offer.worker_id for offer in offers_of(session, job)}
    assert offered == {w.id for w in workers[2:]}

    page = agent_client.get(f"/console/jobs/{job.id}").get_data(as_text=True)
    call = page[page.index("可以打电话联系的零工") : page.index("邀请（按轮次）")]
    # those not offered, best first, with phone and score
    assert call.index(f'data-worker="{workers[1].id}"') < call.index(f'data-worker="{workers[0].id}"')
    assert all(f'data-worker="{worker_id}"' not in call for worker_id in offered)
    assert "137 " in call and "得分" in call

    page = act(agent_client, job, "offer", worker_id=workers[0].id)
    assert f"已给 工0（137 {workers[0].phone[6:10]} {workers[0].phone[10:]}）发送邀请短信。" in page
    offer = offers_of(session, job)[-1]
    assert (offer.worker_id, offer.wave, offer.status) == (workers[0].id, 0, OfferStatus.SENT)
    assert offer.explanation["by"] == "agent" and offer.explanation["shares"]
    assert "坐席指派" in page
    [sms] = outbound_to(session, workers[0].phone)
    assert sms.kind == "offer" and f"1 {job.code}" in sms.body
    [audit] = audit_of(session, "job.offer")
    assert audit.details == {"worker_id": workers[0].id, "offer_id": offer.id}

    # offered once only
    page = act(agent_client, job, "offer", worker_id=workers[0].id)
    assert "已经邀请过这位零工了。" in page
    assert len(outbound_to(session, workers[0].phone)) == 1


def test_an_offer_by_phone_number_only_to_a_worker_who_fits(
    runtime, session, market: Market, agent_client
) -> None:
    job = matched(runtime, session, market, pay=300)
    other_job = market.job(work_date=TOMORROW, headcount=1)
    refusals = {
        "这位零工没有登记这个工种。": market.worker(trades=("cleaner",)),
        "这位零工目前不接单（未确认、暂停、退订或已停用）。": market.worker(status=WorkerStatus.PAUSED),
        "这位零工要求日薪至少350元，高于这个岗位的日薪。": market.worker(pay=350),
        "这位零工的号码收不到短信（已退订或号码无效）。": market.worker(),
        "用工主体不希望再用这位零工。": market.worker(),
        f"这位零工这几天已有岗位 {other_job.code}。": market.worker(),
    }
    unreachable, blocked, busy = list(refusals.values())[3:]
    session.add(Contact(phone=unreachable.phone, undeliverable_at=job.created_at))
    session.add(EmployerBlock(employer_id=job.employer_id, worker_id=blocked.id))
    commit(runtime, session)
    run_jobs(runtime)  # other_job's wave reaches `busy` ...
    text_in(agent_client, f"1 {other_job.code}", sender=busy.phone)  # ... who takes it
    messages_before = {w.id: len(outbound_to(session, w.phone)) for w in refusals.values()}

    for reason, worker in refusals.items():
        # typed as an agent would type it
        page = act(agent_client, job, "offer", phone=worker.phone[3:])
        assert reason in page, reason
    assert offers_of(session, job) == []
    assert {w.id: len(outbound_to(session, w.phone)) for w in refusals.values()} == messages_before
    assert "没有手机号为 13900000000 的登记零工。" in act(agent_client, job, "offer", phone="13900000000")
    assert "不是有效的手机号" in act(agent_client, job, "offer", phone="12345")
    assert audit_of(session, "job.offer") == []


def test_a_yes_on_the_phone_books_the_worker_and_never_overbooks(
    runtime, session, market: Market, agent_client, clock
) -> None:
    first = market.worker(name="张三")
    second = market.worker(name="李四", site="LZ-MC")  # never offered: phoned by the agent
    job = matched(runtime, session, market, headcount=1)

    page = act(agent_client, job, "confirm", phone=first.phone[3:], note="电话里答应了")
    assert "已为 张三 确认录用，现已招 1/1 人。" in page
    job = fresh(session, job)
    assert (job.filled, job.status) == (1, JobStatus.FILLED)
    [offer] = offers_of(session, job)
    assert (offer.worker_id, offer.status) == (first.id, OfferStatus.ACCEPTED)
    # the worker gets the address and the employer's phone, as after a `1 <code>` text
    assert placed_reply(session, first.phone).kind == "placement.worker"
    clock.shift(timedelta(seconds=61))
    run_jobs(runtime, with_scheduler=True)
    [told] = outbound_to(session, job.employer.phone)
    assert told.kind == "placement.employer" and "张三" in told.body
    [audit] = audit_of(session, "job.confirm_by_phone")
    assert audit.note == "电话里答应了"
    assert audit.details == {
        "worker_id": first.id,
        "offer_id": offer.id,
        "outcome": "placed",
        "filled": 1,
    }

    # the one place is gone: a second yes on the phone books nobody, and the same one is not booked twice
    assert "名额已满，没有空位了。" in act(agent_client, job, "confirm", worker_id=second.id)
    assert "这位零工已经确认了这个岗位。" in act(agent_client, job, "confirm", worker_id=first.id)
    job = fresh(session, job)
    assert job.filled == 1
    assert [(o.worker_id, o.status) for o in offers_of(session, job)] == [(first.id, OfferStatus.ACCEPTED)]
    assert outbound_to(session, second.phone) == []
    assert len(audit_of(session, "job.confirm_by_phone")) == 1


def test_a_yes_on_the_phone_after_a_no_by_text(runtime, session, market: Market, agent_client) -> None:
    worker = market.worker()
    job = matched(runtime, session, market, headcount=2)
    text_in(agent_client, f"2 {job.code}", sender=worker.phone)
    assert offers_of(session, job)[0].status == OfferStatus.DECLINED
    act(agent_client, job, "confirm", worker_id=worker.id)
    assert offers_of(session, job)[0].status == OfferStatus.ACCEPTED
    assert fresh(session, job).filled == 1


def test_raising_the_pay_needs_the_employers_consent_and_matches_again(
    runtime, session, market: Market, agent_client
) -> None:
    cheap = market.worker(pay=250)
    dear = market.worker(pay=400, site="LZ-TX")
    job = matched(runtime, session, market, pay=300)
    assert [o.worker_id for o in offers_of(session, job)] == [cheap.id]

    page = act(agent_client, job, "pay", daily_pay="450")  # the box not ticked
    assert "必须先征得用工主体同意" in page
    assert act(agent_client, job, "pay", daily_pay="300", employer_agreed="yes").count(
        "新日薪必须高于现在的300元"
    )
    assert fresh(session, job).daily_pay == 300 and audit_of(session, "job.raise_pay") == []

    page = act(agent_client, job, "pay", daily_pay="４５０", employer_agreed="yes", note="老板同意加钱")
    assert "日薪已提高到450元，重新匹配发出邀请1人。" in page
    assert fresh(session, job).daily_pay == 450
    [audit] = audit_of(session, "job.raise_pay")
    assert audit.note == "老板同意加钱"
    assert audit.details == {"old_pay": 300, "new_pay": 450, "employer_agreed": True}
    # the worker who wanted 400 a day is asked now, at the new pay
    offer = offers_of(session, job)[-1]
    assert (offer.worker_id, offer.status) == (dear.id, OfferStatus.SENT)
    [sms] = outbound_to(session, dear.phone)
    assert "450元/天" in sms.body


def test_cancelling_texts_the_booked_and_invited_workers(
    runtime, session, market: Market, agent_client
) -> None:
    booked = market.worker(name="张三")
    invited = market.worker(name="李四")
    job = matched(runtime, session, market, headcount=2)
    text_in(agent_client, f"1 {job.code}", sender=booked.phone)

    page = act(agent_client, job, "cancel", note="老板说不用了")
    assert "岗位已取消，已短信通知2位零工。" in page and "已取消" in page
    job = fresh(session, job)
    assert job.status == JobStatus.CANCELLED
    assert {o.status for o in offers_of(session, job)} == {OfferStatus.CANCELLED}
    for worker in (booked, invited):
        sms = outbound_to(session, worker.phone)[-1]
        assert sms.kind == "match.job_cancelled" and job.code in sms.body
    [audit] = audit_of(session, "job.cancel")
    assert audit.note == "老板说不用了"
    assert audit.details == {"status_before": "open", "workers_told": 2}
    # nothing more to do with it
    assert "这个岗位已不再招人" in act(agent_client, job, "cancel")
    assert "这个岗位已不再招人" in act(agent_client, job, "next-wave")
    assert len(audit_of(session, "job.cancel")) == 1


def test_actions_speak_english(runtime, session, market: Market, agent_client) -> None:
    job = matched(runtime, session, market)
    assert console_post(agent_client, "/console/language", {"lang": "en"}).status_code == 302
    page = act(agent_client, job, "pay", daily_pay="400")
    assert "The employer must agree first" in page and "Rescue: the job is not filling" in page
    page = act(agent_client, job, "widen")
    assert "No suitable worker within 20.0 km who was not offered it already." in page
