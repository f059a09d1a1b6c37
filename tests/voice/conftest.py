"""Voice follow-ups: the real Twilio client against the fake Twilio API, a placed worker who prefers
voice with an open follow-up, and the worker's phone answering the market's call."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, time, timedelta
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from dispatch.clock import utcnow
from dispatch.jobs.services import JobRequest, create_job
from dispatch.models import (
    Call,
    Employer,
    FollowUp,
    FollowUpChannel,
    FollowUpParty,
    FollowUpStatus,
    Job,
    JobSource,
    JobStatus,
    Offer,
    OfferStatus,
    Worker,
)
from dispatch.runtime import Runtime
from tests.factories import SHANGHAI, Market
from tests.fakes.twilio_api import FakeTwilioApi
from tests.helpers import TEST_AUTH_TOKEN
from tests.ivr.conftest import PUBLIC_BASE, Caller, post_signed

ACCOUNT_SID = "AC" + "7" * 32
FROM_NUMBER = "+8610690000"
WORKER_PHONE = "+8613912340001"
CALLS_PATH = f"/2010-04-01/Accounts/{ACCOUNT_SID}/Calls.json"
CALL_TASK = "dispatch.voice.tasks.call_follow_up"


@pytest.fixture
def fake_twilio() -> Iterator[FakeTwilioApi]:
    with FakeTwilioApi(ACCOUNT_SID, TEST_AUTH_TOKEN) as fake:
        yield fake


@pytest.fixture
def extra_settings() -> dict[str, Any]:
    """A test's own settings: `@pytest.mark.parametrize("extra_settings", [{...}])`."""
    return {}


@pytest.fixture
def settings_overrides(fake_twilio: FakeTwilioApi, extra_settings: dict[str, Any]) -> dict[str, Any]:
    """The twilio transport pointed at the fake (running before the runtime is built)."""
    return {
        "SMS_TRANSPORT": "twilio",
        "TWILIO_API_BASE_URL": fake_twilio.base_url,
        "TWILIO_ACCOUNT_SID": ACCOUNT_SID,
        "TWILIO_AUTH_TOKEN": TEST_AUTH_TOKEN,
        "TWILIO_FROM_NUMBER": FROM_NUMBER,
        "PUBLIC_BASE_URL": PUBLIC_BASE,
        **extra_settings,
    }


@dataclass
class Placement:
    """A worker who prefers voice, placed on a job that has ended, with the worker's follow-up."""

    follow_up_id: int  # 0 when the follow-up run is left to make it
    worker_id: int
    employer_id: int
    job_id: int
    job_code: str
    work_date: date
    phone: str


def place(
    runtime: Runtime,
    *,
    phone: str = WORKER_PHONE,
    language: str | None = None,
    channel: FollowUpChannel = FollowUpChannel.VOICE,
    status: FollowUpStatus = FollowUpStatus.ASKED,
    days: int = 1,
    follow_up: bool = True,
) -> Placement:
    """Arrange, in a committed transaction of its own, a placement that ended the day before yesterday
    and (unless `follow_up` is false) the worker's follow-up as the follow-up run leaves it."""
    with runtime.db.transaction() as session:
        market = Market(session)
        employer = market.employer(name="王老板")
        worker = market.worker(phone, name="李四", language=language)
        worker.prefers_voice = True
        work_date = utcnow().astimezone(SHANGHAI).date() - timedelta(days=days + 1)
        request = JobRequest(
            trade_id=market.trade("plumber_electrician").id,
            headcount=1,
            work_date=work_date,
            start_time=time(8, 0),
            days=days,
            daily_pay=300,
            site_id=market.site("LZ-TX").id,
        )
        job = create_job(session, employer, request, JobSource.AGENT, status=JobStatus.FILLED)
        job.filled = 1
        offer = Offer(job_id=job.id, worker_id=worker.id, status=OfferStatus.ACCEPTED, responded_at=utcnow())
        session.add(offer)
        session.flush()
        assert job.code is not None
        if not follow_up:
            return Placement(0, worker.id, employer.id, job.id, job.code, work_date, phone)
        row = FollowUp(
            offer_id=offer.id,
            job_id=job.id,
            worker_id=worker.id,
            employer_id=employer.id,
            party=FollowUpParty.WORKER,
            channel=channel,
            status=status,
        )
        session.add(row)
        session.flush()
        return Placement(row.id, worker.id, employer.id, job.id, job.code, work_date, phone)


def fresh_follow_up(session: Session, placement: Placement) -> FollowUp:
    session.expire_all()
    follow_up = session.get(FollowUp, placement.follow_up_id)
    assert follow_up is not None
    return follow_up


def fresh_employer(session: Session, placement: Placement) -> Employer:
    session.expire_all()
    employer = session.get(Employer, placement.employer_id)
    assert employer is not None
    return employer


def the_call(session: Session, sid: str) -> Call:
    session.expire_all()
    call = session.scalar(select(Call).where(Call.call_sid == sid))
    assert call is not None
    return call


def job_of(session: Session, placement: Placement) -> Job:
    job = session.get(Job, placement.job_id)
    assert job is not None
    return job


def worker_of(session: Session, placement: Placement) -> Worker:
    worker = session.get(Worker, placement.worker_id)
    assert worker is not None
    return worker


class Callee(Caller):
    """The worker's phone, rung by the market: it picks up at the URL the call was placed with."""

    def __init__(self, client: Any, phone: str, sid: str, url: str, status_callback: str) -> None:
        super().__init__(client, phone=phone, sid=sid)
        self.url = url
        self.status_callback = status_callback

    def params(self, **extra: str) -> dict[str, str]:
        return {
            "CallSid": self.sid,
            "AccountSid": ACCOUNT_SID,
            "From": FROM_NUMBER,
            "To": self.phone,
            "CallStatus": "in-progress",
            "Direction": "outbound-api",
            **extra,
        }

    def pick_up(self) -> str:
        return self._post(self.url, self.params())

    def hang_up(self, status: str = "completed") -> None:
        params = self.params(CallStatus=status, CallDuration="30" if status == "completed" else "0")
        response = post_signed(self.client, self.status_callback, params)
        assert response.status_code == 200, response.get_data(as_text=True)
        assert response.get_data(as_text=True).endswith("<Response></Response>")


def callee_for(client: Any, fake_twilio: FakeTwilioApi, index: int = -1) -> Callee:
    """The phone of the call the fake Twilio was asked to place (the last one by default)."""
    placed = [request for request in fake_twilio.requests if request.path == CALLS_PATH]
    request = placed[index]
    sid = [call["sid"] for call in fake_twilio.calls][index]
    form = {name: values[0] for name, values in request.form.items()}
    return Callee(client, form["To"], sid, form["Url"], form["StatusCallback"])
