"""The softphone's TwiML App: POST /voice/agent (answer the reserved caller, or dial a person with the
market's number as caller ID), the <Queue url> bind on the caller's leg, and the Dial action; signed
like every Twilio webhook, idempotent on retries, and never a 5xx."""

from __future__ import annotations

import dataclasses
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from typing import Any

import pytest
import time_machine
from sqlalchemy import select
from sqlalchemy.orm import Session

from dispatch.callcenter.calls import answer_next, start_outbound
from dispatch.callcenter.presence import presence_of
from dispatch.models import Agent, AgentCall, Presence, QueuedCall, WaitStatus
from dispatch.spool.replay import ReplayResult, replay_pending
from tests.callcenter.helpers import agent_at
from tests.factories import Market
from tests.helpers import sign
from tests.ivr.conftest import OPEN_HOURS_NOW, PUBLIC_BASE, Caller, post_signed
from tests.spool import database_down, settled, waiting

FROM_NUMBER = "+8610690000"
AGENT_LEG = "CA" + "a" * 32
CALLER_SID = "CA" + "c" * 32
BASE = f"{PUBLIC_BASE}/voice/agent"
REFUSED_ZH = "这个电话无法接通，请回到工作台再试一次。"


@pytest.fixture
def settings_overrides() -> dict[str, Any]:
    return {"PUBLIC_BASE_URL": PUBLIC_BASE, "OPENING_HOURS": "08:00-18:00", "TWILIO_FROM_NUMBER": FROM_NUMBER}


@pytest.fixture
def clock_start():
    return OPEN_HOURS_NOW


@pytest.fixture
def frozen(clock) -> Iterator[time_machine.Coordinates]:
    yield clock


@pytest.fixture
def agent(session: Session, seeded) -> Agent:
    agent = agent_at(session, Market(session), "LZ-TX", available_at=OPEN_HOURS_NOW)
    session.commit()
    return agent


def settings_of(client):
    return client.application.extensions["dispatch.runtime"].settings


def softphone(client, agent: Agent | str, sid: str = AGENT_LEG, **params: str):
    """The softphone's call reaching the TwiML App's Voice URL, as Twilio posts it."""
    identity = agent if isinstance(agent, str) else f"agent_{agent.id}"
    form = {
        "CallSid": sid,
        "AccountSid": "AC" + "0" * 32,
        "From": f"client:{identity}",
        "To": "",
        "Direction": "inbound",
        "CallStatus": "ringing",
        **params,
    }
    return post_signed(client, BASE, form)


def twiml(response) -> ET.Element:
    assert response.status_code == 200, response.get_data(as_text=True)
    assert response.mimetype == "text/xml"
    return ET.fromstring(response.get_data(as_text=True))


def queued_caller(client, session: Session) -> Caller:
    """An employer of 太行西街 who pressed 0 and waits in the town's queue."""
    market = Market(session)
    employer = market.employer(site="LZ-TX")
    session.commit()
    caller = Caller(client, phone=employer.phone, sid=CALLER_SID)
    caller.dial()
    caller.press("0")
    assert caller.root.find("Enqueue").text == "agents-LZ-TX"  # type: ignore[union-attr]
    return caller


def reserved(client, session: Session, agent: Agent) -> AgentCall:
    agent_call = answer_next(session, agent, settings_of(client), OPEN_HOURS_NOW)
    assert agent_call is not None
    session.commit()
    return agent_call


def test_answer_dials_the_reserved_callers_site_queue(client, session, seeded, frozen, agent) -> None:
    queued_caller(client, session)
    agent_call = reserved(client, session, agent)
    xml = softphone(client, agent, answer=str(agent_call.id)).get_data(as_text=True)
    expected = (
        '<?xml version="1.0" encoding="UTF-8"?><Response>'
        f'<Dial action="{BASE}/dial-status?agent_call={agent_call.id}" method="POST" timeout="30">'
        f'<Queue method="POST" url="{BASE}/bind?agent_call={agent_call.id}">agents-LZ-TX</Queue>'
        "</Dial></Response>"
    )
    assert ET.canonicalize(xml) == ET.canonicalize(expected)
    session.expire_all()
    assert session.get(AgentCall, agent_call.id).call_sid == AGENT_LEG  # type: ignore[union-attr]
    # Twilio retrying the same leg gets the same answer.
    assert ET.canonicalize(softphone(client, agent, answer=str(agent_call.id)).get_data(as_text=True)) == (
        ET.canonicalize(expected)
    )


def test_the_whole_answer_bind_and_hang_up_loop(client, session, seeded, frozen, agent) -> None:
    caller = queued_caller(client, session)
    agent_call = reserved(client, session, agent)
    dial = twiml(softphone(client, agent, answer=str(agent_call.id))).find("Dial")
    assert dial is not None
    bind_url = dial.find("Queue").get("url", "")  # type: ignore[union-attr]
    bind_params = {
        "CallSid": CALLER_SID,
        "AccountSid": "AC" + "0" * 32,
        "QueueSid": "QU" + "1" * 32,
        "QueueTime": "12",
        "DequeingCallSid": AGENT_LEG,
        "From": caller.phone,
        "CallStatus": "in-progress",
    }
    said = twiml(post_signed(client, bind_url, bind_params))
    assert [say.text for say in said.iter("Say")] == ["正在为您接通工作人员。"]
    assert {verb.tag for verb in said} <= {"Play", "Say", "Pause", "Redirect"}  # what a <Queue url> may say
    assert post_signed(client, bind_url, bind_params).status_code == 200  # a retry: one effect
    session.expire_all()
    bound = session.get(AgentCall, agent_call.id)
    assert bound is not None and bound.answered_at is not None
    assert session.get(QueuedCall, bound.queued_call_id).status == WaitStatus.ANSWERED  # type: ignore[union-attr]
    ended = {
        "CallSid": AGENT_LEG,
        "DialCallStatus": "completed",
        "DialCallDuration": "95",
        "DialCallSid": "CA1",
    }
    status_url = dial.get("action", "")
    hung_up = twiml(post_signed(client, status_url, ended))
    assert hung_up.find("Hangup") is not None
    session.expire_all()
    done = session.get(AgentCall, agent_call.id)
    assert done is not None and done.dial_status == "completed" and done.duration_seconds == 95
    first_end = done.ended_at
    assert presence_of(session, agent).status == Presence.WRAP_UP
    session.commit()  # (presence_of locked the row: let the next request have it)
    # The Dial action delivered again, with other figures: the first end stands.
    twiml(post_signed(client, status_url, {**ended, "DialCallDuration": "7"}))
    session.expire_all()
    again = session.get(AgentCall, agent_call.id)
    assert again is not None and again.duration_seconds == 95 and again.ended_at == first_end
    # The caller's <Enqueue> action comes once both have hung up: answered.
    caller.leave_queue("bridged")
    session.expire_all()
    assert session.get(QueuedCall, bound.queued_call_id).status == WaitStatus.ANSWERED  # type: ignore[union-attr]


def test_a_bind_in_english_speaks_english_to_the_caller(client, session, seeded, frozen, agent) -> None:
    caller = queued_caller(client, session)
    session.expire_all()
    from dispatch.models import Call

    call = session.scalars(select(Call).where(Call.call_sid == caller.sid)).one()
    call.language = "en"
    session.commit()
    agent_call = reserved(client, session, agent)
    dial = twiml(softphone(client, agent, answer=str(agent_call.id))).find("Dial")
    bind_url = dial.find("Queue").get("url", "")  # type: ignore[union-attr]
    said = twiml(post_signed(client, bind_url, {"CallSid": CALLER_SID, "DequeingCallSid": AGENT_LEG}))
    assert [say.text for say in said.iter("Say")] == ["Connecting you to an agent now."]


def test_a_dial_never_connected_puts_the_caller_back_in_line(client, session, seeded, frozen, agent) -> None:
    queued_caller(client, session)
    agent_call = reserved(client, session, agent)
    dial = twiml(softphone(client, agent, answer=str(agent_call.id))).find("Dial")
    post_signed(client, dial.get("action", ""), {"CallSid": AGENT_LEG, "DialCallStatus": "no-answer"})  # type: ignore[union-attr]
    session.expire_all()
    [wait] = session.scalars(select(QueuedCall).where(QueuedCall.call_sid == CALLER_SID)).all()
    assert wait.status == WaitStatus.WAITING
    assert session.get(AgentCall, agent_call.id).dial_status == "no-answer"  # type: ignore[union-attr]


def test_dial_shows_the_markets_number_never_the_agents(client, session, seeded, frozen, agent) -> None:
    agent_call = start_outbound(session, agent, phone="+8613912345678", now=OPEN_HOURS_NOW)
    session.commit()
    xml = softphone(client, agent, dial=str(agent_call.id)).get_data(as_text=True)
    expected = (
        '<?xml version="1.0" encoding="UTF-8"?><Response>'
        f'<Dial action="{BASE}/dial-status?agent_call={agent_call.id}" callerId="{FROM_NUMBER}" '
        'method="POST" timeout="30"><Number>+8613912345678</Number></Dial></Response>'
    )
    assert ET.canonicalize(xml) == ET.canonicalize(expected)
    ended = {"CallSid": AGENT_LEG, "DialCallStatus": "busy", "DialCallDuration": "0"}
    twiml(post_signed(client, f"{BASE}/dial-status?agent_call={agent_call.id}", ended))
    session.expire_all()
    done = session.get(AgentCall, agent_call.id)
    assert done is not None and done.dial_status == "busy" and done.ended_at is not None


def refused(response, text: str = REFUSED_ZH) -> None:
    root = twiml(response)
    assert [say.text for say in root.iter("Say")] == [text]
    assert root.find("Hangup") is not None and root.find("Dial") is None


@pytest.mark.parametrize(
    "params",
    [{}, {"answer": ""}, {"answer": "abc"}, {"answer": "99999999"}, {"dial": "-1"}, {"hello": "1"}],
)
def test_bad_params_are_refused_with_words_never_an_error(
    client, session, seeded, frozen, agent, params
) -> None:
    refused(softphone(client, agent, **params))


def test_another_agents_call_is_refused(client, session, seeded, frozen, agent) -> None:
    queued_caller(client, session)
    agent_call = reserved(client, session, agent)
    other = agent_at(session, Market(session), "LZ-TX")
    other.language = "en"
    session.commit()
    refused(
        softphone(client, other, answer=str(agent_call.id)),
        "This call cannot be connected. Please go back to the console and try again.",
    )
    refused(softphone(client, "nobody-by-that-name", answer=str(agent_call.id)))
    # The identity is agent_<id>, never the username (which may hold what Twilio refuses).
    refused(softphone(client, agent.username, answer=str(agent_call.id)))
    refused(softphone(client, f"agent_{agent.id}x", answer=str(agent_call.id)))
    session.expire_all()
    assert session.get(AgentCall, agent_call.id).call_sid is None  # type: ignore[union-attr]


def test_an_answer_used_as_a_dial_or_an_ended_call_or_a_second_leg_is_refused(
    client, session, seeded, frozen, agent
) -> None:
    queued_caller(client, session)
    agent_call = reserved(client, session, agent)
    refused(softphone(client, agent, dial=str(agent_call.id)))
    assert twiml(softphone(client, agent, answer=str(agent_call.id))).find("Dial") is not None
    refused(softphone(client, agent, sid="CA" + "b" * 32, answer=str(agent_call.id)))
    post_signed(client, f"{BASE}/dial-status?agent_call={agent_call.id}", {"CallSid": AGENT_LEG})
    refused(softphone(client, agent, answer=str(agent_call.id)))


def test_dial_without_a_market_number_is_refused(client, session, seeded, frozen, agent, runtime) -> None:
    agent_call = start_outbound(session, agent, phone="+8613912345678", now=OPEN_HOURS_NOW)
    session.commit()
    runtime.settings = dataclasses.replace(runtime.settings, TWILIO_FROM_NUMBER="")
    refused(softphone(client, agent, dial=str(agent_call.id)))


@pytest.mark.parametrize("path", ["", "/bind?agent_call=1", "/dial-status?agent_call=1"])
def test_unsigned_or_mis_signed_requests_are_refused(client, session, seeded, frozen, agent, path) -> None:
    params = {"CallSid": AGENT_LEG, "From": f"client:agent_{agent.id}", "answer": "1"}
    assert client.post(f"/voice/agent{path}", data=params).status_code == 403
    wrong = {"X-Twilio-Signature": sign(f"{BASE}{path}", params, token="not-the-token")}
    assert client.post(f"/voice/agent{path}", data=params, headers=wrong).status_code == 403


def test_callbacks_about_unknown_calls_answer_quietly(client, session, seeded, frozen) -> None:
    bind = twiml(post_signed(client, f"{BASE}/bind?agent_call=424242", {"CallSid": CALLER_SID}))
    assert bind.find("Say") is not None and bind.find("Dial") is None
    status = twiml(post_signed(client, f"{BASE}/dial-status?agent_call=x", {"CallSid": AGENT_LEG}))
    assert status.find("Hangup") is not None


def test_a_failure_inside_is_an_apology_not_a_5xx(
    client, session, seeded, frozen, agent, monkeypatch, runtime
) -> None:
    from dispatch.voice import softphone as module

    def broken(*args, **kwargs):
        raise RuntimeError("injected fault")

    agent_call = start_outbound(session, agent, phone="+8613912345678", now=OPEN_HOURS_NOW)
    session.commit()
    monkeypatch.setattr(module, "_dial", broken)
    refused(softphone(client, agent, dial=str(agent_call.id)))
    monkeypatch.setattr(module.calls, "bind_answered", broken)
    bind = post_signed(client, f"{BASE}/bind?agent_call={agent_call.id}", {"CallSid": CALLER_SID})
    assert twiml(bind).find("Dial") is None
    monkeypatch.setattr(module.calls, "call_ended", broken)
    status = {"CallSid": AGENT_LEG, "DialCallStatus": "no-answer", "DialCallDuration": "0"}
    response = post_signed(client, f"{BASE}/dial-status?agent_call={agent_call.id}", status)
    assert twiml(response).find("Hangup") is not None
    # Twilio never asks a Dial action again: the request waits in the spool, done once it can be.
    monkeypatch.undo()
    assert [(r.kind, r.args) for r in waiting(runtime)] == [
        (module.DIAL_STATUS_KIND, {"agent_call": str(agent_call.id)})
    ]
    assert replay_pending(runtime, now=settled(runtime)) == ReplayResult(replayed=1)
    session.expire_all()
    assert (agent_call.dial_status, agent_call.ended_at) == ("no-answer", OPEN_HOURS_NOW)
    assert presence_of(session, agent).status == Presence.WRAP_UP


def test_a_dial_status_while_the_database_is_down_is_spooled_and_done_later(
    client, session, seeded, frozen, agent, runtime
) -> None:
    caller = queued_caller(client, session)
    agent_call = reserved(client, session, agent)
    twiml(softphone(client, agent, answer=str(agent_call.id)))
    status = {"CallSid": AGENT_LEG, "DialCallStatus": "no-answer", "DialCallDuration": "0"}
    with database_down(runtime) as (_, down):
        response = post_signed(down, f"{BASE}/dial-status?agent_call={agent_call.id}", status)
        assert twiml(response).find("Hangup") is not None
    session.expire_all()
    assert agent_call.ended_at is None and presence_of(session, agent).status == Presence.BUSY
    session.commit()
    assert replay_pending(runtime, now=settled(runtime)) == ReplayResult(replayed=1)
    session.expire_all()
    assert agent_call.dial_status == "no-answer"
    assert presence_of(session, agent).status == Presence.WRAP_UP
    [wait] = session.scalars(select(QueuedCall).where(QueuedCall.call_sid == caller.sid)).all()
    assert wait.status == WaitStatus.WAITING  # never bridged: back in line
