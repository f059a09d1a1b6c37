"""Console test helpers: agents, signing in through the real form, posting with the CSRF token."""

from __future__ import annotations

from typing import Any

from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from dispatch.console.agents import create_agent
from dispatch.models import Agent

PASSWORD = "correct-horse-battery"


def make_agent(
    session: Session, username: str = "agent1", role: str = "agent", site: str = "LZ", language: str = "zh"
) -> Agent:
    """An agent at a site of config/sites.toml (LZ is the district; LZ-DJ, LZ-XJ ... are towns)."""
    agent = create_agent(session, username, PASSWORD, role, site, language=language)
    session.commit()  # inside the test's outer transaction: visible to the app's requests
    return agent


def csrf_token(client: FlaskClient) -> str:
    """The session's CSRF token (a GET of any console page creates it)."""
    with client.session_transaction() as flask_session:
        token = flask_session.get("_csrf")
    if not token:
        client.get("/console/sign-in")
        with client.session_transaction() as flask_session:
            token = flask_session["_csrf"]
    return token


def sign_in(client: FlaskClient, username: str = "agent1", password: str = PASSWORD):
    response = client.post(
        "/console/sign-in",
        data={"username": username, "password": password, "csrf_token": csrf_token(client)},
    )
    assert response.status_code == 302, response.get_data(as_text=True)
    return response


def console_post(client: FlaskClient, path: str, data: dict[str, Any] | None = None, **kw: Any):
    """POST a console form as the browser would, with the page's CSRF token."""
    return client.post(path, data={**(data or {}), "csrf_token": csrf_token(client)}, **kw)
