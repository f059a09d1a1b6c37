"""Routing: the site chain, the caller's site, overflow levels, who may take whom, place in queue."""

from __future__ import annotations

from datetime import timedelta

from dispatch.callcenter import routing
from dispatch.callcenter.calls import call_ended, start_outbound
from dispatch.callcenter.presence import set_presence
from dispatch.models import Presence, WaitStatus
from tests.callcenter.helpers import a_call, agent_at, waiting_at
from tests.factories import NOW


def test_site_chain_goes_up_to_the_district(session, market):
    chain = routing.site_chain(session, market.site("LZ-TX-WYM").id)
    assert [site.code for site in chain] == ["LZ-TX-WYM", "LZ-TX", "LZ"]
    assert [site.code for site in routing.site_chain(session, market.site("LZ").id)] == ["LZ"]


def test_queue_name(market):
    assert routing.queue_name(market.site("LZ-TX-WYM")) == "agents-LZ-TX-WYM"


def test_overflow_level_by_wait(runtime):
    settings = runtime.settings
    step = settings.CALL_OVERFLOW_SECONDS
    assert [routing.overflow_level(w, settings) for w in (0, step - 1, step, 2 * step - 1, 2 * step)] == [
        0,
        0,
        1,
        1,
        2,
    ]


def test_caller_site_employer_worker_chosen_district(session, market):
    employer = market.employer(site="LZ-DJ")
    worker = market.worker(site="LZ-TX-WYM")
    chosen = market.site("LZ-XJ").id
    assert routing.caller_site(session, a_call(session, employer_id=employer.id, site=chosen)).code == "LZ-DJ"
    assert routing.caller_site(session, a_call(session, worker_id=worker.id, site=chosen)).code == "LZ-TX-WYM"
    assert routing.caller_site(session, a_call(session, phone=worker.phone, site=chosen)).code == "LZ-TX-WYM"
    assert routing.caller_site(session, a_call(session, phone=employer.phone)).code == "LZ-DJ"
    assert routing.caller_site(session, a_call(session, site=chosen)).code == "LZ-XJ"
    assert routing.caller_site(session, a_call(session)).code == "LZ"


def test_a_village_caller_reaches_the_district_agent_in_the_whole_chain(session, market, runtime):
    settings = runtime.settings
    village = market.site("LZ-TX-WYM").id
    assert routing.agents_reachable(session, village, settings) == 0
    agent_at(session, market, "LZ", available_at=NOW)
    agent_at(session, market, "LZ-DJ", available_at=NOW)  # another town: never this caller's
    village_agent = agent_at(session, market, "LZ-TX-WYM", available_at=NOW)
    town_agent = agent_at(session, market, "LZ-TX", available_at=NOW)
    assert routing.agents_reachable(session, village, settings) == 3
    assert routing.agents_reachable(session, village, settings, waited_seconds=0) == 1
    step = settings.CALL_OVERFLOW_SECONDS
    assert routing.agents_reachable(session, village, settings, waited_seconds=step) == 2
    assert routing.agents_reachable(session, village, settings, waited_seconds=2 * step) == 3
    # The village and town agents gone, only the district is on duty: it is reachable at once.
    set_presence(session, village_agent, Presence.AWAY, NOW)
    set_presence(session, town_agent, Presence.AWAY, NOW)
    assert routing.agents_reachable(session, village, settings, waited_seconds=0) == 1


def test_empty_levels_cost_no_overflow_wait(session, market, runtime):
    """Only the district on duty: a village caller is offered to it at once (it could never be before
    the hold ends with a long CALL_OVERFLOW_SECONDS otherwise); a town agent on duty, even busy, is a
    level the caller waits for first."""
    settings = runtime.settings
    step = settings.CALL_OVERFLOW_SECONDS
    district_agent = agent_at(session, market, "LZ", available_at=NOW)
    queued = waiting_at(session, market, "LZ-TX-WYM", NOW)
    assert routing.callers_for(session, district_agent, settings, NOW) == [queued]
    town_agent = agent_at(session, market, "LZ-TX", available_at=NOW)
    start_outbound(session, town_agent, phone="+8613700007003", now=NOW)  # busy: still on duty
    assert routing.callers_for(session, district_agent, settings, NOW) == []
    assert routing.callers_for(session, district_agent, settings, NOW + timedelta(seconds=step)) == [queued]
    assert routing.place_in_queue(session, queued, settings, NOW) == 1


def test_callers_for_overflow_by_level(session, market, runtime):
    settings = runtime.settings
    step = settings.CALL_OVERFLOW_SECONDS
    village_agent = agent_at(session, market, "LZ-TX-WYM", available_at=NOW)
    town_agent = agent_at(session, market, "LZ-TX", available_at=NOW)
    district_agent = agent_at(session, market, "LZ", available_at=NOW)
    other_town = agent_at(session, market, "LZ-DJ", available_at=NOW)
    queued = waiting_at(session, market, "LZ-TX-WYM", NOW)

    def takers(at):
        return [
            agent
            for agent in (village_agent, town_agent, district_agent, other_town)
            if queued in routing.callers_for(session, agent, settings, at)
        ]

    assert takers(NOW) == [village_agent]
    assert takers(NOW + timedelta(seconds=step)) == [village_agent, town_agent]
    assert takers(NOW + timedelta(seconds=2 * step)) == [village_agent, town_agent, district_agent]


def test_place_in_queue(session, market, runtime):
    settings = runtime.settings
    step = settings.CALL_OVERFLOW_SECONDS
    agent_at(session, market, "LZ-TX-WYM", available_at=NOW)  # every level on duty: each costs a wait
    agent_at(session, market, "LZ-TX", available_at=NOW)
    first = waiting_at(session, market, "LZ-TX-WYM", NOW)
    town = waiting_at(session, market, "LZ-TX", NOW + timedelta(seconds=1))
    second = waiting_at(session, market, "LZ-TX-WYM", NOW + timedelta(seconds=2))
    assert routing.place_in_queue(session, first, settings, NOW + timedelta(seconds=3)) == 1
    # The town caller is not ahead of a village caller still at its own site's agents ...
    assert routing.place_in_queue(session, second, settings, NOW + timedelta(seconds=3)) == 2
    # ... but is once the village caller overflows to the town.
    later = NOW + timedelta(seconds=step + 2)
    assert routing.place_in_queue(session, second, settings, later) == 3
    routing.caller_left(session, first.call_sid, WaitStatus.ABANDONED, later)
    assert routing.place_in_queue(session, second, settings, later) == 2
    assert town.status == WaitStatus.WAITING


def test_a_town_caller_reaches_the_district_after_one_wait(session, market, runtime):
    settings = runtime.settings
    district_agent = agent_at(session, market, "LZ", available_at=NOW)
    village_agent = agent_at(session, market, "LZ-TX-WYM", available_at=NOW)  # below: never a town's caller
    agent_at(session, market, "LZ-TX", available_at=NOW)  # the town's own agent, on duty
    queued = waiting_at(session, market, "LZ-TX", NOW)
    step = timedelta(seconds=settings.CALL_OVERFLOW_SECONDS)
    assert routing.callers_for(session, district_agent, settings, NOW + step - timedelta(seconds=1)) == []
    assert routing.callers_for(session, district_agent, settings, NOW + step) == [queued]
    assert routing.callers_for(session, village_agent, settings, NOW + 10 * step) == []


def test_agents_on_duty_are_reachable_not_away_or_disabled_ones(session, market, runtime):
    """Busy and wrapping-up agents count (a caller waits for them); away and disabled ones do not."""
    settings = runtime.settings
    site = market.site("LZ-TX").id
    away = agent_at(session, market, "LZ-TX")
    busy = agent_at(session, market, "LZ-TX", available_at=NOW)
    start_outbound(session, busy, phone="+8613700007001", now=NOW)
    wrapping = agent_at(session, market, "LZ-TX", available_at=NOW)
    call_ended(
        session,
        start_outbound(session, wrapping, phone="+8613700007002", now=NOW),
        dial_status="busy",
        duration_seconds=0,
        now=NOW,
    )
    disabled = agent_at(session, market, "LZ-TX", available_at=NOW)
    disabled.active = False
    session.flush()
    assert routing.agents_reachable(session, site, settings) == 2  # the busy one and the one wrapping up
    set_presence(session, away, Presence.AVAILABLE, NOW)
    assert routing.agents_reachable(session, site, settings, waited_seconds=0) == 3
    set_presence(session, away, Presence.AWAY, NOW)
    set_presence(session, wrapping, Presence.AWAY, NOW)
    set_presence(session, busy, Presence.AWAY, NOW)
    assert routing.agents_reachable(session, site, settings) == 0


def test_callers_longest_wait_first(session, market, runtime):
    settings = runtime.settings
    agent = agent_at(session, market, "LZ-TX", available_at=NOW)
    step = settings.CALL_OVERFLOW_SECONDS
    own = waiting_at(session, market, "LZ-TX", NOW)
    below = waiting_at(session, market, "LZ-TX-FHX", NOW - timedelta(seconds=step))  # overflowed, older
    assert routing.callers_for(session, agent, settings, NOW) == [below, own]


def test_place_counts_a_sibling_village_once_both_reach_the_town(session, market, runtime):
    settings = runtime.settings
    step = settings.CALL_OVERFLOW_SECONDS
    agent_at(session, market, "LZ-TX-FHX", available_at=NOW)
    agent_at(session, market, "LZ-TX-WYM", available_at=NOW)
    waiting_at(session, market, "LZ-TX-FHX", NOW)  # a sibling village, waiting longer
    mine = waiting_at(session, market, "LZ-TX-WYM", NOW + timedelta(seconds=1))
    assert routing.place_in_queue(session, mine, settings, NOW + timedelta(seconds=2)) == 1
    assert routing.place_in_queue(session, mine, settings, NOW + timedelta(seconds=step + 1)) == 2


def test_queue_caller_is_idempotent_and_caller_left_ends_the_wait(session, market, runtime):
    call = a_call(session, site=market.site("LZ-TX-WYM").id)
    queued = routing.queue_caller(session, call, None, NOW)
    assert (queued.status, queued.site_id, queued.queue_name, queued.queued_at) == (
        WaitStatus.WAITING,
        market.site("LZ-TX-WYM").id,
        "agents-LZ-TX-WYM",
        NOW,
    )
    assert routing.queue_caller(session, call, None, NOW + timedelta(seconds=5)) is queued
    assert routing.current_wait(session, call.call_sid) is queued
    later = NOW + timedelta(seconds=40)
    assert routing.caller_left(session, call.call_sid, WaitStatus.CALL_BACK, later) is queued
    assert (queued.status, queued.left_at) == (WaitStatus.CALL_BACK, later)
    assert routing.current_wait(session, call.call_sid) is None
    assert routing.caller_left(session, call.call_sid, WaitStatus.ABANDONED, later) is None
    again = routing.queue_caller(session, call, None, later)  # back in the queue: a new time in it
    assert again.id != queued.id and again.status == WaitStatus.WAITING
