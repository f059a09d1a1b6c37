"""The softphone's calls from the console: answer next, click-to-call (the number found on the server),
the screen pop (only the agent on the call, or a supervisor of its site), the wrap-up on a ticket
(audited), the end told by the offline softphone, and the call-back list in queue order."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from dispatch.callcenter import calls
from dispatch.callcenter.presence import set_presence
from dispatch.callcenter.routing import queue_caller
from dispatch.models import (
    AgentCall,
    AgentPresence,
    AuditEvent,
    CallDirection,
    Presence,
    QueuedCall,
    Ticket,
    TicketKind,
    TicketStatus,
    WaitStatus,
)
from dispatch.tickets.services import open_ticket
from tests.callcenter.helpers import a_call
from tests.console.conftest import signed_in
from tests.console.helpers import console_post, make_agent
from tests.factories import NOW

JSON = {"Accept": "application/json"}


@pytest.fixture(autouse=True)
def _clock(clock):
    return clock


@pytest.fixture
def available(session, agent):
    set_presence(session, agent, Presence.AVAILABLE, NOW)
    session.commit()
    return agent


def _presence(session, agent) -> Presence:
    session.expire_all()
    row = session.get(AgentPresence, agent.id)
    assert row is not None
    return row.status


def _actions(session, agent) -> list[str]:
    query = select(AuditEvent.action).where(AuditEvent.agent_id == agent.id).order_by(AuditEvent.id)
    return [action for action in session.scalars(query) if action.startswith(("call.", "phone."))]


def _caller(session, market, *, phone="+8613700002222", waited=30, worker=None, job=None, answers=None):
    """A caller of the district who pressed 0 `waited` seconds ago, with their agent_call ticket."""
    call = a_call(session, phone=phone, site=market.site("LZ").id, worker_id=worker.id if worker else None)
    if job is not None:
        call.job_id = job.id
    call.answers = {**call.answers, **(answers or {})}
    ticket = open_ticket(session, TicketKind.AGENT_CALL, call=call)
    queued = queue_caller(session, call, ticket, NOW - timedelta(seconds=waited))
    session.commit()
    return queued


# -- answer next -----------------------------------------------------------------------------------


def test_answer_next_takes_the_longest_waiting_caller(agent_client, session, available, market):
    newer = _caller(session, market, phone="+8613700002001", waited=10)
    older = _caller(session, market, phone="+8613700002002", waited=50)

    response = console_post(agent_client, "/console/phone/next", headers=JSON)

    assert response.status_code == 200
    body = response.get_json()
    agent_call = session.get(AgentCall, body["agent_call_id"])
    assert agent_call is not None and agent_call.queued_call_id == older.id
    assert body == {
        "agent_call_id": agent_call.id,
        "params": {"answer": str(agent_call.id)},
        "pop_url": f"/console/phone/calls/{agent_call.id}",
        "ended_url": f"/console/phone/calls/{agent_call.id}/ended",
        "abandon_url": f"/console/phone/calls/{agent_call.id}/abandon",
    }
    session.expire_all()
    assert (older.status, newer.status) == (WaitStatus.ANSWERED, WaitStatus.WAITING)
    assert _presence(session, available) == Presence.BUSY
    assert _actions(session, available) == ["call.answer"]


def test_answer_next_with_nobody_waiting(agent_client, session, available):
    response = console_post(agent_client, "/console/phone/next", headers=JSON)
    assert response.get_json() == {"none": True, "message": "现在没有等您接听的来电。"}
    assert _presence(session, available) == Presence.AVAILABLE


def test_answer_next_is_refused_while_on_a_call(agent_client, session, available, market):
    _caller(session, market, phone="+8613700002003")
    _caller(session, market, phone="+8613700002004")
    console_post(agent_client, "/console/phone/next")
    response = console_post(agent_client, "/console/phone/next", headers=JSON)
    assert response.status_code == 409
    assert len(list(session.scalars(select(AgentCall)))) == 1


def test_answer_next_needs_the_csrf_token(agent_client, session, available, market):
    _caller(session, market)
    assert agent_client.post("/console/phone/next", headers=JSON).status_code == 400
    assert session.scalars(select(AgentCall)).first() is None


# -- click-to-call ---------------------------------------------------------------------------------


def test_dial_a_worker_uses_the_number_on_record(agent_client, session, available, market):
    worker = market.worker("+8613700003333", site="LZ-TX")
    session.commit()
    response = console_post(
        agent_client, "/console/phone/dial", {"worker_id": worker.id, "phone": "+8613900000000"}, headers=JSON
    )
    assert response.status_code == 200
    body = response.get_json()
    agent_call = session.get(AgentCall, body["agent_call_id"])
    assert agent_call is not None
    assert body["params"] == {"dial": str(agent_call.id)}
    assert (agent_call.direction, agent_call.phone, agent_call.worker_id) == (
        CallDirection.OUTBOUND,
        "+8613700003333",  # never the number the browser sent
        worker.id,
    )
    assert _presence(session, available) == Presence.BUSY
    assert "call.dial" in _actions(session, available)


def test_dial_a_ticket_an_employer_and_a_job(agent_client, app, session, available, market):
    employer = market.employer("+8613600004444")
    job = market.job(employer)
    ticket = open_ticket(session, TicketKind.CALL_BACK, phone="+8613700005555")
    session.commit()
    expected = {
        "ticket_id": (ticket.id, "+8613700005555", {"ticket_id": ticket.id}),
        "employer_id": (employer.id, employer.phone, {"employer_id": employer.id}),
        "job_id": (job.id, employer.phone, {"job_id": job.id, "employer_id": employer.id}),
    }
    for field, (row_id, phone, links) in expected.items():
        response = console_post(agent_client, "/console/phone/dial", {field: row_id}, headers=JSON)
        assert response.status_code == 200, field
        agent_call = session.get(AgentCall, response.get_json()["agent_call_id"])
        assert agent_call is not None and agent_call.phone == phone
        assert {key: getattr(agent_call, key) for key in links} == links
        agent_call_done(agent_client, agent_call.id)


def agent_call_done(client, agent_call_id: int) -> None:
    console_post(client, f"/console/phone/calls/{agent_call_id}/ended", {"dial_status": "no-answer"})
    response = console_post(
        client, f"/console/phone/calls/{agent_call_id}/wrap-up", {"outcome": "no_answer", "resolve": "0"}
    )
    assert response.status_code == 302


@pytest.mark.parametrize(
    "data", [{}, {"worker_id": "x"}, {"worker_id": "1", "job_id": "2"}, {"phone": "+8613700001234"}]
)
def test_dial_needs_exactly_one_row(agent_client, available, data):
    assert console_post(agent_client, "/console/phone/dial", data, headers=JSON).status_code == 400


def test_dial_refuses_a_row_of_a_site_the_agent_does_not_see(app, session, market):
    town_agent = make_agent(session, "town1", "agent", "LZ-DJ")
    worker = market.worker(site="LZ-TX")
    session.commit()
    client = signed_in(app, town_agent)
    assert console_post(client, "/console/phone/dial", {"worker_id": worker.id}).status_code == 404
    assert console_post(client, "/console/phone/dial", {"worker_id": 999999}).status_code == 404
    assert session.scalars(select(AgentCall)).first() is None


def test_dial_without_a_number_on_record(agent_client, session, available):
    ticket = open_ticket(session, TicketKind.CALL_BACK)
    session.commit()
    response = console_post(agent_client, "/console/phone/dial", {"ticket_id": ticket.id}, headers=JSON)
    assert (response.status_code, response.get_json()) == (409, {"error": "没有可拨打的电话号码。"})


# -- the screen pop, the end and the wrap-up -------------------------------------------------------


def _answered(agent_client, session, market, **caller) -> AgentCall:
    _caller(session, market, **caller)
    body = console_post(agent_client, "/console/phone/next", headers=JSON).get_json()
    agent_call = session.get(AgentCall, body["agent_call_id"])
    assert agent_call is not None
    return agent_call


def test_the_screen_pop_shows_the_caller_and_what_the_ivr_collected(agent_client, session, available, market):
    worker = market.worker("+8613700006666", name="李师傅", site="LZ")
    job = market.job(market.employer(name="老陈装修"), site="LZ")
    trade = market.trade("plumber_electrician")
    agent_call = _answered(
        agent_client,
        session,
        market,
        phone=worker.phone,
        worker=worker,
        job=job,
        answers={"trade": str(trade.id), "headcount": "3"},
    )
    page = agent_client.get(f"/console/phone/calls/{agent_call.id}?part=1")
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert "<html" not in html  # the fragment phone.js puts in the bar
    assert f'href="/console/people/workers/{worker.id}"' in html and "李师傅" in html
    assert "语音菜单已收集" in html
    assert f"<dt>工种</dt><dd>{trade.name('zh')}</dd>" in html and "<dt>人数</dt><dd>3</dd>" in html
    assert job.code in html
    assert f'action="/console/phone/calls/{agent_call.id}/wrap-up"' in html
    assert "已电话联系" in html  # the outcomes, translated

    full = agent_client.get(f"/console/phone/calls/{agent_call.id}").get_data(as_text=True)
    assert "<html" in full and 'id="phone-pop-card"' in full


def test_the_screen_pop_in_english(app, session, market):
    english = make_agent(session, "english1", "agent", "LZ", language="en")
    set_presence(session, english, Presence.AVAILABLE, NOW)
    client = signed_in(app, english)
    agent_call = _answered(client, session, market, answers={"headcount": "2"})
    html = client.get(f"/console/phone/calls/{agent_call.id}?part=1").get_data(as_text=True)
    assert "What the voice menu collected" in html and "<dt>Workers</dt><dd>2</dd>" in html
    assert ">Phoned</option>" in html  # the outcomes in English


def test_the_screen_pop_is_only_for_the_agent_on_the_call_or_a_supervisor(
    app, agent_client, session, available, market
):
    agent_call = _answered(agent_client, session, market)
    colleague = signed_in(app, make_agent(session, "colleague", "agent", "LZ"))
    assert colleague.get(f"/console/phone/calls/{agent_call.id}").status_code == 404
    town_supervisor = signed_in(app, make_agent(session, "townsup", "supervisor", "LZ-DJ"))
    assert town_supervisor.get(f"/console/phone/calls/{agent_call.id}").status_code == 404
    supervisor = signed_in(app, make_agent(session, "boss", "supervisor", "LZ"))
    page = supervisor.get(f"/console/phone/calls/{agent_call.id}")
    assert page.status_code == 200
    assert "data-phone-wrap" not in page.get_data(as_text=True)  # looking, not wrapping up
    # Neither may end or wrap up another agent's call.
    assert (
        console_post(
            supervisor, f"/console/phone/calls/{agent_call.id}/wrap-up", {"outcome": "called"}
        ).status_code
        == 404
    )
    assert (
        console_post(
            colleague, f"/console/phone/calls/{agent_call.id}/ended", {"dial_status": "completed"}
        ).status_code
        == 404
    )
    assert agent_client.get("/console/phone/calls/999999").status_code == 404


def test_the_offline_softphone_tells_the_end_and_the_agent_wraps_up(
    agent_client, session, available, market, clock
):
    agent_call = _answered(agent_client, session, market, phone="+8613700007777")
    queued = session.get(QueuedCall, agent_call.queued_call_id)
    assert queued is not None
    calls.bind_answered(session, agent_call, queued.call_sid, NOW)  # the simulator bridged the caller
    session.commit()
    clock.shift(timedelta(seconds=95))
    response = console_post(
        agent_client,
        f"/console/phone/calls/{agent_call.id}/ended",
        {"dial_status": "completed", "duration_seconds": "9999"},
        headers=JSON,
    )
    assert response.status_code == 200 and response.get_json()["status"] == "wrap_up"
    session.expire_all()
    assert (agent_call.dial_status, agent_call.duration_seconds) == (
        "completed",
        95,
    )  # the server's reckoning

    response = console_post(
        agent_client,
        f"/console/phone/calls/{agent_call.id}/wrap-up",
        {"outcome": "job_created", "note": "要三个水电工", "resolve": "1"},
        headers=JSON,
    )
    assert response.status_code == 200
    body = response.get_json()
    ticket = session.get(Ticket, body["ticket_id"])
    assert ticket is not None and ticket.id == agent_call.ticket_id
    assert (body["resolved"], body["status"], body["message"]) == (
        True,
        "available",
        f"工单#{ticket.id}已关闭。",
    )
    assert (ticket.status, ticket.outcome) == (TicketStatus.RESOLVED, "job_created")
    assert _presence(session, available) == Presence.AVAILABLE
    finish = session.scalars(
        select(AuditEvent).where(AuditEvent.action == "call.finish", AuditEvent.target_id == agent_call.id)
    ).one()
    assert (finish.agent_id, finish.note, finish.details["outcome"]) == (
        available.id,
        "要三个水电工",
        "job_created",
    )


def test_a_failed_call_back_leaves_the_ticket_open(agent_client, session, available):
    ticket = open_ticket(session, TicketKind.CALL_BACK, phone="+8613700008888")
    session.commit()
    body = console_post(
        agent_client, "/console/phone/dial", {"ticket_id": ticket.id}, headers=JSON
    ).get_json()
    console_post(
        agent_client, f"/console/phone/calls/{body['agent_call_id']}/ended", {"dial_status": "no-answer"}
    )
    response = console_post(
        agent_client,
        f"/console/phone/calls/{body['agent_call_id']}/wrap-up",
        {"outcome": "no_answer", "resolve": "0"},
        headers=JSON,
    )
    assert response.get_json()["resolved"] is False
    session.expire_all()
    assert ticket.status != TicketStatus.RESOLVED
    assert [attempt["outcome"] for attempt in ticket.details["call_attempts"]] == ["no_answer"]


def test_wrap_up_needs_an_outcome(agent_client, session, available, market):
    agent_call = _answered(agent_client, session, market)
    response = console_post(
        agent_client, f"/console/phone/calls/{agent_call.id}/wrap-up", {"outcome": ""}, headers=JSON
    )
    assert (response.status_code, response.get_json()) == (400, {"error": "请选择处理结果。"})
    assert _presence(session, available) == Presence.BUSY


def test_the_end_takes_only_a_dial_status_it_knows(agent_client, session, available, market):
    agent_call = _answered(agent_client, session, market)
    url = f"/console/phone/calls/{agent_call.id}/ended"
    assert console_post(agent_client, url, {"dial_status": "whatever"}).status_code == 400
    assert console_post(agent_client, url, {"dial_status": "canceled"}).status_code == 200
    session.expire_all()
    assert agent_call.dial_status == "canceled"
    # Never bridged: the caller waits again, at their place.
    queued = session.get(QueuedCall, agent_call.queued_call_id)
    assert queued is not None and queued.status == WaitStatus.WAITING
    assert _presence(session, available) == Presence.WRAP_UP


def test_a_softphone_that_could_not_connect_abandons_the_call(
    agent_client, session, available, market, agent
):
    """No SDK, the microphone refused, the token failed: the browser says so, the call ends as failed,
    the reserved caller waits again at their place and the agent wraps up (in either mode)."""
    agent_call = _answered(agent_client, session, market)
    url = f"/console/phone/calls/{agent_call.id}/abandon"
    response = console_post(agent_client, url, headers=JSON)
    assert response.status_code == 200 and response.get_json()["status"] == "wrap_up"
    session.expire_all()
    assert agent_call.dial_status == "failed"
    queued = session.get(QueuedCall, agent_call.queued_call_id)
    assert queued is not None and (queued.status, queued.answered_by_id) == (WaitStatus.WAITING, None)
    assert console_post(agent_client, url, headers=JSON).status_code == 200  # said twice: once
    colleague = signed_in(agent_client.application, make_agent(session, "colleague2"))
    assert console_post(colleague, url).status_code == 404


def test_abandon_leaves_a_call_twilio_has_to_its_dial_status(agent_client, session, available, market):
    agent_call = _answered(agent_client, session, market)
    agent_call.call_sid = "CA" + "d" * 32  # /voice/agent was asked: Twilio has the call
    session.commit()
    response = console_post(agent_client, f"/console/phone/calls/{agent_call.id}/abandon", headers=JSON)
    assert response.status_code == 200 and response.get_json()["status"] == "busy"
    session.expire_all()
    assert agent_call.ended_at is None


# -- the call-back list ----------------------------------------------------------------------------


def test_the_call_back_list_keeps_the_callers_queue_order(agent_client, session, available, market):
    late_caller = a_call(session, phone="+8613700009001", site=market.site("LZ").id)
    early_caller = a_call(session, phone="+8613700009002", site=market.site("LZ").id)
    late = open_ticket(session, TicketKind.CALL_BACK, call=late_caller, phone=late_caller.phone)
    early = open_ticket(session, TicketKind.CALL_BACK, call=early_caller, phone=early_caller.phone)
    queue_caller(session, late_caller, late, NOW - timedelta(minutes=2))
    queue_caller(session, early_caller, early, NOW - timedelta(minutes=5))
    done = open_ticket(session, TicketKind.CALL_BACK, phone="+8613700009003")
    done.status = TicketStatus.RESOLVED
    other_kind = open_ticket(session, TicketKind.VOICEMAIL, phone="+8613700009004")
    session.commit()

    html = agent_client.get("/console/phone/call-backs").get_data(as_text=True)

    rows = [html.index(f'data-ticket="{ticket.id}"') for ticket in (early, late)]
    assert rows == sorted(rows)
    assert f'data-ticket="{done.id}"' not in html and f'data-ticket="{other_kind.id}"' not in html
    assert html.count("data-phone-dial") == 2
    assert f'name="ticket_id" value="{early.id}"' in html


def test_the_call_back_list_shows_the_attempts(agent_client, session, available):
    ticket = open_ticket(session, TicketKind.CALL_BACK, phone="+8613700009005")
    session.commit()
    body = console_post(
        agent_client, "/console/phone/dial", {"ticket_id": ticket.id}, headers=JSON
    ).get_json()
    agent_call_done(agent_client, body["agent_call_id"])
    html = agent_client.get("/console/phone/call-backs").get_data(as_text=True)
    assert "已拨1次" in html and "电话无人接听" in html


# -- the call buttons on other pages ----------------------------------------------------------------


def test_ticket_person_and_job_pages_have_a_call_button(agent_client, session, market):
    employer = market.employer("+8613600001010")
    job = market.job(employer, site="LZ")
    worker = market.worker("+8613700001010", site="LZ")
    ticket = open_ticket(session, TicketKind.CALL_BACK, phone="+8613700001011")
    session.commit()
    pages = {
        f"/console/tickets/{ticket.id}": ("ticket_id", ticket.id),
        f"/console/people/workers/{worker.id}": ("worker_id", worker.id),
        f"/console/people/employers/{employer.id}": ("employer_id", employer.id),
        f"/console/jobs/{job.id}": ("job_id", job.id),
    }
    for path, (field, row_id) in pages.items():
        html = agent_client.get(path).get_data(as_text=True)
        assert 'action="/console/phone/dial"' in html, path
        assert f'name="{field}" value="{row_id}"' in html, path
        assert "+86137" not in html.split('action="/console/phone/dial"')[1].split("</form>")[0]


def test_a_ticket_without_a_number_has_no_call_button(agent_client, session):
    ticket = open_ticket(session, TicketKind.UNPARSED_SMS)
    session.commit()
    assert 'action="/console/phone/dial"' not in agent_client.get(f"/console/tickets/{ticket.id}").get_data(
        as_text=True
    )
