"""Who is signed in: the agent behind the session cookie, sign-in throttling, and the page decorator.

Every console page goes through `agent_page`: it sends a visitor without a session to the sign-in
page, loads the agent, checks the role, and runs the view in one transaction (committed when the view
returns, rolled back if it raises).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import timedelta
from functools import wraps
from typing import Any

from flask import abort, current_app, g, redirect, request, session, url_for
from redis.exceptions import RedisError
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from dispatch.clock import utcnow
from dispatch.console.passwords import check_password
from dispatch.models import Agent, AgentRole

log = logging.getLogger(__name__)

SESSION_LIFETIME = timedelta(hours=12)  # one working day; then sign in again
FAILURES_PER_USERNAME = 5  # wrong passwords for one username ...
FAILURES_PER_ADDRESS = 30  # ... or from one address ...
FAILURE_WINDOW_S = 15 * 60  # ... within 15 minutes lock sign-in for the rest of the window
# Behind a proxy the address is the proxy's unless TRUSTED_PROXIES lets ProxyFix read X-Forwarded-For.


def _session_stamp(agent: Agent) -> str:
    # Changes when the password changes or the agent signs out, which ends every session of theirs
    # (Flask keeps the session in the cookie: without this a copied cookie would outlive sign-out).
    return f"{agent.password_hash[-16:]}:{agent.session_epoch}"


def end_sessions(agent: Agent) -> None:
    agent.session_epoch += 1


def _failure_keys(username: str) -> list[tuple[str, int]]:
    return [
        (f"console:sign-in:user:{username.lower()}", FAILURES_PER_USERNAME),
        (f"console:sign-in:addr:{request.remote_addr or '-'}", FAILURES_PER_ADDRESS),
    ]


def take_sign_in_attempt(username: str) -> bool:
    """Count this attempt before the password is checked (so parallel guesses cannot all slip under
    the limit) and say whether it may go ahead. A success gives its attempts back (`sign_in_succeeded`)."""
    redis = current_app.extensions["dispatch.runtime"].redis
    keys = _failure_keys(username)
    try:
        pipe = redis.pipeline()
        for key, _ in keys:
            pipe.incr(key)
            pipe.expire(key, FAILURE_WINDOW_S, nx=True)
        counts = pipe.execute()[::2]
    except RedisError as exc:  # the console stays usable without Redis; throttling waits for it
        log.warning("sign-in throttle unavailable: %s", exc)
        return True
    return all(count <= limit for count, (_, limit) in zip(counts, keys, strict=True))


def sign_in_succeeded(username: str) -> None:
    """Forget the username's failures, and don't hold a good sign-in against a shared address
    (a call center's agents all sign in from one address at 08:00)."""
    redis = current_app.extensions["dispatch.runtime"].redis
    (user_key, _), (address_key, _) = _failure_keys(username)
    try:
        redis.pipeline().delete(user_key).decr(address_key).execute()
    except RedisError as exc:
        log.warning("sign-in throttle unavailable: %s", exc)


def authenticate(db: Session, username: str, password: str) -> Agent | None:
    agent = db.scalar(select(Agent).where(func.lower(Agent.username) == username.strip().lower()))
    if not check_password(agent.password_hash if agent else None, password):
        return None
    if agent is None or not agent.active:
        return None
    return agent


def start_session(agent: Agent) -> None:
    language = session.get("lang")
    session.clear()  # a fresh session (and CSRF token) on sign-in: no fixation
    session.permanent = True
    session["agent_id"] = agent.id
    session["stamp"] = _session_stamp(agent)
    if language:
        session["lang"] = language
    agent.last_sign_in_at = utcnow()


def agent_page(*roles: AgentRole) -> Callable:
    """Decorate a console view `view(db, agent, **url_args)`; `roles` limits who may open it."""

    def decorate(view: Callable) -> Callable:
        @wraps(view)
        def wrapped(**kwargs: Any):
            agent_id = session.get("agent_id")
            if not agent_id:
                return _to_sign_in()
            runtime = current_app.extensions["dispatch.runtime"]
            with runtime.db.transaction() as db:
                agent = db.get(Agent, agent_id)
                if agent is None or not agent.active or session.get("stamp") != _session_stamp(agent):
                    session.clear()
                    return _to_sign_in()
                if roles and agent.role not in roles and agent.role != AgentRole.ADMIN:
                    abort(403)
                g.db, g.agent = db, agent
                return view(db, agent, **kwargs)

        return wrapped

    return decorate


def _to_sign_in():
    if request.headers.get("HX-Request"):
        # htmx would swap the sign-in page into a fragment; ask it to load the page instead.
        return "", 401, {"HX-Redirect": url_for("console.sign_in")}
    return redirect(url_for("console.sign_in", next=request.full_path if request.method == "GET" else None))


def safe_next(target: str | None) -> str:
    """Only a path inside the console, never another site (an open redirect)."""
    if target and target.startswith("/console") and not target.startswith("//"):
        return target
    return url_for("console.tickets.queue")
