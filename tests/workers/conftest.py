"""Workers fixtures: the seeded trades and sites by code, and the console's and the IVR's own fixtures
for the tests that register through those channels."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from dispatch.models import Site, Trade
from tests.console.conftest import agent, agent_client  # noqa: F401  (fixtures)
from tests.ivr.conftest import market_open  # noqa: F401  (a fixture)


class Catalogue:
    """Seeded site and trade ids by code."""

    def __init__(self, session) -> None:
        self.sites = {site.code: site.id for site in session.scalars(select(Site))}
        self.trades = {trade.code: trade.id for trade in session.scalars(select(Trade))}

    def site(self, code: str) -> int:
        return self.sites[code]

    def trade(self, code: str) -> int:
        return self.trades[code]


@pytest.fixture
def catalogue(session, seeded) -> Catalogue:
    return Catalogue(session)
