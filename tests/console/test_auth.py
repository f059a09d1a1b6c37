"""Sign-in, sessions, CSRF, throttling, roles, and which sites an agent may see."""

from __future__ import annotations

from sqlalchemy import select

from dispatch.console.access import may_see, visible_site_ids
from dispatch.console.auth import FAILURES_PER_USERNAME
from dispatch.models import AuditEvent, Site
from tests.console.helpers import PASSWORD, console_post, csrf_token, make_agent, sign_in


def test_pages_send_a_visitor_without_a_session_to_sign_in(client, seeded):
    for path in ("/console/tickets/", "/console/intake/job", "/console/people/search", "/console/jobs/"):
        response = client.get(path)
        assert response.status_code == 302
        assert response.headers["Location"].startswith("/console/sign-in?next=")


def test_sign_in_opens_the_queue_and_writes_the_audit_log(client, agent, session):
    response = sign_in(client, agent.username)
    assert response.headers["Location"] == "/console/tickets/"
    assert client.get("/console/tickets/").status_code == 200
    actions = session.scalars(select(AuditEvent.action).where(AuditEvent.agent_id == agent.id)).all()
    assert actions == ["agent.sign_in"]


def test_sign_in_returns_to_the_page_asked_for_but_never_to_another_site(client, agent):
    token = csrf_token(client)
    form = {"username": agent.username, "password": PASSWORD, "csrf_token": token}
    response = client.post("/console/sign-in", data={**form, "next": "/console/jobs/"})
    assert response.headers["Location"] == "/console/jobs/"
    client.post("/console/sign-out", data={"csrf_token": csrf_token(client)})
    response = client.post(
        "/console/sign-in", data={**form, "csrf_token": csrf_token(client), "next": "//evil.example/"}
    )
    assert response.headers["Location"] == "/console/tickets/"


def test_wrong_password_is_refused_and_sign_in_is_throttled(client, agent):
    for _ in range(FAILURES_PER_USERNAME):
        response = console_post(
            client, "/console/sign-in", {"username": agent.username, "password": "nope-nope"}
        )
        assert response.status_code == 401
        assert "用户名或密码不对" in response.get_data(as_text=True)
    # Locked now, even with the right password.
    response = console_post(client, "/console/sign-in", {"username": agent.username, "password": PASSWORD})
    assert response.status_code == 429
    assert "15分钟" in response.get_data(as_text=True)


def test_unknown_username_is_refused_like_a_wrong_password(client, seeded):
    response = console_post(client, "/console/sign-in", {"username": "nobody", "password": PASSWORD})
    assert response.status_code == 401


def test_a_post_without_the_csrf_token_is_refused(client, agent):
    sign_in(client, agent.username)
    response = client.post("/console/sign-out")
    assert response.status_code == 400
    assert "CSRF" in response.get_data(as_text=True)
    assert client.get("/console/tickets/").status_code == 200  # still signed in: nothing changed
    response = client.post("/console/sign-out", data={"csrf_token": "forged"})
    assert response.status_code == 400


def test_sign_in_itself_needs_the_csrf_token(client, agent):
    response = client.post("/console/sign-in", data={"username": agent.username, "password": PASSWORD})
    assert response.status_code == 400


def test_sign_out_ends_the_session(client, agent):
    sign_in(client, agent.username)
    assert console_post(client, "/console/sign-out").status_code == 302
    assert client.get("/console/tickets/").status_code == 302


def test_a_password_change_ends_other_sessions(client, agent, session):
    from dispatch.console.agents import set_password

    sign_in(client, agent.username)
    set_password(session, agent.username, "another-long-password")
    session.commit()
    assert client.get("/console/tickets/").status_code == 302


def test_session_cookie_is_http_only_and_same_site(client, agent):
    response = sign_in(client, agent.username)
    cookie = response.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie


def test_language_switch(client, agent):
    assert "坐席登录" in client.get("/console/sign-in").get_data(as_text=True)
    response = console_post(client, "/console/language", {"lang": "en", "next": "/console/sign-in"})
    assert response.headers["Location"] == "/console/sign-in"
    assert "Agent sign-in" in client.get("/console/sign-in").get_data(as_text=True)
    sign_in(client, agent.username)  # the choice survives signing in
    console_post(client, "/console/language", {"lang": "zh"})
    assert "坐席登录" in client.get("/console/sign-in").get_data(as_text=True)


def test_a_town_agent_sees_its_town_and_villages_only(session, seeded):
    town = make_agent(session, "town1", "agent", "LZ-TX")
    district = make_agent(session, "district9", "supervisor", "LZ")
    admin = make_agent(session, "admin1", "admin", "LZ-TX")
    sites = {site.code: site for site in session.scalars(select(Site))}
    visible = visible_site_ids(session, town)
    assert sites["LZ-TX"].id in visible
    assert all(
        site.parent_id == sites["LZ-TX"].id
        for site in sites.values()
        if site.id in visible - {sites["LZ-TX"].id}
    )
    assert sites["LZ-DJ"].id not in visible and sites["LZ"].id not in visible
    assert len(visible_site_ids(session, district)) == len(sites)
    assert visible_site_ids(session, admin) is None
    assert not may_see(session, town, None)  # an unplaced ticket belongs to the district
    assert may_see(session, district, None)
