"""Sessions kept on the server: the cookie carries a random token, the `agent_session` row its hash.

A copied cookie is worthless once its session ends (sign-out, a password change), even re-signed with
the SECRET_KEY, because the row, not the signature, is what lets it in.
"""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from flask.sessions import SecureCookieSessionInterface
from sqlalchemy import event, inspect, select
from sqlalchemy.orm import Session

from dispatch import migrate
from dispatch.console.agents import set_password
from dispatch.console.auth import KEEP_SESSIONS, SESSION_LIFETIME, find_session, open_session
from dispatch.db import make_engine
from dispatch.models import Agent
from dispatch.models.console import AgentSession
from dispatch.seed import seed
from dispatch.settings import PROJECT_ROOT
from tests.console.helpers import console_post, make_agent, sign_in

PAGE = "/console/tickets/"


def cookie_of(client) -> str:
    """The session cookie exactly as the browser holds it (what a thief would copy)."""
    cookie = client.get_cookie("session")
    assert cookie is not None
    return cookie.value


def replay(app, cookie: str):
    """A new browser with a copied cookie."""
    client = app.test_client()
    client.set_cookie("session", cookie)
    return client


def forged(app, **contents) -> str:
    """A cookie signed with the app's SECRET_KEY, as anyone who knows the key could make one."""
    return SecureCookieSessionInterface().get_signing_serializer(app).dumps(contents)


def token_of(app, client) -> str:
    return SecureCookieSessionInterface().get_signing_serializer(app).loads(cookie_of(client))["token"]


def rows(session, agent) -> list[AgentSession]:
    session.expire_all()
    query = select(AgentSession).where(AgentSession.agent_id == agent.id).order_by(AgentSession.id)
    return list(session.scalars(query))


def test_sign_in_opens_a_session_row_that_keeps_only_a_hash_of_the_token(app, client, agent, session):
    sign_in(client, agent.username)
    token = token_of(app, client)
    [row] = rows(session, agent)
    assert len(token) >= 43  # secrets.token_urlsafe(32)
    assert row.token_hash == hashlib.sha256(token.encode()).hexdigest() and token not in row.token_hash
    assert row.ended_at is None and row.address == "127.0.0.1"
    assert row.created_at == row.last_seen_at == session.get(Agent, agent.id).last_sign_in_at
    assert client.get(PAGE).status_code == 200


def test_a_copied_cookie_is_worthless_after_sign_out(app, client, agent, session):
    sign_in(client, agent.username)
    copied = cookie_of(client)
    assert replay(app, copied).get(PAGE).status_code == 200  # a live session's copy works, as it must
    assert console_post(client, "/console/sign-out").status_code == 302
    assert replay(app, copied).get(PAGE).status_code == 302
    [row] = rows(session, agent)
    assert row.ended_at is not None


def test_a_copied_cookie_is_worthless_after_a_password_change(app, agent, session):
    desk, phone = app.test_client(), app.test_client()
    sign_in(desk, agent.username)
    sign_in(phone, agent.username)
    copied = cookie_of(desk)
    set_password(session, agent.username, "another-long-password")
    session.commit()
    for client in (desk, phone, replay(app, copied)):
        assert client.get(PAGE).status_code == 302
    assert all(row.ended_at is not None for row in rows(session, agent))
    sign_in(app.test_client(), agent.username, "another-long-password")


def test_a_cookie_re_signed_with_the_known_secret_key_is_worthless_after_sign_out(app, client, agent):
    sign_in(client, agent.username)
    token = token_of(app, client)
    # Made from scratch with the key: it gets in while the session is open, so the forgery is faithful...
    assert replay(app, forged(app, token=token)).get(PAGE).status_code == 200
    console_post(client, "/console/sign-out")
    # ... and not after: the server-side row refuses it, whatever the signature says.
    assert replay(app, forged(app, token=token, _permanent=True)).get(PAGE).status_code == 302
    # Nor does the old cookie's shape (agent id and a counter stamp), nor a token made up.
    old_shape = forged(app, agent_id=agent.id, stamp=f"{agent.password_hash[-16:]}:1")
    assert replay(app, old_shape).get(PAGE).status_code == 302
    assert replay(app, forged(app, token="made-up-" + "a" * 40)).get(PAGE).status_code == 302
    assert replay(app, forged(app, token=12345)).get(PAGE).status_code == 302


def test_signing_out_ends_only_that_session(app, agent):
    desk, phone = app.test_client(), app.test_client()
    sign_in(desk, agent.username)
    sign_in(phone, agent.username)
    console_post(desk, "/console/sign-out")
    assert desk.get(PAGE).status_code == 302
    assert phone.get(PAGE).status_code == 200


def test_a_session_lasts_a_working_day_from_sign_in_however_busy(app, client, agent):
    start = datetime(2026, 12, 8, 0, 0, tzinfo=UTC)
    with time_machine.travel(start, tick=False) as clock:
        sign_in(client, agent.username)
        for _ in range(11):  # busy all day: the session still ends a working day after sign-in
            clock.shift(timedelta(hours=1))
            assert client.get(PAGE).status_code == 200
        clock.move_to(start + SESSION_LIFETIME - timedelta(seconds=1))
        assert client.get(PAGE).status_code == 200
        clock.move_to(start + SESSION_LIFETIME)
        assert client.get(PAGE).status_code == 302
        sign_in(client, agent.username)
        assert client.get(PAGE).status_code == 200


def test_a_poll_that_crosses_a_form_post_does_not_put_its_older_cookie_back(app, client, agent):
    """The phone bar polls every 5 s. A poll sent before a form's POST and answered after it must not
    set the cookie it was sent with, or the POST's flash ("乙已签到。") never shows (a CI run saw it)."""
    sign_in(client, agent.username)
    assert client.get(PAGE).status_code == 200
    sent_with_the_poll = cookie_of(client)
    with client.session_transaction() as flask_session:  # the POST's answer: a flash in the cookie
        flask_session["_flashes"] = [("success", "乙已签到。")]
    poll = replay(app, sent_with_the_poll).get("/console/phone/state")
    assert poll.status_code == 200
    assert "Set-Cookie" not in poll.headers
    assert "乙已签到。" in client.get(PAGE).get_data(as_text=True)


def test_last_seen_is_written_at_most_once_a_minute(client, agent, session):
    start = datetime(2026, 12, 8, 1, 0, tzinfo=UTC)
    with time_machine.travel(start, tick=False) as clock:
        sign_in(client, agent.username)
        clock.shift(timedelta(seconds=59))
        client.get(PAGE)
        assert rows(session, agent)[0].last_seen_at == start
        clock.shift(timedelta(seconds=1))
        client.get(PAGE)
        assert rows(session, agent)[0].last_seen_at == start + timedelta(minutes=1)


def test_a_page_finds_its_session_with_one_indexed_query(engine, session, agent):
    token = open_session(session, agent)
    session.flush()
    statements: list[str] = []

    def count(_conn, _cursor, statement, *_args) -> None:
        statements.append(statement)

    event.listen(engine, "before_cursor_execute", count)
    try:
        found = find_session(session, token)
    finally:
        event.remove(engine, "before_cursor_execute", count)
    assert found is not None and found.agent.username == agent.username  # the agent came with it
    assert len(statements) == 1 and "token_hash" in statements[0]
    assert {"token_hash"} in [
        set(u["column_names"]) for u in inspect(engine).get_unique_constraints("agent_session")
    ]


def test_an_agents_old_session_rows_go_at_their_next_sign_in(client, agent, session):
    now = datetime.now(UTC)
    for age, suffix in (
        (KEEP_SESSIONS + timedelta(days=1), "old"),
        (KEEP_SESSIONS - timedelta(days=1), "kept"),
    ):
        session.add(
            AgentSession(
                agent_id=agent.id,
                token_hash=hashlib.sha256(suffix.encode()).hexdigest(),
                created_at=now - age,
                last_seen_at=now - age,
                ended_at=now - age,
            )
        )
    other = make_agent(session, "other1", "agent", "LZ")
    old_other = now - KEEP_SESSIONS - timedelta(days=5)
    session.add(
        AgentSession(agent_id=other.id, token_hash="0" * 64, created_at=old_other, last_seen_at=old_other)
    )
    session.commit()
    sign_in(client, agent.username)
    hashes = [row.token_hash for row in rows(session, agent)]
    assert hashlib.sha256(b"old").hexdigest() not in hashes
    assert hashlib.sha256(b"kept").hexdigest() in hashes and len(hashes) == 2
    assert len(rows(session, other)) == 1  # another agent's rows wait for their own sign-in


# -- migration 0008 --------------------------------------------------------------------------------


def test_migration_0008_down_and_up_on_postgresql(engine):
    if engine.dialect.name != "postgresql":
        pytest.skip("this run has no PostgreSQL")
    with engine.connect() as connection:
        outer = connection.begin()  # PostgreSQL's DDL is transactional: all of this is rolled back
        try:
            migrate.downgrade(connection=connection, revision="0007")
            assert "agent_session" not in inspect(connection).get_table_names()
            assert "session_epoch" in {c["name"] for c in inspect(connection).get_columns("agent")}
            migrate.upgrade(connection=connection, revision="0008")
            assert "agent_session" in inspect(connection).get_table_names()
            assert "session_epoch" not in {c["name"] for c in inspect(connection).get_columns("agent")}
            indexes = {index["name"] for index in inspect(connection).get_indexes("agent_session")}
            assert "ix_agent_session_agent_id" in indexes
        finally:
            outer.rollback()


def test_migration_0008_on_a_first_run_sqlite_file_with_agents_and_their_audit_log(tmp_path):
    """The first run's SQLite file (foreign keys on) has agents that audit rows refer to: the column goes
    in place, without copying (and so dropping) the agent table."""
    url = f"sqlite:///{tmp_path / 'm.sqlite3'}"
    migrate.upgrade(url, revision="0007")
    sqlite = make_engine(url)
    with sqlite.begin() as connection:
        with Session(bind=connection) as session:
            seed(session, PROJECT_ROOT / "config")
            session.flush()
        connection.exec_driver_sql(
            "INSERT INTO agent (username, display_name, password_hash, role, site_id, language, active,"
            " created_at, session_epoch) VALUES ('wang', 'wang', 'h', 'agent', 1, 'zh', 1, '2026-12-08', 3)"
        )
        connection.exec_driver_sql(
            "INSERT INTO audit_event (agent_id, action, target_type, details, remote_addr, note, created_at)"
            " VALUES (1, 'agent.sign_in', 'agent', '{}', '', '', '2026-12-08')"
        )
    migrate.upgrade(url, revision="0008")
    with sqlite.begin() as connection:
        assert "session_epoch" not in {c["name"] for c in inspect(connection).get_columns("agent")}
        assert connection.exec_driver_sql("SELECT agent_id FROM audit_event").all() == [(1,)]
        connection.exec_driver_sql(
            "INSERT INTO agent_session (agent_id, token_hash, created_at, last_seen_at, address)"
            " VALUES (1, 'h', '2026-12-08', '2026-12-08', '')"
        )
    migrate.downgrade(url, revision="0007")
    with sqlite.connect() as connection:
        assert "agent_session" not in inspect(connection).get_table_names()
        assert connection.exec_driver_sql("SELECT username, session_epoch FROM agent").all() == [("wang", 0)]
        assert connection.exec_driver_sql("PRAGMA foreign_key_check").all() == []
    migrate.upgrade(url)
    sqlite.dispose()
