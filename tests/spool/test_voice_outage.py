"""A phone call while the database is down (dispatch/ivr/outage.py), and what the spool makes of it.

Proved here: a caller (new, or part-way through the menus) hears the Mandarin apology from its template
and may leave a voicemail, answered with the thanks and a hang-up, all without the database; whatever
the call leaves (the call, its voicemail, its status and recording callbacks) is kept in the spool, and
replayed it becomes one call row and exactly one voicemail ticket, with the recording when there is one,
so that an agent calls back; a voicemail that comes once the database is back is handled at once, or
queued behind the call if that still waits. Every callback is answered 200, never a 5xx.
"""

from __future__ import annotations

import itertools
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
import time_machine
from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from dispatch.i18n import VOICE_TEMPLATE_DIR as TEMPLATE_DIR
from dispatch.ivr import outage
from dispatch.ivr.agent import NO_TRANSCRIPTION, VOICEMAIL_SECONDS
from dispatch.ivr.views import EMPTY_TWIML
from dispatch.models import Call, CallOutcome, Ticket, TicketKind
from dispatch.runtime import Runtime
from dispatch.spool.replay import ReplayResult, replay_pending
from tests.helpers import signed_post
from tests.spool import database_down, settled, waiting

CALLER = "+8613700137000"
RECORDING = "https://api.twilio.com/2010-04-01/Accounts/AC0/Recordings/RE0123456789abcdef"
OUTAGE_ZH = (
    "抱歉，系统暂时出了故障。请在提示音后留言，说明您的需要，说完挂机就可以。系统恢复后我们会尽快给您回电。"
)
GOODBYE_ZH = "谢谢您的来电，再见。"
THANKS_ZH = "留言已收到，我们会尽快给您回电。谢谢，再见。"
ZH_VOICE = {"language": "cmn-CN", "voice": "Polly.Zhiyu"}
OPEN_HOURS_NOW = datetime(2026, 12, 4, 2, 0, tzinfo=UTC)  # 10:00 in the market, a Friday
_sids = itertools.count(1)


@pytest.fixture
def down(runtime: Runtime) -> Iterator[FlaskClient]:
    """A client of the same service with its database down."""
    with database_down(runtime) as (_, client):
        yield client


def call_params(sid: str, **extra: str) -> dict[str, str]:
    return {
        "CallSid": sid,
        "AccountSid": "AC" + "0" * 32,
        "From": CALLER,
        "To": "+8610690000",
        "CallStatus": "in-progress",
        "Direction": "inbound",
        **extra,
    }


def voicemail_params(sid: str) -> dict[str, str]:
    recording = {"RecordingUrl": RECORDING, "RecordingSid": "RE" + "1" * 32, "RecordingDuration": "9"}
    return call_params(sid, **recording)


def new_sid() -> str:
    return f"CA{next(_sids):032x}"


def post(client: FlaskClient, path: str, params: dict[str, str]) -> str:
    """A signed voice webhook: answered 200 with TwiML, whatever the database does."""
    response = signed_post(client, path, params)
    assert response.status_code == 200, response.get_data(as_text=True)
    assert response.mimetype == "text/xml"
    return response.get_data(as_text=True)


def elements(twiml: str) -> list[tuple[str, dict[str, str], str]]:
    return [(element.tag, element.attrib, element.text or "") for element in ET.fromstring(twiml)]


def apology() -> list[tuple[str, dict[str, str], str]]:
    record = {
        "action": "http://localhost/ivr/outage/voicemail",
        "method": "POST",
        "maxLength": str(VOICEMAIL_SECONDS),
        "timeout": "10",
        "finishOnKey": "#",
        "playBeep": "true",
    }
    return [
        ("Say", ZH_VOICE, OUTAGE_ZH),
        ("Record", record, ""),
        ("Say", ZH_VOICE, GOODBYE_ZH),
        ("Hangup", {}, ""),
    ]


def thanks() -> list[tuple[str, dict[str, str], str]]:
    return [("Say", ZH_VOICE, THANKS_ZH), ("Hangup", {}, "")]


def calls(session: Session, sid: str) -> list[Call]:
    session.expire_all()
    return list(session.scalars(select(Call).where(Call.call_sid == sid)))


def tickets(session: Session, sid: str) -> list[Ticket]:
    session.expire_all()
    return list(session.scalars(select(Ticket).where(Ticket.call_sid == sid).order_by(Ticket.id)))


def the_voicemail_ticket(session: Session, sid: str) -> Ticket:
    """The call's one ticket, which must be an outage voicemail for the caller."""
    [ticket] = tickets(session, sid)
    assert (ticket.kind, ticket.phone, ticket.priority, ticket.summary) == (
        TicketKind.VOICEMAIL,
        CALLER,
        2,
        outage.OUTAGE_SUMMARY,
    )
    assert (ticket.details["reason"], ticket.details["transcription"]) == ("outage", NO_TRANSCRIPTION)
    return ticket


def test_the_outage_prompt_is_its_template() -> None:
    template = (TEMPLATE_DIR / "zh" / "outage.txt").read_text(encoding="utf-8")
    assert " ".join(template.split()) == OUTAGE_ZH


def test_a_call_while_the_database_is_down_hears_the_apology_and_is_kept(
    runtime: Runtime, session: Session, down: FlaskClient
) -> None:
    sid = new_sid()
    params = call_params(sid, CallStatus="ringing")
    assert elements(post(down, "/ivr/voice", params)) == apology()

    assert [(request.kind, request.form) for request in waiting(runtime)] == [(outage.OUTAGE_CALL, params)]
    assert calls(session, sid) == []


def test_a_voicemail_while_still_down_is_thanked_and_replayed_as_one_voicemail_ticket(
    runtime: Runtime, session: Session, seeded, down: FlaskClient
) -> None:
    sid = new_sid()
    post(down, "/ivr/voice", call_params(sid, CallStatus="ringing"))
    assert elements(post(down, "/ivr/outage/voicemail", voicemail_params(sid))) == thanks()
    assert (
        post(down, "/ivr/status", call_params(sid, CallStatus="completed", CallDuration="40")) == EMPTY_TWIML
    )
    assert [request.kind for request in waiting(runtime)] == [
        outage.OUTAGE_CALL,
        outage.OUTAGE_VOICEMAIL,
        outage.STATUS,
    ]

    assert replay_pending(runtime, now=settled(runtime)) == ReplayResult(replayed=3)

    [call] = calls(session, sid)
    assert (call.phone, call.outcome, call.recording_url, call.status) == (
        CALLER,
        CallOutcome.VOICEMAIL,
        RECORDING,
        "completed",
    )
    assert call.ended_at is not None
    ticket = the_voicemail_ticket(session, sid)
    assert ticket.details["voicemail_recording_url"] == RECORDING
    assert runtime.spool.pending() == []


def test_a_voicemail_once_the_database_is_back_is_handled_at_once(
    runtime: Runtime, session: Session, seeded, down: FlaskClient, client: FlaskClient
) -> None:
    sid = new_sid()
    post(down, "/ivr/voice", call_params(sid, CallStatus="ringing"))
    assert replay_pending(runtime, now=settled(runtime)) == ReplayResult(replayed=1)
    assert "voicemail_recording_url" not in the_voicemail_ticket(session, sid).details

    assert elements(post(client, "/ivr/outage/voicemail", voicemail_params(sid))) == thanks()

    assert runtime.spool.pending() == []
    assert the_voicemail_ticket(session, sid).details["voicemail_recording_url"] == RECORDING
    assert calls(session, sid)[0].recording_url == RECORDING


def test_a_voicemail_once_the_database_is_back_queues_behind_its_call_still_waiting(
    runtime: Runtime, session: Session, seeded, down: FlaskClient, client: FlaskClient
) -> None:
    sid = new_sid()
    post(down, "/ivr/voice", call_params(sid, CallStatus="ringing"))

    assert elements(post(client, "/ivr/outage/voicemail", voicemail_params(sid))) == thanks()
    assert [request.kind for request in waiting(runtime)] == [outage.OUTAGE_CALL, outage.OUTAGE_VOICEMAIL]
    assert calls(session, sid) == []

    assert replay_pending(runtime, now=settled(runtime)) == ReplayResult(replayed=2)
    assert len(calls(session, sid)) == 1
    assert the_voicemail_ticket(session, sid).details["voicemail_recording_url"] == RECORDING


def test_a_caller_who_hangs_up_without_a_voicemail_still_leaves_a_ticket_to_call_back(
    runtime: Runtime, session: Session, seeded, down: FlaskClient
) -> None:
    sid = new_sid()
    post(down, "/ivr/voice", call_params(sid, CallStatus="ringing"))
    post(down, "/ivr/status", call_params(sid, CallStatus="completed", CallDuration="12"))

    assert replay_pending(runtime, now=settled(runtime)) == ReplayResult(replayed=2)

    [call] = calls(session, sid)
    assert (call.outcome, call.status, call.recording_url) == (CallOutcome.VOICEMAIL, "completed", "")
    ticket = the_voicemail_ticket(session, sid)
    assert "voicemail_recording_url" not in ticket.details


def test_a_step_of_a_call_in_progress_when_the_database_goes_down_hears_the_apology(
    runtime: Runtime, session: Session, seeded, client: FlaskClient, down: FlaskClient
) -> None:
    sid = new_sid()
    with time_machine.travel(OPEN_HOURS_NOW, tick=True):
        menu = ET.fromstring(post(client, "/ivr/voice", call_params(sid, CallStatus="ringing")))
        menu_action = menu.find("Gather").get("action")  # type: ignore[union-attr]
        assert menu_action == "http://localhost/ivr/step/menu?t=1"
        trade = ET.fromstring(post(client, "/ivr/step/menu?t=1", call_params(sid, Digits="1")))
        trade_action = trade.find("Gather").get("action")  # type: ignore[union-attr]
        assert trade_action == "http://localhost/ivr/step/trade?t=2"

        # The database goes down while the caller chooses a trade.
        answer = call_params(sid, Digits="4")
        assert elements(post(down, "/ivr/step/trade?t=2", answer)) == apology()
        assert [(request.kind, request.form) for request in waiting(runtime)] == [
            (outage.OUTAGE_CALL, answer)
        ]

        assert replay_pending(runtime, now=settled(runtime)) == ReplayResult(replayed=1)
        post(client, "/ivr/status", call_params(sid, CallStatus="completed", CallDuration="30"))

    [call] = calls(session, sid)
    assert (call.flow, call.outcome) == ("job", CallOutcome.VOICEMAIL)
    ticket = the_voicemail_ticket(session, sid)  # one ticket: the hang-up adds no call-back of its own
    assert ticket.details["flow"] == "job"


def test_status_and_recording_callbacks_while_down_are_answered_and_kept(
    runtime: Runtime, session: Session, seeded, client: FlaskClient, down: FlaskClient
) -> None:
    sid = new_sid()
    with time_machine.travel(OPEN_HOURS_NOW, tick=True):
        post(client, "/ivr/voice", call_params(sid, CallStatus="ringing"))

        recording = voicemail_params(sid)
        assert post(down, "/ivr/recording?purpose=voicemail", recording) == EMPTY_TWIML
        status = call_params(sid, CallStatus="completed", CallDuration="20")
        assert post(down, "/ivr/status", status) == EMPTY_TWIML
        kept = [(request.kind, request.form, request.args) for request in waiting(runtime)]
        assert kept == [
            (outage.RECORDING, recording, {"purpose": "voicemail"}),
            (outage.STATUS, status, {}),
        ]
        [call] = calls(session, sid)
        assert (call.status, call.recording_url, call.ended_at) == ("ringing", "", None)

        assert replay_pending(runtime, now=settled(runtime)) == ReplayResult(replayed=2)

    [call] = calls(session, sid)
    assert (call.status, call.recording_url) == ("completed", RECORDING)
    assert call.ended_at is not None
    # Hung up at the menu: the status callback leaves its usual low-priority call-back ticket.
    [ticket] = tickets(session, sid)
    assert (ticket.kind, ticket.priority, ticket.summary) == (TicketKind.CALL_BACK, 4, "hung up at the menu")
