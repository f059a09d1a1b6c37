"""Whole calls through the signed voice webhooks: a job request from the first key to the SMS summary,
mistakes and silences, hang-ups, repeated deliveries, English, registration, and managing jobs."""

from __future__ import annotations

from datetime import date, time, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from dispatch.i18n import render_sms as render
from dispatch.ivr.agent import NO_TRANSCRIPTION
from dispatch.ivr.services import job_summary
from dispatch.models import (
    Call,
    CallOutcome,
    Employer,
    Job,
    JobSource,
    JobStatus,
    OutboxEvent,
    Ticket,
    TicketKind,
    Trade,
)
from tests.helpers import outbound_to
from tests.ivr.conftest import EMPLOYER_PHONE, PUBLIC_BASE, Caller, post_signed

RECORDING = "https://api.twilio.com/2010-04-01/Accounts/AC0/Recordings/RE0123"
TOMORROW = date(2026, 12, 5)  # the fixtures' market day is Friday 4 December 2026


def the_call(session: Session, caller: Caller) -> Call:
    session.expire_all()
    return session.scalars(select(Call).where(Call.call_sid == caller.sid)).one()


def tickets(session: Session, caller: Caller) -> list[Ticket]:
    session.expire_all()
    return list(session.scalars(select(Ticket).where(Ticket.call_sid == caller.sid).order_by(Ticket.id)))


def by_code(session: Session, model, code: str):
    return session.scalars(select(model).where(model.code == code)).one()


def post_a_job(caller: Caller, *, describe: bool = False) -> None:
    """Plumbers (4), 2 of them, tomorrow (2), from 7, for 3 days, 300 a day, in 太西 (8) itself (#)."""
    caller.dial()
    for keys in ["1", "4", "2", "2", "7", "3", "300", "8", "#"]:
        caller.press(keys)
    caller.speak(RECORDING) if describe else caller.skip_recording()
    caller.press("1")


def test_a_signed_call_posts_a_job_with_all_its_fields_and_the_caller_gets_its_summary(
    client, session, seeded, runtime, market_open
) -> None:
    caller = Caller(client)
    post_a_job(caller, describe=True)

    call = the_call(session, caller)
    assert call.outcome == CallOutcome.JOB and call.status == "in-progress"
    job = session.get(Job, call.job_id)
    assert job is not None and job.code and f"岗位号是{' '.join(job.code)}" in caller.said()
    assert caller.root.find("Hangup") is not None
    assert (job.trade.code, job.headcount, job.filled) == ("plumber_electrician", 2, 0)
    assert (job.work_date, job.start_time, job.days, job.end_date) == (
        TOMORROW,
        time(7),
        3,
        TOMORROW + timedelta(days=2),
    )
    assert (job.daily_pay, job.site.code, job.recording_url) == (300, "LZ-TX", RECORDING)
    assert (job.status, job.source) == (JobStatus.OPEN, JobSource.IVR)
    # The caller was nobody before: now an employer, placed where the job is.
    employer = session.get(Employer, job.employer_id)
    assert employer is not None and employer.phone == EMPLOYER_PHONE and employer.site_id == job.site_id
    # Matching starts after the commit, through the outbox.
    events = session.scalars(
        select(OutboxEvent).where(OutboxEvent.task == "dispatch.matching.tasks.match_job")
    )
    assert [event.args for event in events] == [[job.id]]
    [summary] = outbound_to(session, EMPLOYER_PHONE)
    expected = render(
        "job_created",
        "zh",
        sig=runtime.settings.SMS_SIGNATURE_ZH,
        held=False,
        no_time=False,
        offers_at=None,
        offers_next_day=False,
        **job_summary(job, "zh"),
    )
    assert summary.body == expected and summary.kind == "job.created" and summary.employer_id == employer.id
    assert f"岗位号{job.code}：水电工2人，12月5日7点上工，3天，日薪300元，太行西街街道" in summary.body
    assert tickets(session, caller) == []


def test_each_field_is_asked_again_after_a_wrong_key_and_the_job_has_the_corrected_answers(
    client, session, seeded, market_open
) -> None:
    caller = Caller(client)
    caller.dial()
    caller.press("1")
    # (wrong keys, right keys, a phrase of the question that must be asked again)
    steps = [
        ("*", "0", "请按工种编号"),  # then the "more" page ...
        ("13", "11", "钳工请按11"),  # ... where 13 is no trade and 11 is a fitter
        ("100", "5", "1到99之间的人数"),
        ("20261301", "20261224", "8位日期"),
        ("24", "6", "24小时制"),
        ("0", "2", "1到60之间的天数"),
        ("5", "250", "工钱是多少元"),
        ("18", "12", "乡镇或街道的编号"),
        ("3", "1", "关村请按1"),  # 老顶山 has two village stations
    ]
    for wrong, right, question in steps:
        caller.press(wrong)
        assert "您按的键不对。" in caller.said() and question in caller.said(), caller.said()
        caller.press(right)
    caller.skip_recording()
    caller.press("7")  # not a choice at the read-back either
    assert "您按的键不对。" in caller.said() and "确认发布请按1" in caller.said()
    # Change the headcount from the read-back: straight back to the read-back afterwards.
    caller.press("2")
    caller.press("2")
    caller.press("0")
    assert "您按的键不对。" in caller.said()
    caller.press("4")
    assert (
        "招钳工4人" in caller.said()
        and "12月24日6点上工，干2天，每人每天250元，地点在关村零工驿站" in caller.said()
    )
    caller.press("1")

    job = session.get(Job, the_call(session, caller).job_id)
    assert job is not None
    assert (job.trade.code, job.headcount, job.work_date, job.start_time) == (
        "fitter",
        4,
        date(2026, 12, 24),
        time(6),
    )
    assert (job.days, job.daily_pay, job.site.code) == (2, 250, "LZ-LDS-GC")


def test_silence_three_times_puts_the_caller_in_the_agents_queue_with_a_ticket(
    client, session, seeded, runtime, market_open, agent_on_duty
) -> None:
    caller = Caller(client)
    caller.dial()
    caller.press("1")
    caller.press("6")  # a carpenter
    caller.silence()
    assert caller.said().startswith("没有听到您按键。") and "需要几个人？" in caller.said()
    caller.silence()
    caller.silence()

    enqueue = caller.root.find("Enqueue")
    # A stranger who keyed no site is the district's caller: the district's Twilio queue.
    assert enqueue is not None and enqueue.text == "agents-LZ"
    assert enqueue.get("waitUrl") == f"{PUBLIC_BASE}/ivr/step/hold"
    [ticket] = tickets(session, caller)
    carpenter = by_code(session, Trade, "carpenter")
    assert (ticket.kind, ticket.phone, ticket.priority) == (TicketKind.AGENT_CALL, EMPLOYER_PHONE, 2)
    assert ticket.details["answers"] == {"trade": carpenter.id}
    assert ticket.details["readable"] == {"trade": "木工"}
    assert (ticket.details["flow"], ticket.details["step"]) == ("job", "headcount")
    assert ticket.summary == "no answer 3 times at job/headcount"
    assert the_call(session, caller).outcome == CallOutcome.AGENT

    # An agent took the call and it ended: nothing more to do, and no second ticket.
    caller.leave_queue("bridged")
    assert caller.root.find("Hangup") is not None
    caller.hang_up()
    [ticket] = tickets(session, caller)
    assert ticket.details["queue_result"] == "bridged"


def test_outside_opening_hours_the_caller_leaves_a_voicemail_on_a_ticket(
    client, session, seeded, market_closed
) -> None:
    caller = Caller(client)
    caller.dial()
    caller.press("0")
    record = caller.root.find("Record")
    # Twilio transcribes English only: a Mandarin voicemail asks for none, and its ticket says so.
    assert (
        record is not None and record.get("transcribe") is None and record.get("transcribeCallback") is None
    )
    assert record.get("recordingStatusCallback") == f"{PUBLIC_BASE}/ivr/recording?purpose=voicemail"
    assert "每天8点到18点" in caller.said()
    [ticket] = tickets(session, caller)
    assert ticket.details["transcription"] == NO_TRANSCRIPTION
    assert (ticket.kind, ticket.phone, ticket.summary) == (
        TicketKind.VOICEMAIL,
        EMPLOYER_PHONE,
        "caller asked for an agent",
    )

    caller.speak(RECORDING)
    assert caller.root.find("Hangup") is not None and "留言已收到" in caller.said()
    caller.hang_up()
    # The transcription arrives after the call ended: it still goes on the ticket.
    params = caller.params(
        RecordingUrl=RECORDING, TranscriptionText="我要招两个小工", TranscriptionStatus="completed"
    )
    assert post_signed(client, f"{PUBLIC_BASE}/ivr/recording?purpose=voicemail", params).status_code == 200
    [ticket] = tickets(session, caller)
    assert ticket.details["voicemail_recording_url"] == RECORDING
    assert ticket.details["voicemail_transcription"] == "我要招两个小工"
    assert the_call(session, caller).recording_url == RECORDING


def test_a_hang_up_part_way_leaves_a_call_back_ticket_with_the_answers_so_far(
    client, session, seeded, market_open
) -> None:
    caller = Caller(client)
    caller.dial()
    for keys in ["1", "2", "10", "3"]:  # porters, 10 of them, the day after tomorrow
        caller.press(keys)
    caller.hang_up()
    caller.hang_up()  # Twilio may send the status twice

    [ticket] = tickets(session, caller)
    porter = by_code(session, Trade, "porter")
    assert (ticket.kind, ticket.phone, ticket.priority) == (TicketKind.CALL_BACK, EMPLOYER_PHONE, 2)
    assert ticket.details["answers"] == {"trade": porter.id, "headcount": 10, "date": "2026-12-06"}
    assert ticket.details["readable"]["trade"] == "搬运" and ticket.details["step"] == "hour"
    call = the_call(session, caller)
    assert (call.outcome, call.status) == (CallOutcome.CALL_BACK, "completed") and call.ended_at is not None
    assert session.scalar(select(func.count()).select_from(Job)) == 0


def test_a_hang_up_at_the_menu_is_a_low_priority_call_back(client, session, seeded, market_open) -> None:
    caller = Caller(client)
    caller.dial()
    caller.hang_up("no-answer")
    [ticket] = tickets(session, caller)
    assert (ticket.kind, ticket.priority, ticket.summary) == (TicketKind.CALL_BACK, 4, "hung up at the menu")


def test_the_same_step_delivered_twice_answers_the_same_and_acts_once(
    client, session, seeded, market_open
) -> None:
    caller = Caller(client)
    caller.dial()
    first = caller.dial()  # the call's first webhook, retried
    assert first == caller.history[0]
    caller.press("1")
    trade_url = caller.action()
    assert trade_url == f"{PUBLIC_BASE}/ivr/step/trade?t=2"
    for keys in ["4", "2", "2", "7", "3", "300", "8", "#"]:
        caller.press(keys)
    caller.skip_recording()
    review = caller.twiml
    confirm_url = caller.action()
    done = caller.press("1")
    again = post_signed(client, confirm_url, caller.params(Digits="1"))
    assert again.get_data(as_text=True) == done
    assert session.scalar(select(func.count()).select_from(Job)) == 1
    assert len(outbound_to(session, EMPLOYER_PHONE)) == 1
    # An older step, replayed out of order, changes nothing and hears where the call is now.
    stale = post_signed(client, trade_url, caller.params(Digits="9"))
    assert stale.status_code == 200 and stale.get_data(as_text=True) == done
    assert review != done


def test_an_old_prompt_answered_late_gets_the_current_prompt_and_changes_nothing(
    client, session, seeded, market_open
) -> None:
    caller = Caller(client)
    caller.dial()
    caller.press("1")
    trade_prompt = caller.action()
    caller.press("4")
    current = caller.twiml
    answers = dict(the_call(session, caller).answers)
    late = post_signed(client, trade_prompt.replace("t=2", "t=1"), caller.params(Digits="7"))
    assert late.get_data(as_text=True) == current
    assert the_call(session, caller).answers == answers


def test_english_throughout(client, session, seeded, runtime, market_open) -> None:
    caller = Caller(client)
    caller.dial()
    caller.press("*")
    assert "To post a job, press 1" in caller.said()
    for keys in ["1", "4", "2", "2", "7", "3", "300", "8", "#"]:
        caller.press(keys)
        says = list(caller.root.iter("Say"))
        assert says and all(say.get("language") == "en-US" for say in says), caller.twiml
    caller.skip_recording()
    assert (
        "Please check: 2 workers, Plumber or electrician, tomorrow, December 5, starting at 7:00"
        in caller.said()
    )
    caller.press("1")
    job = session.get(Job, the_call(session, caller).job_id)
    assert job is not None and f"Its number is {' '.join(job.code or '')}" in caller.said()
    [summary] = outbound_to(session, EMPLOYER_PHONE)
    assert summary.language == "en"
    assert summary.body == render(
        "job_created",
        "en",
        sig=runtime.settings.SMS_SIGNATURE_EN,
        held=False,
        no_time=False,
        offers_at=None,
        offers_next_day=False,
        **job_summary(job, "en"),
    )
    assert summary.body.startswith(f"Luzhou Jobs: Job {job.code} posted: 2 plumber, Dec 5 7:00, 3d, 300/day")


def test_a_known_employer_hears_their_name_and_may_use_the_last_jobs_place(
    client, session, seeded, market_open
) -> None:
    caller = Caller(client)
    post_a_job(caller)
    employer = session.scalars(select(Employer)).one()
    employer.name = "李老板"
    session.commit()
    first = session.scalars(select(Job)).one()

    again = Caller(client)
    again.dial()
    assert f"李老板，您好。您上次招的是水电工2人，岗位号{' '.join(first.code or '')}。" in again.said()
    for keys in ["1", "1", "5", "2", "8", "1", "200"]:
        again.press(keys)
    assert "和上次同一个地方，请按0再按井号键。" in again.said()
    again.press("0")
    again.skip_recording()
    again.press("1")
    second = session.get(Job, the_call(session, again).job_id)
    assert second is not None and second.site_id == first.site_id and second.employer_id == employer.id
