"""Passing an offer to a friend (`转 123 13800138000`) through the signed /sms/inbound webhook: a friend who
fits gets an offer and can take the place, an unknown number is invited (and offered the job once it
registers), and a number that opted out, a friend who does not fit, or a bad, foreign or own number are
refused with the forwarder's offer left as it was. A refusal about the friend names no reason (that is
recorded for agents only); `转 300` from someone without an open offer 300 goes to an agent."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

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
from tests.factories import NOW, SHANGHAI, Market, commit
from tests.forwarding.conftest import forwards, national, offer_of, offered, outbound_count
from tests.helpers import last_reply, outbound_to, placed_reply, run_jobs, text_in

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
    assert placed_reply(session, friend.phone).kind == "placement.worker"


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
        "想接请先登记，回复：注册 工种 地区 日薪 姓名，登记后即发给您。回复TD退订"
    )
    assert (invitation.kind, invitation.is_reply) == ("forward.invite", False)
    assert session.scalar(select(Contact).where(Contact.phone == UNKNOWN)).language == "zh"
    [forward] = forwards(session)
    assert (forward.outcome, forward.reason, forward.to_worker_id, forward.new_offer_id) == (
        ForwardOutcome.INVITED,
        "invited",
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


def _register(client, phone: str) -> None:
    text_in(client, "注册 水电工 太西 250 李四", sender=phone)
    text_in(client, "1", sender=phone)


def test_registering_brings_only_the_jobs_the_number_was_invited_to(runtime, session, client, market: Market):
    """Job 1 was passed to the number with an invitation; job 2 was refused (invited already); job 3 was
    never passed to it. Registering offers job 1 alone, and a number nobody invited gets nothing."""
    forwarders = [market.worker(name=name, language="zh") for name in ("张三", "王五", "赵六")]
    jobs = [offered(runtime, session, market, *forwarders) for _ in range(3)]
    never_invited = "+8613911112222"

    text_in(client, f"转 {jobs[0].code} {national(UNKNOWN)}", sender=forwarders[0].phone)
    text_in(client, f"转 {jobs[1].code} {national(UNKNOWN)}", sender=forwarders[1].phone)
    assert [(f.outcome, f.reason) for f in forwards(session)] == [
        (ForwardOutcome.INVITED, "invited"),
        (ForwardOutcome.REFUSED_LIMIT, "invited_before"),
    ]
    _register(client, UNKNOWN)
    _register(client, never_invited)
    run_jobs(runtime)

    friend = session.scalar(select(Worker).where(Worker.phone == UNKNOWN))
    stranger = session.scalar(select(Worker).where(Worker.phone == never_invited))
    assert offer_of(session, jobs[0], friend).status == OfferStatus.SENT
    assert offer_of(session, jobs[1], friend) is None and offer_of(session, jobs[2], friend) is None
    assert [offer_of(session, job, stranger) for job in jobs] == [None] * 3
    assert [f.new_offer_id for f in forwards(session)] == [offer_of(session, jobs[0], friend).id, None]


def test_two_invitations_to_one_job_bring_one_offer(runtime, session, client, market: Market):
    forwarders = [market.worker(name=name, language="zh") for name in ("张三", "王五", "赵六")]
    job = offered(runtime, session, market, *forwarders)  # a wave of three: every forwarder has it

    text_in(client, f"转 {job.code} {national(UNKNOWN)}", sender=forwarders[0].phone)
    text_in(client, "这是什么？", sender=UNKNOWN)  # wrote to us: may be invited again
    text_in(client, f"转 {job.code} {national(UNKNOWN)}", sender=forwarders[1].phone)
    assert [f.outcome for f in forwards(session)] == [ForwardOutcome.INVITED] * 2
    _register(client, UNKNOWN)
    run_jobs(runtime)

    friend = session.scalar(select(Worker).where(Worker.phone == UNKNOWN))
    theirs = offer_of(session, job, friend)
    assert theirs.status == OfferStatus.SENT
    assert theirs.explanation["forwarded_by"] == forwarders[0].id  # the first to pass it on
    assert [(f.to_worker_id, f.new_offer_id) for f in forwards(session)] == [
        (friend.id, theirs.id),
        (friend.id, None),
    ]
    assert [m.kind for m in outbound_to(session, UNKNOWN)].count("offer.forwarded") == 1


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
    assert (forward.outcome, forward.reason) == (ForwardOutcome.REFUSED_OPTED_OUT, "opted_out")
    assert offer_of(session, job, forwarder).status == OfferStatus.SENT
    assert last_reply(session, forwarder.phone).body == (
        f"【潞州零工】没能转出，{display(phone)}现在收不到这份活。"
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
        (_other_trade, "trade"),
        (_wants_more, "pay"),
        (_busy_that_day, "clash"),
        (_paused, "inactive"),
        (_blocked, "blocked"),
        (_uninsurable, "uninsured"),
    ],
)
def test_a_friend_who_does_not_fit_is_not_offered_it(runtime, session, client, market: Market, arrange, why):
    """The forwarder hears the same whatever the reason: a friend's trade, wage, bookings, pause or the
    employer's block are nobody else's business. The agents see the reason on the row."""
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
    assert (forward.outcome, forward.reason, forward.to_worker_id) == (
        ForwardOutcome.REFUSED_NOT_FIT,
        why,
        friend.id,
    )
    assert offer_of(session, job, forwarder).status == OfferStatus.SENT
    assert last_reply(session, forwarder.phone).body == (
        f"【潞州零工】没能转出，{display(friend.phone)}现在收不到这份活。"
        f"您的岗位{job.code}仍有效，回复 1 {job.code} 接单。"
    )


def test_a_friend_offered_the_job_already_is_not_offered_it_twice(runtime, session, client, market: Market):
    forwarder = market.worker(name="张三", language="zh")
    friend = market.worker(name="李四")
    job = offered(runtime, session, market, forwarder, friend)  # both in wave 1
    before = outbound_count(session, friend.phone)

    text_in(client, f"转 {job.code} {national(friend.phone)}", sender=forwarder.phone)

    assert outbound_count(session, friend.phone) == before
    assert [(f.outcome, f.reason) for f in forwards(session)] == [(ForwardOutcome.REFUSED_NOT_FIT, "offered")]
    assert offer_of(session, job, forwarder).status == OfferStatus.SENT
    assert last_reply(session, forwarder.phone).body.startswith(
        f"【潞州零工】没能转出，{display(friend.phone)}现在收不到这份活。"
    )


@pytest.mark.parametrize(
    ("number", "why"),
    [
        ("own", "这是您自己的号码，请填朋友的手机号。"),
        ("01062345678", "01062345678不是手机号，没有转发。"),  # a Beijing landline takes no texts
        ("12345", "12345不是手机号，没有转发。"),
        # A Nigerian mobile (a text abroad costs many times one at home: SMS pumping), Hong Kong's.
        ("+234 801 234 5678", "只能转给国内手机号，没有转发。"),
        ("+852 9123 4567", "只能转给国内手机号，没有转发。"),
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
    assert forward.to_phone == {"own": forwarder.phone, "+234 801 234 5678": "+2348012345678"}.get(
        number, forward.to_phone
    )
    assert outbound_to(session, "+2348012345678") == [] and outbound_to(session, "+85291234567") == []
    assert last_reply(session, forwarder.phone).body == (
        f"【潞州零工】{why}您的岗位{job.code}仍有效，回复 1 {job.code} 接单。"
    )


def test_the_usage_is_explained_only_for_an_open_offer(runtime, session, client, market: Market):
    forwarder = market.worker(name="张三", language="zh")
    job = offered(runtime, session, market, forwarder)

    text_in(client, f"转 {job.code}", sender=forwarder.phone)  # no number: how to do it

    assert last_reply(session, forwarder.phone).body == (
        f"【潞州零工】转给朋友请回复：转 岗位号 朋友手机号，如 转 {job.code} 13800138000"
    )
    assert forwards(session) == []
    assert session.scalars(select(Ticket)).all() == []


def _unparsed_tickets(session) -> list[Ticket]:
    session.expire_all()
    return list(session.scalars(select(Ticket).where(Ticket.kind == TicketKind.UNPARSED_SMS)))


@pytest.mark.parametrize("text", ["转 300", "转500", "转 300 {friend}", "转 {code}", "转 {code} {friend}"])
def test_zhuan_and_a_number_without_an_open_offer_goes_to_an_agent(
    runtime, session, client, market: Market, text: str
):
    """`转 300` may be money (转账, a wage): unless 300 is an offer the sender has still to answer, it is not
    a forward and an agent reads it, as any text the service does not understand."""
    worker = market.worker(name="张三", language="zh")
    job = offered(runtime, session, market, worker)
    text_in(client, f"2 {job.code}", sender=worker.phone)  # declined: nothing left to pass on
    body = text.format(code=job.code, friend=national(UNKNOWN))

    text_in(client, body, sender=worker.phone)

    [ticket] = _unparsed_tickets(session)
    assert ticket.phone == worker.phone
    assert last_reply(session, worker.phone).kind == "not_understood"
    assert forwards(session) == [] and outbound_to(session, UNKNOWN) == []


def test_a_forward_from_a_number_we_do_not_know_goes_to_an_agent(runtime, session, client, market: Market):
    forwarder = market.worker(name="张三", language="zh")
    job = offered(runtime, session, market, forwarder)
    stranger = "+8613811112222"

    text_in(client, f"转 {job.code} {national(UNKNOWN)}", sender=stranger)  # not a worker
    text_in(client, f"转 99999 {national(UNKNOWN)}", sender=forwarder.phone)  # no such job

    assert [t.phone for t in _unparsed_tickets(session)] == [stranger, forwarder.phone]
    assert forwards(session) == [] and outbound_to(session, UNKNOWN) == []
    assert offer_of(session, job, forwarder).status == OfferStatus.SENT


def test_a_job_whose_last_day_has_begun_is_not_passed_on(runtime, session, client, market: Market, clock):
    forwarder = market.worker(name="张三", language="zh")
    job = offered(runtime, session, market, forwarder)
    clock.move_to(NOW + timedelta(days=1))  # 10:00 on the job's day, past its 08:00 start

    text_in(client, f"转 {job.code} {national(UNKNOWN)}", sender=forwarder.phone)

    assert last_reply(session, forwarder.phone).body == (
        f"【潞州零工】岗位{job.code}快开工了，朋友来不及收到和回复，不能再转。"
        f"您的岗位{job.code}仍有效，回复 1 {job.code} 接单。"
    )
    assert forwards(session) == [] and outbound_to(session, UNKNOWN) == []


@pytest.mark.parametrize("settings_overrides", [{"QUIET_HOURS": "21:00-08:00"}])
def test_a_friend_who_would_get_the_text_only_as_work_starts_is_not_sent_it(
    runtime, session, client, market: Market, clock
):
    """At 22:30 for 08:00 tomorrow, the friend's text would wait for 08:00: the forwarder keeps the offer
    (and can still take it: their answer goes at once), nothing waits for the friend."""
    clock.move_to(datetime(2026, 12, 1, 22, 30, tzinfo=SHANGHAI))
    forwarder = market.worker(name="张三", language="zh")
    job = offered(runtime, session, market, forwarder)  # tomorrow 08:00, one day
    friend = market.worker(name="李四")
    commit(runtime, session)

    text_in(client, f"转 {job.code} {national(friend.phone)}", sender=forwarder.phone)

    assert outbound_to(session, friend.phone) == [] and offer_of(session, job, friend) is None
    assert forwards(session) == []
    assert offer_of(session, job, forwarder).status == OfferStatus.SENT
    assert last_reply(session, forwarder.phone).body == (
        f"【潞州零工】岗位{job.code}快开工了，朋友来不及收到和回复，不能再转。"
        f"您的岗位{job.code}仍有效，回复 1 {job.code} 接单。"
    )

    text_in(client, f"1 {job.code}", sender=forwarder.phone)

    assert offer_of(session, job, forwarder).status == OfferStatus.ACCEPTED


@pytest.mark.parametrize("settings_overrides", [{"QUIET_HOURS": "21:00-08:00"}])
def test_a_text_at_the_end_of_quiet_hours_leaves_the_friend_time_to_answer(
    runtime, session, client, market: Market, clock
):
    """07:30 for 09:00: the text waits until 08:00 and still leaves the same-day answer time."""
    clock.move_to(datetime(2026, 12, 2, 7, 30, tzinfo=SHANGHAI))
    forwarder = market.worker(name="张三", language="zh")
    job = offered(runtime, session, market, forwarder, work_date=date(2026, 12, 2), start=time(9))
    friend = market.worker(name="李四")
    commit(runtime, session)

    text_in(client, f"转 {job.code} {national(friend.phone)}", sender=forwarder.phone)

    [to_friend] = outbound_to(session, friend.phone)
    assert to_friend.send_after == datetime(2026, 12, 2, 8, 0, tzinfo=SHANGHAI)
    assert offer_of(session, job, forwarder).status == OfferStatus.DECLINED
