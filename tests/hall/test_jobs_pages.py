"""The public list (/jobs) by trade and town, a page at a time, in either language; a job's own page
(/j/<code>) with its share preview and its sms:/tel: links, and what it says once filled or over."""

from __future__ import annotations

import re
from datetime import time
from html import unescape

import pytest

from dispatch.models import JobStatus
from tests.factories import Market, commit

NUMBER = "+8635512345678"


@pytest.fixture
def settings_overrides():
    return {"MARKET_NUMBER": NUMBER}


@pytest.fixture(autouse=True)
def _clock(clock):
    return clock


def _codes(html: str) -> list[str]:
    return re.findall(r'<li class="job" data-code="([^"]+)"', html)


def test_the_list_filters_by_trade_and_by_town_with_its_villages(client, session, market: Market, runtime):
    cleaner_tx = market.job(trade="cleaner", site="LZ-TX", start=time(7))
    plumber_village = market.job(trade="plumber_electrician", site="LZ-TX-WYM", start=time(8))
    cleaner_dj = market.job(trade="cleaner", site="LZ-DJ", start=time(9))
    commit(runtime, session)

    everything = client.get("/jobs")
    assert everything.status_code == 200 and everything.headers["Cache-Control"] == "public, max-age=10"
    assert _codes(everything.get_data(as_text=True)) == [
        cleaner_tx.code,
        plumber_village.code,
        cleaner_dj.code,
    ]
    assert _codes(client.get("/jobs?trade=cleaner").get_data(as_text=True)) == [
        cleaner_tx.code,
        cleaner_dj.code,
    ]
    assert _codes(client.get("/jobs?town=LZ-TX").get_data(as_text=True)) == [
        cleaner_tx.code,
        plumber_village.code,
    ]
    assert _codes(client.get("/jobs?town=LZ-TX&trade=cleaner").get_data(as_text=True)) == [cleaner_tx.code]
    assert _codes(client.get("/jobs?town=LZ-TX-WYM").get_data(as_text=True)) == [plumber_village.code]
    html = client.get("/jobs?town=LZ-TX&trade=cleaner").get_data(as_text=True)
    assert '<option value="cleaner" selected>' in html and '<option value="LZ-TX" selected>' in html
    # A stale or odd link still lists something rather than failing.
    for odd in ("/jobs?trade=nope", "/jobs?town=LZ-NOPE", "/jobs?town=%00&trade=%00", "/jobs?page=-3"):
        response = client.get(odd)
        assert response.status_code == 200 and len(_codes(response.get_data(as_text=True))) == 3, odd


def test_the_list_pages_and_speaks_english_when_asked(client, session, market: Market, runtime) -> None:
    jobs = [market.job(trade="porter", start=time(6, minute)) for minute in range(21)]
    commit(runtime, session)
    first = client.get("/jobs?trade=porter").get_data(as_text=True)
    assert _codes(first) == [job.code for job in jobs[:20]]
    assert 'href="/jobs?page=2&amp;trade=porter"' in first
    second = client.get("/jobs?trade=porter&page=2").get_data(as_text=True)
    assert _codes(second) == [jobs[20].code]
    english = client.get("/jobs?trade=porter&lang=en").get_data(as_text=True)
    assert '<html lang="en">' in english and "All trades" in english and "Tomorrow 06:00" in english
    assert 'href="/jobs?trade=porter"' in english  # the switch back to Chinese keeps the filter


def test_a_job_page_has_its_preview_and_the_links_that_take_it(client, session, market: Market, runtime):
    job = market.job(trade="cleaner", site="LZ-TX", headcount=3, pay=180, start=time(7, 30))
    commit(runtime, session)

    response = client.get(f"/j/{job.code}")
    assert response.status_code == 200
    html = unescape(response.get_data(as_text=True))
    assert '<meta property="og:title" content="保洁 · 明天 07:30 · 180元/天">' in html
    assert (
        '<meta property="og:description" content="太行西街街道，还缺3人。'
        f'发短信 1 {job.code} 到 0355 1234 5678 接活">' in html
    )
    assert f'<meta property="og:url" content="http://localhost/j/{job.code}">' in html
    assert f'href="sms:{NUMBER}?body=1%20{job.code}"' in html
    assert f'href="tel:{NUMBER}"' in html
    english = unescape(client.get(f"/j/{job.code}?lang=en").get_data(as_text=True))
    assert '<meta property="og:title" content="cleaner · Tomorrow 07:30 · ¥180/day">' in english


@pytest.mark.parametrize(
    ("status", "filled", "text"),
    [
        (JobStatus.FILLED, 1, "这个岗位已招满。"),
        (JobStatus.CANCELLED, 0, "这个岗位已结束。"),
        (JobStatus.EXPIRED, 0, "这个岗位已结束。"),
    ],
)
def test_a_filled_or_closed_job_says_so_and_offers_no_link(
    client, session, market: Market, runtime, status: JobStatus, filled: int, text: str
) -> None:
    job = market.job()
    job.status, job.filled = status, filled
    commit(runtime, session)
    response = client.get(f"/j/{job.code}")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert text in html and "sms:" not in html and "tel:" not in html


def test_an_unknown_or_unpublished_code_is_404(client, session, market: Market, runtime) -> None:
    draft = market.job()
    draft.status = JobStatus.DRAFT
    commit(runtime, session)
    for path in ("/j/99999", f"/j/{draft.code}", "/j/%00", "/j/" + "9" * 50):
        response = client.get(path)
        assert response.status_code == 404, path
    assert "没有这个岗位号。" in client.get("/j/99999").get_data(as_text=True)
