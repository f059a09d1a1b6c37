"""The floor page (/console/floor): signed-in agents only; Chinese first, English by the switch; the
figures of the agent's sites only; the polled part alone; a wait past the target coloured."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest

from dispatch.clock import utcnow
from dispatch.models.callcenter import Presence, WaitStatus
from tests.callcenter.test_floor_stats import caller, present
from tests.console.conftest import signed_in
from tests.console.helpers import make_agent

PAGE, BOARD = "/console/floor/", "/console/floor/board"


@pytest.fixture(autouse=True)
def _frozen(clock) -> None:
    """The page reads the service's clock: frozen, so the waits shown are exact."""


def tile(html: str, tile_id: str) -> tuple[str, list[str]]:
    """A tile's number and its classes (the colour)."""
    found = re.search(rf'<div class="([^"]*)" id="{tile_id}"><span class="value">([^<]*)</span>', html)
    assert found is not None, tile_id
    return found.group(2).strip(), found.group(1).split()


def site_rows(html: str) -> list[str]:
    return re.findall(r'<tr data-site="([^"]+)"', html)


def test_not_signed_in_goes_to_sign_in(client, seeded) -> None:
    response = client.get(PAGE)
    assert response.status_code == 302 and "/console/sign-in" in response.headers["Location"]
    # The polled part asks htmx to load the sign-in page rather than swap it into the board.
    polled = client.get(BOARD, headers={"HX-Request": "true"})
    assert polled.status_code == 401 and polled.headers["HX-Redirect"].endswith("/console/sign-in")


def test_an_agent_sees_the_board_of_their_sites(app, session, market) -> None:
    now = utcnow()
    caller(session, market, "LZ-TX", now - timedelta(seconds=75))
    caller(session, market, "LZ-TX-WYM", now - timedelta(seconds=8))
    caller(session, market, "LZ-DJ", now - timedelta(seconds=300))  # another town's: not shown
    caller(session, market, "LZ-TX", now - timedelta(minutes=9), WaitStatus.ANSWERED, answered_after=12)
    caller(session, market, "LZ-TX", now - timedelta(minutes=8), WaitStatus.ANSWERED, answered_after=36)
    caller(session, market, "LZ-TX", now - timedelta(minutes=7), WaitStatus.CALL_BACK, left_after=50)
    taixi = make_agent(session, "tx1", "agent", "LZ-TX")
    present(session, taixi, Presence.AVAILABLE, now)
    present(session, make_agent(session, "dj1", "agent", "LZ-DJ"), Presence.AVAILABLE, now)
    session.commit()

    client = signed_in(app, taixi)
    html = client.get(PAGE).get_data(as_text=True)
    assert "<h1>呼叫中心大屏</h1>" in html
    assert 'hx-get="/console/floor/board"' in html and 'hx-trigger="every 5s"' in html
    assert tile(html, "floor-waiting") == ("2", ["tile", "big", "overdue"])
    assert tile(html, "floor-longest") == ("1分15秒", ["tile", "big", "overdue"])
    assert tile(html, "floor-agents-available")[0] == "1"  # Dongjie's free agent is not Taixi's
    assert tile(html, "floor-answered")[0] == "2"
    assert tile(html, "floor-called-back")[0] == "1"
    assert tile(html, "floor-speed") == ("24秒", ["tile", "late"])
    assert tile(html, "floor-within") == ("50%", ["tile", "late"])
    assert site_rows(html) == ["LZ-TX", "LZ-TX-WYM"]
    assert "东街街道" not in html
    # Linked from the console's navigation.
    assert 'href="/console/floor/"' in client.get("/console/tickets/").get_data(as_text=True)


def test_the_polled_part_is_the_board_alone_and_follows_new_callers(app, session, market) -> None:
    agent = make_agent(session, "lz1", "supervisor", "LZ")
    client = signed_in(app, agent)
    board = client.get(BOARD, headers={"HX-Request": "true"})
    assert board.status_code == 200 and board.headers["Cache-Control"] == "no-store"
    html = board.get_data(as_text=True)
    assert "<html" not in html and "<h1>" not in html
    assert tile(html, "floor-waiting") == ("0", ["tile", "big", "ok"])
    assert "没有人排队，也没有坐席在线。" in html

    caller(session, market, "LZ-DJ", utcnow() - timedelta(seconds=25))
    session.commit()
    html = client.get(BOARD, headers={"HX-Request": "true"}).get_data(as_text=True)
    assert tile(html, "floor-waiting") == ("1", ["tile", "big", "late"])
    assert tile(html, "floor-longest")[0] == "25秒"


def test_in_english_for_an_english_speaking_agent(app, session, market) -> None:
    agent = make_agent(session, "en1", "agent", "LZ", language="en")
    caller(session, market, "LZ-DJ", utcnow() - timedelta(seconds=130))
    session.commit()
    html = signed_in(app, agent).get(PAGE).get_data(as_text=True)
    assert "<h1>Call center floor</h1>" in html
    assert tile(html, "floor-longest")[0] == "2 min 10 s"
    assert "Dongjie Street" in html
