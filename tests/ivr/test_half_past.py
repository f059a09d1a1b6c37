"""Half-hour starts on the keypad: the hour alone is a whole hour (the common case, no extra step),
`*` after it is half past; the read-back, the job and the employer's SMS all say :30, and a half hour
already gone by today is refused as a whole hour is."""

from __future__ import annotations

from datetime import UTC, date, datetime, time

from sqlalchemy import select

from dispatch.jobs.request_parser import has_started
from dispatch.models import Call, Job
from tests.helpers import outbound_to
from tests.ivr.conftest import EMPLOYER_PHONE, Caller

MARKET_NOW = datetime(2026, 12, 4, 10, 0)  # the fixtures' market_open: 10:00 on Friday 4 December


def job_of(session, caller: Caller) -> Job | None:
    session.expire_all()
    call = session.scalars(select(Call).where(Call.call_sid == caller.sid)).one()
    return session.get(Job, call.job_id) if call.job_id else None


def call_for_a_job(caller: Caller, day: str, start: str) -> None:
    """Plumbers (4), 2 of them, on `day`, from `start`, for 3 days, 300 a day, in 太西 (8) itself."""
    caller.dial()
    for keys in ["1", "4", "2", day, start, "3", "300", "8", "#"]:
        caller.press(keys)
    caller.skip_recording()


def test_star_after_the_hour_is_half_past_in_the_read_back_the_job_and_the_sms(
    client, session, seeded, market_open
) -> None:
    caller = Caller(client)
    call_for_a_job(caller, "2", "7*")
    assert "12月5日7点半上工" in caller.said()
    caller.press("1")
    job = job_of(session, caller)
    assert job is not None and (job.work_date, job.start_time) == (date(2026, 12, 5), time(7, 30))
    [summary] = outbound_to(session, EMPLOYER_PHONE)
    assert "12月5日7点30分上工" in summary.body


def test_a_whole_hour_is_still_one_key_and_reads_as_before(client, session, seeded, market_open) -> None:
    caller = Caller(client)
    call_for_a_job(caller, "2", "7")
    assert "12月5日7点上工" in caller.said()
    caller.press("1")
    job = job_of(session, caller)
    assert job is not None and job.start_time == time(7)
    [summary] = outbound_to(session, EMPLOYER_PHONE)
    assert "12月5日7点上工" in summary.body


def test_english_reads_half_past_as_7_30(client, session, seeded, market_open) -> None:
    caller = Caller(client)
    caller.dial()
    caller.press("*")  # English
    for keys in ["1", "4", "2", "2", "7*", "3", "300", "8", "#"]:
        caller.press(keys)
    caller.skip_recording()
    assert "starting at 7:30," in caller.said()


def test_today_a_half_hour_still_ahead_is_taken_and_one_gone_by_is_asked_again(
    client, session, seeded, market_open
) -> None:
    caller = Caller(client)
    caller.dial()
    for keys in ["1", "4", "2", "1"]:  # today, at 10:00 in the market
        caller.press(keys)
    caller.press("10")  # 10:00 has begun
    assert "这个开工时间已经过了" in caller.said()
    caller.press("9*")
    assert "这个开工时间已经过了" in caller.said()
    caller.press("10*")  # 10:30 is still ahead
    assert "一共干几天" in caller.said()
    for keys in ["3", "300", "8", "#"]:
        caller.press(keys)
    caller.skip_recording()
    caller.press("1")
    job = job_of(session, caller)
    assert job is not None and (job.work_date, job.start_time) == (date(2026, 12, 4), time(10, 30))


def test_a_start_has_begun_at_its_own_half_hour() -> None:
    day = date(2026, 12, 4)
    at = datetime(2026, 12, 4, 7, 29, tzinfo=UTC)
    assert has_started(day, 7, at) and not has_started(day, 7, at, minute=30)
    at = at.replace(minute=30)
    assert has_started(day, 7, at, minute=30) and not has_started(day, 8, at)
