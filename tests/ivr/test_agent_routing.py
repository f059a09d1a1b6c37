"""Routing a caller who asks for a person by presence and the site tree: golden TwiML for every case,
in Chinese and in English, and what each case leaves behind (the wait, the ticket, its place).

Golden files: tests/ivr/golden/<language>/routing_<case>.xml. Regenerate after a deliberate change
with `UPDATE_GOLDEN=1 pytest tests/ivr/test_agent_routing.py`, then read the diff before committing.
"""

from __future__ import annotations

import os
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
import time_machine
from sqlalchemy import select
from sqlalchemy.orm import Session

from dispatch.callcenter.calls import start_outbound
from dispatch.callcenter.presence import set_presence
from dispatch.callcenter.routing import callers_for
from dispatch.models import (
    Agent,
    Call,
    CallOutcome,
    Contact,
    Employer,
    Presence,
    QueuedCall,
    Ticket,
    TicketKind,
    WaitStatus,
)
from tests.callcenter.helpers import agent_at, waiting_at
from tests.factories import Market
from tests.ivr.conftest import CLOSED_NOW, OPEN_HOURS_NOW, Caller, post_signed

GOLDEN = Path(__file__).parent / "golden"
UPDATE = os.environ.get("UPDATE_GOLDEN") == "1"
SID = "CA" + "6" * 32
PHONE = "+8613700137066"


@pytest.fixture
def clock_start():
    return OPEN_HOURS_NOW


@pytest.fixture
def frozen(clock) -> Iterator[time_machine.Coordinates]:
    """The market's clock at 10:00 on a Friday (opening hours), moved only by the test."""
    yield clock


def _canonical(xml: str) -> str:
    root = ET.fromstring(xml)
    for element in root.iter():
        element.text = element.text.strip() if element.text and element.text.strip() else None
        element.tail = None
    return ET.canonicalize(ET.tostring(root, encoding="unicode"))


def golden(name: str, language: str, twiml: str) -> None:
    path = GOLDEN / language / f"routing_{name}.xml"
    if UPDATE:
        root = ET.fromstring(twiml)
        ET.indent(root)
        text = '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n"
        path.write_text(text, encoding="utf-8")
    assert path.exists(), f"no golden file {path}: run with UPDATE_GOLDEN=1"
    assert _canonical(twiml) == _canonical(path.read_text(encoding="utf-8"))


def caller_of(
    session: Session, client, site: str, language: str, phone: str = PHONE, sid: str = SID
) -> Caller:
    """An employer of `site` ringing the market, in `language` (their texts' language)."""
    market = Market(session)
    session.add(Employer(phone=phone, name="王师傅", site_id=market.site(site).id))
    session.add(Contact(phone=phone, language=language))
    session.commit()
    return Caller(client, phone=phone, sid=sid)


def to_agent(caller: Caller) -> str:
    caller.dial()
    return caller.press("0")


def hold(caller: Caller, queue_time: int = 5, enqueue: str | None = None) -> str:
    """The waitUrl request Twilio makes while the caller waits (the last <Enqueue>'s, or `enqueue`)."""
    url = enqueue or caller.root.find("Enqueue").get("waitUrl", "")  # type: ignore[union-attr]
    return caller._post(url, caller.params(QueuePosition="1", QueueTime=str(queue_time)))


def press_in_hold(caller: Caller, digits: str) -> str:
    gather = caller.root.find("Gather")
    assert gather is not None, caller.twiml
    return caller._post(gather.get("action", ""), caller.params(Digits=digits))


def the_call(session: Session) -> Call:
    session.expire_all()
    return session.scalars(select(Call).where(Call.call_sid == SID)).one()


def waits(session: Session) -> list[QueuedCall]:
    session.expire_all()
    return list(session.scalars(select(QueuedCall).where(QueuedCall.call_sid == SID).order_by(QueuedCall.id)))


def tickets(session: Session) -> list[Ticket]:
    session.expire_all()
    return list(session.scalars(select(Ticket).where(Ticket.call_sid == SID).order_by(Ticket.id)))


def available(session: Session, site: str, at) -> Agent:
    agent = agent_at(session, Market(session), site, available_at=at)
    session.commit()
    return agent


LANGUAGES = pytest.mark.parametrize("language", ["zh", "en"])


@LANGUAGES
def test_an_agent_available_at_the_callers_site_queues_them_there(
    client, session, seeded, frozen, language
) -> None:
    """A town's employer, an agent of that town available, another caller of the town waiting longer:
    queued at the town's queue, second in line, with the call-back key offered."""
    now = OPEN_HOURS_NOW
    available(session, "LZ-TX", now)
    waiting_at(session, Market(session), "LZ-TX", now - timedelta(seconds=30))
    session.commit()
    caller = caller_of(session, client, "LZ-TX", language)
    golden("here", language, to_agent(caller))
    assert caller.root.find("Enqueue").text == "agents-LZ-TX"  # type: ignore[union-attr]
    [wait] = waits(session)
    assert wait.status == WaitStatus.WAITING and wait.queue_name == "agents-LZ-TX"
    [ticket] = tickets(session)
    assert ticket.kind == TicketKind.AGENT_CALL and wait.ticket_id == ticket.id
    golden("here_hold", language, hold(caller))
    assert ("第2位" if language == "zh" else "number 2") in caller.said()


@LANGUAGES
def test_with_an_agent_only_at_the_town_a_village_caller_overflows_to_them(
    client, session, seeded, frozen, language
) -> None:
    """A village's employer, the village's only agent on a call, an agent of its town: the caller waits
    in the village's queue (no redirect), and the town's agent may take them once the overflow wait is
    over."""
    town_agent = available(session, "LZ-TX", OPEN_HOURS_NOW)
    village_agent = available(session, "LZ-TX-WYM", OPEN_HOURS_NOW)
    start_outbound(session, village_agent, phone="+8613700009001", now=OPEN_HOURS_NOW)  # busy: on duty
    session.commit()
    caller = caller_of(session, client, "LZ-TX-WYM", language)
    golden("overflow", language, to_agent(caller))
    assert caller.root.find("Enqueue").text == "agents-LZ-TX-WYM"  # type: ignore[union-attr]
    [wait] = waits(session)
    assert callers_for(session, town_agent, seeded_settings(client), OPEN_HOURS_NOW) == []
    overflow = seeded_settings(client).CALL_OVERFLOW_SECONDS
    frozen.shift(timedelta(seconds=overflow))
    later = OPEN_HOURS_NOW + timedelta(seconds=overflow)
    assert [c.id for c in callers_for(session, town_agent, seeded_settings(client), later)] == [wait.id]
    golden("overflow_hold", language, hold(caller, queue_time=overflow))
    assert ("第1位" if language == "zh" else "number 1") in caller.said()


def test_with_nobody_on_duty_at_the_village_the_towns_agent_takes_the_caller_at_once(
    client, session, seeded, frozen
) -> None:
    """An empty level costs no overflow wait: the town's agent may take a village caller at once."""
    town_agent = available(session, "LZ-TX", OPEN_HOURS_NOW)
    caller = caller_of(session, client, "LZ-TX-WYM", "zh")
    to_agent(caller)
    assert caller.root.find("Enqueue").text == "agents-LZ-TX-WYM"  # type: ignore[union-attr]
    [wait] = waits(session)
    assert [c.id for c in callers_for(session, town_agent, seeded_settings(client), OPEN_HOURS_NOW)] == [
        wait.id
    ]


def seeded_settings(client):
    return client.application.extensions["dispatch.runtime"].settings


@LANGUAGES
def test_with_nobody_available_anywhere_the_caller_chooses_a_call_back_at_once(
    client, session, seeded, frozen, language
) -> None:
    """Agents exist but none is available in the chain (one away at the town, one available at another
    town): no hold; a call-back (1) or a voicemail (2) offered at once, and 1 keeps a call-back ticket."""
    away = agent_at(session, Market(session), "LZ-TX")
    set_presence(session, away, Presence.AWAY, OPEN_HOURS_NOW)
    available(session, "LZ-DJ", OPEN_HOURS_NOW)  # a sibling town's agent never takes this caller
    caller = caller_of(session, client, "LZ-TX", language)
    golden("nobody", language, to_agent(caller))
    assert caller.root.find("Enqueue") is None and caller.root.find("Gather") is not None
    assert waits(session) == []
    [ticket] = tickets(session)
    assert ticket.kind == TicketKind.CALL_BACK and ticket.summary_key == "agent_asked"
    assert ticket.details["nobody_available"] is True
    golden("nobody_call_back", language, caller.press("1"))
    assert caller.root.find("Hangup") is not None
    assert [t.kind for t in tickets(session)] == [TicketKind.CALL_BACK]
    assert the_call(session).outcome == CallOutcome.CALL_BACK


def test_with_every_agent_on_a_call_the_caller_still_waits_in_the_queue(
    client, session, seeded, frozen
) -> None:
    """The town's only agent is on a call: they are on duty and free up in minutes, so the caller is
    queued (and hears their place), not sent to a call-back or a voicemail at once."""
    busy = available(session, "LZ-TX", OPEN_HOURS_NOW)
    start_outbound(session, busy, phone="+8613700007003", now=OPEN_HOURS_NOW)
    session.commit()
    caller = caller_of(session, client, "LZ-TX", "zh")
    twiml = to_agent(caller)
    assert "<Enqueue" in twiml and caller.root.find("Enqueue").text == "agents-LZ-TX"  # type: ignore[union-attr]
    [wait] = waits(session)
    assert wait.site_id == Market(session).site("LZ-TX").id
    assert all(ticket.kind == TicketKind.AGENT_CALL for ticket in tickets(session))


@pytest.mark.parametrize("choice", ["2", "silence"])
def test_with_nobody_available_a_voicemail_is_the_other_choice_and_the_default(
    client, session, seeded, frozen, choice
) -> None:
    caller = caller_of(session, client, "LZ-TX", "zh")
    to_agent(caller)
    if choice == "silence":
        caller.silence()
    else:
        caller.press(choice)
    golden("nobody_voicemail", "zh", caller.twiml)
    assert caller.root.find("Record") is not None
    [ticket] = tickets(session)  # the call-back ticket became the voicemail's: one ticket per caller
    assert ticket.kind == TicketKind.VOICEMAIL and ticket.summary_key == "agent_asked"
    assert ticket.details["nobody_available"] is True and ticket.details["chose"] == "voicemail"
    assert the_call(session).outcome == CallOutcome.VOICEMAIL


def test_a_wrong_key_at_the_choice_asks_again_then_takes_a_voicemail(client, session, seeded, frozen) -> None:
    caller = caller_of(session, client, "LZ-TX", "zh")
    to_agent(caller)
    caller.press("7")
    assert caller.said().startswith("您按的键不对。") and caller.root.find("Gather") is not None
    caller.press("7")
    assert caller.root.find("Record") is not None


@LANGUAGES
def test_the_call_back_key_in_the_hold_keeps_the_callers_place(
    client, session, seeded, frozen, language
) -> None:
    """Waiting behind another caller, the caller presses 1: they leave the queue, hear they will be
    called back, and their call-back ticket is dated from when they started waiting."""
    available(session, "LZ-TX", OPEN_HOURS_NOW)
    caller = caller_of(session, client, "LZ-TX", language)
    enqueue = to_agent(caller)
    wait_url = caller.root.find("Enqueue").get("waitUrl")  # type: ignore[union-attr]
    # The queue's ticket may be older than this wait (a caller queued again reuses it): dated anew.
    [older] = tickets(session)
    older.created_at = OPEN_HOURS_NOW - timedelta(minutes=5)
    session.commit()
    frozen.shift(timedelta(seconds=40))
    hold(caller, queue_time=40)
    golden("call_back_key", language, press_in_hold(caller, "1"))
    assert caller.root.find("Leave") is not None
    [wait] = waits(session)
    assert wait.status == WaitStatus.CALL_BACK and wait.left_at is not None
    [ticket] = tickets(session)
    assert ticket.kind == TicketKind.CALL_BACK and ticket.created_at == wait.queued_at == OPEN_HOURS_NOW
    assert ticket.summary_key == "agent_asked"  # why they wanted a person stays what the agent reads
    assert ticket.details["chose"] == "call_back" and ticket.details["waited_seconds"] == 40
    # The press delivered twice (a retried webhook): leaves again, changes nothing.
    caller.twiml = hold_twiml = caller.history[-2]
    assert "Gather" in hold_twiml and "<Leave" in press_in_hold(caller, "1")
    caller.twiml = enqueue
    golden("call_back_done", language, caller.leave_queue("leave"))
    assert caller.root.find("Hangup") is not None and caller.root.find("Record") is None
    assert [t.kind for t in tickets(session)] == [TicketKind.CALL_BACK]
    assert waits(session)[0].status == WaitStatus.CALL_BACK
    assert wait_url.endswith("/ivr/step/hold")  # type: ignore[union-attr]


def test_call_backs_are_listed_in_the_order_the_callers_queued(client, session, seeded, frozen) -> None:
    """Two callers press 1: the one who queued first is first on the call-back list, whoever pressed
    first; both tickets have the same priority."""
    available(session, "LZ-TX", OPEN_HOURS_NOW)
    first = caller_of(session, client, "LZ-TX", "zh")
    first_enqueue = to_agent(first)
    frozen.shift(timedelta(seconds=10))
    second = caller_of(session, client, "LZ-TX", "zh", phone="+8613700137067", sid="CA" + "7" * 32)
    to_agent(second)
    frozen.shift(timedelta(seconds=10))
    hold(second)
    press_in_hold(second, "1")
    hold(first, enqueue=ET.fromstring(first_enqueue).find("Enqueue").get("waitUrl"))  # type: ignore[union-attr]
    press_in_hold(first, "1")
    session.expire_all()
    call_backs = list(
        session.scalars(
            select(Ticket)
            .where(Ticket.kind == TicketKind.CALL_BACK)
            .order_by(Ticket.priority, Ticket.created_at, Ticket.id)
        )
    )
    assert [t.call_sid for t in call_backs] == [first.sid, second.sid]
    assert call_backs[0].priority == call_backs[1].priority


@LANGUAGES
def test_when_every_agent_goes_away_the_hold_offers_a_call_back_or_a_voicemail(
    client, session, seeded, frozen, language
) -> None:
    agent = available(session, "LZ-TX", OPEN_HOURS_NOW)
    caller = caller_of(session, client, "LZ-TX", language)
    enqueue = to_agent(caller)
    set_presence(session, agent, Presence.AWAY, OPEN_HOURS_NOW)
    session.commit()
    golden("hold_nobody_left", language, hold(caller, queue_time=25))
    golden("hold_voicemail_key", language, press_in_hold(caller, "2"))
    assert caller.root.find("Leave") is not None
    caller.twiml = enqueue
    golden("hold_voicemail", language, caller.leave_queue("leave"))
    assert caller.root.find("Record") is not None
    [wait] = waits(session)
    assert wait.status == WaitStatus.VOICEMAIL
    [ticket] = tickets(session)
    assert ticket.kind == TicketKind.VOICEMAIL and ticket.summary_key == "agent_asked"
    assert ticket.details["chose"] == "voicemail" and ticket.details["queue_result"] == "leave"


def test_the_voicemail_key_is_no_choice_while_agents_are_there(client, session, seeded, frozen) -> None:
    available(session, "LZ-TX", OPEN_HOURS_NOW)
    caller = caller_of(session, client, "LZ-TX", "zh")
    to_agent(caller)
    hold(caller)
    press_in_hold(caller, "2")
    assert caller.root.find("Leave") is None and caller.said() == "您按的键不对。"
    assert caller.root.find("Redirect").text.endswith("/ivr/step/hold")  # type: ignore[union-attr]
    assert waits(session)[0].status == WaitStatus.WAITING


def test_a_caller_an_agent_is_connecting_hears_so_and_keeps_waiting(client, session, seeded, frozen) -> None:
    from dispatch.callcenter.calls import answer_next

    agent = available(session, "LZ-TX", OPEN_HOURS_NOW)
    caller = caller_of(session, client, "LZ-TX", "zh")
    to_agent(caller)
    assert answer_next(session, agent, seeded_settings(client), OPEN_HOURS_NOW) is not None
    session.commit()
    xml = hold(caller)
    assert "工作人员马上为您接通" in xml and "<Gather" not in xml and "<Leave" not in xml
    assert waits(session)[0].status == WaitStatus.ANSWERED


@pytest.mark.parametrize(
    ("result", "status"),
    [
        ("hangup", WaitStatus.ABANDONED),
        ("bridged", WaitStatus.ANSWERED),
        ("queue-full", WaitStatus.VOICEMAIL),
        ("system-error", WaitStatus.VOICEMAIL),
        ("leave", WaitStatus.VOICEMAIL),
    ],
)
def test_the_queue_result_ends_the_wait_with_its_status(
    client, session, seeded, frozen, result, status
) -> None:
    available(session, "LZ-TX", OPEN_HOURS_NOW)
    caller = caller_of(session, client, "LZ-TX", "zh")
    to_agent(caller)
    caller.leave_queue(result)
    [wait] = waits(session)
    assert wait.status == status and wait.left_at is not None
    assert (caller.root.find("Record") is not None) == (status == WaitStatus.VOICEMAIL)


@LANGUAGES
def test_after_the_hold_limit_the_caller_still_leaves_for_a_voicemail(
    client, session, seeded, frozen, language
) -> None:
    available(session, "LZ-TX", OPEN_HOURS_NOW)
    caller = caller_of(session, client, "LZ-TX", language)
    enqueue = to_agent(caller)
    assert hold(caller, queue_time=180).count("<Leave") == 1
    caller.twiml = enqueue
    caller.leave_queue("leave")
    assert caller.root.find("Record") is not None
    assert waits(session)[0].status == WaitStatus.VOICEMAIL


@pytest.fixture
def closed(clock) -> None:
    clock.move_to(CLOSED_NOW)


@LANGUAGES
def test_outside_opening_hours_a_voicemail_as_before_even_with_an_agent_available(
    client, session, seeded, closed, language
) -> None:
    available(session, "LZ-TX", CLOSED_NOW)
    caller = caller_of(session, client, "LZ-TX", language)
    golden("closed", language, to_agent(caller))
    assert caller.root.find("Record") is not None and waits(session) == []


def test_the_hold_of_an_unknown_call_is_the_plain_hold(client, session, seeded, frozen) -> None:
    params = {"CallSid": "CA" + "9" * 32, "QueueTime": "5", "From": PHONE}
    response = post_signed(client, "https://dispatch.example.org/lz/ivr/step/hold", params)
    assert response.status_code == 200 and "<Pause" in response.get_data(as_text=True)


def test_the_hold_limit_counts_from_our_own_clock_when_twilio_does_not_say(
    client, session, seeded, frozen
) -> None:
    """A hold request without QueueTime (after a <Redirect>) still ends the wait after the limit."""
    available(session, "LZ-TX", OPEN_HOURS_NOW)
    caller = caller_of(session, client, "LZ-TX", "zh")
    to_agent(caller)
    wait_url = caller.root.find("Enqueue").get("waitUrl", "")  # type: ignore[union-attr]
    frozen.shift(timedelta(seconds=179))
    assert "<Leave" not in caller._post(wait_url, caller.params())
    frozen.shift(timedelta(seconds=1))
    assert "<Leave" in caller._post(wait_url, caller.params())


WAIT_URL_VERBS = {"Say", "Play", "Pause", "Hangup", "Redirect", "Leave", "Gather"}  # Twilio's <Enqueue> docs


def test_every_hold_answer_uses_only_verbs_a_wait_url_may(client, session, seeded, frozen) -> None:
    agent = available(session, "LZ-TX", OPEN_HOURS_NOW)
    caller = caller_of(session, client, "LZ-TX", "zh")
    wait_url = ET.fromstring(to_agent(caller)).find("Enqueue").get("waitUrl")  # type: ignore[union-attr]
    answers = [hold(caller, enqueue=wait_url), press_in_hold(caller, "9")]
    answers += [hold(caller, enqueue=wait_url), press_in_hold(caller, "2")]
    set_presence(session, agent, Presence.AWAY, OPEN_HOURS_NOW)
    session.commit()
    answers += [hold(caller, enqueue=wait_url), press_in_hold(caller, "1")]
    answers += [hold(caller, enqueue=wait_url), hold(caller, queue_time=999, enqueue=wait_url)]
    for xml in answers:
        root = ET.fromstring(xml)
        assert {child.tag for child in root} <= WAIT_URL_VERBS, xml
        for gather in root.iter("Gather"):
            assert {child.tag for child in gather} <= {"Say", "Play", "Pause"}, xml


def test_a_caller_who_hangs_up_while_choosing_is_called_back(client, session, seeded, frozen) -> None:
    caller = caller_of(session, client, "LZ-TX", "zh")
    to_agent(caller)
    caller.hang_up()
    [ticket] = tickets(session)
    assert ticket.kind == TicketKind.CALL_BACK and ticket.status == "open"
    assert the_call(session).outcome == CallOutcome.CALL_BACK
