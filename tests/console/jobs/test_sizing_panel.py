"""The job page under the adaptive policy: each wave says why it has its size (expected yeses, the
chance to fill, the waves that still fit) and each offer the chance of a yes it was sent on."""

from __future__ import annotations

import re
from typing import Any

import pytest

from tests.console.helpers import console_post
from tests.console.jobs.conftest import matched
from tests.factories import Market, commit
from tests.helpers import offers_of


@pytest.fixture
def settings_overrides() -> dict[str, Any]:
    return {"MATCHING_POLICY": "adaptive"}


def test_each_wave_says_why_it_has_its_size(runtime, session, market: Market, agent_client) -> None:
    for _ in range(6):
        market.worker(site="LZ-TX")
    job = matched(runtime, session, market, headcount=2)
    [wave] = job.matching["waves"]
    sizing = wave["sizing"]
    page = agent_client.get(f"/console/jobs/{job.id}").get_data(as_text=True)
    panel = re.search(r'<p class="panel sizing" data-sizing="1">(.*?)</p>', page, re.S).group(1)
    expected = f"{sizing['expected_yes']:.1f}"
    chance, target = round(sizing["chance"] * 100), round(sizing["target"] * 100)
    assert f"预计{expected}人接单，尚缺2人：全部补齐的把握为{chance}%。" in panel
    assert f"本轮发{sizing['offers']}条：达到本轮目标{target}%所需的最少人数" in panel
    assert f"开工前还来得及发{sizing['waves_left']}轮" in panel
    assert "未达目标" not in panel
    for offer in offers_of(session, job):
        row = re.search(rf'<tr data-offer="{offer.id}">(.*?)</tr>', page, re.S).group(1)
        assert f"按时接单概率{round(offer.explanation['estimate']['p'] * 100)}%（依据以往0次派单）" in row
        assert "久未派单（再服务）" not in row  # registered today: not idle

    assert console_post(agent_client, "/console/language", {"lang": "en"}).status_code == 302
    english = agent_client.get(f"/console/jobs/{job.id}").get_data(as_text=True)
    assert f"Expected yeses {expected} for 2 open places: a {chance}% chance to fill them all." in english
    assert f"{sizing['offers']} offers: the fewest that reach the aim of {target}% for this wave" in english
    assert "chance of a yes in time (0 past offers)" in english


def test_a_wave_short_of_its_aim_says_so(runtime, session, market: Market, agent_client) -> None:
    market.worker(site="LZ-TX")  # one worker for three places
    job = matched(runtime, session, market, headcount=3)
    assert job.matching["waves"][0]["sizing"]["capped"]
    page = agent_client.get(f"/console/jobs/{job.id}").get_data(as_text=True)
    assert "未达目标：范围内已无更多合适工人，或已到每轮上限。" in page


def test_a_wave_counting_on_lapsed_offers_says_so(runtime, session, market: Market, agent_client) -> None:
    market.worker(site="LZ-TX")
    job = matched(runtime, session, market, headcount=1)
    waves = list(job.matching["waves"])  # a new list: the JSON column sees the change
    # as a wave sent after some offers lapsed unanswered records it (matching/sizing.py)
    waves[0] = {**waves[0], "sizing": {**waves[0]["sizing"], "still_open": 0, "lapsed": 3}}
    job.matching = {**job.matching, "waves": waves}
    commit(runtime, session)
    page = agent_client.get(f"/console/jobs/{job.id}").get_data(as_text=True)
    assert "并计入刚过期未答复的3条：迟到的接单仍可占到剩余名额。" in page
    assert "已计入尚未答复" not in page and "跳过" not in page
    assert console_post(agent_client, "/console/language", {"lang": "en"}).status_code == 302
    english = agent_client.get(f"/console/jobs/{job.id}").get_data(as_text=True)
    assert "And on 3 that lapsed unanswered lately: a late yes still takes a place left." in english


def test_a_wave_that_passed_over_the_unlikely_says_so(runtime, session, market: Market, agent_client) -> None:
    market.worker(site="LZ-TX")
    job = matched(runtime, session, market, headcount=1)
    waves = list(job.matching["waves"])
    waves[0] = {**waves[0], "sizing": {**waves[0]["sizing"], "passed_over": 4}}
    job.matching = {**job.matching, "waves": waves}
    commit(runtime, session)
    page = agent_client.get(f"/console/jobs/{job.id}").get_data(as_text=True)
    assert "跳过4人：按记录很少回复或接单，发给他们难以多补一个名额。" in page
    assert console_post(agent_client, "/console/language", {"lang": "en"}).status_code == 302
    english = agent_client.get(f"/console/jobs/{job.id}").get_data(as_text=True)
    assert "Passed over 4 who rarely answer or say yes on the record" in english
