"""Reminders by phone for workers who prefer voice (issue 16, part 4, "by the worker's channel"): the
evening before, the market calls once besides the reminder's text (a landline's only reminder);
picked up, the worker hears the place they hold, then their worker line's menu. Real RQ worker, the
real twilio client against the fake Twilio API, signed webhooks."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from typing import Any

import pytest
import time_machine
from sqlalchemy import select

from dispatch.clock import utcnow
from dispatch.jobs.services import JobRequest, create_job
from dispatch.matching import tasks
from dispatch.models import Call, Contact, Job, JobSource, JobStatus, Message, Offer, OfferStatus, Worker
from tests.factories import SHANGHAI, Market, commit
from tests.helpers import run_jobs
from tests.voice.conftest import CALLS_PATH, callee_for

DAY = date(2026, 12, 1)
EVENING_BEFORE = datetime(2026, 11, 30, 19, 0, 30, tzinfo=SHANGHAI)
PHONE = "+8613912340007"
REMINDER_SETTINGS = {"QUIET_HOURS": "21:00-08:00", "REMINDER_EVENING_TIME": "19:00"}


@pytest.fixture
def extra_settings() -> dict[str, Any]:
    return REMINDER_SETTINGS


def booked(runtime, session, *, prefers_voice: bool, landline: bool) -> Offer:
    """李四 holds the one place of a plumber's job on DAY at 8:00, taken at noon the day before."""
    market = Market(session)
    worker = market.worker(PHONE, name="李四")
    worker.prefers_voice = prefers_voice
    if landline:
        session.add(Contact(phone=PHONE, undeliverable_at=utcnow(), undeliverable_error=21614))
    request = JobRequest(
        market.trade("plumber_electrician").id, 1, DAY, time(8), 1, 300, market.site("LZ-TX").id
    )
    job = create_job(session, market.employer(), request, JobSource.AGENT, status=JobStatus.FILLED)
    job.filled = 1
    offer = Offer(
        job_id=job.id,
        worker_id=worker.id,
        status=OfferStatus.ACCEPTED,
        responded_at=EVENING_BEFORE - timedelta(hours=7),
    )
    session.add(offer)
    commit(runtime, session)
    return offer


def calls_to(fake_twilio) -> list[str]:
    return [request.form["To"][0] for request in fake_twilio.requests if request.path == CALLS_PATH]


def test_a_landline_worker_is_called_the_evening_before_and_hears_the_booking_then_the_menu(
    runtime, client, session, seeded, fake_twilio
) -> None:
    with time_machine.travel(EVENING_BEFORE, tick=False):
        offer = booked(runtime, session, prefers_voice=True, landline=True)
        assert tasks.send_reminders() == {"evening": 1, "soon": 0}
        run_jobs(runtime, with_scheduler=True)
        assert calls_to(fake_twilio) == [PHONE]
        [reminder] = session.scalars(select(Message).where(Message.phone == PHONE)).all()
        assert reminder.kind == "reminder.evening" and reminder.status.value == "suppressed"
        phone = callee_for(client, fake_twilio)
        assert phone.url.endswith(f"/ivr/reminder?o={offer.id}&s=0")
        said = phone.pick_up()
        job = session.get(Job, offer.job_id)
        assert "提醒您明天的活" in said
        assert f"岗位号{' '.join(job.code or '')}" in said  # the booking, as the worker line reads it
        assert "听您已经接下的活请按2" in said  # then the worker's own menu
        assert "您接了1个活" in phone.press("2")
        assert tasks.send_reminders() == {"evening": 0, "soon": 0}  # once
        run_jobs(runtime, with_scheduler=True)
    assert calls_to(fake_twilio) == [PHONE]
    call = session.scalar(select(Call).where(Call.call_sid == phone.sid))
    assert call is not None and call.worker_id == session.get(Worker, offer.worker_id).id


def test_a_worker_who_texts_gets_the_text_and_no_call(runtime, session, seeded, fake_twilio) -> None:
    with time_machine.travel(EVENING_BEFORE, tick=False):
        booked(runtime, session, prefers_voice=False, landline=False)
        assert tasks.send_reminders() == {"evening": 1, "soon": 0}
        run_jobs(runtime, with_scheduler=True)
    assert calls_to(fake_twilio) == []
    texted = [request.form["To"][0] for request in fake_twilio.requests if request.path != CALLS_PATH]
    assert texted == [PHONE]


def test_a_place_given_back_before_the_call_rings_nobody(runtime, session, seeded, fake_twilio) -> None:
    with time_machine.travel(EVENING_BEFORE, tick=False):
        offer = booked(runtime, session, prefers_voice=True, landline=True)
        assert tasks.send_reminders() == {"evening": 1, "soon": 0}
        session.expire_all()
        session.get(Offer, offer.id).status = OfferStatus.CANCELLED  # given back meanwhile
        session.commit()
        run_jobs(runtime, with_scheduler=True)
    assert calls_to(fake_twilio) == []
