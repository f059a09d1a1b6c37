"""The limits, so forwarding cannot be used to spam or to probe: FORWARDS_PER_DAY a worker and
FORWARDS_TO_NUMBER_PER_DAY to one number (however typed), counted over the market's local day from the
forwards that texted someone; 2 x FORWARDS_PER_DAY tries a worker a day, refused or not; and one
invitation to a number that never wrote to us in FORWARD_INVITE_DAYS."""

from __future__ import annotations

from datetime import UTC, timedelta

import pytest
from sqlalchemy import select

from dispatch.models import Contact, ForwardOutcome, OfferStatus
from dispatch.phones import display
from tests.factories import NOW, Market, commit
from tests.forwarding.conftest import forwards, national, offer_of, offered
from tests.helpers import last_reply, outbound_to, run_jobs, text_in

FRIENDS = [f"+861390000000{i}" for i in range(5)]
STRANGER = "+8613912345678"


def test_the_fourth_forward_of_the_day_is_refused_and_the_next_local_day_is_a_new_count(
    runtime, session, client, market: Market, clock
):
    assert runtime.settings.FORWARDS_PER_DAY == 3
    forwarder = market.worker(name="张三", language="zh")
    jobs = [offered(runtime, session, market, forwarder) for _ in range(4)]

    text_in(client, f"转 {jobs[0].code} 12345", sender=forwarder.phone)  # refused: does not count
    for job, friend in zip(jobs[:3], FRIENDS, strict=False):
        text_in(client, f"转 {job.code} {national(friend)}", sender=forwarder.phone)
    text_in(client, f"转 {jobs[3].code} {national(FRIENDS[3])}", sender=forwarder.phone)
    run_jobs(runtime)

    outcomes = [forward.outcome for forward in forwards(session)]
    assert outcomes == [
        ForwardOutcome.REFUSED_BAD_NUMBER,
        *[ForwardOutcome.INVITED] * 3,
        ForwardOutcome.REFUSED_LIMIT,
    ]
    assert [len(outbound_to(session, friend)) for friend in FRIENDS[:4]] == [1, 1, 1, 0]
    assert session.scalar(select(Contact).where(Contact.phone == FRIENDS[3])) is None
    assert offer_of(session, jobs[3], forwarder).status == OfferStatus.SENT
    assert last_reply(session, forwarder.phone).body == (
        "【潞州零工】您今天已转了3次，今天不能再转。"
        f"您的岗位{jobs[3].code}仍有效，回复 1 {jobs[3].code} 接单。"
    )

    # 00:30 the next morning in Shanghai is still the same day in UTC: the count is the market's day.
    next_morning = NOW.replace(hour=0, minute=30) + timedelta(days=1)
    assert next_morning.date() == NOW.date() + timedelta(days=1)
    assert next_morning.astimezone(UTC).date() == NOW.astimezone(UTC).date()
    clock.move_to(next_morning)
    job = offered(runtime, session, market, forwarder, work_date=next_morning.date() + timedelta(days=2))
    text_in(client, f"转 {job.code} {national(FRIENDS[4])}", sender=forwarder.phone)

    assert forwards(session)[-1].outcome == ForwardOutcome.INVITED
    assert len(outbound_to(session, FRIENDS[4])) == 1


def test_the_third_forward_to_one_number_in_a_day_is_refused_however_the_number_is_typed(
    runtime, session, client, market: Market
):
    assert runtime.settings.FORWARDS_TO_NUMBER_PER_DAY == 2
    forwarders = [market.worker(name=name, language="zh") for name in ("张三", "李四", "王五")]
    jobs = [offered(runtime, session, market, *forwarders) for _ in forwarders]  # 3 offers a wave: all
    friend = market.worker(FRIENDS[0], name="赵六")  # registered after the waves: offered none
    commit(runtime, session)
    digits = national(friend.phone)

    text_in(client, f"转 {jobs[0].code} +86 {digits}", sender=forwarders[0].phone)
    text_in(client, f"转 {jobs[1].code} 0086{digits}", sender=forwarders[1].phone)
    text_in(client, f"转 {jobs[2].code} 86{digits}", sender=forwarders[2].phone)
    text_in(client, f"转 {jobs[2].code} {digits}", sender=forwarders[0].phone)
    run_jobs(runtime)

    assert [(f.outcome, f.reason, f.to_phone) for f in forwards(session)] == [
        (ForwardOutcome.OFFERED, "offered", friend.phone),
        (ForwardOutcome.OFFERED, "offered", friend.phone),
        (ForwardOutcome.REFUSED_LIMIT, "limit_number", friend.phone),
        (ForwardOutcome.REFUSED_LIMIT, "limit_number", friend.phone),
    ]
    assert [message.kind for message in outbound_to(session, friend.phone)] == ["offer.forwarded"] * 2
    assert offer_of(session, jobs[2], friend) is None
    assert offer_of(session, jobs[2], forwarders[2]).status == OfferStatus.SENT
    # How often a number was passed jobs today is not the forwarder's business either.
    assert last_reply(session, forwarders[2].phone).body == (
        f"【潞州零工】没能转出，{display(friend.phone)}现在收不到这份活。"
        f"您的岗位{jobs[2].code}仍有效，回复 1 {jobs[2].code} 接单。"
    )


def test_refusals_count_towards_a_days_tries_so_probing_numbers_is_bounded(
    runtime, session, client, market: Market
):
    """Refusals about the friend say nothing, and they count: after 2 x FORWARDS_PER_DAY tries at
    friends' numbers a day, even a friend who fits is not tried. Mistyped numbers are not tries."""
    tries = 2 * runtime.settings.FORWARDS_PER_DAY
    forwarder = market.worker(name="张三", language="zh")
    job = offered(runtime, session, market, forwarder)
    unfit = [market.worker(name=f"甲{i}", pay=900) for i in range(tries)]
    fits = market.worker(name="李四")
    commit(runtime, session)

    text_in(client, f"转 {job.code} 12345", sender=forwarder.phone)
    for friend in unfit:
        text_in(client, f"转 {job.code} {national(friend.phone)}", sender=forwarder.phone)
        assert last_reply(session, forwarder.phone).body.startswith(
            f"【潞州零工】没能转出，{display(friend.phone)}现在收不到这份活。"
        )
    text_in(client, f"转 {job.code} {national(fits.phone)}", sender=forwarder.phone)

    assert [(f.outcome, f.reason) for f in forwards(session)] == [
        (ForwardOutcome.REFUSED_BAD_NUMBER, "bad_number"),
        *[(ForwardOutcome.REFUSED_NOT_FIT, "pay")] * tries,
        (ForwardOutcome.REFUSED_LIMIT, "limit_tries"),
    ]
    assert offer_of(session, job, fits) is None and outbound_to(session, fits.phone) == []
    assert offer_of(session, job, forwarder).status == OfferStatus.SENT
    assert last_reply(session, forwarder.phone).body == (
        f"【潞州零工】您今天转发的次数太多，今天不能再转。您的岗位{job.code}仍有效，回复 1 {job.code} 接单。"
    )


def _invite_on(runtime, session, client, market: Market, clock, day: int, name: str) -> ForwardOutcome:
    """A new worker, on NOW + `day`, passes a job of their own to the stranger's number."""
    clock.move_to(NOW + timedelta(days=day))
    forwarder = market.worker(name=name, language="zh")
    # Two places: a first wave of 6, so every worker made so far is offered. With one place (a wave of
    # 3), the new worker tied on the fairness factor with those offered 90 days ago, and which of them
    # made the wave was the database's order (failed once in CI).
    when = (NOW + timedelta(days=day + 2)).date()
    job = offered(runtime, session, market, forwarder, work_date=when, headcount=2)
    text_in(client, f"转 {job.code} {national(STRANGER)}", sender=forwarder.phone)
    forward = forwards(session)[-1]
    if forward.outcome != ForwardOutcome.INVITED:
        assert offer_of(session, job, forwarder).status == OfferStatus.SENT  # kept
        assert last_reply(session, forwarder.phone).body.startswith(
            f"【潞州零工】没能转出，{display(STRANGER)}现在收不到这份活。"
        )
    return forward.outcome


def test_a_number_that_never_wrote_to_us_is_invited_once_in_the_window(
    runtime, session, client, market: Market, clock
):
    window = runtime.settings.FORWARD_INVITE_DAYS
    assert window == 90
    days = [0, 0, 1, 2, window - 1, window + 1]
    outcomes = [
        _invite_on(runtime, session, client, market, clock, day, f"工{i}") for i, day in enumerate(days)
    ]
    run_jobs(runtime)

    invited, refused = ForwardOutcome.INVITED, ForwardOutcome.REFUSED_LIMIT
    assert outcomes == [invited, refused, refused, refused, refused, invited]
    assert [f.reason for f in forwards(session)][1:5] == ["invited_before"] * 4
    assert [m.kind for m in outbound_to(session, STRANGER)] == ["forward.invite"] * 2


def test_a_number_that_wrote_to_us_since_its_invitation_may_be_invited_again(
    runtime, session, client, market: Market, clock
):
    assert _invite_on(runtime, session, client, market, clock, 0, "张三") == ForwardOutcome.INVITED
    assert _invite_on(runtime, session, client, market, clock, 1, "李四") == ForwardOutcome.REFUSED_LIMIT
    text_in(client, "这是什么活？", sender=STRANGER)  # an agent answers; the number is talking to us now
    assert _invite_on(runtime, session, client, market, clock, 2, "王五") == ForwardOutcome.INVITED
    assert _invite_on(runtime, session, client, market, clock, 3, "赵六") == ForwardOutcome.REFUSED_LIMIT

    run_jobs(runtime)
    assert [m.kind for m in outbound_to(session, STRANGER) if m.kind.startswith("forward")] == [
        "forward.invite"
    ] * 2


@pytest.mark.parametrize("settings_overrides", [{"FORWARDS_PER_DAY": 1}])
def test_the_limit_is_a_setting(runtime, session, client, market: Market):
    forwarder = market.worker(name="张三", language="zh")
    first, second = (offered(runtime, session, market, forwarder) for _ in range(2))
    commit(runtime, session)

    text_in(client, f"转 {first.code} {national(FRIENDS[0])}", sender=forwarder.phone)
    text_in(client, f"转 {second.code} {national(FRIENDS[1])}", sender=forwarder.phone)

    assert [f.outcome for f in forwards(session)] == [ForwardOutcome.INVITED, ForwardOutcome.REFUSED_LIMIT]
    assert last_reply(session, forwarder.phone).body.startswith("【潞州零工】您今天已转了1次")
