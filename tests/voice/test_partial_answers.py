"""Answers given part-way: "paid" is recorded the moment it is keyed (a status callback may never come),
the stale-call sweep finishes a follow-up call as its status route would, and a later call asks only
what is still missing and thanks for what the follow-up holds."""

from __future__ import annotations

from datetime import timedelta

import time_machine
from sqlalchemy import func, select

from dispatch.clock import utcnow
from dispatch.followup.services import record_answer
from dispatch.ivr.services import STALE_CALL_AFTER
from dispatch.models import (
    AnsweredVia,
    CallOutcome,
    FollowUpStatus,
    PaidAnswer,
    Ticket,
    TicketKind,
    WageCase,
)
from dispatch.queue import defer
from dispatch.voice.tasks import call_follow_up
from tests.helpers import run_jobs
from tests.voice.conftest import (
    WORKER_PHONE,
    callee_for,
    fresh_employer,
    fresh_follow_up,
    place,
    the_call,
)
from tests.voice.test_end_to_end import FOLLOW_UP_MORNING, calls_to, periodic, worker_follow_up
from tests.voice.test_followup_call import SAY_ZH, STARS_ZH, gather, ring, spelled, twiml

THANKS_WAGES_ZH = f"{SAY_ZH}谢谢您的回答。工钱的事，工作人员会打电话跟您联系。再见。</Say>"
THANKS_ZH = f"{SAY_ZH}谢谢您的回答。再见。</Say>"


def wage_cases(session) -> int:
    return session.scalar(select(func.count()).select_from(WageCase)) or 0


def answer_by_sms(runtime, placement, paid: PaidAnswer) -> None:
    """What F's SMS reply handler does with a worker's "3" (paid only, stars still to come)."""
    with runtime.db.transaction() as session:
        follow_up = fresh_follow_up(session, placement)
        record_answer(
            session, runtime.settings, follow_up, paid=paid, stars=None, via=AnsweredVia.SMS, now=utcnow()
        )


def intro(placement) -> str:
    date = placement.work_date
    return (
        f"您好，这里是潞州区零工市场的回访电话，问一下您{date.month}月{date.day}日做的水电工活，"
        f"岗位号{spelled(placement.job_code)}。"
    )


# -- "paid" recorded as it is keyed (finding 2) -----------------------------------------------------


def test_the_paid_answer_is_recorded_as_it_is_keyed(runtime, client, session, seeded, fake_twilio):
    phone, placement = ring(runtime, client, fake_twilio)
    phone.pick_up()
    phone.press("3")  # and no status callback (yet)

    follow_up = fresh_follow_up(session, placement)
    assert (follow_up.status, follow_up.paid, follow_up.stars) == (
        FollowUpStatus.ASKED,
        PaidAnswer.NONE,
        None,
    )
    [case] = session.scalars(select(WageCase)).all()
    assert case.follow_up_id == placement.follow_up_id
    assert phone.press("4") == twiml(THANKS_WAGES_ZH, "<Hangup />")
    phone.hang_up()
    assert (fresh_follow_up(session, placement).status, wage_cases(session)) == (FollowUpStatus.ANSWERED, 1)
    assert fresh_employer(session, placement).rating_count == 1


def test_not_paid_with_no_status_callback_is_kept_and_the_reminder_asks_only_the_stars(
    runtime, client, session, seeded, fake_twilio
):
    """The reviewer's case: "3", then the line drops and Twilio's status callback never arrives."""
    with time_machine.travel(FOLLOW_UP_MORNING, tick=True) as traveller:
        placement = place(runtime, follow_up=False)
        periodic(runtime, "dispatch.followup.tasks.run_follow_ups")
        phone = callee_for(client, fake_twilio)
        phone.pick_up()
        phone.press("3")

        traveller.shift(STALE_CALL_AFTER + timedelta(minutes=1))
        periodic(runtime, "dispatch.ivr.tasks.finish_stale_calls")
        call = the_call(session, phone.sid)
        assert (call.status, call.ended_at is not None, call.outcome) == (
            "stale",
            True,
            CallOutcome.FOLLOW_UP,
        )
        follow_up = worker_follow_up(session, placement)
        assert (follow_up.status, follow_up.paid) == (FollowUpStatus.ASKED, PaidAnswer.NONE)
        assert wage_cases(session) == 1

        traveller.shift(timedelta(hours=25))
        periodic(runtime, "dispatch.followup.tasks.run_follow_ups")
        assert calls_to(fake_twilio) == [WORKER_PHONE, WORKER_PHONE]
        reminder = callee_for(client, fake_twilio)
        assert reminder.pick_up() == twiml(gather("stars", 1, intro(placement), STARS_ZH))
        assert reminder.press("2") == twiml(THANKS_WAGES_ZH, "<Hangup />")

    follow_up = worker_follow_up(session, placement)
    assert (follow_up.status, follow_up.paid, follow_up.stars) == (
        FollowUpStatus.ANSWERED,
        PaidAnswer.NONE,
        2,
    )
    assert wage_cases(session) == 1
    kinds = session.scalars(select(Ticket.kind).where(Ticket.phone == WORKER_PHONE)).all()
    assert kinds == [TicketKind.WAGE_CASE]  # no call-back, no follow-up ticket


def test_the_sweep_records_a_paid_key_a_call_kept_unrecorded(runtime, client, session, seeded, fake_twilio):
    """A call still in flight across a deploy kept "paid" on its row only (the old way): the sweep
    finishes it as the follow-up status route would, recording that answer."""
    with time_machine.travel(FOLLOW_UP_MORNING, tick=True) as traveller:
        phone, placement = ring(runtime, client, fake_twilio)
        phone.pick_up()
        with runtime.db.transaction() as tx:
            call = the_call(tx, phone.sid)
            call.answers, call.step = {**call.answers, "paid": PaidAnswer.PART.value}, "stars"

        traveller.shift(STALE_CALL_AFTER + timedelta(minutes=1))
        periodic(runtime, "dispatch.ivr.tasks.finish_stale_calls")

    follow_up = fresh_follow_up(session, placement)
    assert (follow_up.status, follow_up.paid) == (FollowUpStatus.ASKED, PaidAnswer.PART)
    assert wage_cases(session) == 1
    assert the_call(session, phone.sid).ended_at is not None


# -- a later call asks what is missing, thanks for what is held (finding 6) --------------------------


def test_a_reminder_call_after_a_paid_answer_by_sms_asks_only_the_stars(
    runtime, client, session, seeded, fake_twilio
):
    placement = place(runtime, status=FollowUpStatus.REMINDED)
    answer_by_sms(runtime, placement, PaidAnswer.NONE)
    with runtime.db.transaction() as tx:
        defer(tx, call_follow_up, placement.follow_up_id, queue="sms")
    run_jobs(runtime)
    phone = callee_for(client, fake_twilio)

    assert phone.pick_up() == twiml(gather("stars", 1, intro(placement), STARS_ZH))
    assert phone.press("5") == twiml(THANKS_WAGES_ZH, "<Hangup />")
    follow_up = fresh_follow_up(session, placement)
    assert (follow_up.status, follow_up.paid, follow_up.stars, follow_up.answered_via) == (
        FollowUpStatus.ANSWERED,
        PaidAnswer.NONE,
        5,
        AnsweredVia.VOICE,
    )
    assert wage_cases(session) == 1


def test_the_closing_line_follows_the_answer_the_follow_up_holds(
    runtime, client, session, seeded, fake_twilio
):
    """ "Paid in full" arrives by SMS while the worker is on the call; the keypad "3" after it is not
    the answer kept, so no agent will call about wages and the call does not say one will."""
    phone, placement = ring(runtime, client, fake_twilio)
    phone.pick_up()
    answer_by_sms(runtime, placement, PaidAnswer.FULL)
    phone.press("3")
    assert phone.press("5") == twiml(THANKS_ZH, "<Hangup />")

    follow_up = fresh_follow_up(session, placement)
    assert (follow_up.status, follow_up.paid, follow_up.stars) == (
        FollowUpStatus.ANSWERED,
        PaidAnswer.FULL,
        5,
    )
    assert wage_cases(session) == 0
