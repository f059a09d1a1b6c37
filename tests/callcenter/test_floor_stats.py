"""The floor's figures (dispatch/callcenter/stats.py) against real PostgreSQL: callers waiting per site
and the longest wait, agents by presence, the market day's outcomes counted in market time (a day
boundary at local midnight, not UTC's), the average speed of answer and the share within 20 s, and
only the sites the viewer sees."""

from __future__ import annotations

import itertools
from datetime import datetime, timedelta

import pytest
from sqlalchemy.orm import Session

from dispatch.callcenter.stats import Lateness, floor_figures, lateness
from dispatch.models import Agent, Call
from dispatch.models.callcenter import AgentPresence, Presence, QueuedCall, WaitStatus
from tests.console.helpers import make_agent
from tests.factories import SHANGHAI, Market

_sids = itertools.count(1)
# A Tuesday in the market, 10:00 local (02:00 UTC).
NOW = datetime(2026, 12, 1, 10, 0, tzinfo=SHANGHAI)


def caller(
    session: Session,
    market: Market,
    site: str,
    queued_at: datetime,
    status: WaitStatus = WaitStatus.WAITING,
    answered_after: float | None = None,
    left_after: float | None = None,
) -> QueuedCall:
    """A caller who asked for a person at `site`'s queue; answered or gone after so many seconds."""
    sid = f"CAfloor{next(_sids):08d}"
    call = Call(call_sid=sid, phone="+8613700009999", created_at=queued_at)
    session.add(call)
    session.flush()
    queued = QueuedCall(
        call_id=call.id,
        call_sid=sid,
        site_id=market.site(site).id,
        queue_name=f"agents-{site}",
        status=status,
        queued_at=queued_at,
        answered_at=queued_at + timedelta(seconds=answered_after) if answered_after is not None else None,
        left_at=queued_at + timedelta(seconds=left_after) if left_after is not None else None,
    )
    session.add(queued)
    session.flush()
    return queued


def present(session: Session, agent: Agent, status: Presence, at: datetime = NOW) -> AgentPresence:
    row = AgentPresence(agent_id=agent.id, site_id=agent.site_id, status=status, changed_at=at, seen_at=at)
    session.add(row)
    session.flush()
    return row


def test_an_empty_floor(session, market, runtime) -> None:
    figures = floor_figures(session, runtime.settings, None, NOW)
    assert (figures.waiting, figures.longest_wait_seconds, figures.sites) == (0, None, [])
    assert figures.agents == dict.fromkeys(Presence, 0)
    assert (figures.answered, figures.abandoned, figures.called_back, figures.voicemail) == (0, 0, 0, 0)
    assert figures.average_answer_seconds is None and figures.answered_within_target is None
    assert figures.day.isoformat() == "2026-12-01"


def test_waiting_per_site_and_the_longest_wait(session, market, runtime) -> None:
    caller(session, market, "LZ-TX", NOW - timedelta(seconds=95))
    caller(session, market, "LZ-TX", NOW - timedelta(seconds=10))
    caller(session, market, "LZ-DJ", NOW - timedelta(seconds=30))
    # Gone callers are not waiting, however long ago they came.
    caller(session, market, "LZ-DJ", NOW - timedelta(seconds=500), WaitStatus.ABANDONED, left_after=40)
    figures = floor_figures(session, runtime.settings, None, NOW)
    assert figures.waiting == 3
    assert figures.longest_wait_seconds == 95
    assert figures.lateness == Lateness.OVERDUE  # past CALL_OVERFLOW_SECONDS (60)
    assert [(row.site.code, row.waiting, row.longest_wait_seconds) for row in figures.sites] == [
        ("LZ-TX", 2, 95),
        ("LZ-DJ", 1, 30),
    ]


def test_agents_by_presence_per_site(session, market, runtime) -> None:
    present(session, make_agent(session, "a1", "agent", "LZ-TX"), Presence.AVAILABLE)
    present(session, make_agent(session, "a2", "agent", "LZ-TX"), Presence.BUSY)
    present(session, make_agent(session, "a3", "agent", "LZ-DJ"), Presence.WRAP_UP)
    present(session, make_agent(session, "a4", "agent", "LZ-DJ"), Presence.AWAY)
    present(session, make_agent(session, "a5", "agent", "LZ-MC"), Presence.AWAY)
    figures = floor_figures(session, runtime.settings, None, NOW)
    assert figures.agents == {Presence.AVAILABLE: 1, Presence.BUSY: 1, Presence.WRAP_UP: 1, Presence.AWAY: 2}
    rows = {row.site.code: row.agents for row in figures.sites}
    # A site whose agents are all away (and nobody waiting) is not on the board.
    assert set(rows) == {"LZ-TX", "LZ-DJ"}
    assert rows["LZ-TX"][Presence.AVAILABLE] == 1 and rows["LZ-TX"][Presence.BUSY] == 1
    assert rows["LZ-DJ"][Presence.WRAP_UP] == 1 and rows["LZ-DJ"][Presence.AWAY] == 0


def test_todays_outcomes_speed_of_answer_and_share_within_20_s(session, market, runtime) -> None:
    morning = NOW - timedelta(hours=1)
    for seconds in (5, 15, 20, 40):  # 20 s exactly is within the target
        caller(session, market, "LZ-TX", morning, WaitStatus.ANSWERED, answered_after=seconds)
    caller(session, market, "LZ-TX", morning, WaitStatus.ABANDONED, left_after=70)
    caller(session, market, "LZ-DJ", morning, WaitStatus.ABANDONED, left_after=12)
    caller(session, market, "LZ-DJ", morning, WaitStatus.CALL_BACK, left_after=30)
    caller(session, market, "LZ-DJ", morning, WaitStatus.VOICEMAIL, left_after=180)
    figures = floor_figures(session, runtime.settings, None, NOW)
    assert (figures.answered, figures.abandoned, figures.called_back, figures.voicemail) == (4, 2, 1, 1)
    assert figures.average_answer_seconds == pytest.approx(20.0)
    assert figures.answered_within_target == pytest.approx(0.75)


def test_today_is_the_market_day_not_the_utc_day(session, market, runtime) -> None:
    """Local midnight in Shanghai is 16:00 UTC: 07:00 local belongs to the local day that UTC still
    calls yesterday, and 23:59:50 local yesterday is yesterday however late it was answered."""
    just_after_midnight = datetime(2026, 12, 2, 0, 0, 30, tzinfo=SHANGHAI)
    caller(session, market, "LZ-TX", datetime(2026, 12, 1, 23, 59, 50, tzinfo=SHANGHAI),
           WaitStatus.ANSWERED, answered_after=15)  # fmt: skip
    caller(session, market, "LZ-TX", datetime(2026, 12, 2, 0, 0, 5, tzinfo=SHANGHAI),
           WaitStatus.ANSWERED, answered_after=9)  # fmt: skip
    caller(session, market, "LZ-TX", datetime(2026, 12, 2, 0, 0, 10, tzinfo=SHANGHAI))  # waiting now
    figures = floor_figures(session, runtime.settings, None, just_after_midnight)
    assert figures.day.isoformat() == "2026-12-02"
    assert figures.answered == 1 and figures.average_answer_seconds == pytest.approx(9.0)
    assert figures.waiting == 1 and figures.longest_wait_seconds == 20

    seven_am = datetime(2026, 12, 2, 7, 0, tzinfo=SHANGHAI)  # 23:00 UTC on 1 December
    caller(session, market, "LZ-TX", seven_am - timedelta(minutes=5), WaitStatus.ABANDONED, left_after=60)
    later = floor_figures(session, runtime.settings, None, seven_am)
    assert later.day.isoformat() == "2026-12-02"
    assert (later.answered, later.abandoned) == (1, 1)
    yesterday = floor_figures(
        session, runtime.settings, None, datetime(2026, 12, 1, 23, 59, 59, tzinfo=SHANGHAI)
    )
    assert yesterday.answered == 1 and yesterday.average_answer_seconds == pytest.approx(15.0)
    assert yesterday.abandoned == 0


def test_an_agent_sees_their_site_and_below(session, market, runtime) -> None:
    caller(session, market, "LZ-TX", NOW - timedelta(seconds=50))
    caller(session, market, "LZ-TX-WYM", NOW - timedelta(seconds=25))  # a village of Taixi
    caller(session, market, "LZ-DJ", NOW - timedelta(seconds=200))
    caller(session, market, "LZ-DJ", NOW - timedelta(minutes=5), WaitStatus.ANSWERED, answered_after=3)
    caller(session, market, "LZ-TX", NOW - timedelta(minutes=5), WaitStatus.ABANDONED, left_after=3)
    present(session, make_agent(session, "dj", "agent", "LZ-DJ"), Presence.AVAILABLE)
    taixi = make_agent(session, "tx", "agent", "LZ-TX")
    present(session, taixi, Presence.BUSY)

    mine = floor_figures(session, runtime.settings, taixi, NOW)
    assert [row.site.code for row in mine.sites] == ["LZ-TX", "LZ-TX-WYM"]
    assert (mine.waiting, mine.longest_wait_seconds) == (2, 50)
    assert mine.agents[Presence.AVAILABLE] == 0 and mine.agents[Presence.BUSY] == 1
    assert (mine.answered, mine.abandoned) == (0, 1)

    district = floor_figures(session, runtime.settings, make_agent(session, "lz", "supervisor", "LZ"), NOW)
    assert (district.waiting, district.longest_wait_seconds, district.answered) == (3, 200, 1)
    village = floor_figures(session, runtime.settings, [market.site("LZ-TX-WYM").id], NOW)
    assert (village.waiting, village.abandoned) == (1, 0)


@pytest.mark.parametrize(
    ("seconds", "expected"),
    [(None, Lateness.OK), (0, Lateness.OK), (19, Lateness.OK), (20, Lateness.LATE), (59, Lateness.LATE),
     (60, Lateness.OVERDUE)],
)  # fmt: skip
def test_lateness_colours(runtime, seconds, expected) -> None:
    assert lateness(seconds, runtime.settings) == expected
