"""The screen's page and JSON over HTTP: headers that make them safe to cache, an ETag that changes only
with the jobs, a few seconds' memory between polls, and the last good answer (marked stale) while the
database is away."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import create_engine
from sqlalchemy.orm import sessionmaker

from dispatch.hall.views import CONTENT_SECURITY_POLICY
from dispatch.models import JobStatus
from tests.factories import Market, commit


@pytest.fixture(autouse=True)
def _clock(clock):
    return clock


def test_the_screen_page_is_public_cacheable_and_has_no_inline_script(
    client, session, market: Market, runtime
):
    job = market.job(site="LZ-TX-WYM", pay=280)
    commit(runtime, session)

    response = client.get("/screen/LZ-TX")
    assert response.status_code == 200
    assert response.headers["Content-Security-Policy"] == CONTENT_SECURITY_POLICY
    assert response.headers["Cache-Control"] == "public, max-age=10"
    html = response.get_data(as_text=True)
    assert "太行西街街道" in html and "Taihang West Street" in html
    assert f'data-code="{job.code}"' in html and "280元/天" in html and "¥280/day" in html
    assert "发短信“1 岗位号”到 10690000" in html  # the market's number (the simulator's on a first run)
    assert 'data-json="/screen/LZ-TX/jobs.json"' in html
    # Scripts only from files; the QR code is SVG markup pointing at the town's list.
    assert re.findall(r"<script(?![^>]*\bsrc=)", html) == []
    assert "<svg" in html and 'href="http://localhost/jobs?town=LZ-TX"' in html
    assert client.get("/screen").status_code == 200
    assert 'href="http://localhost/jobs"' in client.get("/screen").get_data(as_text=True)


def test_an_unknown_or_odd_site_is_404_without_touching_anything(client, seeded) -> None:
    assert client.get("/screen/LZ-NOPE").status_code == 404
    assert client.get("/screen/LZ-NOPE/jobs.json").status_code == 404
    assert client.get("/screen/%00").status_code == 404
    assert client.get("/screen/" + "x" * 40 + "/jobs.json").status_code == 404


def test_the_json_has_an_etag_that_changes_only_with_the_jobs(
    client, session, market: Market, runtime, clock
):
    job = market.job(headcount=2)
    commit(runtime, session)

    first = client.get("/screen/LZ-TX/jobs.json")
    assert first.status_code == 200 and first.headers["Cache-Control"] == "public, max-age=4"
    data = first.get_json()
    assert data["stale"] is False and [row["code"] for row in data["jobs"]] == [job.code]
    assert data["jobs"][0]["text"]["zh"]["left"] == "还缺2人"
    tag = first.headers["ETag"]
    clock.shift(3)  # past the memory's few seconds: read again, the same jobs
    again = client.get("/screen/LZ-TX/jobs.json", headers={"If-None-Match": tag})
    assert again.status_code == 304

    job.filled = 1
    commit(runtime, session)
    clock.shift(3)
    changed = client.get("/screen/LZ-TX/jobs.json", headers={"If-None-Match": tag})
    assert changed.status_code == 200 and changed.headers["ETag"] != tag
    assert changed.get_json()["jobs"][0]["text"]["zh"]["left"] == "还缺1人"


def test_polls_within_two_seconds_are_answered_from_memory(client, session, market: Market, runtime, clock):
    market.job()
    commit(runtime, session)
    assert len(client.get("/screen/jobs.json").get_json()["jobs"]) == 1

    new = market.job()
    commit(runtime, session)
    clock.shift(1)
    assert len(client.get("/screen/jobs.json").get_json()["jobs"]) == 1  # every TV's poll, one query
    clock.shift(2)
    assert [row["code"] for row in client.get("/screen/jobs.json").get_json()["jobs"]][-1] == new.code

    new.status = JobStatus.FILLED
    new.filled = new.headcount
    commit(runtime, session)
    clock.shift(3)
    assert new.code not in [row["code"] for row in client.get("/screen/jobs.json").get_json()["jobs"]]


def test_while_the_database_is_away_the_last_good_answer_is_served_as_stale(
    client, session, market: Market, runtime, clock, monkeypatch
) -> None:
    job = market.job()
    commit(runtime, session)
    assert client.get("/screen/LZ-TX/jobs.json").get_json()["stale"] is False
    assert 'id="stale" class="stale" hidden' in client.get("/screen/LZ-TX").get_data(as_text=True)

    # Nothing listens on port 1: every connection is refused, as when PostgreSQL restarts.
    gone = create_engine(
        "postgresql+psycopg://postgres@127.0.0.1:1/gone", connect_args={"connect_timeout": 2}
    )
    monkeypatch.setattr(runtime.db, "sessionmaker", sessionmaker(gone))
    clock.shift(10)
    stale = client.get("/screen/LZ-TX/jobs.json")
    assert stale.status_code == 200 and stale.headers["Cache-Control"] == "no-cache"
    data = stale.get_json()
    assert data["stale"] is True and [row["code"] for row in data["jobs"]] == [job.code]
    page = client.get("/screen/LZ-TX")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert 'id="stale" class="stale">' in html and f'data-code="{job.code}"' in html

    # A screen never answered before has nothing to show: 503, which its page's poll rides out.
    assert client.get("/screen/LZ-DJ/jobs.json").status_code == 503
    waiting = client.get("/screen/LZ-DJ")
    assert waiting.status_code == 503 and waiting.headers["Cache-Control"] == "no-store"
    html = waiting.get_data(as_text=True)
    # An empty screen that polls and reloads itself once the database answers.
    assert 'data-json="/screen/LZ-DJ/jobs.json"' in html and 'data-reload-when-back="1"' in html
    assert 'id="stale" class="stale">' in html
    gone.dispose()
