"""A placement carried through its whole after-life with a controlled clock: placed by real `1 <code>`
texts, asked at the right local time the morning after, both sides' answers read through the signed
/sms/inbound webhook, the ratings and the no-show stored, and the next job's ranking changed by them."""

from __future__ import annotations

from datetime import time, timedelta

from sqlalchemy import select

from dispatch.matching import candidates
from dispatch.matching import config as matching_config
from dispatch.models import (
    Employer,
    FollowUpChannel,
    FollowUpParty,
    FollowUpStatus,
    PaidAnswer,
    Worker,
)
from dispatch.models.people import MatchPool
from tests.factories import Market
from tests.followup.conftest import DAY, at, follow_ups, last_message_id, place, run_follow_ups, texts_since
from tests.helpers import last_reply, text_in


def ranked(session, runtime, job, now) -> list[int]:  # type: ignore[no-untyped-def]
    """The order matching itself would offer `job` in (its own ranking, over the match pool)."""
    session.expire_all()
    found = candidates.rank(
        session,
        job,
        radius_km=4.0,
        limit=10,
        policy="fair",
        config=matching_config.load(runtime.settings),
        seed=7,
        now=now,
    )
    return [candidate.worker_id for candidate in found]


def test_a_placement_through_its_after_life(runtime, session, client, clock, market: Market) -> None:
    employer = market.employer(name="王老板")
    zhang = market.worker(name="张三")
    li = market.worker(name="李四")
    job = place(runtime, session, client, clock, market, zhang, li, employer=employer, work_date=DAY)
    assert job.end_date == DAY
    code = job.code

    # The next job of the same trade and site, three days on: who matching would ask first, before
    # anything is known of how the two did. They are alike, so the seeded tie-break decides.
    clock.move_to(at(DAY + timedelta(days=1), time(8, 0)))
    next_job = market.job(employer=market.employer(name="刘老板"), work_date=DAY + timedelta(days=3))
    session.commit()
    before = ranked(session, runtime, next_job, at(DAY + timedelta(days=2), time(8, 0)))
    assert set(before) == {zhang.id, li.id}
    # The one ranked first will not have come; the other came and did well.
    absent, came = (zhang, li) if before[0] == zhang.id else (li, zhang)

    # D+1 before FOLLOW_UP_TIME (09:00): nothing yet, however often the task runs.
    clock.move_to(at(DAY + timedelta(days=1), time(8, 59, 59)))
    mark = last_message_id(session)
    for _ in range(3):
        assert run_follow_ups(runtime) == {"asked": 0, "reminded": 0, "tickets": 0}
    assert follow_ups(session) == [] and texts_since(session, mark) == []

    # 09:00: each worker is asked once, the employer once per worker.
    clock.move_to(at(DAY + timedelta(days=1), time(9, 0)))
    assert run_follow_ups(runtime) == {"asked": 2, "reminded": 0, "tickets": 0}
    assert run_follow_ups(runtime) == {"asked": 0, "reminded": 0, "tickets": 0}
    rows = follow_ups(session, job)
    assert [(fu.seq, fu.party, fu.worker_id, fu.channel, fu.status) for fu in rows] == [
        (1, FollowUpParty.EMPLOYER, zhang.id, FollowUpChannel.SMS, FollowUpStatus.ASKED),
        (1, FollowUpParty.WORKER, zhang.id, FollowUpChannel.SMS, FollowUpStatus.ASKED),
        (2, FollowUpParty.EMPLOYER, li.id, FollowUpChannel.SMS, FollowUpStatus.ASKED),
        (2, FollowUpParty.WORKER, li.id, FollowUpChannel.SMS, FollowUpStatus.ASKED),
    ]
    sent = texts_since(session, mark)
    asked_worker = (
        f"【潞州零工】回访：12月1日岗位{code}（水电工，王老板）工钱结清了吗？1结清 2部分 3没给；"
        "雇主打几分(1-5)？请回复两个数字，如 1 5"
    )
    assert {(m.phone, m.body) for m in sent} == {
        (zhang.phone, asked_worker),
        (li.phone, asked_worker),
        (
            employer.phone,
            f"【潞州零工】回访：12月1日岗位{code}第1位工人张三干得怎样？"
            f"请回复 {code} 1 加分数(1-5)，没来回复 {code} 1 0",
        ),
        (
            employer.phone,
            f"【潞州零工】回访：12月1日岗位{code}第2位工人李四干得怎样？"
            f"请回复 {code} 2 加分数(1-5)，没来回复 {code} 2 0",
        ),
    }
    assert len(sent) == 4 and all(m.status.value == "sent" for m in sent)  # the real send jobs ran

    # Replies through the signed webhook: the worker who came and the employer's two.
    clock.move_to(at(DAY + timedelta(days=1), time(9, 30)))
    text_in(client, "1 5", sender=came.phone)
    assert last_reply(session, came.phone).body == f"【潞州零工】谢谢，岗位{code}的回访已记下。"
    seq = {fu.worker_id: fu.seq for fu in rows}
    text_in(client, f"{code} {seq[came.id]} 4", sender=employer.phone)
    assert last_reply(session, employer.phone).body == (
        f"【潞州零工】谢谢，已记下岗位{code}第{seq[came.id]}位工人的评价。该岗位还有1位工人待评。"
    )
    text_in(client, f"{code} {seq[absent.id]} 0", sender=employer.phone)
    assert last_reply(session, employer.phone).body == (
        f"【潞州零工】谢谢，已记下岗位{code}第{seq[absent.id]}位工人的评价。"
        f"不想再用这位工人？回复 {code} {seq[absent.id]} 不要"  # 0 (did not come): the block ask
    )

    session.expire_all()
    by_key = {(fu.worker_id, fu.party): fu for fu in follow_ups(session, job)}
    worker_side = by_key[came.id, FollowUpParty.WORKER]
    assert (worker_side.status, worker_side.paid, worker_side.stars) == (
        FollowUpStatus.ANSWERED,
        PaidAnswer.FULL,
        5,
    )
    assert worker_side.answered_via.value == "sms"
    assert by_key[came.id, FollowUpParty.EMPLOYER].stars == 4
    assert by_key[absent.id, FollowUpParty.EMPLOYER].stars == 0
    assert by_key[absent.id, FollowUpParty.WORKER].status == FollowUpStatus.ASKED  # still silent
    boss = session.get(Employer, employer.id)
    assert (boss.rating_sum, boss.rating_count) == (5, 1)
    good, missed = session.get(Worker, came.id), session.get(Worker, absent.id)
    assert (good.rating_sum, good.rating_count, good.placements_worked, good.no_shows) == (4, 1, 1, 0)
    assert (missed.rating_sum, missed.rating_count, missed.placements_worked, missed.no_shows) == (0, 0, 0, 1)
    # The pool matching ranks from has the new figures (migration 0004's triggers).
    pool = {row.worker_id: row for row in session.scalars(select(MatchPool))}
    assert (pool[came.id].rating_sum, pool[came.id].placements_worked) == (4, 1)
    assert pool[absent.id].no_shows == 1

    # The next job's ranking, by matching's own functions: the order of the two has flipped.
    after = ranked(session, runtime, next_job, at(DAY + timedelta(days=2), time(8, 0)))
    assert before == [absent.id, came.id]
    assert after == [came.id, absent.id]


def test_a_worker_who_prefers_calls_is_called_not_texted(
    runtime, session, client, clock, market: Market
) -> None:
    caller = market.worker(name="赵六")
    caller.prefers_voice = True
    job = place(runtime, session, client, clock, market, caller, work_date=DAY)
    clock.move_to(at(DAY + timedelta(days=1), time(9, 0)))
    mark = last_message_id(session)
    from dispatch.followup import asking
    from dispatch.models import OutboxEvent

    with runtime.db.transaction() as work:
        assert asking.run(work, runtime.settings, at(DAY + timedelta(days=1), time(9, 0)))["asked"] == 1
    employer_side, worker_side = follow_ups(session, job)
    assert worker_side.channel == FollowUpChannel.VOICE and employer_side.channel == FollowUpChannel.SMS
    calls = session.scalars(
        select(OutboxEvent).where(OutboxEvent.task == "dispatch.voice.tasks.call_follow_up")
    ).all()
    assert [(event.args, event.queue) for event in calls] == [([worker_side.id], "sms")]
    assert [m.phone for m in texts_since(session, mark)] == [job.employer.phone]  # no text to the worker
