"""Outreach (issue 18, part 3): an event texted to an audience chosen by site subtree, trades, idle
days, registration date and language; counted and priced before it is scheduled; sent at its time,
held by quiet hours like any text nobody asked for, at most one such text per worker in 7 days;
`退订活动` stops them and keeps job offers, `退订` stops everything; `报名 7` signs up (capacity, then
a waiting list)."""

from __future__ import annotations

from datetime import date, datetime, timedelta

import pytest
from sqlalchemy import select

from dispatch.clock import utcnow
from dispatch.models import (
    Contact,
    Event,
    EventKind,
    EventSignup,
    Message,
    MessageStatus,
    Outreach,
    OutreachStatus,
    SignupStatus,
    Worker,
    WorkerStatus,
)
from dispatch.outreach import services
from dispatch.outreach.audience import Audience
from dispatch.sms.services import queue_sms
from tests.factories import NOW, SHANGHAI, Market, commit
from tests.helpers import last_reply, outbound_to, run_jobs, text_in

TAIXI = Audience(site_code="LZ-TX")


def at(hour: int, minute: int = 0, day: int = 1) -> datetime:
    return datetime(2026, 12, day, hour, minute, tzinfo=SHANGHAI)


def training(session, runtime, capacity: int | None = 30, starts: datetime | None = None) -> Event:
    event = Event(
        kind=EventKind.TRAINING,
        title_zh="电焊技能培训班",
        title_en="Welding skills camp",
        site_id=Market(session).site("LZ-TX").id,
        starts_at=starts or at(9, day=5),
        place_zh="零工市场服务大厅二楼",
        place_en="Market hall, 2nd floor",
        capacity=capacity,
    )
    return services.create_event(session, runtime.settings, event, None)


def texts(session, phone: str) -> list[Message]:
    return [message for message in outbound_to(session, phone) if message.kind == services.KIND]


def send_now(runtime, session, event: Event, audience: Audience = TAIXI) -> Outreach:
    outreach = services.schedule(session, runtime.settings, None, event, audience, utcnow(), utcnow())
    commit(runtime, session)
    run_jobs(runtime)
    session.expire_all()
    return outreach


@pytest.fixture
def settings_overrides() -> dict[str, str]:
    return {"QUIET_HOURS": "21:00-08:00"}  # the market's own (the test suite turns them off)


@pytest.fixture
def people(session, seeded, clock):
    """Workers of 太西 (one in its village station, speaking English), of 东街, of another trade, and
    one placed yesterday."""
    market = Market(session)
    found = {
        "taixi": market.worker(name="甲"),
        "village": market.worker(name="乙", site="LZ-TX-WYM", language="en"),
        "dongjie": market.worker(name="丙", site="LZ-DJ"),
        "porter": market.worker(name="丁", trades=("porter",)),
        "busy": market.worker(name="戊", last_placed_at=NOW - timedelta(days=1)),
    }
    session.flush()
    return found


def test_the_audience_is_counted_and_priced_then_sent_at_its_time(runtime, session, people, clock) -> None:
    event = training(session, runtime)
    audience = Audience(site_code="LZ-TX", trade_codes=("plumber_electrician",), idle_days=3)
    shown = services.preview(session, runtime.settings, event, audience, utcnow())
    assert shown.by_language == {"zh": 1, "en": 1}  # 甲, and 乙 in the village below 太西
    assert shown.segments == shown.parts["zh"] + shown.parts["en"]
    outreach = services.schedule(session, runtime.settings, None, event, audience, at(19), utcnow())
    commit(runtime, session)
    run_jobs(runtime, with_scheduler=True)
    assert texts(session, people["taixi"].phone) == []  # 10:00: not yet
    clock.move_to(at(19))
    run_jobs(runtime, with_scheduler=True)
    session.expire_all()
    [zh] = texts(session, people["taixi"].phone)
    assert zh.body == (
        f"【潞州零工】培训：电焊技能培训班，12月5日9点，零工市场服务大厅二楼。"
        f"限30人，回复 报名 {event.id} 报名。回复 退订活动 不再收活动通知"
    )
    [en] = texts(session, people["village"].phone)
    assert en.body == (
        f"Luzhou Jobs: Training: Welding skills camp, Dec 5 9:00, Market hall, 2nd floor. "
        f"30 places: reply SIGNUP {event.id}. No event texts: UNSUB EVENTS"
    )
    for name in ("dongjie", "porter", "busy"):
        assert texts(session, people[name].phone) == []
    row = session.get(Outreach, outreach.id)
    assert (row.status, row.planned, row.sent) == (OutreachStatus.SENT, 2, 2)
    assert row.planned_segments == zh.segments + en.segments == shown.segments  # the cost shown was the cost
    run_jobs(runtime, with_scheduler=True)  # the job again (a retry): nothing more
    assert len(texts(session, people["taixi"].phone)) == 1


def test_at_night_the_texts_wait_for_the_morning(runtime, session, people, clock) -> None:
    clock.move_to(at(22, 30))
    send_now(runtime, session, training(session, runtime))
    [held] = texts(session, people["taixi"].phone)
    assert held.status == MessageStatus.PENDING and held.send_after == at(8, day=2)
    assert held.not_after == at(9, day=5)  # held past the start, it would not go at all


def test_one_non_job_text_per_worker_in_seven_days(runtime, session, people, clock) -> None:
    send_now(runtime, session, training(session, runtime))
    clock.move_to(NOW + timedelta(days=6, hours=23))
    second = send_now(runtime, session, training(session, runtime, starts=at(9, day=20)))
    assert (second.sent, second.skipped_cap) == (0, 4)  # everyone of 太西 had one this week
    assert len(texts(session, people["taixi"].phone)) == 1
    clock.move_to(NOW + timedelta(days=7, minutes=1))
    third = send_now(runtime, session, training(session, runtime, starts=at(9, day=21)))
    assert third.sent == 4 and len(texts(session, people["taixi"].phone)) == 2


def test_unsubscribing_from_events_keeps_job_offers(runtime, session, client, people, clock) -> None:
    taixi, porter = people["taixi"], people["porter"]
    text_in(client, "退订活动", taixi.phone)
    assert last_reply(session, taixi.phone).body == (
        "【潞州零工】已退订活动通知，派活短信照常发送。如需恢复，回复 订阅活动。"
    )
    text_in(client, "退订", porter.phone)  # everything
    outreach = send_now(runtime, session, training(session, runtime))
    assert texts(session, taixi.phone) == [] and texts(session, porter.phone) == []
    assert outreach.skipped_opted_out == 1  # 甲; 丁 opted out of everything is no longer on the books
    # Job offers still go: the worker stays on the books and a job's text is not suppressed.
    session.expire_all()
    assert session.get(Worker, taixi.id).status == WorkerStatus.ACTIVE
    offer = queue_sms(
        session, runtime.settings, phone=taixi.phone, template="match_declined", kind="x", code="101"
    )
    assert offer.status == MessageStatus.PENDING
    text_in(client, "订阅活动", taixi.phone)
    session.expire_all()
    assert session.scalar(select(Contact.events_opted_out_at).where(Contact.phone == taixi.phone)) is None


def test_signing_up_until_full_then_the_waiting_list(runtime, session, client, people, clock) -> None:
    event = training(session, runtime, capacity=2)
    session.commit()
    for name in ("taixi", "dongjie", "porter"):
        text_in(client, f"报名 {event.id}", people[name].phone)
    assert last_reply(session, people["taixi"].phone).body == (
        "【潞州零工】报名成功：电焊技能培训班，12月5日9点，零工市场服务大厅二楼。请准时到场。"
    )
    assert last_reply(session, people["porter"].phone).body == (
        "【潞州零工】电焊技能培训班已报满，您排在候补第1位，有空位时短信通知您。"
    )
    text_in(client, f"signup {event.id}", people["village"].phone)
    assert "number 2 on the waiting list" in last_reply(session, people["village"].phone).body
    text_in(client, f"报名{event.id}", people["taixi"].phone)
    assert last_reply(session, people["taixi"].phone).kind == "outreach.already"
    session.expire_all()
    rows = session.execute(select(EventSignup.worker_id, EventSignup.status).order_by(EventSignup.id)).all()
    ids = [people[name].id for name in ("taixi", "dongjie", "porter", "village")]
    assert rows == list(zip(ids, [SignupStatus.BOOKED] * 2 + [SignupStatus.WAITING] * 2, strict=True))


def test_a_sign_up_for_no_open_event(runtime, session, client, people, clock) -> None:
    started = training(session, runtime, starts=at(9, day=1))  # began an hour ago
    session.commit()
    text_in(client, f"报名 {started.id}", people["taixi"].phone)
    assert last_reply(session, people["taixi"].phone).kind == "outreach.unknown"
    text_in(client, "报名 99999999", people["taixi"].phone)
    assert "没有编号为99999999的可报名活动" in last_reply(session, people["taixi"].phone).body
    text_in(client, f"报名 {started.id}", "+8613955556666")  # not registered
    assert last_reply(session, "+8613955556666").kind == "not_registered"


def test_registered_since_and_language_narrow_the_audience(runtime, session, people, clock) -> None:
    recent = Market(session).worker(name="己")
    recent.created_at = NOW  # the others were made at NOW too: move them back
    for worker in people.values():
        worker.created_at = NOW - timedelta(days=40)
    session.flush()
    event = training(session, runtime)
    since = Audience(site_code="LZ-TX", registered_since=date(2026, 11, 20))
    assert services.preview(session, runtime.settings, event, since, utcnow()).count == 1
    english = Audience(site_code="LZ", language="en")
    assert services.preview(session, runtime.settings, event, english, utcnow()).by_language == {"en": 1}
    assert session.scalar(select(Worker.id).where(Worker.name == "己")) == recent.id


def test_a_place_is_reminded_the_evening_before_the_waiting_list_is_not(
    runtime, session, client, people, clock
) -> None:
    event = training(session, runtime, capacity=1)  # Saturday 5 December, 09:00
    session.commit()
    text_in(client, f"报名 {event.id}", people["taixi"].phone)
    text_in(client, f"报名 {event.id}", people["village"].phone)  # the waiting list
    run_jobs(runtime, with_scheduler=True)
    assert [m.kind for m in outbound_to(session, people["taixi"].phone)] == ["outreach.booked"]
    clock.move_to(at(19, day=4))  # REMINDER_EVENING_TIME the day before
    run_jobs(runtime, with_scheduler=True)
    reminder = last_reply(session, people["taixi"].phone)
    assert reminder.kind == "outreach.reminder"
    assert reminder.body == (
        "【潞州零工】提醒：您报名的电焊技能培训班在12月5日9点开始，地点：零工市场服务大厅二楼。请准时到场。"
    )
    assert reminder.not_after == at(9, day=5)
    assert [m.kind for m in outbound_to(session, people["village"].phone)] == ["outreach.waiting"]
    run_jobs(runtime, with_scheduler=True)  # again: once
    assert [m.kind for m in outbound_to(session, people["taixi"].phone)].count("outreach.reminder") == 1


def test_a_sign_up_after_the_evening_before_gets_no_reminder(runtime, session, client, people, clock) -> None:
    event = training(session, runtime, starts=at(9, day=2))  # tomorrow morning
    session.commit()
    clock.move_to(at(20))  # past 19:00 the evening before
    text_in(client, f"报名 {event.id}", people["taixi"].phone)
    clock.move_to(at(8, 30, day=2))
    run_jobs(runtime, with_scheduler=True)
    assert [m.kind for m in outbound_to(session, people["taixi"].phone)] == ["outreach.booked"]
