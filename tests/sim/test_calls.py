"""Calls through the simulator's endpoints: signed voice webhooks reach the real IVR, and what its
TwiML does comes back (prompts, keypad, recording, the agents' queue, the end of the call)."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select

from dispatch.clock import utcnow
from dispatch.models import Call, CallOutcome, Job, JobSource, JobStatus, Ticket, TicketKind
from tests.callcenter.helpers import agent_at
from tests.factories import Market
from tests.sim.conftest import SimPhone

EMPLOYER = "+8613600000077"


@pytest.fixture
def settings_overrides() -> dict[str, Any]:
    return {"OPENING_HOURS": "08:00-08:00"}  # agents take calls all day: the queue is always open


@pytest.fixture
def agent_on_duty(session, seeded) -> None:
    """An available agent of the district: a caller asking for a person is queued (issue 15)."""
    agent_at(session, Market(session), "LZ", available_at=utcnow())
    session.commit()


def the_call(session, phone: SimPhone) -> Call:
    session.expire_all()
    return session.scalars(select(Call).where(Call.call_sid == phone.state["call_sid"])).one()


def test_a_call_posts_a_job_by_keypad_through_signed_webhooks(client, session, seeded, sim_phone) -> None:
    phone = sim_phone(EMPLOYER)
    phone.dial()
    assert phone.wait["kind"] == "gather" and phone.wait["num_digits"] == 1
    assert "招工请按1" in phone.said()
    # job, plumber, 2 people (ended by #), tomorrow, from 7, 3 days, 300 a day, 太西 (8), the town itself
    for keys in ["1", "4", "2#", "2", "7#", "3#", "300#", "8#", "#"]:
        phone.press(keys)
    assert phone.wait["kind"] == "record"
    phone.say("三楼，没有电梯")
    assert phone.wait["kind"] == "gather" and "确认发布请按1" in phone.said()
    phone.press("1")

    assert phone.wait == {"kind": "ended", "reason": "hangup"}
    session.expire_all()
    job = session.scalars(select(Job)).one()
    assert (job.trade.code, job.headcount, job.days, job.daily_pay, job.site.code) == (
        "plumber_electrician",
        2,
        3,
        300,
        "LZ-TX",
    )
    assert (job.source, job.status) == (JobSource.IVR, JobStatus.OPEN)
    assert f"岗位号是{' '.join(job.code)}" in phone.said()
    # Every webhook was accepted: signed with the app's token over the URL the TwiML named.
    posted = phone.requests()
    assert posted[0] == ("/ivr/voice", 200) and posted[-1] == ("/ivr/status", 200)
    assert all(status == 200 for _, status in posted)
    assert [path.split("?")[0] for path, _ in posted[1:4]] == [
        "/ivr/step/menu",
        "/ivr/step/trade",
        "/ivr/step/headcount",
    ]
    # The typed "recording" is the job's description, served where its RecordingUrl points.
    assert "/sim/recordings/RE" in job.recording_url
    assert (
        client.get(job.recording_url.removeprefix("http://localhost")).get_data(as_text=True)
        == "三楼，没有电梯"
    )
    call = the_call(session, phone)
    assert call.outcome == CallOutcome.JOB and call.job_id == job.id and call.ended_at is not None


def test_the_timeout_button_does_what_the_gather_says_on_silence(client, session, seeded, sim_phone) -> None:
    phone = sim_phone(EMPLOYER)
    phone.dial()
    phone.time_out()
    # The menu's Gather has actionOnEmptyResult: its action hears the silence, and asks again.
    assert phone.state["events"][0] == {"kind": "timeout"}
    assert phone.requests()[-1][0].startswith("/ivr/step/menu")
    assert "没有听到您按键" in phone.said() and phone.wait["kind"] == "gather"
    assert the_call(session, phone).retries == 1


def test_an_entry_is_ended_by_the_timeout_with_the_keys_pressed_so_far(
    client, session, seeded, sim_phone
) -> None:
    phone = sim_phone(EMPLOYER)
    phone.dial()
    phone.press("1")
    phone.press("4")
    assert phone.wait["finish_on_key"] == "#" and phone.wait["num_digits"] is None
    phone._send("press", keys="2", timed_out="1")  # typed 2, then silence: Twilio submits "2"
    [request] = [event for event in phone.state["events"] if event["kind"] == "request"]
    assert request["params"]["Digits"] == "2" and "FinishedOnKey" not in request["params"]
    assert the_call(session, phone).answers["headcount"] == 2
    phone.press("#2#")  # a # before any digit is ignored: Digits 2 (tomorrow)
    assert the_call(session, phone).answers["date"]


def test_a_caller_waits_for_an_agent_then_leaves_a_voicemail(
    client, session, seeded, agent_on_duty, sim_phone
) -> None:
    phone = sim_phone(EMPLOYER)
    phone.dial()
    phone.press("0")
    assert phone.wait["kind"] == "enqueue" and phone.wait["queue"] == "agents-LZ"
    kinds = [event["kind"] for event in phone.state["events"]]
    assert "enqueued" in kinds
    # The queue's wait music (its waitUrl) is what the caller hears meanwhile.
    assert any(event.get("hold") for event in phone.state["events"])
    while phone.wait["kind"] == "enqueue":
        phone.queue("wait")
    # After long enough the hold TwiML says <Leave>: the Enqueue's action hears `leave`: a voicemail.
    assert any(event["kind"] == "left_queue" for event in phone.state["events"])
    assert phone.wait["kind"] == "record"
    phone.say("我要找两个搬家的")
    assert phone.wait["kind"] == "ended"
    session.expire_all()
    voicemail = session.scalars(select(Ticket).where(Ticket.kind == TicketKind.VOICEMAIL)).one()
    assert "/sim/recordings/RE" in str(voicemail.details)


def test_an_agent_answers_the_queue(client, session, seeded, agent_on_duty, sim_phone) -> None:
    phone = sim_phone(EMPLOYER)
    phone.dial()
    phone.press("0")
    phone.queue("answer")
    assert phone.state["events"][0] == {"kind": "agent_answered"}
    assert phone.wait["kind"] == "ended"
    assert the_call(session, phone).outcome == CallOutcome.AGENT


def test_hanging_up_part_way_leaves_a_call_back_ticket(client, session, seeded, sim_phone) -> None:
    phone = sim_phone(EMPLOYER)
    phone.dial()
    phone.press("1")
    phone.press("4")
    phone.hang_up()
    assert phone.wait == {"kind": "ended", "reason": "hangup"}
    assert phone.requests()[-1] == ("/ivr/status", 200)
    session.expire_all()
    ticket = session.scalars(select(Ticket).where(Ticket.call_sid == phone.state["call_sid"])).one()
    assert ticket.kind == TicketKind.CALL_BACK
