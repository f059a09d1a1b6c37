"""The tickets calls leave: on the caller's site (employers included), with what they say kept as data."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import time_machine
from sqlalchemy import select

from dispatch.clock import utcnow
from dispatch.models import Ticket, TicketKind
from tests.callcenter.helpers import agent_at
from tests.factories import Market
from tests.ivr.conftest import CLOSED_NOW, EMPLOYER_PHONE, OPEN_HOURS_NOW, PUBLIC_BASE, Caller


@pytest.fixture
def settings_overrides() -> dict[str, Any]:
    return {"PUBLIC_BASE_URL": PUBLIC_BASE, "OPENING_HOURS": "08:00-18:00"}


@pytest.fixture
def market_open() -> Iterator[None]:
    with time_machine.travel(OPEN_HOURS_NOW, tick=True):
        yield


@pytest.fixture
def agent_on_duty(session, seeded, market_open) -> None:
    """An available agent of the district: callers asking for a person are queued (issue 15)."""
    agent_at(session, Market(session), "LZ", available_at=utcnow())
    session.commit()


@pytest.fixture
def market_closed() -> Iterator[None]:
    with time_machine.travel(CLOSED_NOW, tick=True):
        yield


def test_a_towns_employer_who_hangs_up_at_the_menu_is_called_back_by_the_town(client, session, places):
    employer = places.employer(EMPLOYER_PHONE, "LZ-TX")
    session.commit()
    caller = Caller(client, EMPLOYER_PHONE)
    caller.dial()
    caller.hang_up()
    ticket = session.scalar(select(Ticket).where(Ticket.call_sid == caller.sid))
    assert (ticket.kind, ticket.priority, ticket.summary_key) == (
        TicketKind.CALL_BACK,
        4,
        "call_back_at_menu",
    )
    assert (ticket.site_id, ticket.employer_id) == (places.site("LZ-TX"), employer.id)


def call_tickets(session, caller) -> list[Ticket]:
    return list(session.scalars(select(Ticket).where(Ticket.call_sid == caller.sid).order_by(Ticket.id)))


def test_a_caller_asking_for_an_agent_leaves_the_summary_as_data(
    client, session, seeded, market_open, agent_on_duty
):
    caller = Caller(client)
    caller.dial()
    caller.press("0")
    [ticket] = call_tickets(session, caller)
    assert (ticket.kind, ticket.summary, ticket.summary_key) == (
        TicketKind.AGENT_CALL,
        "caller asked for an agent",
        "agent_asked",
    )
    caller.leave_queue("queue-full")  # the queue failed: a voicemail, whose summary names the ticket
    agent_call, voicemail = call_tickets(session, caller)
    assert (voicemail.kind, voicemail.summary_key) == (TicketKind.VOICEMAIL, "agent_queue_failed")
    assert voicemail.summary_fields == {"queue_result": "queue-full", "ticket": agent_call.id}


def test_outside_opening_hours_the_voicemail_says_why_the_caller_came(client, session, seeded, market_closed):
    caller = Caller(client)
    caller.dial()
    caller.press("0")
    [ticket] = call_tickets(session, caller)
    assert (ticket.kind, ticket.summary_key) == (TicketKind.VOICEMAIL, "agent_asked")


def test_a_hang_up_part_way_records_the_flow_and_the_step(client, session, seeded, market_open):
    caller = Caller(client)
    caller.dial()
    for keys in ["1", "2", "10"]:
        caller.press(keys)
    caller.hang_up()
    [ticket] = call_tickets(session, caller)
    assert (ticket.summary_key, ticket.summary_fields) == (
        "call_back_part_way",
        {"flow": "job", "step": "date"},
    )
    assert ticket.priority == 2


def test_three_wrong_keys_at_a_step_go_to_an_agent_with_the_step_named(
    client, session, seeded, market_open, agent_on_duty
):
    caller = Caller(client)
    caller.dial()
    caller.press("1")
    for _ in range(3):
        caller.press("*")
    [ticket] = call_tickets(session, caller)
    assert ticket.summary_key == "wrong_keys_at_step"
    assert ticket.summary_fields == {"count": 3, "flow": "job", "step": "trade"}
