"""Who is signed in: the agent behind the session cookie, sign-in throttling, and the page decorator.

Every console page goes through `agent_page`: it sends a visitor without a session to the sign-in
page, loads the agent, checks the role, and runs the view in one transaction (committed when the view
returns, rolled back if it raises).

The cookie (signed by Flask with SECRET_KEY) carries only a random token; the session itself is an
`agent_session` row holding the token's SHA-256. Signing out, a password change or disabling the agent
ends the row, and with it every copy of the cookie: one re-signed with a known SECRET_KEY too, since the
signature is not what lets it in.
"""

from __future__ import annotations

import hashlib
import logging
import secrets
from collections.abc import Callable
from datetime import datetime, timedelta
from functools import wraps
from typing import Any

from flask import abort, current_app, g, redirect, request, session, url_for
from redis.exceptions import RedisError
from sqlalchemy import delete, func, select, update
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session, object_session

from dispatch.callcenter import presence
from dispatch.clock import utcnow
from dispatch.console.passwords import check_password
from dispatch.db import Database
from dispatch.models import Agent, AgentRole
from dispatch.models.console import AgentSession

log = logging.getLogger(__name__)

SESSION_LIFETIME = timedelta(hours=12)  # one working day from sign-in; then sign in again
LAST_SEEN_EVERY = timedelta(minutes=1)  # pages write last_seen_at at most this often
KEEP_SESSIONS = timedelta(days=30)  # an agent's older session rows are deleted at their next sign-in
FAILURES_PER_USERNAME = 5  # wrong passwords for one username ...
FAILURES_PER_ADDRESS = 30  # ... or from one address ...
FAILURE_WINDOW_S = 15 * 60  # ... within 15 minutes lock sign-in for the rest of the window
# Behind a proxy the address is the proxy's unless TRUSTED_PROXIES lets ProxyFix read X-Forwarded-For.


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8", "surrogatepass")).hexdigest()


def open_session(db: Session, agent: Agent, address: str = "") -> str:
    """Sign `agent` in: a new session row; returns the token for the cookie (only its hash is stored)."""
    now = utcnow()
    db.execute(
        delete(AgentSession).where(
            AgentSession.agent_id == agent.id, AgentSession.created_at < now - KEEP_SESSIONS
        )
    )
    token = secrets.token_urlsafe(32)
    db.add(
        AgentSession(
            agent_id=agent.id,
            token_hash=token_hash(token),
            created_at=now,
            last_seen_at=now,
            address=address[:64],
        )
    )
    agent.last_sign_in_at = now
    db.flush()
    return token


def find_session(db: Session, token: str) -> AgentSession | None:
    """The open session of an active agent that `token` belongs to (one indexed lookup), else None."""
    found = db.execute(
        select(AgentSession, Agent)
        .join(Agent, Agent.id == AgentSession.agent_id)
        .where(AgentSession.token_hash == token_hash(token))
    ).first()
    if found is None:
        return None
    agent_session, agent = found
    if agent_session.ended_at is not None or not agent.active:
        return None
    if utcnow() - agent_session.created_at >= SESSION_LIFETIME:
        return None
    return agent_session


def note_seen(database: Database, session_id: int, last_seen_at: datetime) -> None:
    """Write last_seen_at, at most once a minute, in a transaction of its own: a page's transaction would
    hold the row's lock while it runs, and the queue's poll of the same session would wait on it."""
    now = utcnow()
    if now - last_seen_at < LAST_SEEN_EVERY:
        return
    try:
        with database.transaction() as db:
            db.execute(
                update(AgentSession)
                .where(AgentSession.id == session_id, AgentSession.last_seen_at <= now - LAST_SEEN_EVERY)
                .values(last_seen_at=now)
                .execution_options(synchronize_session=False)
            )
    except SQLAlchemyError as exc:  # only a record: never worth failing the page for
        log.warning("could not note the session seen: %s", type(exc).__name__)


def end_agent_sessions(db: Session, agent: Agent) -> int:
    """End every open session of `agent` (password changed, agent disabled); returns how many."""
    result = db.execute(
        update(AgentSession)
        .where(AgentSession.agent_id == agent.id, AgentSession.ended_at.is_(None))
        .values(ended_at=utcnow())
        .execution_options(synchronize_session="fetch")
    )
    presence.sign_out(db, agent, utcnow())  # no session left: offered no caller
    return int(getattr(result, "rowcount", 0) or 0)


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


def authenticate(db: Session, username: str, password: str, production: bool = False) -> Agent | None:
    # Locked: a password change or disable being committed meanwhile is waited for and then seen, so a
    # session is never opened with the old password after the change ended all the others.
    agent = db.scalar(
        select(Agent).where(func.lower(Agent.username) == username.strip().lower()).with_for_update()
    )
    if not check_password(agent.password_hash if agent else None, password):
        return None
    if agent is None or not agent.active:
        return None
    if production and _is_demo_sign_in(agent.username, password):
        log.warning("sign-in refused: the demo agent or its published password is never used in production")
        return None
    return agent


def _is_demo_sign_in(username: str, password: str) -> bool:
    from dispatch import demo  # demo imports the console's agents module: not at import time

    # Its username and password are printed by `dispatch demo` and in the README: public.
    return username.lower() == demo.AGENT_USERNAME or password == demo.AGENT_PASSWORD


def start_session(db: Session, agent: Agent) -> None:
    """Sign `agent` in: a new session row, and its token in a fresh cookie."""
    language = session.get("lang")
    session.clear()  # a fresh session (and CSRF token) on sign-in: no fixation
    session.permanent = True
    session["token"] = open_session(db, agent, request.remote_addr or "")
    if language:
        session["lang"] = language


def end_session(agent_session: AgentSession) -> None:
    """Sign out: this session's row ends, so every copy of its cookie is worthless; the agent is away
    (offered no caller)."""
    now = utcnow()
    agent_session.ended_at = now
    db = object_session(agent_session)
    if db is not None:
        presence.sign_out(db, agent_session.agent, now)
    session.clear()


def agent_page(*roles: AgentRole) -> Callable:
    """Decorate a console view `view(db, agent, **url_args)`; `roles` limits who may open it."""

    def decorate(view: Callable) -> Callable:
        @wraps(view)
        def wrapped(**kwargs: Any):
            token = session.get("token")
            if not isinstance(token, str) or not token:
                return _to_sign_in()
            runtime = current_app.extensions["dispatch.runtime"]
            with runtime.db.transaction() as db:
                agent_session = find_session(db, token)
                if agent_session is None:
                    session.clear()
                    return _to_sign_in()
                agent = agent_session.agent
                if roles and agent.role not in roles and agent.role != AgentRole.ADMIN:
                    abort(403)
                g.db, g.agent, g.agent_session = db, agent, agent_session
                seen = (agent_session.id, agent_session.last_seen_at)  # the view may expire the row
                response = view(db, agent, **kwargs)
            note_seen(runtime.db, *seen)
            return response

        return wrapped

    return decorate


def _to_sign_in():
    if request.headers.get("HX-Request"):
        # htmx would swap the sign-in page into a fragment; ask it to load the page instead.
        return "", 401, {"HX-Redirect": url_for("console.sign_in")}
    return redirect(url_for("console.sign_in", next=request.full_path if request.method == "GET" else None))


def safe_next(target: str | None) -> str:
    """Only a path inside the console, never another site (an open redirect), nor a header break."""
    if target and target.startswith("/console") and target.isprintable() and "\\" not in target:
        return target
    return url_for("console.tickets.queue")
