"""Start times already past (market time), a held employer's job, the queue's time limit and its wait
music's fallback, callbacks that fail inside, and Mandarin voicemails without a transcription."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import time_machine
from sqlalchemy import select, update
from sqlalchemy.exc import OperationalError

from dispatch.clock import utcnow
from dispatch.ivr import flows, services, tickets
from dispatch.ivr.agent import NO_TRANSCRIPTION
from dispatch.ivr.services import STALE_CALL_AFTER
from dispatch.models import Call, CallOutcome, Employer, EmployerStatus, Job, JobStatus, TicketKind
from tests.helpers import outbound_to
from tests.ivr.conftest import EMPLOYER_PHONE, PUBLIC_BASE, Caller, post_signed
from tests.ivr.test_calls import RECORDING, post_a_job, the_call
from tests.ivr.test_calls import tickets as tickets_of

# 17:00 UTC on Dec 3 is 01:00 on Dec 4 in the market (Asia/Shanghai).
LATE_UTC = datetime(2026, 12, 3, 17, 0, tzinfo=UTC)
PASSED = "这个开工时间已经过了"


def to_hour(caller: Caller, day: str) -> None:
    caller.dial()
    for keys in ["1", "4", "2", day]:
        caller.press(keys)


def test_1_means_today_in_the_market_not_in_utc(client, session, seeded) -> None:
    with time_machine.travel(LATE_UTC, tick=True):
        caller = Caller(client)
        to_hour(caller, "1")
        assert the_call(session, caller).answers["date"] == date(2026, 12, 4).isoformat()


def test_an_hour_already_past_today_is_asked_again(client, session, seeded) -> None:
    with time_machine.travel(LATE_UTC, tick=True):
        caller = Caller(client)
        to_hour(caller, "1")
        for hour in ["0", "1"]:  # at or before 01:00 in the market
            caller.press(hour)
            assert caller.said().startswith(PASSED) and "几点开始干活" in caller.said()
            assert "hour" not in the_call(session, caller).answers
        caller.press("2")
        assert the_call(session, caller).answers["hour"] == 2


def test_the_same_hour_tomorrow_is_taken(client, session, seeded) -> None:
    with time_machine.travel(LATE_UTC, tick=True):
        caller = Caller(client)
        to_hour(caller, "2")
        caller.press("1")
        assert the_call(session, caller).answers["hour"] == 1


def test_a_day_changed_to_today_at_the_read_back_is_checked_again_at_confirm(client, session, seeded) -> None:
    with time_machine.travel(LATE_UTC, tick=True):
        caller = Caller(client)
        to_hour(caller, "2")
        for keys in ["1", "3", "300", "8", "#"]:
            caller.press(keys)
        caller.skip_recording()
        caller.press("2")  # change
        caller.press("3")  # the day
        caller.press("1")  # today: 01:00 has passed
        caller.press("1")  # confirm
        assert caller.said().startswith(PASSED) and caller.root.find("Gather") is not None
        assert session.scalars(select(Job)).all() == []
        caller.press("9")
        assert "请核对" in caller.said() or "9点" in caller.said()
        caller.press("1")
        job = session.get(Job, the_call(session, caller).job_id)
        assert job is not None and job.work_date == date(2026, 12, 4) and job.start_time.hour == 9


def test_a_held_employer_hears_and_reads_that_the_job_waits_for_review(
    client, session, seeded, market_open
) -> None:
    session.add(Employer(phone=EMPLOYER_PHONE, name="", status=EmployerStatus.HELD))
    session.commit()
    caller = Caller(client)
    post_a_job(caller)
    job = session.get(Job, the_call(session, caller).job_id)
    assert job is not None and job.status == JobStatus.HELD
    assert caller.said().startswith("招工已收到，工作人员审核后发布。") and "已发布" not in caller.said()
    [summary] = outbound_to(session, EMPLOYER_PHONE)
    assert "招工已收到，工作人员审核后发布" in summary.body and "招工已发布" not in summary.body


def waiting(caller: Caller, queue_time: int) -> str:
    enqueue = caller.root.find("Enqueue")
    assert enqueue is not None
    params = caller.params(QueuePosition="1", QueueTime=str(queue_time))
    response = post_signed(caller.client, enqueue.get("waitUrl", ""), params)
    assert response.status_code == 200
    return response.get_data(as_text=True)


def test_after_the_hold_limit_the_caller_leaves_the_queue_for_a_voicemail(
    client, session, seeded, market_open, agent_on_duty
) -> None:
    caller = Caller(client)
    caller.dial()
    caller.press("0")
    limit = client.application.extensions["dispatch.runtime"].settings.HOLD_LIMIT_SECONDS
    assert "<Gather" in waiting(caller, limit - 1)
    assert "<Leave" in waiting(caller, limit) and "<Say" not in waiting(caller, 999)
    caller.leave_queue("leave")
    assert caller.root.find("Record") is not None and "人工服务正忙" in caller.said()
    assert the_call(session, caller).outcome == CallOutcome.VOICEMAIL


def test_a_caller_an_agent_is_connecting_is_not_pulled_out_at_the_hold_limit(
    client, session, seeded, market_open, agent_on_duty
) -> None:
    """Reserved at 178 s, the hold's limit passes while the agent's softphone connects: the caller
    hears that an agent is coming, not the voicemail."""
    from dispatch.callcenter.calls import answer_next

    settings = client.application.extensions["dispatch.runtime"].settings
    caller = Caller(client)
    caller.dial()
    caller.press("0")
    assert "<Gather" in waiting(caller, settings.HOLD_LIMIT_SECONDS - 2)
    assert answer_next(session, agent_on_duty, settings, utcnow()) is not None
    session.commit()
    held = waiting(caller, settings.HOLD_LIMIT_SECONDS + 1)
    assert "<Leave" not in held and "<Pause" in held


def test_the_wait_music_never_answers_an_enqueue_even_when_it_fails(
    client, session, seeded, market_open, agent_on_duty, monkeypatch
) -> None:
    caller = Caller(client)
    caller.dial()
    caller.press("0")

    def broken(*args, **kwargs):
        raise OperationalError("select", {}, Exception("injected fault"))

    monkeypatch.setattr(flows, "hold", broken)
    xml = waiting(caller, 5)
    assert "<Enqueue" not in xml and "<Say" in xml and "<Pause" in xml


def test_recording_and_status_callbacks_answer_200_when_the_database_fails(
    client, session, seeded, market_open, monkeypatch
) -> None:
    caller = Caller(client)
    caller.dial()

    def broken(*args, **kwargs):
        raise OperationalError("update", {}, Exception("injected fault"))

    monkeypatch.setattr(tickets, "finish_call", broken)
    monkeypatch.setattr(tickets, "attach_recording", broken)
    params = caller.params(RecordingUrl=RECORDING)
    response = post_signed(client, f"{PUBLIC_BASE}/ivr/recording?purpose=voicemail", params)
    assert response.status_code == 200 and response.mimetype == "text/xml"
    params = caller.params(CallStatus="completed")
    response = post_signed(client, f"{PUBLIC_BASE}/ivr/status", params)
    assert response.status_code == 200 and "<Response" in response.get_data(as_text=True)


def test_only_english_voicemails_ask_for_a_transcription(client, session, seeded, market_closed) -> None:
    english = Caller(client)
    english.dial()
    english.press("*")
    english.press("0")
    record = english.root.find("Record")
    assert record is not None and record.get("transcribe") == "true"
    assert record.get("transcribeCallback") == f"{PUBLIC_BASE}/ivr/recording?purpose=voicemail"
    [ticket] = tickets_of(session, english)
    assert "transcription" not in ticket.details

    mandarin = Caller(client, phone="+8613700137001")
    mandarin.dial()
    mandarin.press("0")
    record = mandarin.root.find("Record")
    assert record is not None and record.get("transcribe") is None
    [ticket] = tickets_of(session, mandarin)
    assert ticket.details["transcription"] == NO_TRANSCRIPTION


def test_calls_whose_status_callback_never_came_are_finished_after_30_minutes(
    client, session, seeded, market_open
) -> None:
    stale, fresh, ended = Caller(client), Caller(client, phone="+8613700137002"), Caller(client)
    for caller in (stale, fresh, ended):
        caller.dial()
        caller.press("1")
        caller.press("4")  # a trade chosen: part-way through a job request
    ended.hang_up()
    long_ago = utcnow() - STALE_CALL_AFTER - timedelta(minutes=1)
    for caller in (stale, ended):
        session.execute(update(Call).where(Call.call_sid == caller.sid).values(updated_at=long_ago))
    session.commit()

    assert services.finish_stale_calls(session) == {"finished": 1, "tickets": 1, "waits_closed": 0}
    session.commit()
    call = the_call(session, stale)
    assert call.ended_at is not None and call.outcome == CallOutcome.CALL_BACK
    [ticket] = tickets_of(session, stale)
    assert ticket.kind == TicketKind.CALL_BACK and "trade" in ticket.details["answers"]
    assert the_call(session, fresh).ended_at is None and tickets_of(session, fresh) == []
    assert services.finish_stale_calls(session) == {"finished": 0, "tickets": 0, "waits_closed": 0}
