"""Offers by phone for workers who prefer voice: a wave's offer rings the worker (the SMS goes too),
1 takes it through the same first-come rule as an SMS yes, 2 declines; two attempts at most, a few
minutes apart, none once picked up, none in quiet hours. Real RQ worker, real twilio client against
the fake Twilio API, signed webhooks; TwiML against golden files (tests/voice/golden/)."""

from __future__ import annotations

import os
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import time_machine
from sqlalchemy import select

from dispatch.clock import utcnow
from dispatch.models import (
    Call,
    Contact,
    Job,
    Message,
    MessageStatus,
    Offer,
    OfferStatus,
    OutboxEvent,
    Worker,
    WorkerStatus,
)
from dispatch.queue import defer
from dispatch.voice.tasks import call_offer
from tests.factories import SHANGHAI, Market, commit
from tests.helpers import offers_of, run_jobs
from tests.ivr.test_golden import _canonical, _pretty
from tests.voice.conftest import CALLS_PATH, callee_for

GOLDEN = Path(__file__).parent / "golden"
UPDATE = os.environ.get("UPDATE_GOLDEN") == "1"
NOON = datetime(2026, 3, 10, 12, 0, tzinfo=SHANGHAI)  # a Tuesday
EVENING = datetime(2026, 3, 10, 22, 30, tzinfo=SHANGHAI)
MORNING = datetime(2026, 3, 11, 8, 0, tzinfo=SHANGHAI)
PHONE_A, PHONE_B = "+8613912340001", "+8613912340002"
OFFER_TASK = "dispatch.voice.tasks.call_offer"
QUIET_HOURS = {"QUIET_HOURS": "21:00-08:00", "MARKET_TIMEZONE": "Asia/Shanghai"}


def golden(name: str, language: str, twiml: str, code: str) -> None:
    twiml = twiml.replace(" ".join(code), "1 0 1")  # job codes come from a sequence
    path = GOLDEN / language / f"{name}.xml"
    if UPDATE:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(_pretty(twiml), encoding="utf-8")
    assert path.exists(), f"no golden file {path}: run with UPDATE_GOLDEN=1"
    assert _canonical(twiml) == _canonical(path.read_text(encoding="utf-8"))


def voice_workers(session, *phones: str, language: str | None = None) -> list[Worker]:
    market = Market(session)
    workers = [market.worker(phone, name="李四", language=language) for phone in phones]
    for worker in workers:
        worker.prefers_voice = True
    return workers


def post_job(runtime, session, headcount: int = 1) -> Job:
    """A plumber's job tomorrow at 8 in 太西 for 300 a day; its first wave runs."""
    job = Market(session).job(headcount=headcount, start=datetime(2026, 1, 1, 8).time())
    commit(runtime, session)
    run_jobs(runtime, with_scheduler=True)
    session.expire_all()
    return job


def calls_to(fake_twilio) -> list[str]:
    return [request.form["To"][0] for request in fake_twilio.requests if request.path == CALLS_PATH]


def offer_of(session, job: Job, worker: Worker) -> Offer:
    session.expire_all()
    return session.scalars(select(Offer).where(Offer.job_id == job.id, Offer.worker_id == worker.id)).one()


def messages_to(session, phone: str) -> list[Message]:
    session.expire_all()
    return list(session.scalars(select(Message).where(Message.phone == phone)))


def kinds_to(session, phone: str) -> list[str]:
    session.expire_all()
    query = select(Message.kind).where(Message.phone == phone).order_by(Message.id)
    return list(session.scalars(query))


@pytest.mark.parametrize("language", ["zh", "en"])
def test_a_voice_worker_is_called_with_the_offer_and_1_takes_it(
    runtime, client, session, seeded, fake_twilio, language
):
    with time_machine.travel(NOON, tick=True):
        [worker] = voice_workers(session, PHONE_A, language=language)
        job = post_job(runtime, session)
        offer = offer_of(session, job, worker)

        assert kinds_to(session, PHONE_A) == ["offer"]  # the SMS stays: the code in writing
        assert calls_to(fake_twilio) == [PHONE_A]
        phone = callee_for(client, fake_twilio)
        assert phone.url == f"https://dispatch.example.org/lz/ivr/offer?o={offer.id}&a=1"
        golden("offer_call", language, phone.pick_up(), job.code or "")
        golden("offer_call_taken", language, phone.press("1"), job.code or "")

    assert offer_of(session, job, worker).status == OfferStatus.ACCEPTED
    assert session.get(Job, job.id).filled == 1
    assert "placement.worker" in kinds_to(session, PHONE_A)  # the same confirmation as an SMS yes
    call = session.scalar(select(Call).where(Call.call_sid == phone.sid))
    assert (call.flow, call.answers["taken"], call.answers["outcome"]) == ("offer_call", offer.id, "placed")


def test_two_voice_workers_one_place_the_second_hears_it_is_full(
    runtime, client, session, seeded, fake_twilio
):
    with time_machine.travel(NOON, tick=True):
        first, second = voice_workers(session, PHONE_A, PHONE_B)
        job = post_job(runtime, session, headcount=1)
        assert sorted(calls_to(fake_twilio)) == [PHONE_A, PHONE_B]
        phones = {callee.phone: callee for callee in (callee_for(client, fake_twilio, i) for i in (0, 1))}
        phones[PHONE_A].pick_up()
        phones[PHONE_B].pick_up()  # both hear the offer while the place is free

        assert "这个活是您的了" in phones[PHONE_A].press("1")
        assert "名额已经满了" in phones[PHONE_B].press("1")

    assert offer_of(session, job, first).status == OfferStatus.ACCEPTED
    assert offer_of(session, job, second).status in (OfferStatus.STANDBY, OfferStatus.LATE)
    assert session.get(Job, job.id).filled == 1
    assert "match.full" in kinds_to(session, PHONE_B)  # and in writing, as an SMS yes would hear


def test_a_call_picked_up_after_the_job_filled_says_so_and_asks_nothing(
    runtime, client, session, seeded, fake_twilio
):
    with time_machine.travel(NOON, tick=True):
        _, second = voice_workers(session, PHONE_A, PHONE_B)
        job = post_job(runtime, session, headcount=1)
        phones = {callee.phone: callee for callee in (callee_for(client, fake_twilio, i) for i in (0, 1))}
        phones[PHONE_A].pick_up()
        phones[PHONE_A].press("1")
        late = phones[PHONE_B].pick_up()

    assert "<Gather" not in late and "<Hangup" in late
    assert "已经招满或者过时了" in late
    assert offer_of(session, job, second).status == OfferStatus.CANCELLED


def test_2_declines_the_offer(runtime, client, session, seeded, fake_twilio):
    with time_machine.travel(NOON, tick=True):
        [worker] = voice_workers(session, PHONE_A)
        job = post_job(runtime, session)
        phone = callee_for(client, fake_twilio)
        phone.pick_up()
        golden("offer_call_declined", "zh", phone.press("2"), job.code or "")
    assert offer_of(session, job, worker).status == OfferStatus.DECLINED


def test_silence_asks_again_twice_then_says_goodbye_and_the_offer_waits(
    runtime, client, session, seeded, fake_twilio
):
    with time_machine.travel(NOON, tick=True):
        [worker] = voice_workers(session, PHONE_A)
        job = post_job(runtime, session)
        phone = callee_for(client, fake_twilio)
        phone.pick_up()
        assert "没有听到您按键" in phone.silence()
        phone.silence()
        last = phone.silence()
    assert "<Hangup" in last and "<Enqueue" not in last  # nobody is queued for an agent
    assert offer_of(session, job, worker).status == OfferStatus.SENT  # the SMS can still answer it


def test_an_unanswered_call_is_tried_once_more_a_few_minutes_later_and_no_more(
    runtime, client, session, seeded, fake_twilio
):
    with time_machine.travel(NOON, tick=True) as traveller:
        voice_workers(session, PHONE_A)
        post_job(runtime, session)
        assert calls_to(fake_twilio) == [PHONE_A]
        callee_for(client, fake_twilio).hang_up("no-answer")

        traveller.move_to(NOON + timedelta(minutes=3))
        run_jobs(runtime, with_scheduler=True)
        assert calls_to(fake_twilio) == [PHONE_A]
        traveller.move_to(NOON + timedelta(minutes=4, seconds=5))
        run_jobs(runtime, with_scheduler=True)
        assert calls_to(fake_twilio) == [PHONE_A, PHONE_A]

        traveller.move_to(NOON + timedelta(minutes=20))
        run_jobs(runtime, with_scheduler=True)
    assert calls_to(fake_twilio) == [PHONE_A, PHONE_A]  # two attempts at most


def test_a_call_picked_up_is_not_made_again(runtime, client, session, seeded, fake_twilio):
    with time_machine.travel(NOON, tick=True) as traveller:
        voice_workers(session, PHONE_A)
        post_job(runtime, session)
        phone = callee_for(client, fake_twilio)
        phone.pick_up()
        phone.hang_up()  # heard it, answered nothing: the SMS can still answer it

        traveller.move_to(NOON + timedelta(minutes=10))
        run_jobs(runtime, with_scheduler=True)
    assert calls_to(fake_twilio) == [PHONE_A]


def landline(session, phone: str, prefers_voice: bool = True) -> Worker:
    """A worker whose number takes no SMS (Twilio 21614 on an earlier text)."""
    worker = Market(session).worker(phone, name="李四")
    worker.prefers_voice = prefers_voice
    session.add(Contact(phone=phone, undeliverable_at=utcnow(), undeliverable_error=21614))
    return worker


def test_a_landline_voice_worker_is_offered_by_call_alone_and_1_takes_it(
    runtime, client, session, seeded, fake_twilio
):
    """No text can reach the number, so the call is the offer: the wave makes it, the SMS is
    suppressed without cancelling it, 1 takes the place."""
    with time_machine.travel(NOON, tick=True):
        worker = landline(session, PHONE_A)
        job = post_job(runtime, session)
        offer = offer_of(session, job, worker)
        assert offer.status == OfferStatus.SENT
        assert session.get(Message, offer.message_id).status == MessageStatus.SUPPRESSED
        assert calls_to(fake_twilio) == [PHONE_A]
        phone = callee_for(client, fake_twilio)
        assert " ".join(job.code or "") in phone.pick_up()
        assert "这个活是您的了" in phone.press("1")
    assert offer_of(session, job, worker).status == OfferStatus.ACCEPTED
    assert session.get(Job, job.id).filled == 1
    texted = [request.form["To"][0] for request in fake_twilio.requests if request.path != CALLS_PATH]
    assert PHONE_A not in texted  # nothing was ever sent to the landline as a text
    assert kinds_to(session, PHONE_A)[:2] == ["offer", "placement.worker"]
    assert all(message.status == MessageStatus.SUPPRESSED for message in messages_to(session, PHONE_A))


def test_a_landline_worker_who_only_texts_gets_no_offer(runtime, session, seeded, fake_twilio):
    with time_machine.travel(NOON, tick=True):
        landline(session, PHONE_A, prefers_voice=False)
        job = post_job(runtime, session)
    assert offers_of(session, job) == []
    assert calls_to(fake_twilio) == []


def test_an_opted_out_voice_worker_is_neither_texted_nor_called(runtime, session, seeded, fake_twilio):
    with time_machine.travel(NOON, tick=True):
        worker = landline(session, PHONE_A)
        session.scalars(select(Contact).where(Contact.phone == PHONE_A)).one().opted_out_at = utcnow()
        worker.status = WorkerStatus.OPTED_OUT
        job = post_job(runtime, session)
    assert offers_of(session, job) == []
    assert calls_to(fake_twilio) == []


def test_workers_who_text_are_not_called(runtime, session, seeded, fake_twilio):
    with time_machine.travel(NOON, tick=True):
        Market(session).worker(PHONE_A)
        job = post_job(runtime, session)
    assert [offer.worker.phone for offer in offers_of(session, job)] == [PHONE_A]
    assert calls_to(fake_twilio) == []


@pytest.mark.parametrize("extra_settings", [QUIET_HOURS])
def test_an_offer_made_at_night_is_called_when_its_text_goes_not_before(
    runtime, client, session, seeded, fake_twilio
):
    """Posted at 22:30 for 8:00 tomorrow: the offer is urgent (08:00 leaves no lead), so its text goes
    when the urgent hours open at 06:00 (dispatch/matching/in_time.py), and the call with it."""
    urgent_morning = MORNING.replace(hour=6)
    with time_machine.travel(EVENING, tick=True) as traveller:
        voice_workers(session, PHONE_A)
        job = post_job(runtime, session)
        [offer] = offers_of(session, job)
        assert offer.sent_at == urgent_morning.astimezone(UTC)  # its SMS waits for the morning too
        assert calls_to(fake_twilio) == []
        event = session.scalars(select(OutboxEvent).where(OutboxEvent.task == OFFER_TASK)).one()
        assert (event.args, event.run_at) == ([offer.id, 1], urgent_morning.astimezone(UTC))

        traveller.move_to(urgent_morning - timedelta(minutes=1))
        run_jobs(runtime, with_scheduler=True)
        assert calls_to(fake_twilio) == []

        traveller.move_to(urgent_morning)
        run_jobs(runtime, with_scheduler=True)
    assert calls_to(fake_twilio) == [PHONE_A]


@pytest.mark.parametrize("extra_settings", [QUIET_HOURS])
def test_an_attempt_due_in_quiet_hours_for_an_offer_lapsing_before_morning_rings_nobody(
    runtime, session, seeded, fake_twilio
):
    """An offer an agent sent at 20:55 (expiring at 21:05): its second attempt would fall at night."""
    with time_machine.travel(EVENING, tick=True):
        [worker] = voice_workers(session, PHONE_A)
        job = Market(session).job()
        offer = Offer(
            job_id=job.id,
            worker_id=worker.id,
            status=OfferStatus.SENT,
            sent_at=utcnow(),
            expires_at=utcnow() + timedelta(minutes=10),
        )
        session.add(offer)
        session.flush()
        defer(session, call_offer, offer.id, 2, queue="sms")
        commit(runtime, session)
        run_jobs(runtime, with_scheduler=True)
        later = session.scalars(
            select(OutboxEvent).where(OutboxEvent.task == OFFER_TASK, OutboxEvent.run_at.is_not(None))
        ).all()
    assert calls_to(fake_twilio) == []
    assert later == []  # not put off to the morning either: it will have lapsed
