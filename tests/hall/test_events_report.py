"""The events report (/console/reports/events): events, texts, sign-ups and attendance per site and per
kind over the chosen weeks; a town supervisor sees their town and its stations; agents may not."""

from __future__ import annotations

import re
from datetime import datetime

import pytest

from dispatch.models import Event, EventKind, EventSignup, Outreach, OutreachStatus, SignupStatus
from dispatch.outreach import services
from tests.console.conftest import signed_in
from tests.console.helpers import make_agent
from tests.factories import SHANGHAI, Market


def at(day: int, hour: int = 9) -> datetime:
    return datetime(2026, 12, day, hour, tzinfo=SHANGHAI)


def _event(session, runtime, kind: EventKind, site: str, starts: datetime | None) -> Event:
    event = Event(
        kind=kind,
        title_zh="活动",
        title_en="Event",
        site_id=Market(session).site(site).id,
        starts_at=starts,
        place_zh="大厅",
        place_en="Hall",
        capacity=10 if kind != EventKind.ANNOUNCEMENT else None,
    )
    return services.create_event(session, runtime.settings, event, None)


B, W, C = SignupStatus.BOOKED, SignupStatus.WAITING, SignupStatus.CANCELLED


def _signups(session, event: Event, workers, rows: list[tuple[SignupStatus, str]]) -> None:
    """One sign-up per worker: its status and marks (`came`, `completed`, `walk_in`, joined by +)."""
    for worker, (status, marks) in zip(workers, rows, strict=False):
        session.add(
            EventSignup(
                event_id=event.id,
                worker_id=worker.id,
                status=status,
                attended_at=at(5) if "came" in marks else None,
                completed_at=at(5) if "completed" in marks else None,
                walk_in="walk_in" in marks,
            )
        )
    session.flush()


@pytest.fixture
def events(session, seeded, runtime, clock):
    market = Market(session)
    workers = [market.worker(name=f"工{index}") for index in range(6)]
    training = _event(session, runtime, EventKind.TRAINING, "LZ-TX", at(5))
    rows = [(B, "came+completed"), (B, "came+completed"), (B, "came"), (W, ""), (C, ""), (B, "came+walk_in")]
    _signups(session, training, workers, rows)
    session.add(Outreach(event_id=training.id, send_at=at(1), status=OutreachStatus.SENT, sent=12))
    talk = _event(session, runtime, EventKind.POLICY_TALK, "LZ-DJ", at(3, 15))
    _signups(session, talk, workers, [(B, "came"), (B, "")])
    _event(session, runtime, EventKind.ANNOUNCEMENT, "LZ-TX", None)  # made now: this week
    later = _event(session, runtime, EventKind.TRAINING, "LZ-TX", at(20))  # week 51: not in week 49
    _signups(session, later, workers, [(B, "came")] * 3)
    session.commit()
    return training


def _row(page: str, **data: str) -> list[int]:
    attributes = "".join(rf'[^>]*data-{name}="{value}"' for name, value in data.items())
    match = re.search(rf"<tr{attributes}[^>]*><td>[^<]*</td>\s*((?:<td>\d+</td>\s*)+)", page)
    assert match, data
    return [int(value) for value in re.findall(r"<td>(\d+)</td>", match.group(1))]


def test_events_signups_and_attendance_per_site_and_kind(app, session, events) -> None:
    client = signed_in(app, make_agent(session, "boss", "supervisor", "LZ"))
    page = client.get("/console/reports/events?week=2026-W49&weeks=1").get_data(as_text=True)
    # events, texts, signed up, still waiting, cancelled, came, completed, walk-ins
    assert _row(page, site="LZ-TX", kind="training") == [1, 12, 5, 1, 1, 4, 2, 1]
    assert _row(page, site="LZ-TX", kind="announcement") == [1, 0, 0, 0, 0, 0, 0, 0]
    assert _row(page, site="LZ-DJ", kind="policy_talk") == [1, 0, 2, 0, 0, 1, 0, 0]
    assert _row(page, kind="total") == [3, 12, 7, 1, 1, 5, 2, 1]
    # Three weeks to week 51: the later training counts too.
    wider = client.get("/console/reports/events?week=2026-W51&weeks=3").get_data(as_text=True)
    assert _row(wider, site="LZ-TX", kind="training") == [2, 12, 8, 1, 1, 7, 2, 1]
    linked = client.get("/console/reports/?week=2026-W49&weeks=1").get_data(as_text=True)
    assert 'id="to-events-report"' in linked


def test_a_town_supervisor_sees_their_town_and_agents_see_nothing(app, session, events) -> None:
    town = signed_in(app, make_agent(session, "tx", "supervisor", "LZ-TX"))
    page = town.get("/console/reports/events?week=2026-W49&weeks=1").get_data(as_text=True)
    assert 'data-site="LZ-TX"' in page and 'data-site="LZ-DJ"' not in page
    assert town.get("/console/reports/events?site=LZ-DJ").status_code == 404
    assert town.get("/console/reports/events?week=2026-W99").status_code == 400
    agent = signed_in(app, make_agent(session, "a1", "agent", "LZ"))
    assert agent.get("/console/reports/events").status_code in (302, 403)
    empty = town.get("/console/reports/events?week=2026-W40&weeks=1").get_data(as_text=True)
    assert 'id="no-events"' in empty
