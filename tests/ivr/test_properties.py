"""Random callers: whatever keys, silences, recordings and queue results come, every answer is valid
TwiML with a way forward, and every call that ends has become a job, a registration or a ticket."""

from __future__ import annotations

import itertools
import xml.etree.ElementTree as ET

import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from dispatch.models import Call, CallOutcome, Job, Ticket, Worker
from tests.ivr.conftest import PUBLIC_BASE, Caller

PROPERTY_SETTINGS = settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
KEYS = ["0", "1", "2", "3", "4", "8", "9", "*", "#", "10", "12", "17", "99", "300", "20261205", "19990101"]
# Callers who know what they want, part of the way or all of it, before the keys go random.
JOB = [("press", k) for k in ["1", "4", "2", "2", "7", "3", "300", "8", "#"]] + [
    ("silence", ""),
    ("press", "1"),
]
REGISTER = [("press", k) for k in ["2", "4", "8", "1", "200"]] + [("speak", "1"), ("press", "1")]
PREFIXES = st.sampled_from([JOB, REGISTER]).flatmap(
    lambda path: st.integers(0, len(path)).map(lambda n: path[:n])
)
RANDOM = st.lists(
    st.one_of(
        st.sampled_from(KEYS).map(lambda keys: ("press", keys)),
        st.sampled_from(["1", "2", "3", "1", "2", "3"]).map(lambda keys: ("press", keys)),  # the common keys
        st.just(("silence", "")),
        st.just(("speak", "")),
        st.sampled_from(["bridged", "hangup", "queue-full", "error"]).map(lambda result: ("queue", result)),
    ),
    max_size=25,
)
ACTIONS = st.tuples(PREFIXES, RANDOM).map(lambda parts: parts[0] + parts[1])
INTERACTIVE = {"Gather", "Record", "Enqueue"}
_numbers = itertools.count(1)


def check_way_forward(twiml: str) -> str:
    """The response is TwiML that leads somewhere; returns the verb the caller is in next."""
    root = ET.fromstring(twiml)
    assert root.tag == "Response", twiml
    verbs = [element.tag for element in root]
    for element in root.iter():
        for url in [element.get("action"), element.get("waitUrl"), element.get("transcribeCallback")]:
            assert url is None or url.startswith(PUBLIC_BASE + "/ivr/"), twiml
        if element.tag in {"Redirect", "Play"}:
            assert (element.text or "").startswith(PUBLIC_BASE + "/ivr/"), twiml
    interactive = [verb for verb in verbs if verb in INTERACTIVE]
    if not interactive:
        assert verbs[-1] == "Hangup", twiml  # only a finished call may end without a question
        return "Hangup"
    verb = interactive[0]
    assert root.find(verb).get("action", "").startswith(PUBLIC_BASE + "/ivr/step/"), twiml  # type: ignore[union-attr]
    if verb == "Gather":
        assert root.find("Gather").get("actionOnEmptyResult") == "true", twiml  # type: ignore[union-attr]
        assert verbs[verbs.index("Gather") + 1] == "Redirect", twiml
    if verb == "Record":
        assert verbs[verbs.index("Record") + 1] in {"Redirect", "Say", "Hangup"}, twiml
    return verb


def run(caller: Caller, actions: list[tuple[str, str]]) -> None:
    verb = check_way_forward(caller.dial())
    for kind, value in actions:
        if verb == "Hangup":
            return
        if verb == "Gather":
            twiml = caller.press(value) if kind == "press" else caller.silence()
        elif verb == "Record":
            if kind != "speak" and caller.root.find("Redirect") is None:
                return  # an empty voicemail: Twilio plays on to the goodbye and hangs up
            recording = f"https://api.twilio.com/Recordings/RE{value}"
            twiml = caller.speak(recording) if kind == "speak" else caller.skip_recording()
        else:
            twiml = caller.leave_queue(value if kind == "queue" else "hangup")
        verb = check_way_forward(twiml)


@pytest.mark.parametrize("clock", ["market_open", "market_closed"])
def test_random_callers_always_have_a_way_forward_and_end_in_a_job_registration_or_ticket(
    client, session, seeded, request, clock
) -> None:
    request.getfixturevalue(clock)

    @PROPERTY_SETTINGS
    @given(actions=ACTIONS)
    def call_randomly(actions: list[tuple[str, str]]) -> None:
        caller = Caller(client, phone=f"+86139{next(_numbers):08d}")
        run(caller, actions)
        caller.hang_up()
        session.expire_all()
        call = session.scalars(select(Call).where(Call.call_sid == caller.sid)).one()
        assert call.ended_at is not None and call.outcome is not None
        event(call.outcome.value)
        tickets = session.scalars(select(Ticket).where(Ticket.call_sid == caller.sid)).all()
        if call.outcome == CallOutcome.JOB:
            assert session.get(Job, call.job_id) is not None
        elif call.outcome == CallOutcome.REGISTRATION:
            assert session.scalars(select(Worker).where(Worker.phone == caller.phone)).one() is not None
            assert tickets  # the recorded name waits for an agent
        else:
            assert tickets, (call.outcome, call.flow, call.step, actions)

    call_randomly()
