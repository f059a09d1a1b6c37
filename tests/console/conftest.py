"""Console fixtures: a seeded database, an agent of the district market, a client signed in as them."""

from __future__ import annotations

import pytest
from flask.testing import FlaskClient

from tests.console.helpers import make_agent, sign_in


def signed_in(app, agent) -> FlaskClient:
    """A client of the app signed in as `agent` through the real sign-in form."""
    client = app.test_client()
    sign_in(client, agent.username)
    return client


@pytest.fixture
def agent(seeded, session):
    return make_agent(session, "district1", "agent", "LZ")


@pytest.fixture
def agent_client(app, agent):
    return signed_in(app, agent)
