"""Ringing once (响一声): a worker rings and hangs up at once; the market calls back with their offer
(or the nearest job that fits), once a number in RING_BACK_HOURS, quiet hours kept; a long call or a
stranger's ring is left to the call-back ticket as before. Real RQ worker, the fake Twilio API."""

from __future__ import annotations

import time_machine
from sqlalchemy import func, select

from dispatch.models import OfferStatus, Ticket, TicketKind
from dispatch.voice.ring_back import RING_BACK_HOURS
from tests.factories import Market, commit
from tests.helpers import run_jobs
from tests.ivr.conftest import PUBLIC_BASE, Caller, post_signed
from tests.voice.conftest import callee_for
from tests.voice.test_offer_call import NOON, PHONE_A, calls_to, offer_of, post_job


def ring_once(client, phone: str, seconds: str = "2") -> Caller:  # type: ignore[no-untyped-def]
    caller = Caller(client, phone=phone)
    caller.dial()
    params = caller.params(CallStatus="completed", CallDuration=seconds)
    assert post_signed(client, f"{caller.base}/ivr/status", params, caller.base).status_code == 200
    return caller


def call_back_tickets(session) -> int:  # type: ignore[no-untyped-def]
    session.expire_all()
    return session.scalar(select(func.count(Ticket.id)).where(Ticket.kind == TicketKind.CALL_BACK))


def test_a_worker_who_rings_once_is_called_back_with_the_offer_and_1_takes_it(
    runtime, client, session, seeded, fake_twilio
):
    with time_machine.travel(NOON, tick=True):
        worker = Market(session).worker(PHONE_A, name="李四")  # prefers texts: no call with the wave
        job = post_job(runtime, session)
        assert calls_to(fake_twilio) == []
        ring_once(client, PHONE_A)
        run_jobs(runtime, with_scheduler=True)
        assert calls_to(fake_twilio) == [PHONE_A]
        phone = callee_for(client, fake_twilio)
        phone.pick_up()
        phone.press("1")
    assert offer_of(session, job, worker).status == OfferStatus.ACCEPTED
    assert call_back_tickets(session) == 0  # the call back was the answer, not an agent's ticket


def test_a_voice_worker_who_missed_the_offer_call_and_rings_once_is_called_back(
    runtime, client, session, seeded, fake_twilio
):
    """The market's own offer call rang out; the worker rings once: that is asking for it again."""
    with time_machine.travel(NOON, tick=True):
        worker = Market(session).worker(PHONE_A, name="李四")
        worker.prefers_voice = True
        job = post_job(runtime, session)
        assert calls_to(fake_twilio) == [PHONE_A]  # the wave's call, not picked up
        ring_once(client, PHONE_A)
        run_jobs(runtime, with_scheduler=True)
        assert calls_to(fake_twilio) == [PHONE_A, PHONE_A]
        phone = callee_for(client, fake_twilio)
        phone.pick_up()
        phone.press("1")
    assert offer_of(session, job, worker).status == OfferStatus.ACCEPTED


def test_once_a_number_in_the_limit_then_the_ticket_as_before(runtime, client, session, seeded, fake_twilio):
    with time_machine.travel(NOON, tick=True) as traveller:
        Market(session).worker(PHONE_A)
        post_job(runtime, session)
        ring_once(client, PHONE_A)
        run_jobs(runtime, with_scheduler=True)
        traveller.shift(60)
        ring_once(client, PHONE_A)  # again within RING_BACK_HOURS: no second call back
        run_jobs(runtime, with_scheduler=True)
    assert calls_to(fake_twilio) == [PHONE_A]
    assert call_back_tickets(session) == 1
    assert RING_BACK_HOURS >= 1


def test_a_long_call_or_a_strangers_ring_is_not_a_ring(runtime, client, session, seeded, fake_twilio):
    with time_machine.travel(NOON, tick=True):
        Market(session).worker(PHONE_A)
        post_job(runtime, session)
        ring_once(client, PHONE_A, seconds="40")
        ring_once(client, "+8613700009999")
        run_jobs(runtime, with_scheduler=True)
    assert calls_to(fake_twilio) == []
    assert call_back_tickets(session) == 2


def test_a_ring_with_nothing_to_offer_leaves_the_ticket(runtime, client, session, seeded, fake_twilio):
    with time_machine.travel(NOON, tick=True):
        Market(session).worker(PHONE_A)
        commit(runtime, session)
        ring_once(client, PHONE_A)
        run_jobs(runtime, with_scheduler=True)
    assert calls_to(fake_twilio) == []
    assert call_back_tickets(session) == 1
    assert PUBLIC_BASE
