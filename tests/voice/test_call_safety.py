"""A worker is rung once per round, never twice: failures that may hide a created call are not retried,
a second run while the call is being placed rings nobody (and no one waits on the follow-up's row
meanwhile), a call whose sid was never stored still counts, and without a number to call from the
question goes by SMS instead of nowhere."""

from __future__ import annotations

import dataclasses
import logging
import socket
import threading
from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from sqlalchemy import select, text

from dispatch.clock import utcnow
from dispatch.followup.services import record_answer
from dispatch.models import AnsweredVia, Call, FollowUpStatus, PaidAnswer
from dispatch.queue import get_queue
from dispatch.voice.gateway import OutboxCallTransport, TwilioCallTransport
from dispatch.voice.tasks import call_follow_up
from tests.helpers import inbound_params, outbound_to, run_jobs
from tests.ivr.conftest import PUBLIC_BASE, post_signed
from tests.voice.conftest import (
    CALLS_PATH,
    WORKER_PHONE,
    Callee,
    fresh_follow_up,
    place,
)
from tests.voice.test_call_task import ask_by_phone, call_events, calls_placed, remind

NOON = datetime(2026, 3, 10, 4, 0, tzinfo=UTC)
SERVICE_SID = "MG" + "5" * 32


def run_id(runtime, event) -> dict[str, int]:
    return get_queue("sms", runtime.redis).fetch_job(f"outbox-{event.id}").return_value()


# -- failures that may hide a created call (finding 3) ---------------------------------------------


@pytest.mark.parametrize("failure", ["http-500", "read-timeout"])
def test_a_failure_that_may_have_placed_the_call_is_not_retried(
    runtime, session, seeded, fake_twilio, caplog, failure
):
    if failure == "http-500":
        fake_twilio.fail_next(500, 20500)
    else:
        # Twilio creates the call, but its answer comes after the client stopped waiting.
        fake_twilio.delay_next(1.5)
        runtime.call_transport = TwilioCallTransport(runtime.settings, timeout=0.3)
    with time_machine.travel(NOON, tick=False) as traveller:
        placement = place(runtime)
        ask_by_phone(runtime, placement)
        with caplog.at_level(logging.ERROR, logger="dispatch.voice.tasks"):
            run_jobs(runtime)
        traveller.shift(timedelta(minutes=5))  # long past any retry's backoff
        run_jobs(runtime, with_scheduler=True)
        ask_by_phone(runtime, placement)  # and the job delivered again
        run_jobs(runtime, with_scheduler=True)

    assert calls_placed(fake_twilio) == [WORKER_PHONE]  # one request: the phone rings once at most
    assert len(fake_twilio.calls) == (1 if failure == "read-timeout" else 0)
    first, again = call_events(session, placement)
    assert (run_id(runtime, first), run_id(runtime, again)) == ({"unknown": 1}, {"skipped": 1})
    assert fresh_follow_up(session, placement).call_sid == "asked:calling"  # the round stays taken
    assert "may or may not have been placed" in caplog.text

    remind(runtime, placement)  # the reminder round calls again
    run_jobs(runtime)
    assert calls_placed(fake_twilio) == [WORKER_PHONE, WORKER_PHONE]


def test_an_api_that_cannot_be_reached_is_retried(runtime, session, seeded, fake_twilio):
    with socket.socket() as closed:  # a port nothing listens on: the connection is refused
        closed.bind(("127.0.0.1", 0))
        port = closed.getsockname()[1]
    unreachable = dataclasses.replace(runtime.settings, TWILIO_API_BASE_URL=f"http://127.0.0.1:{port}")
    runtime.call_transport = TwilioCallTransport(unreachable)
    with time_machine.travel(NOON, tick=False) as traveller:
        placement = place(runtime)
        ask_by_phone(runtime, placement)
        run_jobs(runtime)
        first, retry = call_events(session, placement)
        assert run_id(runtime, first) == {"retrying": 1}
        assert (retry.args, retry.run_at) == ([placement.follow_up_id, 2], NOON + timedelta(seconds=2))
        assert fresh_follow_up(session, placement).call_sid is None  # the claim is given back

        runtime.call_transport = TwilioCallTransport(runtime.settings)  # Twilio is back
        traveller.shift(timedelta(seconds=2))
        run_jobs(runtime, with_scheduler=True)

    assert calls_placed(fake_twilio) == [WORKER_PHONE]
    assert fresh_follow_up(session, placement).call_sid == fake_twilio.calls[0]["sid"]


# -- no row held while Twilio is asked; a second run rings nobody (finding 5) -----------------------


class HeldTransport(OutboxCallTransport):
    """Twilio taking its time: place_call waits until released."""

    def __init__(self) -> None:
        super().__init__()
        self.entered = threading.Event()
        self.release = threading.Event()

    def place_call(self, to: str, url: str, status_callback: str) -> str:
        self.entered.set()
        assert self.release.wait(30)
        return super().place_call(to, url, status_callback)


def test_while_a_call_is_being_placed_a_second_run_rings_nobody_and_answers_do_not_wait(committed):
    runtime, _ = committed
    runtime.call_transport = held = HeldTransport()
    placement = place(runtime)
    results: dict[str, dict[str, int]] = {}

    def run(name: str) -> None:
        results[name] = call_follow_up(placement.follow_up_id)

    first = threading.Thread(target=run, args=("first",))
    first.start()
    try:
        assert held.entered.wait(10)
        second = threading.Thread(target=run, args=("second",))
        second.start()
        second.join(10)  # with the row locked during the call, this would wait for Twilio
        assert not second.is_alive() and results["second"] == {"skipped": 1}

        # An answer by SMS meanwhile is recorded at once, not after Twilio answers.
        with runtime.db.transaction() as session:
            session.execute(text("SET LOCAL lock_timeout = '2s'"))
            follow_up = fresh_follow_up(session, placement)
            record_answer(
                session,
                runtime.settings,
                follow_up,
                paid=PaidAnswer.FULL,
                stars=None,
                via=AnsweredVia.SMS,
                now=utcnow(),
            )
    finally:
        held.release.set()
        first.join(30)

    assert results["first"] == {"called": 1}
    [placed] = held.placed
    with runtime.db.transaction() as session:
        follow_up = fresh_follow_up(session, placement)
        assert (follow_up.call_sid, follow_up.paid) == (placed.call_sid, PaidAnswer.FULL)
        call = session.scalar(select(Call).where(Call.call_sid == placed.call_sid))
        assert call is not None and call.answers["round"] == "asked"


# -- a call whose sid was never stored (finding 7) -------------------------------------------------


def test_a_call_known_only_from_its_webhook_is_not_placed_again(
    runtime, client, session, seeded, fake_twilio
):
    """Twilio placed the call but the job's last commit was lost (the follow-up keeps no sid); the
    worker picked up, so the call's row exists. A redelivered job must not ring again."""
    placement = place(runtime)
    base = f"{PUBLIC_BASE}/ivr/followup"
    status = f"{base}/status?f={placement.follow_up_id}"
    phone = Callee(client, WORKER_PHONE, "CA" + "4" * 32, f"{base}?f={placement.follow_up_id}", status)
    phone.pick_up()
    assert fresh_follow_up(session, placement).call_sid is None

    ask_by_phone(runtime, placement)
    [event] = call_events(session, placement)
    run_jobs(runtime)

    assert fake_twilio.requests == []
    assert run_id(runtime, event) == {"skipped": 1}


# -- a messaging service and no number to call from (finding 4) ------------------------------------


@pytest.mark.parametrize(
    "extra_settings", [{"TWILIO_FROM_NUMBER": "", "TWILIO_MESSAGING_SERVICE_SID": SERVICE_SID}]
)
def test_without_a_number_to_call_from_the_question_goes_by_sms(
    runtime, client, session, seeded, fake_twilio, caplog
):
    placement = place(runtime)
    ask_by_phone(runtime, placement)
    with caplog.at_level(logging.ERROR, logger="dispatch.voice.tasks"):
        run_jobs(runtime)
        ask_by_phone(runtime, placement)  # the same round again: no second text
        run_jobs(runtime)

    assert [r for r in fake_twilio.requests if r.path == CALLS_PATH] == []
    first, again = call_events(session, placement)
    assert (run_id(runtime, first), run_id(runtime, again)) == ({"texted": 1}, {"skipped": 1})
    assert "TWILIO_FROM_NUMBER is not set" in caplog.text
    [question] = outbound_to(session, WORKER_PHONE)
    assert question.kind == "followup.worker" and placement.job_code in question.body
    [sent] = fake_twilio.messages
    assert (sent["to"], sent["messaging_service_sid"]) == (WORKER_PHONE, SERVICE_SID)
    assert fresh_follow_up(session, placement).call_sid == "asked:sms"

    remind(runtime, placement)
    run_jobs(runtime)
    reminder = outbound_to(session, WORKER_PHONE)[-1]
    assert reminder.kind == "followup.reminder_worker"

    # The worker answers the text as any follow-up text is answered.
    response = post_signed(client, f"{PUBLIC_BASE}/sms/inbound", inbound_params("1 5", WORKER_PHONE))
    assert response.status_code == 200
    run_jobs(runtime)
    follow_up = fresh_follow_up(session, placement)
    assert (follow_up.status, follow_up.paid, follow_up.stars) == (
        FollowUpStatus.ANSWERED,
        PaidAnswer.FULL,
        5,
    )


def test_the_twilio_transport_knows_whether_it_can_call(runtime, seeded, fake_twilio):
    assert runtime.call_transport.can_place_calls
    without = dataclasses.replace(
        runtime.settings, TWILIO_FROM_NUMBER="", TWILIO_MESSAGING_SERVICE_SID=SERVICE_SID
    )
    assert not TwilioCallTransport(without).can_place_calls
