"""Bad input never gets a 5xx: unsigned or incomplete webhooks, unknown calls, stray keys, late and
out-of-order deliveries, a step that fails inside."""

from __future__ import annotations

import xml.etree.ElementTree as ET

import pytest
from sqlalchemy import func, select

from dispatch.ivr import flows
from dispatch.ivr.turn import Step
from dispatch.models import Call, CallOutcome, Job, Ticket, TicketKind
from tests.helpers import sign
from tests.ivr.conftest import PUBLIC_BASE, Caller, post_signed
from tests.ivr.test_calls import RECORDING, the_call

WEBHOOKS = ["/ivr/voice", "/ivr/step/menu?t=1", "/ivr/recording", "/ivr/status"]


@pytest.mark.parametrize("path", WEBHOOKS)
def test_unsigned_or_mis_signed_webhooks_are_refused_and_change_nothing(
    client, session, seeded, path
) -> None:
    params = Caller(client).params(Digits="1")
    assert client.post(path, data=params).status_code == 403
    wrong = {"X-Twilio-Signature": sign(f"{PUBLIC_BASE}{path}", params, token="not-our-token")}
    assert client.post(path, data=params, headers=wrong).status_code == 403
    assert session.scalar(select(func.count()).select_from(Call)) == 0


@pytest.mark.parametrize("path", WEBHOOKS)
def test_a_webhook_without_a_call_sid_is_a_clear_400(client, session, seeded, path) -> None:
    params = {"From": "+8613800138000", "Digits": "1"}
    response = post_signed(client, f"{PUBLIC_BASE}{path}", params)
    assert response.status_code == 400 and "missing CallSid" in response.get_data(as_text=True)


def test_a_step_for_an_unknown_call_starts_it_afresh(client, session, seeded, market_open) -> None:
    caller = Caller(client)
    response = post_signed(client, f"{PUBLIC_BASE}/ivr/step/pay?t=7", caller.params(Digits="300"))
    assert response.status_code == 200
    caller.twiml = response.get_data(as_text=True)
    assert "招工请按1" in caller.said() and caller.action() == f"{PUBLIC_BASE}/ivr/step/menu?t=1"
    assert the_call(session, caller).step == "menu"


@pytest.mark.parametrize("digits", ["１", "abc", "9" * 40, "#", "*#*", "1 2", "\x00", "٣"])
def test_stray_keys_are_asked_again_never_an_error(client, session, seeded, market_open, digits) -> None:
    caller = Caller(client)
    caller.dial()
    caller.press("1")
    caller.press("4")
    caller.press(digits)
    assert "您按的键不对。" in caller.said() and "需要几个人？" in caller.said()
    assert the_call(session, caller).retries == 1


@pytest.mark.parametrize(
    "url", ["/ivr/step/bogus?t=2", "/ivr/step/menu?t=x", "/ivr/step/menu", "/ivr/step/trade?t=9"]
)
def test_unknown_or_stale_steps_hear_the_current_prompt(client, session, seeded, market_open, url) -> None:
    caller = Caller(client)
    caller.dial()
    caller.press("1")
    current, answers = caller.twiml, dict(the_call(session, caller).answers)
    response = post_signed(client, f"{PUBLIC_BASE}{url}", caller.params(Digits="4"))
    assert response.status_code == 200 and response.get_data(as_text=True) == current
    assert the_call(session, caller).answers == answers


def test_callbacks_about_unknown_calls_are_acknowledged(client, session, seeded) -> None:
    params = Caller(client).params(CallStatus="completed", RecordingUrl=RECORDING)
    for path in ["/ivr/status", "/ivr/recording?purpose=nonsense"]:
        response = post_signed(client, f"{PUBLIC_BASE}{path}", params)
        assert (
            response.status_code == 200 and ET.fromstring(response.get_data(as_text=True)).tag == "Response"
        )
    assert session.scalar(select(func.count()).select_from(Ticket)) == 0


def test_a_description_recorded_as_the_caller_hung_up_reaches_the_call_back_ticket(
    client, session, seeded, market_open
) -> None:
    caller = Caller(client)
    caller.dial()
    for keys in ["1", "3", "1", "2", "8", "1", "150", "1"]:
        caller.press(keys)
    describe = caller.action()
    caller.hang_up()  # the status callback overtakes the recording's action request
    response = post_signed(client, describe, caller.params(RecordingUrl=RECORDING, CallStatus="completed"))
    assert response.status_code == 200 and ET.fromstring(response.get_data(as_text=True))[0].tag == "Hangup"
    [ticket] = session.scalars(select(Ticket).where(Ticket.call_sid == caller.sid))
    session.refresh(ticket)
    assert ticket.kind == TicketKind.CALL_BACK and ticket.details["description_recording_url"] == RECORDING
    assert the_call(session, caller).answers["recording"] == RECORDING


@pytest.mark.parametrize("withheld", ["anonymous", "+266696687", ""])
def test_a_caller_who_withheld_their_number_is_put_through_to_an_agent_at_confirm(
    client, session, seeded, market_open, agent_on_duty, withheld
) -> None:
    caller = Caller(client, phone=withheld)
    caller.dial()
    for keys in ["1", "3", "1", "2", "8", "1", "150", "1"]:
        caller.press(keys)
    caller.skip_recording()
    caller.press("1")
    assert caller.root.find("Enqueue") is not None
    [ticket] = session.scalars(select(Ticket).where(Ticket.call_sid == caller.sid))
    assert ticket.kind == TicketKind.AGENT_CALL and ticket.phone == withheld
    assert ticket.details["answers"]["pay"] == 150
    assert session.scalar(select(func.count()).select_from(Job)) == 0


def test_a_full_agents_queue_takes_a_voicemail(client, session, seeded, market_open, agent_on_duty) -> None:
    caller = Caller(client)
    caller.dial()
    caller.press("0")
    caller.leave_queue("queue-full")
    assert caller.root.find("Record") is not None and "人工服务正忙" in caller.said()
    assert {t.kind for t in session.scalars(select(Ticket).where(Ticket.call_sid == caller.sid))} == {
        TicketKind.AGENT_CALL,
        TicketKind.VOICEMAIL,
    }
    assert the_call(session, caller).outcome == CallOutcome.VOICEMAIL


def test_a_step_that_fails_inside_puts_the_caller_through_with_the_answers_so_far(
    client, session, seeded, market_open, agent_on_duty, monkeypatch
) -> None:
    """Fault injection: the headcount step raises (as a bug would); the caller still gets an agent."""

    def broken(turn, digits):
        turn.keep(headcount=999)  # undone with the failed step
        raise RuntimeError("injected fault")

    caller = Caller(client)
    caller.dial()
    caller.press("1")
    caller.press("9")
    monkeypatch.setitem(flows.STEPS, "headcount", Step(flows.STEPS["headcount"].ask, broken))
    caller.press("5")
    assert caller.said().startswith("抱歉，系统出了点问题。") and caller.root.find("Enqueue") is not None
    [ticket] = session.scalars(select(Ticket).where(Ticket.call_sid == caller.sid))
    assert ticket.kind == TicketKind.AGENT_CALL and ticket.summary == "the voice menu failed at headcount"
    assert "headcount" not in ticket.details["answers"] and "trade" in ticket.details["answers"]
