"""A voice follow-up through its whole life with a controlled clock: the follow-up run asks by phone,
nobody answers, the reminder rings once more, the worker answers `1` then `5` on the keypad, and no
agent ticket ever comes. Every job runs in a real RQ worker; Twilio is the fake API."""

from __future__ import annotations

from datetime import datetime, timedelta

import time_machine
from sqlalchemy import select

from dispatch.ivr.services import STALE_CALL_AFTER
from dispatch.models import (
    AnsweredVia,
    CallOutcome,
    FollowUp,
    FollowUpChannel,
    FollowUpParty,
    FollowUpStatus,
    PaidAnswer,
    Ticket,
)
from dispatch.queue import get_queue
from dispatch.runtime import Runtime
from tests.factories import SHANGHAI
from tests.helpers import run_jobs
from tests.voice.conftest import CALLS_PATH, WORKER_PHONE, callee_for, fresh_employer, place, the_call

FOLLOW_UP_MORNING = datetime(2026, 3, 12, 9, 0, 30, tzinfo=SHANGHAI)  # FOLLOW_UP_TIME is 09:00


def periodic(runtime: Runtime, task: str) -> None:
    """One tick of a periodic task, and whatever it queued after its commit."""
    get_queue("default", runtime.redis).enqueue(task)
    run_jobs(runtime)
    run_jobs(runtime)


def worker_follow_up(session, placement) -> FollowUp:
    session.expire_all()
    query = select(FollowUp).where(
        FollowUp.job_id == placement.job_id, FollowUp.party == FollowUpParty.WORKER
    )
    follow_up = session.scalar(query)
    assert follow_up is not None
    return follow_up


def calls_to(fake_twilio) -> list[str]:
    return [request.form["To"][0] for request in fake_twilio.requests if request.path == CALLS_PATH]


def test_asked_by_phone_reminded_by_phone_answered_on_the_keypad(
    runtime, client, session, seeded, fake_twilio
):
    with time_machine.travel(FOLLOW_UP_MORNING, tick=True) as traveller:
        placement = place(runtime, follow_up=False)
        periodic(runtime, "dispatch.followup.tasks.run_follow_ups")

        follow_up = worker_follow_up(session, placement)
        assert (follow_up.channel, follow_up.status) == (FollowUpChannel.VOICE, FollowUpStatus.ASKED)
        assert calls_to(fake_twilio) == [WORKER_PHONE]
        assert follow_up.call_sid == fake_twilio.calls[0]["sid"]
        callee_for(client, fake_twilio).hang_up("no-answer")

        traveller.shift(timedelta(hours=25))
        periodic(runtime, "dispatch.followup.tasks.run_follow_ups")
        assert worker_follow_up(session, placement).status == FollowUpStatus.REMINDED
        assert calls_to(fake_twilio) == [WORKER_PHONE, WORKER_PHONE]

        phone = callee_for(client, fake_twilio)
        phone.pick_up()
        phone.press("1")
        phone.press("5")
        phone.hang_up()

        follow_up = worker_follow_up(session, placement)
        assert (follow_up.status, follow_up.paid, follow_up.stars, follow_up.answered_via) == (
            FollowUpStatus.ANSWERED,
            PaidAnswer.FULL,
            5,
            AnsweredVia.VOICE,
        )
        assert follow_up.call_sid == phone.sid
        employer = fresh_employer(session, placement)
        assert (employer.rating_sum, employer.rating_count) == (5, 1)

        traveller.shift(timedelta(hours=25))
        periodic(runtime, "dispatch.followup.tasks.run_follow_ups")
        periodic(runtime, "dispatch.ivr.tasks.finish_stale_calls")

    assert calls_to(fake_twilio) == [WORKER_PHONE, WORKER_PHONE]  # never a third call
    assert worker_follow_up(session, placement).ticket_id is None
    assert session.scalars(select(Ticket).where(Ticket.phone == WORKER_PHONE)).all() == []


def test_a_call_whose_status_never_came_is_finished_without_a_call_back_ticket(
    runtime, client, session, seeded, fake_twilio
):
    with time_machine.travel(FOLLOW_UP_MORNING, tick=True) as traveller:
        placement = place(runtime, follow_up=False)
        periodic(runtime, "dispatch.followup.tasks.run_follow_ups")
        phone = callee_for(client, fake_twilio)
        phone.pick_up()  # and then nothing: no keys, no status callback

        traveller.shift(STALE_CALL_AFTER + timedelta(minutes=1))
        periodic(runtime, "dispatch.ivr.tasks.finish_stale_calls")

    call = the_call(session, phone.sid)
    assert call.ended_at is not None and call.outcome == CallOutcome.FOLLOW_UP
    assert session.scalars(select(Ticket).where(Ticket.phone == WORKER_PHONE)).all() == []
    assert worker_follow_up(session, placement).status == FollowUpStatus.ASKED
