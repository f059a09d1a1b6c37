"""In time (issue 16): the employer posting at night hears when the offers will go, on the phone (the
IVR's last prompt and the SMS summary, which answers the call at once) and in the SMS reply to a
texted request; a job too close to its start is said to go to an agent. Quiet hours 21:00-08:00."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select

from dispatch.i18n import prompt
from dispatch.matching import in_time
from dispatch.models import Call, Job, Message, MessageStatus
from tests.factories import SHANGHAI
from tests.helpers import outbound_to, run_jobs
from tests.ivr.conftest import EMPLOYER_PHONE, PUBLIC_BASE, Caller

DAY = date(2026, 12, 1)
NEXT = DAY + timedelta(days=1)


@pytest.fixture
def settings_overrides() -> dict[str, Any]:
    return {"QUIET_HOURS": "21:00-08:00", "PUBLIC_BASE_URL": PUBLIC_BASE, "OPENING_HOURS": "08:00-18:00"}


def at(day: date, hour: int, minute: int = 0) -> datetime:
    return datetime(day.year, day.month, day.day, hour, minute, tzinfo=SHANGHAI)


def phone_in_a_job(client, hour: int, day_key: str = "2") -> Caller:
    """Plumbers (4), 2 of them, tomorrow (2) or today (1), from `hour`, 1 day, 300 a day, 太西 (8)."""
    caller = Caller(client)
    caller.dial()
    for keys in ["1", "4", "2", day_key, str(hour), "1", "300", "8", "#"]:
        caller.press(keys)
    caller.skip_recording()
    caller.press("1")
    return caller


def the_job(session, caller: Caller) -> Job:
    session.expire_all()
    call = session.scalars(select(Call).where(Call.call_sid == caller.sid)).one()
    job = session.get(Job, call.job_id)
    assert job is not None
    return job


def test_a_call_at_23_30_for_7_tomorrow_hears_offers_go_at_6(client, session, seeded, runtime, clock) -> None:
    clock.move_to(at(DAY, 23, 30))
    caller = phone_in_a_job(client, 7)
    job = the_job(session, caller)
    assert "夜里不发短信，明天早上6点开始通知工人。" in caller.said()
    # The summary answers the call: it goes now, not at 08:00, and says the same.
    [summary] = outbound_to(session, EMPLOYER_PHONE)
    assert summary.kind == "job.created" and summary.is_reply and summary.send_after is None
    assert "明早6点起通知工人，有人接单会短信告诉您。" in summary.body
    run_jobs(runtime)
    session.expire_all()
    assert session.get(Message, summary.id).status == MessageStatus.SENT
    assert job.work_date == NEXT


def test_a_call_at_21_47_for_7_tomorrow_hears_nothing_of_the_night(
    client, session, seeded, runtime, clock
) -> None:
    """Its offers go at once (the urgent hours): nothing to wait for."""
    clock.move_to(at(DAY, 21, 47))
    caller = phone_in_a_job(client, 7)
    assert "夜里" not in caller.said() and "客服会马上打电话" not in caller.said()
    [summary] = outbound_to(session, EMPLOYER_PHONE)
    assert "有工人接单会短信通知您" in summary.body and "起通知工人" not in summary.body


def test_a_call_at_21_47_for_10_tomorrow_hears_offers_go_at_8(
    client, session, seeded, runtime, clock
) -> None:
    clock.move_to(at(DAY, 21, 47))
    caller = phone_in_a_job(client, 10)
    assert "明天早上8点开始通知工人" in caller.said()


def test_a_call_at_6_40_for_7_today_hears_an_agent_will_phone_workers(
    client, session, seeded, runtime, clock
) -> None:
    clock.move_to(at(DAY, 6, 40))
    caller = phone_in_a_job(client, 7, day_key="1")
    assert "离开工时间太近，来不及发短信找人，客服会马上打电话帮您找。" in caller.said()
    [summary, *_] = outbound_to(session, EMPLOYER_PHONE)
    assert "离开工太近，客服会电话帮您找人。" in summary.body


def test_the_english_prompt_and_texts() -> None:
    notice = {"no_time": False, "offers_at": at(NEXT, 6), "offers_next_day": True}
    said = prompt("job_done", "en", code="101", held=False, **notice)
    assert "We text no one at night: workers hear of it from 6:00 tomorrow morning." in said
    said = prompt(
        "job_done", "en", code="101", held=False, no_time=True, offers_at=None, offers_next_day=False
    )
    assert "It starts too soon for text offers, so an agent will phone workers for you." in said


def test_posting_notice_matches_the_plan(runtime) -> None:
    job = Job(work_date=NEXT, start_time=at(NEXT, 7).timetz().replace(tzinfo=None), days=1, end_date=NEXT)
    assert in_time.posting_notice(runtime.settings, job, at(DAY, 23, 30)) == {
        "no_time": False,
        "offers_at": at(NEXT, 6),
        "offers_next_day": True,
    }
    assert in_time.posting_notice(runtime.settings, job, at(DAY, 21, 47))["offers_at"] is None
    assert in_time.posting_notice(runtime.settings, job, at(NEXT, 6, 45))["no_time"] is True
