"""Employers' one-line job requests by SMS: read in both languages, confirmed with 1, and what cannot be
read goes to an agent."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime, time

import pytest
import time_machine
from sqlalchemy import select

from dispatch.i18n import render_sms as render
from dispatch.jobs.request_parser import parse_request
from dispatch.jobs.sms_requests import sms_summary
from dispatch.models import (
    Conversation,
    Employer,
    EmployerStatus,
    Job,
    JobSource,
    JobStatus,
    Message,
    MessageStatus,
    OutboxEvent,
    Site,
    Ticket,
    TicketKind,
    Trade,
)
from tests.helpers import last_reply, outbound_to, text_in

PHONE = "+8613700137000"
TODAY = date(2026, 12, 4)  # a Friday in the market


@pytest.fixture(autouse=True)
def market_day() -> Iterator[None]:
    with time_machine.travel(datetime(2026, 12, 4, 2, 0, tzinfo=UTC), tick=True):
        yield


@pytest.fixture
def employer(session, seeded) -> Employer:
    employer = Employer(phone=PHONE, name="王师傅")
    session.add(employer)
    session.commit()
    return employer


def codes(session, model) -> dict[str, int]:
    return {row.code: row.id for row in session.scalars(select(model))}


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "水电工 2人 明天 300元 太西",
            ("plumber_electrician", 2, date(2026, 12, 5), None, None, 300, "LZ-TX"),
        ),
        ("水电工两人明天三百元太西", ("plumber_electrician", 2, date(2026, 12, 5), None, None, 300, "LZ-TX")),
        (
            "小工 3个 12月24日 早上7点 200块 天 2天 东街",
            ("general_labourer", 3, date(2026, 12, 24), 7, 2, 200, "LZ-DJ"),
        ),
        ("保洁五名后天下午2点日薪180老顶山", ("cleaner", 5, date(2026, 12, 6), 14, None, 180, "LZ-LDS")),
        (
            "2 plumber tomorrow 300 taixi",
            ("plumber_electrician", 2, date(2026, 12, 5), None, None, 300, "LZ-TX"),
        ),
        ("3 movers today 7am 250 yuan 2 days dongjie", ("porter", 3, TODAY, 7, 2, 250, "LZ-DJ")),
        ("welder 1 1月3日 400", ("welder", 1, date(2027, 1, 3), None, None, 400, None)),
        # A part of the day apart from its hour, and the hours around noon and midnight.
        ("水电工 明天 下午 2点 300元", ("plumber_electrician", None, date(2026, 12, 5), 14, None, 300, None)),
        ("plumber tomorrow 2 pm 300", ("plumber_electrician", None, date(2026, 12, 5), 14, None, 300, None)),
        ("plumber tomorrow 8 am 300", ("plumber_electrician", None, date(2026, 12, 5), 8, None, 300, None)),
        ("2 plumber tomorrow 2pm 300", ("plumber_electrician", 2, date(2026, 12, 5), 14, None, 300, None)),
        ("水电工 明天 晚上12点 300元", ("plumber_electrician", None, date(2026, 12, 5), 0, None, 300, None)),
        ("水电工 明天 晚上 8点 300元", ("plumber_electrician", None, date(2026, 12, 5), 20, None, 300, None)),
        ("plumber tomorrow 12am 300", ("plumber_electrician", None, date(2026, 12, 5), 0, None, 300, None)),
        ("水电工 明天 中午12点 300元", ("plumber_electrician", None, date(2026, 12, 5), 12, None, 300, None)),
        ("plumber tomorrow 12pm 300", ("plumber_electrician", None, date(2026, 12, 5), 12, None, 300, None)),
        ("水电工 明天 早上 7点 300元", ("plumber_electrician", None, date(2026, 12, 5), 7, None, 300, None)),
        ("水电工明天上午9点300元", ("plumber_electrician", None, date(2026, 12, 5), 9, None, 300, None)),
    ],
)
def test_requests_are_read_in_chinese_and_english(session, seeded, text: str, expected: tuple) -> None:
    parsed = parse_request(session, text, TODAY)
    trades, sites = codes(session, Trade), codes(session, Site)
    trade, headcount, work_date, hour, days, pay, site = expected
    assert (parsed.trade_id, parsed.headcount, parsed.work_date, parsed.hour, parsed.days, parsed.pay) == (
        trades[trade],
        headcount,
        work_date,
        hour,
        days,
        pay,
    )
    assert parsed.site_id == (sites[site] if site else None)
    assert parsed.missing() == []


def test_a_part_of_the_day_is_not_kept_as_a_note(session, seeded) -> None:
    assert parse_request(session, "水电工 明天 下午 2点 300元", TODAY).unknown == []
    assert parse_request(session, "plumber tomorrow 2 pm 300", TODAY).unknown == []
    assert parse_request(session, "水电工 明天 300元 下午", TODAY).unknown == ["下午"]  # no hour with it


def test_words_it_does_not_know_are_kept_and_what_is_missing_is_named(session, seeded) -> None:
    parsed = parse_request(session, "瓦工 2人 明天 要会贴砖 有经验", TODAY)
    assert parsed.missing() == ["pay"] and parsed.unknown == ["要会", "贴砖", "有经验"]
    assert parse_request(session, "some workers please", TODAY).missing() == ["trade", "date", "pay"]


def test_a_request_is_read_back_with_its_code_and_posted_with_1(client, session, runtime, employer) -> None:
    text_in(client, "招 水电工 2人 明天 300元 太西", sender=PHONE)
    job = session.scalars(select(Job)).one()
    assert (job.status, job.source, job.employer_id) == (JobStatus.DRAFT, JobSource.SMS, employer.id)
    assert (job.headcount, job.work_date, job.start_time, job.days, job.daily_pay) == (
        2,
        date(2026, 12, 5),
        time(8),
        1,
        300,
    )
    ask = last_reply(session, PHONE)
    assert ask.body == render(
        "job_request_confirm",
        "zh",
        sig=runtime.settings.SMS_SIGNATURE_ZH,
        retry=False,
        **sms_summary(job, "zh"),
    )
    assert f"岗位号{job.code}。回复1确认发布" in ask.body
    assert session.scalars(select(OutboxEvent).where(OutboxEvent.task.like("%match_job"))).all() == []

    text_in(client, "1", sender=PHONE)
    session.expire_all()
    assert job.status == JobStatus.OPEN
    [event] = session.scalars(
        select(OutboxEvent).where(OutboxEvent.task == "dispatch.matching.tasks.match_job")
    )
    assert event.args == [job.id]
    assert last_reply(session, PHONE).kind == "job_request.posted"
    assert session.scalar(select(Conversation).where(Conversation.phone == PHONE)) is None


def test_an_english_request_is_answered_in_english_and_2_drops_it(client, session, employer) -> None:
    text_in(client, "NEED 2 plumber tomorrow 300 taixi", sender=PHONE)
    job = session.scalars(select(Job)).one()
    ask = last_reply(session, PHONE)
    expected = "Luzhou Jobs: 2 plumber, Dec 5 8:00, 1d, 300/day, Taihang West Street. Job {}. 1=post, 2=drop"
    assert ask.body == expected.format(job.code)
    text_in(client, "2", sender=PHONE)
    session.expire_all()
    assert job.status == JobStatus.CANCELLED
    assert last_reply(session, PHONE).body == f"Luzhou Jobs: OK, job {job.code} was not posted."


def test_a_held_employers_confirmed_request_waits_for_an_agent(client, session, employer) -> None:
    employer.status = EmployerStatus.HELD
    session.commit()
    text_in(client, "招 小工 1人 明天 200元 东街", sender=PHONE)
    text_in(client, "确认", sender=PHONE)
    job = session.scalars(select(Job)).one()
    assert job.status == JobStatus.HELD and "工作人员审核后发布" in last_reply(session, PHONE).body


def test_a_corrected_request_replaces_the_draft(client, session, employer) -> None:
    text_in(client, "招 小工 1人 明天 200元 东街", sender=PHONE)
    text_in(client, "招 小工 4人 明天 200元 东街", sender=PHONE)
    first, second = session.scalars(select(Job).order_by(Job.id)).all()
    assert (first.status, second.status, second.headcount) == (JobStatus.CANCELLED, JobStatus.DRAFT, 4)
    text_in(client, "1", sender=PHONE)
    session.expire_all()
    assert second.status == JobStatus.OPEN


def test_a_request_without_a_place_uses_the_last_jobs(client, session, employer) -> None:
    text_in(client, "招 小工 1人 明天 200元 东街", sender=PHONE)
    text_in(client, "1", sender=PHONE)
    text_in(client, "招 保洁 2人 明天 150元", sender=PHONE)
    first, second = session.scalars(select(Job).order_by(Job.id)).all()
    assert second.site_id == first.site_id and second.status == JobStatus.DRAFT


def test_what_cannot_be_read_goes_to_an_agent(client, session, employer) -> None:
    text_in(client, "招 人 快点", sender=PHONE)
    [ticket] = session.scalars(select(Ticket))
    assert ticket.kind == TicketKind.UNPARSED_SMS and ticket.employer_id == employer.id
    assert "missing trade, date, pay" in ticket.summary
    assert last_reply(session, PHONE).kind == "job_request.unclear"
    assert session.scalars(select(Job)).all() == []
    message = session.scalars(select(Message).where(Message.provider_sid.is_not(None))).one()
    assert message.status == MessageStatus.UNPARSED


def test_an_unreadable_answer_is_asked_again_twice_then_goes_to_an_agent(client, session, employer) -> None:
    text_in(client, "招 小工 1人 今天 200元 东街", sender=PHONE)
    job = session.scalars(select(Job)).one()
    for _ in range(2):
        text_in(client, "啥", sender=PHONE)
        assert last_reply(session, PHONE).body.startswith("【潞州零工】请回复1或2。请核对")
    text_in(client, "啥", sender=PHONE)
    [ticket] = session.scalars(select(Ticket))
    assert ticket.job_id == job.id and ticket.kind == TicketKind.UNPARSED_SMS
    assert session.scalar(select(Conversation).where(Conversation.phone == PHONE)) is None
    assert job.status == JobStatus.DRAFT  # kept for the agent


def test_a_stranger_cannot_post_by_sms(client, session, seeded) -> None:
    text_in(client, "招 水电工 2人 明天 300元 太西", sender="+8613600136000")
    assert session.scalars(select(Job)).all() == []
    [ticket] = session.scalars(select(Ticket))
    assert ticket.kind == TicketKind.UNPARSED_SMS
    assert [m.kind for m in outbound_to(session, "+8613600136000")] == ["not_understood"]


def test_a_request_whose_start_has_passed_by_the_1_is_dropped_and_a_new_one_asked_for(
    client, session, employer
) -> None:
    """Market time, not UTC: at 17:00 UTC on Dec 3 it is already 01:00 on Dec 4 in Shanghai."""
    with time_machine.travel(datetime(2026, 12, 3, 15, 30, tzinfo=UTC), tick=False):  # 23:30 in the market
        text_in(client, "招 小工 1人 明天 1点 200元 东街", sender=PHONE)
    job = session.scalars(select(Job)).one()
    assert (job.work_date, job.start_time, job.status) == (date(2026, 12, 4), time(1), JobStatus.DRAFT)
    with time_machine.travel(datetime(2026, 12, 3, 17, 0, tzinfo=UTC), tick=False):  # 01:00 on Dec 4
        text_in(client, "1", sender=PHONE)
    session.expire_all()
    assert job.status == JobStatus.CANCELLED
    reply_ = last_reply(session, PHONE)
    assert reply_.kind == "job_request.expired" and "请重新发一条招工短信" in reply_.body
    assert session.scalar(select(Conversation).where(Conversation.phone == PHONE)) is None
    assert session.scalars(select(OutboxEvent).where(OutboxEvent.task.like("%match_job"))).all() == []


def test_a_request_confirmed_before_its_start_is_posted(client, session, employer) -> None:
    with time_machine.travel(datetime(2026, 12, 3, 15, 30, tzinfo=UTC), tick=False):
        text_in(client, "招 小工 1人 明天 1点 200元 东街", sender=PHONE)
    with time_machine.travel(datetime(2026, 12, 3, 16, 30, tzinfo=UTC), tick=False):  # 00:30 on Dec 4
        text_in(client, "1", sender=PHONE)
    session.expire_all()
    assert session.scalars(select(Job)).one().status == JobStatus.OPEN
