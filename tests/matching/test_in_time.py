"""In time (issue 16): a job's offers arrive and can be answered before its start.

Quiet hours 21:00-08:00, urgent hours 06:00-22:00, MIN_LEAD_MINUTES 30 (the defaults but for quiet
hours, which tests turn off unless they ask). The clock is put at 21:47, 23:30, 05:50, 06:10 and noon;
jobs start at 07:00, 08:00 and 10:00, the same day or the next.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from typing import Any

import pytest
from sqlalchemy import select

from dispatch.matching import in_time, tasks
from dispatch.models import Job, JobStatus, Message, MessageStatus, OfferStatus, Ticket, TicketKind
from dispatch.settings import Settings, SettingsError
from dispatch.sms.services import TOO_LATE
from dispatch.tickets.kinds import URGENT
from tests.factories import SHANGHAI, Market, commit
from tests.helpers import fresh, last_reply, offers_of, outbound_to, run_jobs, text_in

DAY = date(2026, 12, 1)
NEXT = DAY + timedelta(days=1)


@pytest.fixture
def settings_overrides() -> dict[str, Any]:
    return {"QUIET_HOURS": "21:00-08:00", "URGENT_HOURS": "06:00-22:00", "MIN_LEAD_MINUTES": 30}


def at(day: date, hour: int, minute: int = 0) -> datetime:
    return datetime(day.year, day.month, day.day, hour, minute, tzinfo=SHANGHAI)


def a_job(day: date, hour: int, days: int = 1) -> Job:
    return Job(work_date=day, start_time=time(hour), days=days, end_date=Job.last_day(day, days))


# (now, the job's day and hour) -> when its offers go (None: not at all), and whether urgently
PLANS = [
    # 21:47, inside quiet hours but in the urgent hours until 22:00
    (at(DAY, 21, 47), NEXT, 7, at(DAY, 21, 47), True),
    (at(DAY, 21, 47), NEXT, 8, at(DAY, 21, 47), True),  # 08:00 texts would reach nobody 30 min before
    (at(DAY, 21, 47), NEXT, 10, at(NEXT, 8), False),  # the morning is early enough
    # 23:30: the urgent hours open at 06:00
    (at(DAY, 23, 30), NEXT, 7, at(NEXT, 6), True),
    (at(DAY, 23, 30), NEXT, 8, at(NEXT, 6), True),
    (at(DAY, 23, 30), NEXT, 10, at(NEXT, 8), False),
    # 05:50, the same day
    (at(DAY, 5, 50), DAY, 7, at(DAY, 6), True),
    (at(DAY, 5, 50), DAY, 8, at(DAY, 6), True),
    (at(DAY, 5, 50), DAY, 10, at(DAY, 8), False),
    # 06:10: at once for the early jobs, at 08:00 for the late one
    (at(DAY, 6, 10), DAY, 7, at(DAY, 6, 10), True),
    (at(DAY, 6, 10), DAY, 8, at(DAY, 6, 10), True),
    (at(DAY, 6, 10), DAY, 10, at(DAY, 8), False),
    # noon: no quiet hours
    (at(DAY, 12), NEXT, 7, at(DAY, 12), False),
    (at(DAY, 12), NEXT, 10, at(DAY, 12), False),
    # too late: started, or the urgent hours open less than 30 minutes before the start
    (at(DAY, 12), DAY, 10, None, False),
    (at(DAY, 6, 40), DAY, 7, None, False),
    (at(DAY, 21, 47), DAY, 7, None, False),
    (at(DAY, 23, 30), NEXT, 6, None, False),  # 06:00 start: the urgent hours open at the start
]


@pytest.mark.parametrize(("now", "day", "hour", "send_at", "urgent"), PLANS)
def test_when_offers_go(runtime, now, day, hour, send_at, urgent) -> None:
    timing = in_time.plan(runtime.settings, a_job(day, hour), now)
    if send_at is None:
        assert timing is None
        return
    assert timing is not None
    assert (timing.send_at, timing.urgent) == (send_at, urgent)
    assert timing.start == at(day, hour)
    assert timing.send_at + timedelta(minutes=30) <= timing.start  # never later than the lead allows


def test_an_offer_lapses_half_the_lead_before_the_start_at_the_latest(runtime) -> None:
    from dispatch.matching import config as matching_config

    config = matching_config.load(runtime.settings)
    job = a_job(DAY, 7)
    early = in_time.plan(runtime.settings, job, at(DAY, 6, 10))
    assert early is not None
    assert in_time.expiry(runtime.settings, config, job, early) == at(DAY, 6, 20)  # 10 min (same day)
    late = in_time.plan(runtime.settings, job, at(DAY, 6, 29))
    assert late is not None
    assert in_time.expiry(runtime.settings, config, job, late) == at(DAY, 6, 39)
    last = in_time.plan(runtime.settings, job, at(DAY, 6, 30))
    assert last is not None
    assert in_time.expiry(runtime.settings, config, job, last) == at(DAY, 6, 40)  # 07:00 - 15 min
    night = in_time.plan(runtime.settings, a_job(NEXT, 7), at(DAY, 21, 47))
    assert night is not None  # the next day's job: the usual 60 minutes
    assert in_time.expiry(runtime.settings, config, a_job(NEXT, 7), night) == at(DAY, 22, 47)


def test_a_job_of_several_days_is_offered_for_the_days_still_ahead(runtime) -> None:
    job = a_job(DAY, 7, days=3)
    timing = in_time.plan(runtime.settings, job, at(DAY, 12))
    assert timing is not None and timing.start == at(NEXT, 7)
    assert in_time.plan(runtime.settings, job, at(DAY + timedelta(days=2), 12)) is None


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"URGENT_HOURS": "6-22"}, "URGENT_HOURS"),
        ({"URGENT_HOURS": "06:00-06:00"}, "URGENT_HOURS"),
        ({"MIN_LEAD_MINUTES": -1}, "MIN_LEAD_MINUTES"),
        ({"REMINDER_BEFORE_MINUTES": 1000}, "REMINDER_BEFORE_MINUTES"),
        ({"REMINDER_EVENING_TIME": "7pm"}, "REMINDER_EVENING_TIME"),
        ({"REMINDER_EVENING_TIME": "21:30"}, "QUIET_HOURS"),  # the evening reminder in quiet hours
    ],
)
def test_the_settings_are_checked(overrides, message) -> None:
    values = {"DISPATCH_ENV": "test", "QUIET_HOURS": "21:00-08:00", **overrides}
    with pytest.raises(SettingsError, match=message):
        Settings.load(values, environ={})
    assert Settings.load({"DISPATCH_ENV": "test", "URGENT_HOURS": "off"}, environ={}).urgent_hours is None


# -- through the real waves, queue and SMS layer ----------------------------------------------------


def posted(runtime, session, market: Market, **job_options: Any) -> Job:
    job = market.job(**job_options)
    commit(runtime, session)
    run_jobs(runtime)
    return fresh(session, job)


def offer_texts(session, job: Job) -> list[Message]:
    ids = [offer.message_id for offer in offers_of(session, job)]
    return list(session.scalars(select(Message).where(Message.id.in_(ids)).order_by(Message.id)))


def test_a_job_phoned_in_at_21_47_for_7_tomorrow_is_offered_at_once(
    runtime, session, market: Market, clock
) -> None:
    clock.move_to(at(DAY, 21, 47))
    near = market.worker(site="LZ-TX")
    further = market.worker(site="LZ-CQ")  # 1.7 km: wave 2
    job = posted(runtime, session, market, work_date=NEXT, start=time(7))
    [offer] = offers_of(session, job)
    assert offer.worker_id == near.id
    assert (offer.sent_at, offer.expires_at) == (at(DAY, 21, 47), at(DAY, 22, 47))
    [sms] = outbound_to(session, near.phone)
    assert sms.urgent and sms.not_after == at(NEXT, 7) and sms.send_after is None
    assert sms.status == MessageStatus.SENT and sms.sent_at == at(DAY, 21, 47)  # in quiet hours
    assert "明天7点" in sms.body

    # Its expiry at 22:47 is past the urgent hours: wave 2 is written then, its texts go at 06:00.
    clock.move_to(at(DAY, 22, 47))
    run_jobs(runtime, with_scheduler=True)
    session.expire_all()
    second = [o for o in offers_of(session, job) if o.worker_id == further.id]
    assert [(o.wave, o.sent_at, o.expires_at) for o in second] == [(2, at(NEXT, 6), at(NEXT, 6, 10))]
    [held] = outbound_to(session, further.phone)
    assert (held.status, held.send_after) == (MessageStatus.PENDING, at(NEXT, 6))
    clock.move_to(at(NEXT, 6))
    run_jobs(runtime, with_scheduler=True)
    session.expire_all()
    held = session.get(Message, held.id)
    assert held.status == MessageStatus.SENT and held.sent_at == at(NEXT, 6)
    assert "今天7点" in held.body  # as the worker reads it at 06:00


@pytest.mark.parametrize(
    ("now", "day", "hour", "goes_at"),
    [
        (at(DAY, 23, 30), NEXT, 7, at(NEXT, 6)),
        (at(DAY, 5, 50), DAY, 8, at(DAY, 6)),
        (at(DAY, 6, 10), DAY, 7, at(DAY, 6, 10)),
        (at(DAY, 6, 10), DAY, 10, at(DAY, 8)),
        (at(DAY, 12), NEXT, 8, at(DAY, 12)),
    ],
)
def test_offers_go_when_planned_and_before_the_start(
    runtime, session, market: Market, clock, now, day, hour, goes_at
) -> None:
    clock.move_to(now)
    worker = market.worker()
    job = posted(runtime, session, market, work_date=day, start=time(hour))
    [offer] = offers_of(session, job)
    assert offer.sent_at == goes_at
    assert offer.expires_at <= at(day, hour) - timedelta(minutes=15)
    [sms] = outbound_to(session, worker.phone)
    assert sms.not_after == at(day, hour)
    clock.move_to(max(now, goes_at))
    run_jobs(runtime, with_scheduler=True)
    session.expire_all()
    sms = session.get(Message, sms.id)
    assert sms.status == MessageStatus.SENT and sms.sent_at == goes_at < at(day, hour)


def test_a_job_too_close_to_its_start_goes_to_an_agent_at_once(
    runtime, session, market: Market, clock
) -> None:
    clock.move_to(at(DAY, 6, 40))
    market.worker()
    job = posted(runtime, session, market, work_date=DAY, start=time(7))
    assert offers_of(session, job) == []
    assert job.status == JobStatus.ESCALATED
    [ticket] = session.scalars(select(Ticket).where(Ticket.job_id == job.id))
    assert ticket.kind == TicketKind.UNFILLED_JOB and ticket.summary_key == "unfilled_no_time"
    assert ticket.summary_fields["start"] == "12-01 07:00" and ticket.priority == URGENT
    # The employer hears at once (the urgent hours), not at 08:00 after the start.
    [told] = outbound_to(session, job.employer.phone)
    assert told.kind == "match.unfilled" and told.status == MessageStatus.SENT


def test_the_wave_sender_stops_when_no_offer_could_arrive_in_time(
    runtime, session, market: Market, clock
) -> None:
    clock.move_to(at(DAY, 9))
    first = market.worker(site="LZ-TX")
    market.worker(site="LZ-CQ")  # wave 2 would reach this one
    job = posted(runtime, session, market, work_date=DAY, start=time(10))
    assert [o.worker_id for o in offers_of(session, job)] == [first.id]
    clock.move_to(at(DAY, 9, 35))  # 25 minutes before the start: the first offer has lapsed
    assert tasks.send_wave(job.id, 2) == {"expired": 1, "too_late": 1}
    job = fresh(session, job)
    assert job.status == JobStatus.ESCALATED and len(offers_of(session, job)) == 1
    [ticket] = session.scalars(select(Ticket).where(Ticket.job_id == job.id))
    assert ticket.summary_key == "unfilled_no_time"


def test_offers_still_out_may_fill_a_job_too_close_for_another_wave(
    runtime, session, market: Market, clock
) -> None:
    clock.move_to(at(DAY, 9, 25))
    market.worker(site="LZ-TX")
    market.worker(site="LZ-CQ")
    job = posted(runtime, session, market, work_date=DAY, start=time(10))
    [offer] = offers_of(session, job)
    assert offer.expires_at == at(DAY, 9, 35)
    clock.move_to(at(DAY, 9, 31))  # a wave run early (a decline would do it) finds an offer still out
    assert tasks.send_wave(job.id, 2) == {"expired": 0, "waiting": 1}
    assert fresh(session, job).status == JobStatus.OPEN


def test_an_offer_text_due_after_its_start_is_not_sent(runtime, session, market: Market, clock) -> None:
    """The texts of a wave run at 23:30 wait for 06:00; if the send job only runs after the start
    (a backlog, Redis down all morning), the text is suppressed, never sent late."""
    clock.move_to(at(DAY, 23, 30))
    worker = market.worker()
    job = posted(runtime, session, market, work_date=NEXT, start=time(6, 45))
    [sms] = outbound_to(session, worker.phone)
    assert sms.send_after == at(NEXT, 6) and sms.not_after == at(NEXT, 6, 45)
    clock.move_to(at(NEXT, 6, 50))
    run_jobs(runtime, with_scheduler=True)
    session.expire_all()
    sms = session.get(Message, sms.id)
    assert (sms.status, sms.error_message, sms.sent_at) == (MessageStatus.SUPPRESSED, TOO_LATE, None)
    assert runtime.transport.sent == [] or all(s.to != worker.phone for s in runtime.transport.sent)
    [offer] = offers_of(session, job)
    assert offer.status in {OfferStatus.SENT, OfferStatus.EXPIRED}


# -- the employer who texts a request at night hears when the offers go --------------------------

EMPLOYER_PHONE = "+8613700137000"


@pytest.fixture
def employer(market: Market):
    return market.employer(phone=EMPLOYER_PHONE)


@pytest.mark.parametrize(
    ("now", "request_text", "expected"),
    [
        (at(DAY, 23, 30), "招 水电工 1人 明天 7点 300元 太西", "夜间不发短信，明早6点起通知工人"),
        (at(DAY, 21, 47), "招 水电工 1人 明天 10点 300元 太西", "夜间不发短信，明早8点起通知工人"),
        (at(DAY, 5, 50), "招 水电工 1人 今天 8点 300元 太西", "夜间不发短信，6点起通知工人"),
        (at(DAY, 6, 10), "招 水电工 1人 今天 7点 300元 太西", "有工人接单会短信通知您"),
        (at(DAY, 6, 35), "招 水电工 1人 今天 7点 300元 太西", "离开工太近，来不及短信找人"),
        (at(DAY, 12), "招 水电工 1人 明天 7点 300元 太西", "有工人接单会短信通知您"),
    ],
)
def test_a_texted_request_is_answered_with_when_offers_go(
    client, session, runtime, employer, clock, now, request_text, expected
) -> None:
    clock.move_to(now)
    text_in(client, request_text, sender=EMPLOYER_PHONE)
    text_in(client, "1", sender=EMPLOYER_PHONE)
    posted = last_reply(session, EMPLOYER_PHONE)
    assert posted.kind == "job_request.posted", posted.body
    assert expected in posted.body, posted.body
    assert posted.segments <= 2


def test_an_agents_offer_at_night_goes_in_the_urgent_hours_and_lapses_before_the_start(
    runtime, session, market: Market, clock
) -> None:
    from dispatch.matching import rescue

    clock.move_to(at(DAY, 21, 50))
    market.worker(site="LZ-TX")
    far = market.worker(site="LZ-LDS")  # 6.7 km: not in wave 1
    job = posted(runtime, session, market, work_date=NEXT, start=time(7))
    with runtime.db.transaction() as work:
        offer = rescue.offer_one(work, runtime.settings, job.id, far.id, at(DAY, 21, 50))
        assert (offer.sent_at, offer.expires_at) == (at(DAY, 21, 50), at(DAY, 22, 50))
    [sms] = outbound_to(session, far.phone)
    assert sms.urgent and sms.send_after is None and sms.not_after == at(NEXT, 7)
