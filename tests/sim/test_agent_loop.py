"""The offline call center's loop at the server: a simulated caller presses 0 and waits in its site's
queue (the waitUrl asked as Twilio asks it, keys pressed in the hold music), an agent's offline
softphone takes the queue's longest waiter (<Dial><Queue>) and binds it, both sides talk, and either
hanging up ends both: the <Enqueue> action hears `bridged`, the agent's call ends. Click-to-call rings
the simulated phone, which answers or declines. Not in production."""

from __future__ import annotations

import re
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

import dispatch.console
import dispatch.sim
from dispatch import create_app, i18n
from dispatch.callcenter.calls import start_outbound
from dispatch.callcenter.presence import presence_of, set_presence
from dispatch.models import Agent, AgentCall, Presence, QueuedCall, Ticket, TicketKind, WaitStatus
from dispatch.sim.switchboard import switchboard
from tests.conftest import build_runtime, make_settings
from tests.console.helpers import csrf_token, make_agent, sign_in
from tests.factories import NOW
from tests.sim.conftest import SimPhone

CALLER, OTHER_CALLER = "+8613600000077", "+8613600000078"
SIGNED = {"Accept": "application/json"}


@pytest.fixture
def settings_overrides() -> dict[str, Any]:
    return {"OPENING_HOURS": "08:00-08:00"}  # agents take calls all day


@pytest.fixture(autouse=True)
def _clock(clock):
    return clock


class Softphone:
    """What phone.js and window.OfflineDevice do for one signed-in agent: answer next or dial through
    the console, then connect, talk and hang up through the simulator."""

    def __init__(self, client: FlaskClient, agent: Agent) -> None:
        self.client, self.agent = client, agent
        self.line: dict[str, Any] = {}

    def post(self, path: str, **data: str):
        return self.client.post(path, data=data, headers={"X-CSRF-Token": csrf_token(self.client), **SIGNED})

    def next(self) -> int:
        answer = self.post("/console/phone/next").get_json()
        assert not answer.get("none"), answer
        return int(answer["params"]["answer"])

    def connect(self, **params: str):
        response = self.post("/sim/agent/connect", **params)
        if response.status_code == 200:
            self.line = response.get_json()["line"]
        return response

    def poll(self) -> dict[str, Any]:
        self.line = self.client.get(f"/sim/agent/lines/{self.line['id']}").get_json()["line"]
        return self.line

    def say(self, words: str) -> None:
        assert self.post(f"/sim/agent/lines/{self.line['id']}/say", text=words).status_code == 200

    def hang_up(self) -> dict[str, Any]:
        self.line = self.post(f"/sim/agent/lines/{self.line['id']}/hangup").get_json()["line"]
        return self.line


@pytest.fixture
def softphone(app: Flask, session, clock):
    def make(username: str, site: str = "LZ", available: bool = True) -> Softphone:
        agent = make_agent(session, username, site=site)
        if available:
            set_presence(session, agent, Presence.AVAILABLE, NOW)
            session.commit()
        client = app.test_client()
        sign_in(client, username)
        return Softphone(client, agent)

    return make


def phone_line(phone: SimPhone, action: str = "", **data: str) -> dict[str, Any]:
    """The simulated phone's side of its line: poll it, or answer, decline, say, hang up."""
    base = f"/sim/phone/{phone.phone}/line"
    if not action:
        return phone.client.get(base).get_json()["line"]
    line = phone_line(phone)
    response = phone.client.post(
        f"{base}/{line['id']}/{action}", data=data, headers={"X-CSRF-Token": csrf_token(phone.client)}
    )
    assert response.status_code == 200, response.get_data(as_text=True)
    return response.get_json()["line"]


def queued(session, phone: SimPhone) -> QueuedCall:
    session.expire_all()
    return session.scalars(select(QueuedCall).where(QueuedCall.call_sid == phone.state["call_sid"])).one()


def agent_call(session, line_id: int) -> AgentCall:
    session.expire_all()
    found = session.get(AgentCall, line_id)
    assert found is not None
    return found


def params_of(phone: SimPhone, path: str) -> list[dict[str, str]]:
    """The params of every request the simulator posted to `path` (query ignored) in this call."""
    return [
        event["params"]
        for event in phone.events
        if event["kind"] == "request" and event["url"].split("//", 1)[1].split("?")[0].endswith(path)
    ]


def waiting(sim_phone, number: str) -> SimPhone:
    phone = sim_phone(number)
    phone.dial()
    phone.press("0")
    assert phone.wait["kind"] == "enqueue", phone.wait
    return phone


def test_the_hold_music_is_asked_as_twilio_asks_it_with_the_place_in_the_queue(
    client, session, seeded, sim_phone, softphone
) -> None:
    softphone("agent1")
    first, second = waiting(sim_phone, CALLER), waiting(sim_phone, OTHER_CALLER)
    assert second.wait["queue"] == first.wait["queue"] == queued(session, first).queue_name
    [hold] = params_of(second, "/ivr/step/hold")
    assert (hold["QueuePosition"], hold["CurrentQueueSize"], hold["QueueTime"]) == ("2", "2", "0")
    assert hold["QueueSid"].startswith("QU") and hold["MaxQueueSize"] == "1000" and "AvgQueueTime" in hold
    # The hold's <Gather> keeps the keypad open in the queue; the prompt tells the place.
    assert second.wait["gather"]["num_digits"] == 1 and second.wait["position"] == 2
    assert any(event.get("hold") and event["kind"] == "say" for event in second.state["events"])
    # Asked again after the hold music has played: the queue time grows by what the page waited.
    second.queue("wait")
    assert params_of(second, "/ivr/step/hold")[-1]["QueueTime"] == "60"


def test_the_call_back_key_in_the_hold_leaves_the_queue_with_a_call_back_ticket(
    client, session, seeded, sim_phone, softphone
) -> None:
    softphone("agent1")
    phone = waiting(sim_phone, CALLER)
    wait = phone.wait
    phone._send(
        "hold_press",
        keys="1",
        queue_time="0",
        hold_twiml=wait["hold_twiml"],
        hold_url=wait["hold_url"],
        hold_index=str(wait["gather"]["index"]),
    )
    assert any(event["kind"] == "left_queue" for event in phone.state["events"])
    [result] = params_of(phone, "/ivr/step/queue_result")
    assert result["QueueResult"] == "leave"
    assert phone.wait["kind"] == "ended"
    assert queued(session, phone).status == WaitStatus.CALL_BACK
    assert not switchboard_of(client).waiting(wait["queue"])
    ticket = session.scalars(select(Ticket).where(Ticket.call_sid == phone.state["call_sid"])).one()
    assert ticket.kind == TicketKind.CALL_BACK


def switchboard_of(client: FlaskClient):
    with client.application.app_context():
        return switchboard()


def test_an_agent_answers_the_longest_waiter_talks_and_hangs_up(
    client, session, seeded, sim_phone, softphone, clock
) -> None:
    agent = softphone("agent1")
    first, second = waiting(sim_phone, CALLER), waiting(sim_phone, OTHER_CALLER)
    answer = agent.next()
    clock.shift(timedelta(seconds=30))
    assert agent.connect(answer=str(answer)).status_code == 200
    assert agent.line["state"] == "connected" and agent.line["call_sid"] == first.state["call_sid"]
    row = agent_call(session, answer)
    assert row.answered_at == NOW + timedelta(seconds=30) and row.queued_call_id == queued(session, first).id
    assert row.call_sid and row.call_sid.startswith("CA")  # the softphone's own leg
    # Connecting the same call twice (a second tab) is refused: one leg per agent call.
    assert agent.post("/sim/agent/connect", answer=str(answer)).status_code == 409
    assert queued(session, first).status == WaitStatus.ANSWERED
    assert queued(session, second).status == WaitStatus.WAITING
    assert presence_of(session, agent.agent).status == Presence.BUSY
    # The caller's page sees the line, and the two talk.
    assert phone_line(first)["state"] == "connected"
    assert phone_line(second) is None
    phone_line(first, "say", text="我要找两个搬家的师傅")
    agent.say("好的，明天几点？")
    assert [(s["who"], s["text"]) for s in agent.poll()["said"]] == [
        ("caller", "我要找两个搬家的师傅"),
        ("agent", "好的，明天几点？"),
    ]
    assert [s["text"] for s in phone_line(first)["said"]][-1] == "好的，明天几点？"

    clock.shift(timedelta(seconds=90))
    ended = agent.hang_up()
    assert (ended["state"], ended["ended_by"]) == ("ended", "agent")
    # The caller's <Enqueue> action hears `bridged` with the time waited; the IVR ends the call.
    caller_side = phone_line(first)
    assert caller_side["state"] == "ended" and caller_side["after"]["wait"]["kind"] == "ended"
    posted = [event for event in caller_side["after"]["events"] if event["kind"] == "request"]
    assert posted[0]["params"]["QueueResult"] == "bridged" and posted[0]["params"]["QueueTime"] == "30"
    assert posted[-1]["url"].endswith("/ivr/status")
    row = agent_call(session, answer)
    assert (row.ended_at, row.dial_status, row.duration_seconds) == (
        NOW + timedelta(seconds=120),
        "completed",
        90,
    )
    assert presence_of(session, agent.agent).status == Presence.WRAP_UP
    assert queued(session, first).left_at is not None
    # The second caller still waits, first in line now.
    assert [w.call_sid for w in switchboard_of(client).waiting(first.wait["queue"])] == [
        second.state["call_sid"]
    ]


def test_the_caller_hanging_up_ends_the_agents_call(
    client, session, seeded, sim_phone, softphone, clock
) -> None:
    agent = softphone("agent1")
    phone = waiting(sim_phone, CALLER)
    agent.connect(answer=str(agent.next()))
    clock.shift(timedelta(seconds=45))
    ended = phone_line(phone, "hangup")
    assert ended["ended_by"] == "caller"
    requests = [event for event in ended["after"]["events"] if event["kind"] == "request"]
    assert requests[0]["params"]["QueueResult"] == "bridged"
    assert ended["after"]["wait"] == {"kind": "ended", "reason": "hangup"}
    assert agent.poll()["state"] == "ended"
    row = agent_call(session, agent.line["id"])
    assert (row.dial_status, row.duration_seconds) == ("completed", 45)
    # Hanging up twice (the agent's button as the caller's hang-up arrives) ends it once.
    assert agent.hang_up()["ended_by"] == "caller"


def test_two_agents_answering_crosswise_each_get_a_caller_fifo(
    client, session, seeded, sim_phone, softphone
) -> None:
    first_agent, second_agent = softphone("agent1"), softphone("agent2")
    first, second = waiting(sim_phone, CALLER), waiting(sim_phone, OTHER_CALLER)
    one = first_agent.next()  # reserves the first caller
    two = second_agent.next()  # reserves the second
    assert agent_call(session, two).queued_call_id == queued(session, second).id
    # The second agent's softphone connects first: <Dial><Queue> bridges the longest waiter, and
    # bind_answered swaps the reservations.
    second_agent.connect(answer=str(two))
    assert second_agent.line["call_sid"] == first.state["call_sid"]
    assert agent_call(session, two).queued_call_id == queued(session, first).id
    first_agent.connect(answer=str(one))
    assert first_agent.line["call_sid"] == second.state["call_sid"]
    assert agent_call(session, one).queued_call_id == queued(session, second).id
    assert {queued(session, first).answered_by_id, queued(session, second).answered_by_id} == {
        first_agent.agent.id,
        second_agent.agent.id,
    }


def test_nobody_waiting_and_someone_elses_call_are_refused(
    client, session, seeded, sim_phone, softphone
) -> None:
    agent, other = softphone("agent1"), softphone("agent2")
    phone = waiting(sim_phone, CALLER)
    answer = agent.next()
    assert other.connect(answer=str(answer)).get_json()["reason"] == "not_yours"
    phone.hang_up()  # the caller gives up before the softphone connects
    assert not switchboard_of(client).waiting(
        phone.wait.get("queue", "") or queued(session, phone).queue_name
    )
    response = agent.connect(answer=str(answer))
    assert response.status_code == 409
    assert response.get_json() == {"error": "队列里已经没有人在等。", "reason": "nobody_waiting"}
    assert queued(session, phone).status == WaitStatus.ABANDONED


def test_the_softphone_needs_a_signed_in_agent(client, seeded) -> None:
    response = client.post(
        "/sim/agent/connect", data={"answer": "1"}, headers={"X-CSRF-Token": csrf_token(client)}
    )
    assert response.status_code == 401
    assert client.post("/sim/agent/connect", data={"answer": "1"}).status_code == 400  # no CSRF token


def test_click_to_call_rings_the_simulated_phone_which_answers(
    client, session, seeded, sim_phone, softphone, clock
) -> None:
    agent = softphone("agent1")
    outbound = start_outbound(session, agent.agent, phone=CALLER, now=NOW)
    session.commit()
    agent.connect(dial=str(outbound.id))
    assert agent.line["state"] == "ringing"
    phone = sim_phone(CALLER)
    assert phone_line(phone)["state"] == "ringing"
    clock.shift(timedelta(seconds=5))
    assert phone_line(phone, "answer")["state"] == "connected"
    assert agent.poll()["state"] == "connected"
    assert agent_call(session, outbound.id).answered_at == NOW + timedelta(seconds=5)
    phone_line(phone, "say", text="喂，哪位？")
    assert agent.poll()["said"][0]["text"] == "喂，哪位？"
    clock.shift(timedelta(seconds=20))
    agent.hang_up()
    assert phone_line(phone)["state"] == "ended"
    row = agent_call(session, outbound.id)
    assert (row.dial_status, row.duration_seconds) == ("completed", 20)


def test_a_declined_call_ends_with_no_answer(client, session, seeded, sim_phone, softphone) -> None:
    agent = softphone("agent1")
    outbound = start_outbound(session, agent.agent, phone=CALLER, now=NOW)
    session.commit()
    agent.connect(dial=str(outbound.id))
    phone = sim_phone(CALLER)
    assert phone_line(phone, "decline")["ended_by"] == "declined"
    assert agent.poll()["state"] == "ended"
    row = agent_call(session, outbound.id)
    assert (row.dial_status, row.duration_seconds, row.answered_at) == ("no-answer", 0, None)
    assert presence_of(session, agent.agent).status == Presence.WRAP_UP


@pytest.fixture
def production_app(runtime, service_urls) -> Flask:
    settings = make_settings(
        service_urls,
        DISPATCH_ENV="production",
        SECRET_KEY="Zr4mQ8vT1nXc6bHs0LpW3yKd9FgJ2aEu7oNi5RhVtCe",
        TWILIO_AUTH_TOKEN="0d7c4e9a2f61b8350e4d9c7a1f2b6e83",
    )
    app = create_app(runtime=build_runtime(settings, runtime.db, runtime.redis))
    app.testing = True
    return app


def test_the_offline_lines_do_not_exist_in_production(production_app, seeded) -> None:
    client = production_app.test_client()
    assert client.post("/sim/agent/connect", data={"answer": "1"}).status_code == 404
    assert client.get("/sim/agent/lines/1").status_code == 404
    assert client.get(f"/sim/phone/{CALLER}/line").status_code == 404
    assert client.post(f"/sim/phone/{CALLER}/line/1/hangup").status_code == 404
    assert client.get("/sim/static/offline_line.css").status_code == 404


def test_every_text_the_offline_softphone_shows_exists_in_both_languages() -> None:
    script = (Path(dispatch.console.__file__).parent / "static" / "phone_offline.js").read_text()
    used = set(re.findall(r"\btexts\.([a-z_]+)", script)) | {f"ended_{by}" for by in ("caller", "declined")}
    assert {"connected", "say_label", "caller", "you"} <= used
    source = (Path(dispatch.sim.__file__).parent / "lines.py").read_text()
    source += (Path(dispatch.sim.__file__).parent / "line_views.py").read_text()
    reasons = set(re.findall(r'LineError\("([a-z_]+)"\)', source))
    assert {"nobody_waiting", "not_yours"} <= reasons
    for language in ("zh", "en"):
        assert not {f"line_js.{key}" for key in used} - set(i18n.catalogue(language))
        assert not {f"line_error.{key}" for key in reasons} - set(i18n.catalogue(language))
