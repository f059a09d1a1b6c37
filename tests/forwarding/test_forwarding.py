"""Passing an offer to a friend (`转 123 13800138000`) through the signed /sms/inbound webhook: a friend who
fits gets an offer and can take the place, an unknown number is invited (and offered the job once it
registers), and a number that opted out, a friend who does not fit, a bad or own number, or no open
offer are refused with the forwarder's offer left as it was."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from dispatch.matching import config as matching_config
from dispatch.models import (
    Contact,
    EmployerBlock,
    ForwardOutcome,
    Job,
    JobStatus,
    OfferStatus,
    Ticket,
    TicketKind,
    Worker,
    WorkerStatus,
)
from dispatch.phones import display
from tests.forwarding.conftest import NOW, forwards, national, offer_of, offered, outbound_count
from tests.helpers import last_reply, outbound_to, run_jobs, text_in
from tests.matching.conftest import Market, commit

UNKNOWN = "+8613912345678"


def test_a_friend_who_fits_gets_the_offer_and_can_take_the_place(runtime, session, client, market: Market):
    forwarder = market.worker(name="张三", language="zh")
    job = offered(runtime, session, market, forwarder)
    friend = market.worker(name="李四")  # registered after wave 1 went out: not offered the job yet
    bystander = market.worker(name="王五")  # would be in the next wave
    commit(runtime, session)

    text_in(client, f"转 {job.code} {national(friend.phone)}", sender=forwarder.phone)
    run_jobs(runtime)

    config = matching_config.load(runtime.settings)
    mine, theirs = offer_of(session, job, forwarder), offer_of(session, job, friend)
    assert (mine.status, mine.responded_at) == (OfferStatus.DECLINED, NOW)
    assert theirs is not None and theirs.status == OfferStatus.SENT
    assert theirs.wave == mine.wave == 1
    assert theirs.expires_at == NOW + timedelta(minutes=config.expiry_later_minutes)  # a wave's expiry
    assert theirs.explanation["forwarded_by"] == forwarder.id and theirs.explanation["by"] == "forward"
    assert theirs.explanation["shares"]  # scored as a wave would have ranked them
    [forward] = forwards(session)
    assert (forward.outcome, forward.to_phone, forward.to_worker_id, forward.new_offer_id) == (
        ForwardOutcome.OFFERED,
        friend.phone,
        friend.id,
        theirs.id,
    )
    [sent] = outbound_to(session, friend.phone)
    assert sent.body == (
        f"【潞州零工】您的朋友张三（{display(forwarder.phone)}）把这个活转给您：水电工 明天8点 1天 300元/天 "
        f"太行西街街道。回复 1 {job.code} 接单，2 {job.code} 不接"
    )
    assert (sent.kind, sent.worker_id, sent.is_reply) == ("offer.forwarded", friend.id, False)
    assert theirs.message_id == sent.id
    assert last_reply(session, forwarder.phone).body == (
        f"【潞州零工】岗位{job.code}已转给{display(friend.phone)}。这个岗位您不用再回复，谢谢推荐！"
    )
    # The friend's offer holds the place: no next wave goes out at once.
    assert offer_of(session, job, bystander) is None

    text_in(client, f"1 {job.code}", sender=friend.phone)
    run_jobs(runtime)

    session.expire_all()
    assert offer_of(session, job, friend).status == OfferStatus.ACCEPTED
    assert (session.get(Job, job.id).filled, session.get(Job, job.id).status) == (1, JobStatus.FILLED)
    assert last_reply(session, friend.phone).kind == "placement.worker"


def test_an_unknown_number_is_invited_and_offered_the_job_once_it_registers(
    runtime, session, client, market: Market
):
    forwarder = market.worker(name="张三", language="zh")
    job = offered(runtime, session, market, forwarder)
    next_in_line = market.worker(name="王五")
    commit(runtime, session)

    text_in(client, f"转 {job.code} {national(UNKNOWN)}", sender=forwarder.phone)
    run_jobs(runtime)

    [invitation] = outbound_to(session, UNKNOWN)
    assert invitation.body == (
        f"【潞州零工】张三（{display(forwarder.phone)}）推荐您一个活："
        "水电工 明天8点 1天 300元/天 太行西街街道。"
        "想接请先登记，回复：注册 工种 地区 日薪 姓名，登记后即发给您。"
    )
    assert (invitation.kind, invitation.is_reply) == ("forward.invite", False)
    assert session.scalar(select(Contact).where(Contact.phone == UNKNOWN)).language == "zh"
    [forward] = forwards(session)
    assert (forward.outcome, forward.to_worker_id, forward.new_offer_id) == (
        ForwardOutcome.INVITED,
        None,
        None,
    )
    assert offer_of(session, job, forwarder).status == OfferStatus.DECLINED
    assert last_reply(session, forwarder.phone).body == (
        f"【潞州零工】岗位{job.code}已转给{display(UNKNOWN)}，并请对方先登记，登记后即发给对方。"
        "这个岗位您不用再回复，谢谢推荐！"
    )
    # Nobody holds the place while the friend registers: the next wave goes at once.
    assert offer_of(session, job, next_in_line).status == OfferStatus.SENT

    text_in(client, "注册 水电工 太西 250 李四", sender=UNKNOWN)
    text_in(client, "1", sender=UNKNOWN)
    run_jobs(runtime)

    friend = session.scalar(select(Worker).where(Worker.phone == UNKNOWN))
    theirs = offer_of(session, job, friend)
    assert theirs is not None and theirs.status == OfferStatus.SENT
    assert theirs.explanation["forwarded_by"] == forwarder.id
    [forward] = forwards(session)
    assert (forward.to_worker_id, forward.new_offer_id) == (friend.id, theirs.id)
    assert outbound_to(session, UNKNOWN)[-1].body.startswith(
        f"【潞州零工】您的朋友张三（{display(forwarder.phone)}）"
    )

    text_in(client, f"1 {job.code}", sender=UNKNOWN)
    assert offer_of(session, job, friend).status == OfferStatus.ACCEPTED


def _stopped_worker(session, market: Market, client) -> str:
    worker = market.worker(name="李四")
    session.commit()
    text_in(client, "退订", sender=worker.phone)
    return worker.phone


def _stopped_number(session, market: Market, client) -> str:
    text_in(client, "TD", sender=UNKNOWN)  # never registered, but said stop
    return UNKNOWN


def _undeliverable(session, market: Market, client) -> str:
    worker = market.worker(name="李四")
    session.add(Contact(phone=worker.phone, undeliverable_at=NOW, undeliverable_error=30006))
    session.flush()
    return worker.phone


@pytest.mark.parametrize("arrange", [_stopped_worker, _stopped_number, _undeliverable])
def test_a_number_that_opted_out_gets_nothing(runtime, session, client, market: Market, arrange):
    forwarder = market.worker(name="张三", language="zh")
    job = offered(runtime, session, market, forwarder)
    phone = arrange(session, market, client)
    commit(runtime, session)
    before = outbound_count(session, phone)

    text_in(client, f"转 {job.code} {national(phone)}", sender=forwarder.phone)
    run_jobs(runtime)

    assert outbound_count(session, phone) == before  # not even a suppressed row
    [forward] = forwards(session)
    assert forward.outcome == ForwardOutcome.REFUSED_OPTED_OUT
    assert offer_of(session, job, forwarder).status == OfferStatus.SENT
    assert last_reply(session, forwarder.phone).body == (
        f"【潞州零工】{display(phone)}已退订或收不到短信，没有发给对方。"
        f"您的岗位{job.code}仍有效，回复 1 {job.code} 接单。"
    )


def _other_trade(market: Market, job: Job, runtime, session, client) -> Worker:
    return market.worker(name="李四", trades=("cleaner",))


def _wants_more(market: Market, job: Job, runtime, session, client) -> Worker:
    return market.worker(name="李四", pay=400)


def _busy_that_day(market: Market, job: Job, runtime, session, client) -> Worker:
    friend = market.worker(name="李四", trades=("cleaner", "plumber_electrician"))
    other = offered(runtime, session, market, friend, trade="cleaner", work_date=job.work_date)
    text_in(client, f"1 {other.code}", sender=friend.phone)
    return friend


def _paused(market: Market, job: Job, runtime, session, client) -> Worker:
    return market.worker(name="李四", status=WorkerStatus.PAUSED)


def _blocked(market: Market, job: Job, runtime, session, client) -> Worker:
    friend = market.worker(name="李四")
    market.session.add(EmployerBlock(employer_id=job.employer_id, worker_id=friend.id))
    return friend


def _uninsurable(market: Market, job: Job, runtime, session, client) -> Worker:
    assert job.trade.high_risk  # electrical work goes out only insured, and the insurer needs a name
    return market.worker(name="")


@pytest.mark.parametrize(
    ("arrange", "why"),
    [
        (_other_trade, "对方没有登记水电工，没有发给对方。"),
        (_wants_more, "对方要的日薪高于这个岗位，没有发给对方。"),
        (_busy_that_day, "对方那几天已有活，没有发给对方。"),
        (_paused, "对方暂不接活，没有发给对方。"),
        (_blocked, "这个岗位不适合对方，没有发给对方。"),  # the forwarder is not told of the block
        (_uninsurable, "这个岗位不适合对方，没有发给对方。"),
    ],
)
def test_a_friend_who_does_not_fit_is_not_offered_it(runtime, session, client, market: Market, arrange, why):
    forwarder = market.worker(name="张三", language="zh")
    job = offered(runtime, session, market, forwarder)
    friend = arrange(market, job, runtime, session, client)
    commit(runtime, session)
    before = outbound_count(session, friend.phone)

    text_in(client, f"转 {job.code} {national(friend.phone)}", sender=forwarder.phone)
    run_jobs(runtime)

    assert offer_of(session, job, friend) is None
    assert outbound_count(session, friend.phone) == before
    [forward] = forwards(session)
    assert (forward.outcome, forward.to_worker_id) == (ForwardOutcome.REFUSED_NOT_FIT, friend.id)
    assert offer_of(session, job, forwarder).status == OfferStatus.SENT
    assert last_reply(session, forwarder.phone).body == (
        f"【潞州零工】{why}您的岗位{job.code}仍有效，回复 1 {job.code} 接单。"
    )


def test_a_friend_offered_the_job_already_is_not_offered_it_twice(runtime, session, client, market: Market):
    forwarder = market.worker(name="张三", language="zh")
    friend = market.worker(name="李四")
    job = offered(runtime, session, market, forwarder, friend)  # both in wave 1
    before = outbound_count(session, friend.phone)

    text_in(client, f"转 {job.code} {national(friend.phone)}", sender=forwarder.phone)

    assert outbound_count(session, friend.phone) == before
    assert [f.outcome for f in forwards(session)] == [ForwardOutcome.REFUSED_NOT_FIT]
    assert offer_of(session, job, forwarder).status == OfferStatus.SENT
    assert last_reply(session, forwarder.phone).body.startswith("【潞州零工】对方已收到这个岗位，不用再转。")


@pytest.mark.parametrize(
    ("number", "why"),
    [
        ("own", "这是您自己的号码，请填朋友的手机号。"),
        ("01062345678", "01062345678不是手机号，没有转发。"),  # a Beijing landline takes no texts
        ("12345", "12345不是手机号，没有转发。"),
    ],
)
def test_own_or_bad_numbers_are_refused(runtime, session, client, market: Market, number, why):
    forwarder = market.worker(name="张三", language="zh")
    job = offered(runtime, session, market, forwarder)
    typed = national(forwarder.phone) if number == "own" else number

    text_in(client, f"转 {job.code} {typed}", sender=forwarder.phone)

    [forward] = forwards(session)
    assert forward.outcome == ForwardOutcome.REFUSED_BAD_NUMBER
    assert offer_of(session, job, forwarder).status == OfferStatus.SENT
    assert last_reply(session, forwarder.phone).body == (
        f"【潞州零工】{why}您的岗位{job.code}仍有效，回复 1 {job.code} 接单。"
    )


def test_only_an_open_offer_can_be_passed_on(runtime, session, client, market: Market):
    forwarder = market.worker(name="张三", language="zh")
    job = offered(runtime, session, market, forwarder)
    stranger = "+8613811112222"

    text_in(client, f"转 99999 {national(UNKNOWN)}", sender=forwarder.phone)  # no such job
    assert last_reply(session, forwarder.phone).body == (
        "【潞州零工】您没有待回复的岗位99999，转不了：只能转发给您、您还没回复的岗位。"
    )
    text_in(client, f"转 {job.code} {national(UNKNOWN)}", sender=stranger)  # not a worker
    assert last_reply(session, stranger).body.startswith(f"【潞州零工】您没有待回复的岗位{job.code}")
    text_in(client, f"转 {job.code}", sender=forwarder.phone)  # no number: how to do it
    assert last_reply(session, forwarder.phone).body == (
        f"【潞州零工】转给朋友请回复：转 岗位号 朋友手机号，如 转 {job.code} 13800138000"
    )
    text_in(client, f"2 {job.code}", sender=forwarder.phone)  # declined: nothing left to pass on
    text_in(client, f"转 {job.code} {national(UNKNOWN)}", sender=forwarder.phone)
    assert last_reply(session, forwarder.phone).body.startswith(f"【潞州零工】您没有待回复的岗位{job.code}")

    assert forwards(session) == []
    assert outbound_to(session, UNKNOWN) == []
    # Each was understood and answered: none went to the agents' queue as unreadable.
    assert session.scalars(select(Ticket).where(Ticket.kind == TicketKind.UNPARSED_SMS)).all() == []


def test_a_job_whose_last_day_has_begun_is_not_passed_on(runtime, session, client, market: Market, clock):
    forwarder = market.worker(name="张三", language="zh")
    job = offered(runtime, session, market, forwarder)
    clock.move_to(NOW + timedelta(days=1))  # 10:00 on the job's day, past its 08:00 start

    text_in(client, f"转 {job.code} {national(UNKNOWN)}", sender=forwarder.phone)

    assert (
        last_reply(session, forwarder.phone).body == f"【潞州零工】岗位{job.code}已招满或已截止，不能再转。"
    )
    assert forwards(session) == [] and outbound_to(session, UNKNOWN) == []
