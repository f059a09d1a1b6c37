"""The day's limits, so forwarding cannot be used to spam: FORWARDS_PER_DAY a worker, and
FORWARDS_TO_NUMBER_PER_DAY to one number, counted over the market's local day from the forwards that
texted someone (refusals do not count)."""

from __future__ import annotations

from datetime import UTC, timedelta

import pytest
from sqlalchemy import select

from dispatch.models import Contact, ForwardOutcome, OfferStatus
from dispatch.phones import display
from tests.forwarding.conftest import NOW, forwards, national, offer_of, offered
from tests.helpers import last_reply, outbound_to, run_jobs, text_in
from tests.matching.conftest import Market, commit

FRIENDS = [f"+861390000000{i}" for i in range(5)]


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


def test_the_third_forward_to_one_number_in_a_day_is_refused(runtime, session, client, market: Market):
    assert runtime.settings.FORWARDS_TO_NUMBER_PER_DAY == 2
    forwarders = [market.worker(name=name, language="zh") for name in ("张三", "李四", "王五")]
    jobs = [offered(runtime, session, market, *forwarders) for _ in forwarders]  # 3 offers a wave: all
    friend = FRIENDS[0]

    for forwarder, job in zip(forwarders, jobs, strict=True):
        text_in(client, f"转 {job.code} {national(friend)}", sender=forwarder.phone)
    run_jobs(runtime)

    outcomes = [forward.outcome for forward in forwards(session)]
    assert outcomes == [ForwardOutcome.INVITED, ForwardOutcome.INVITED, ForwardOutcome.REFUSED_LIMIT]
    assert [message.kind for message in outbound_to(session, friend)] == ["forward.invite"] * 2
    assert offer_of(session, jobs[2], forwarders[2]).status == OfferStatus.SENT
    assert last_reply(session, forwarders[2].phone).body == (
        f"【潞州零工】{display(friend)}今天已收到2次转来的岗位，不能再转给对方。"
        f"您的岗位{jobs[2].code}仍有效，回复 1 {jobs[2].code} 接单。"
    )


@pytest.mark.parametrize("settings_overrides", [{"FORWARDS_PER_DAY": 1}])
def test_the_limit_is_a_setting(runtime, session, client, market: Market):
    forwarder = market.worker(name="张三", language="zh")
    first, second = (offered(runtime, session, market, forwarder) for _ in range(2))
    commit(runtime, session)

    text_in(client, f"转 {first.code} {national(FRIENDS[0])}", sender=forwarder.phone)
    text_in(client, f"转 {second.code} {national(FRIENDS[1])}", sender=forwarder.phone)

    assert [f.outcome for f in forwards(session)] == [ForwardOutcome.INVITED, ForwardOutcome.REFUSED_LIMIT]
    assert last_reply(session, forwarder.phone).body.startswith("【潞州零工】您今天已转了1次")
