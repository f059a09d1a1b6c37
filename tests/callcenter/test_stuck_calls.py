"""Calls whose softphone never connected, wrap-up while still busy, callers whose wait ended with their
call, answered at the bridge (the review of issue 15)."""

from __future__ import annotations

from datetime import timedelta

from dispatch.callcenter import calls, routing, stuck
from dispatch.callcenter.presence import heartbeat, presence_of, set_idle_agents_away, set_presence
from dispatch.callcenter.stats import floor_figures
from dispatch.ivr import outage, services
from dispatch.models import AgentCall, Call, Presence, TicketOutcome, WaitStatus
from tests.callcenter.helpers import agent_at, waiting_at
from tests.factories import NOW

IDLE = timedelta(hours=3)


def test_a_reservation_whose_softphone_never_connected_is_released_by_the_sweep(session, market, runtime):
    """Browser closed or microphone refused after "answer next": no /voice/agent request, no dial
    status, ever. Within a minute the caller waits again at their place; the agent wraps up."""
    settings = runtime.settings
    agent = agent_at(session, market, "LZ-TX", available_at=NOW)
    other = agent_at(session, market, "LZ-TX", available_at=NOW)
    queued = waiting_at(session, market, "LZ-TX", NOW)
    agent_call = calls.answer_next(session, agent, settings, NOW + timedelta(seconds=5))
    assert agent_call is not None

    before = NOW + timedelta(seconds=5 + stuck.UNCONNECTED_SECONDS - 1)
    assert stuck.release_stuck(session, settings, before) == {"released": 0, "away": 0}
    assert queued.status == WaitStatus.ANSWERED

    at = NOW + timedelta(seconds=5 + stuck.UNCONNECTED_SECONDS + 1)
    assert stuck.release_stuck(session, settings, at) == {"released": 1, "away": 0}
    assert (queued.status, queued.answered_by_id, queued.left_at) == (WaitStatus.WAITING, None, None)
    assert queued.queued_at == NOW  # their place kept
    assert (agent_call.ended_at, agent_call.dial_status) == (at, "failed")
    assert presence_of(session, agent).status == Presence.WRAP_UP
    taken = calls.answer_next(session, other, settings, at)
    assert taken is not None and taken.queued_call_id == queued.id
    assert stuck.release_stuck(session, settings, at) == {"released": 0, "away": 0}  # once


def test_a_busy_agent_whose_console_went_silent_is_set_away_and_their_call_ended(session, market, runtime):
    """The old idle rule skipped busy agents: a ghost stuck busy, counted on duty for ever."""
    settings = runtime.settings
    agent = agent_at(session, market, "LZ-TX", available_at=NOW)
    agent_call = calls.start_outbound(session, agent, phone="+8613700008001", now=NOW)
    idle = timedelta(seconds=settings.CONSOLE_IDLE_SECONDS)
    heartbeat(session, agent, NOW + idle)  # the console still beats while on the call
    assert stuck.release_stuck(session, settings, NOW + idle + idle / 2) == {"released": 0, "away": 0}
    assert set_idle_agents_away(session, settings, NOW + IDLE) == 0  # that rule leaves busy agents

    assert stuck.release_stuck(session, settings, NOW + IDLE) == {"released": 0, "away": 1}
    presence = presence_of(session, agent)
    assert (presence.status, presence.agent_call_id) == (Presence.AWAY, None)
    assert (agent_call.ended_at, agent_call.dial_status) == (NOW + IDLE, "failed")
    assert routing.agents_reachable(session, market.site("LZ-TX").id, settings) == 0


def test_the_silent_busy_agents_reserved_caller_waits_again(session, market, runtime):
    settings = runtime.settings
    agent = agent_at(session, market, "LZ-TX", available_at=NOW)
    queued = waiting_at(session, market, "LZ-TX", NOW)
    agent_call = calls.answer_next(session, agent, settings, NOW)
    assert agent_call is not None
    # Twilio had the leg (it asked /voice/agent), then nothing: ended blank, for its status to fill in.
    agent_call.call_sid = "CA" + "e" * 32
    assert stuck.release_stuck(session, settings, NOW + IDLE) == {"released": 0, "away": 1}
    assert queued.status == WaitStatus.WAITING
    assert agent_call.dial_status == ""
    calls.call_ended(session, agent_call, dial_status="no-answer", duration_seconds=0, now=NOW + IDLE)
    assert (agent_call.dial_status, agent_call.ended_at) == ("no-answer", NOW + IDLE)
    assert presence_of(session, agent).status == Presence.AWAY  # a late status changes no presence


def test_abandon_ends_only_a_call_twilio_never_had(session, market, runtime):
    settings = runtime.settings
    agent = agent_at(session, market, "LZ-TX", available_at=NOW)
    first = waiting_at(session, market, "LZ-TX", NOW)
    agent_call = calls.answer_next(session, agent, settings, NOW)
    assert agent_call is not None
    assert stuck.abandon(session, agent_call, NOW + timedelta(seconds=2))
    assert (first.status, agent_call.dial_status) == (WaitStatus.WAITING, "failed")
    assert not stuck.abandon(session, agent_call, NOW + timedelta(seconds=3))  # once

    calls.finish_call(session, agent, agent_call, outcome=TicketOutcome.NO_ANSWER, note="", resolve=False,
                      now=NOW + timedelta(seconds=4))  # fmt: skip
    connected = calls.answer_next(session, agent, settings, NOW + timedelta(seconds=5))
    assert connected is not None
    connected.call_sid = "CA" + "f" * 32  # Twilio has it: its dial status will say how it ended
    assert not stuck.abandon(session, connected, NOW + timedelta(seconds=6))
    assert connected.ended_at is None and first.status == WaitStatus.ANSWERED


def test_wrap_up_while_busy_gives_the_reserved_caller_back_and_keeps_twilios_late_status(
    session, market, runtime
):
    settings = runtime.settings
    agent = agent_at(session, market, "LZ-TX", available_at=NOW)
    other = agent_at(session, market, "LZ-TX", available_at=NOW)
    queued = waiting_at(session, market, "LZ-TX", NOW)
    agent_call = calls.answer_next(session, agent, settings, NOW + timedelta(seconds=5))
    assert agent_call is not None
    calls.finish_call(session, agent, agent_call, outcome=TicketOutcome.NO_ANSWER, note="", resolve=False,
                      now=NOW + timedelta(seconds=20))  # fmt: skip
    assert presence_of(session, agent).status == Presence.AVAILABLE
    assert queued.status == WaitStatus.WAITING and agent_call.ended_at == NOW + timedelta(seconds=20)

    calls.call_ended(
        session, agent_call, dial_status="completed", duration_seconds=7, now=NOW + timedelta(seconds=25)
    )
    assert (agent_call.dial_status, agent_call.duration_seconds) == ("completed", 7)
    assert agent_call.ended_at == NOW + timedelta(seconds=20)
    assert presence_of(session, agent).status == Presence.AVAILABLE  # the late status moves nobody
    taken = calls.answer_next(session, other, settings, NOW + timedelta(seconds=30))
    assert taken is not None and taken.queued_call_id == queued.id


def test_a_status_callback_closes_a_wait_whose_enqueue_action_was_lost(session, market, runtime):
    settings = runtime.settings
    agent = agent_at(session, market, "LZ-TX", available_at=NOW)
    queued = waiting_at(session, market, "LZ-TX", NOW)
    call = session.get(Call, queued.call_id)
    assert call is not None
    outage.call_status(session, runtime.settings, {"CallSid": call.call_sid, "CallStatus": "completed"})
    assert call.ended_at is not None
    assert queued.status == WaitStatus.ABANDONED and queued.left_at is not None
    assert routing.callers_for(session, agent, settings, NOW + timedelta(hours=5)) == []


def test_a_bridged_callers_status_callback_counts_them_answered(session, market, runtime):
    agent = agent_at(session, market, "LZ-TX", available_at=NOW)
    queued = waiting_at(session, market, "LZ-TX", NOW)
    agent_call = calls.answer_next(session, agent, runtime.settings, NOW)
    assert agent_call is not None
    calls.bind_answered(session, agent_call, queued.call_sid, NOW + timedelta(seconds=3))
    outage.call_status(session, runtime.settings, {"CallSid": queued.call_sid, "CallStatus": "completed"})
    assert (queued.status, queued.answered_at) == (WaitStatus.ANSWERED, NOW + timedelta(seconds=3))


def test_stale_calls_close_their_waits_and_ghosts_of_ended_calls(session, market, runtime):
    """The status callback lost too (or the offline switchboard restarted): the stale-call sweep ends
    the call and its wait; a wait left open by a call that ended earlier is closed as well."""
    settings = runtime.settings
    agent = agent_at(session, market, "LZ-TX", available_at=NOW)
    stale = waiting_at(session, market, "LZ-TX", NOW)
    ghost = waiting_at(session, market, "LZ-TX", NOW)
    ghost_call = session.get(Call, ghost.call_id)
    assert ghost_call is not None
    ghost_call.ended_at = NOW  # ended by a path that left its wait open
    stale_call = session.get(Call, stale.call_id)
    assert stale_call is not None
    stale_call.updated_at = NOW  # no webhook since
    session.flush()
    later = NOW + services.STALE_CALL_AFTER + timedelta(minutes=1)
    result = services.finish_stale_calls(session, now=later)
    assert result == {"finished": 1, "tickets": 1, "waits_closed": 1}
    assert (stale.status, ghost.status) == (WaitStatus.ABANDONED, WaitStatus.ABANDONED)
    assert routing.callers_for(session, agent, settings, later) == []


def test_answered_at_is_the_bridge_not_the_reservation(session, market, runtime):
    """The speed of answer runs until the caller hears an agent; the floor's figures hold with a
    call wrapped up without an outcome (AVAILABLE chosen during wrap-up)."""
    settings = runtime.settings
    agent = agent_at(session, market, "LZ-TX", available_at=NOW)
    queued = waiting_at(session, market, "LZ-TX", NOW)
    agent_call = calls.answer_next(session, agent, settings, NOW + timedelta(seconds=4))
    assert agent_call is not None and queued.answered_at is None
    calls.bind_answered(session, agent_call, queued.call_sid, NOW + timedelta(seconds=9))
    assert queued.answered_at == agent_call.answered_at == NOW + timedelta(seconds=9)
    calls.call_ended(
        session, agent_call, dial_status="completed", duration_seconds=30, now=NOW + timedelta(seconds=40)
    )
    set_presence(session, agent, Presence.AVAILABLE, NOW + timedelta(seconds=41))  # no outcome written
    routing.caller_left(session, queued.call_sid, WaitStatus.ANSWERED, NOW + timedelta(seconds=42))
    figures = floor_figures(session, settings, agent, NOW + timedelta(seconds=50))
    assert (figures.answered, figures.average_answer_seconds) == (1, 9)
    assert session.get(AgentCall, agent_call.id).outcome in ("", None)  # type: ignore[union-attr]
