"""Intake fixtures: the seeded sites and trades by code, a town agent, tickets a call left behind."""

from __future__ import annotations

import itertools
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from dispatch.models import Call, Site, Ticket, TicketKind, Trade
from dispatch.tickets.services import open_ticket
from tests.console.conftest import signed_in
from tests.console.helpers import make_agent

EMPLOYER_PHONE = "+8613700137000"
WORKER_PHONE = "+8613900139001"


class Catalogue:
    """Seeded site and trade ids by code."""

    def __init__(self, session: Session) -> None:
        self.sites = {site.code: site for site in session.scalars(select(Site))}
        self.trades = {trade.code: trade for trade in session.scalars(select(Trade))}

    def site(self, code: str) -> int:
        return self.sites[code].id

    def trade(self, code: str) -> int:
        return self.trades[code].id


@pytest.fixture
def catalogue(session, seeded) -> Catalogue:
    return Catalogue(session)


@pytest.fixture
def town_agent(session, seeded):
    return make_agent(session, "t1", "agent", "LZ-TX")


@pytest.fixture
def town_client(app, town_agent):
    return signed_in(app, town_agent)


_sids = itertools.count(1)


def make_ticket(
    session: Session,
    kind: TicketKind = TicketKind.CALL_BACK,
    flow: str = "job",
    answers: dict[str, Any] | None = None,
    phone: str = EMPLOYER_PHONE,
    language: str = "zh",
    **details: Any,
) -> Ticket:
    """The ticket a call leaves, made by the one constructor the IVR uses, open_ticket (committed:
    the app's requests see it). Its site is the one the caller keyed, if any."""
    call = Call(
        call_sid=f"CA{next(_sids):032x}",
        phone=phone,
        flow=flow,
        step="pay",
        language=language,
        answers=answers or {},
    )
    session.add(call)
    session.flush()
    ticket = open_ticket(session, kind, call=call, text="hung up during job at pay", details=details)
    session.commit()
    return ticket
