"""Reminders to placed workers (issue 16 part 4): the evening before at REMINDER_EVENING_TIME (19:00)
and REMINDER_BEFORE_MINUTES (90) before the start, in quiet hours only inside the urgent hours; once
per placement and kind; none for a place given back or a job called off. Quiet hours 21:00-08:00."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from typing import Any

import pytest
from sqlalchemy import select

from dispatch.i18n import render_sms
from dispatch.matching import tasks
from dispatch.models import Job, Message, Offer, OfferStatus
from dispatch.periodic import PERIODIC_TASKS
from dispatch.sms.segments import count_segments
from tests.factories import SHANGHAI, Market, commit
from tests.helpers import fresh, offers_of, run_jobs, text_in

DAY = date(2026, 12, 1)
NEXT = DAY + timedelta(days=1)


@pytest.fixture
def settings_overrides() -> dict[str, Any]:
    return {"QUIET_HOURS": "21:00-08:00", "REMINDER_EVENING_TIME": "19:00", "REMINDER_BEFORE_MINUTES": 90}


def at(day: date, hour: int, minute: int = 0) -> datetime:
    return datetime(day.year, day.month, day.day, hour, minute, tzinfo=SHANGHAI)


def placed(runtime, session, market: Market, client, *workers, **job_options) -> Job:
    """A job whose first wave reached `workers`, each of whom took a place with `1 <code>`."""
    job = market.job(headcount=len(workers), address="太行西街88号", **job_options)
    commit(runtime, session)
    run_jobs(runtime)
    for worker in workers:
        text_in(client, f"1 {job.code}", sender=worker.phone)
    run_jobs(runtime)
    session.expire_all()
    assert {o.worker_id for o in offers_of(session, job) if o.status == OfferStatus.ACCEPTED} == {
        w.id for w in workers
    }
    return fresh(session, job)


def reminders_to(session, phone: str) -> list[Message]:
    query = (
        select(Message).where(Message.phone == phone, Message.kind.like("reminder.%")).order_by(Message.id)
    )
    return list(session.scalars(query))


def test_the_evening_before_and_before_the_start_once_each(
    runtime, session, market: Market, client, clock
) -> None:
    clock.move_to(at(DAY, 10))
    worker = market.worker()
    job = placed(runtime, session, market, client, worker, work_date=NEXT, start=time(7, 30))

    clock.move_to(at(DAY, 18, 59))
    assert tasks.send_reminders() == {"evening": 0, "soon": 0}
    clock.move_to(at(DAY, 19, 2))
    assert tasks.send_reminders() == {"evening": 1, "soon": 0}
    assert tasks.send_reminders() == {"evening": 0, "soon": 0}  # once
    run_jobs(runtime)
    [evening] = reminders_to(session, worker.phone)
    employer_phone = job.employer.phone
    assert evening.kind == "reminder.evening" and evening.sent_at == at(DAY, 19, 2)
    assert evening.body.startswith(
        f"【潞州零工】上工提醒：岗位{job.code} 水电工 明天7点30分到太行西街88号，300元/天"
    )
    assert evening.body.endswith(f"去不了回复 取消 {job.code}") and evening.segments <= 2
    assert employer_phone[-4:] in evening.body.replace(" ", "")

    # 06:00 is 90 minutes before 07:30, in quiet hours but inside the urgent hours: it goes.
    clock.move_to(at(NEXT, 5, 59))
    assert tasks.send_reminders() == {"evening": 0, "soon": 0}
    clock.move_to(at(NEXT, 6, 0))
    assert tasks.send_reminders() == {"evening": 0, "soon": 1}
    clock.move_to(at(NEXT, 6, 2))
    assert tasks.send_reminders() == {"evening": 0, "soon": 0}
    run_jobs(runtime)
    soon = reminders_to(session, worker.phone)[-1]
    assert soon.kind == "reminder.soon" and soon.urgent and soon.created_at == at(NEXT, 6)
    assert soon.send_after is None and soon.not_after == at(NEXT, 7, 30)  # in quiet hours, not held
    assert soon.body.startswith(f"【潞州零工】快开工了：岗位{job.code} 水电工 今天7点30分")
    [offer] = [o for o in offers_of(session, job) if o.worker_id == worker.id]
    assert (offer.reminded_evening_at, offer.reminded_soon_at) == (at(DAY, 19, 2), at(NEXT, 6))


def test_a_reminder_due_outside_the_urgent_hours_waits_for_them_and_never_follows_the_start(
    runtime, session, market: Market, client, clock
) -> None:
    clock.move_to(at(DAY, 10))
    early, earliest = market.worker(), market.worker(trades=("cleaner",))
    seven = placed(runtime, session, market, client, early, work_date=NEXT, start=time(7))
    six = placed(runtime, session, market, client, earliest, work_date=NEXT, start=time(6), trade="cleaner")
    clock.move_to(at(NEXT, 5, 30))  # 07:00 - 90 min, but the urgent hours open at 06:00
    assert tasks.send_reminders()["soon"] == 0
    clock.move_to(at(NEXT, 6))
    assert tasks.send_reminders()["soon"] == 1  # the 07:00 job's, an hour ahead; the 06:00 one's start
    run_jobs(runtime)
    assert [m.kind for m in reminders_to(session, early.phone)] == ["reminder.soon"]
    assert reminders_to(session, earliest.phone) == []
    assert seven.code != six.code


def test_no_reminder_for_a_place_given_back_or_a_job_called_off(
    runtime, session, market: Market, client, clock
) -> None:
    clock.move_to(at(DAY, 10))
    stays, leaves, other = market.worker(), market.worker(), market.worker(trades=("cleaner",))
    job = placed(runtime, session, market, client, stays, leaves, work_date=NEXT, start=time(8))
    called_off = placed(
        runtime, session, market, client, other, work_date=NEXT, start=time(8), trade="cleaner"
    )
    text_in(client, f"取消 {job.code}", sender=leaves.phone)
    run_jobs(runtime)
    from dispatch.jobs.services import cancel_job

    with runtime.db.transaction() as work:
        cancel_job(work, work.get(Job, called_off.id), runtime.settings)
    run_jobs(runtime)
    clock.move_to(at(DAY, 19))
    assert tasks.send_reminders() == {"evening": 1, "soon": 0}
    clock.move_to(at(NEXT, 6, 30))
    assert tasks.send_reminders() == {"evening": 0, "soon": 1}
    run_jobs(runtime)
    assert [m.kind for m in reminders_to(session, stays.phone)] == ["reminder.evening", "reminder.soon"]
    assert reminders_to(session, leaves.phone) == reminders_to(session, other.phone) == []


def test_a_worker_placed_after_the_evening_time_gets_no_evening_reminder(
    runtime, session, market: Market, client, clock
) -> None:
    """Placed at 21:50 for 07:00 (urgent offers at night): the confirmation was the evening's word;
    the reminder before the start still comes, at 06:00 (urgent hours)."""
    clock.move_to(at(DAY, 21, 47))
    worker = market.worker()
    placed(runtime, session, market, client, worker, work_date=NEXT, start=time(7))
    clock.move_to(at(DAY, 21, 55))
    assert tasks.send_reminders() == {"evening": 0, "soon": 0}
    clock.move_to(at(NEXT, 6))
    assert tasks.send_reminders() == {"evening": 0, "soon": 1}


def test_the_evening_reminder_is_not_sent_in_quiet_hours(
    runtime, session, market: Market, client, clock
) -> None:
    clock.move_to(at(DAY, 10))
    worker = market.worker()
    placed(runtime, session, market, client, worker, work_date=NEXT, start=time(9))
    clock.move_to(at(DAY, 21, 5))  # the periodic job did not run between 19:00 and 21:00
    assert tasks.send_reminders() == {"evening": 0, "soon": 0}
    clock.move_to(at(NEXT, 7, 30))
    assert tasks.send_reminders() == {"evening": 0, "soon": 1}  # 07:30: inside the urgent hours


def test_reminders_concern_only_the_first_day_of_a_job_of_several(
    runtime, session, market: Market, client, clock
) -> None:
    clock.move_to(at(DAY, 10))
    worker = market.worker()
    placed(runtime, session, market, client, worker, work_date=NEXT, start=time(8), days=3)
    clock.move_to(at(NEXT, 19))  # the evening before day 2
    assert tasks.send_reminders()["evening"] == 0


def test_in_english_within_one_segment(runtime, session, market: Market, client, clock) -> None:
    clock.move_to(at(DAY, 10))
    worker = market.worker(language="en")
    job = placed(runtime, session, market, client, worker, work_date=NEXT, start=time(8))
    clock.move_to(at(DAY, 19))
    tasks.send_reminders()
    [sms] = reminders_to(session, worker.phone)
    assert sms.body.startswith(f"Luzhou Jobs: Reminder: {job.code} plumber tomorrow 8:00, ")
    assert sms.body.endswith(f"Can't go? CANCEL {job.code}")
    assert count_segments(sms.body).segments == 1


def test_the_reminder_text_in_both_languages_names_what_is_needed() -> None:
    context = {
        "code": "101",
        "trade": "水电工",
        "date": NEXT,
        "day_word": "tomorrow",
        "hour": 7,
        "minute": 0,
        "address": "太行西街88号",
        "pay": 300,
        "employer_phone": "0351 1234 5678",
    }
    zh = render_sms("reminder", "zh", sig="潞州零工", soon=False, **context)
    assert (
        zh == "【潞州零工】上工提醒：岗位101 水电工 明天7点到太行西街88号，300元/天，"
        "雇主0351 1234 5678。去不了回复 取消 101"
    )
    en = render_sms("reminder", "en", sig="Luzhou Jobs", soon=True, **{**context, "trade": "plumber"})
    en = en.replace("太行西街88号", "")
    assert en.startswith("Luzhou Jobs: Soon: 101 plumber tomorrow 7:00")


def test_the_periodic_task_is_registered() -> None:
    [entry] = [periodic for periodic in PERIODIC_TASKS if periodic.id == "send-reminders"]
    assert entry.task is tasks.send_reminders and entry.queue == "matching"


def test_a_reminder_is_recorded_once_even_when_the_run_repeats(
    runtime, session, market: Market, client, clock
) -> None:
    clock.move_to(at(DAY, 10))
    worker = market.worker()
    placed(runtime, session, market, client, worker, work_date=NEXT, start=time(8))
    clock.move_to(at(DAY, 19, 30))
    for _ in range(3):
        tasks.send_reminders()
    offer = session.scalars(select(Offer).where(Offer.worker_id == worker.id)).one()
    session.refresh(offer)
    assert offer.reminded_evening_at == at(DAY, 19, 30)
    assert len(reminders_to(session, worker.phone)) == 1
