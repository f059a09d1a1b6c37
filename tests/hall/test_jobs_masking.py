"""No public page names or reaches a person: every page of /screen, /jobs and /j/ (and the screen's JSON),
in both languages, for open, filled and closed jobs, is scanned for the seeded employers' and workers'
numbers (in every way a number is written), names and street addresses, and the jobs' notes. The only
number on them is the market's own."""

from __future__ import annotations

import re
from html import unescape
from urllib.parse import unquote

import pytest

from dispatch.models import JobStatus
from dispatch.phones import display
from tests.factories import Market, commit, offered
from tests.helpers import text_in

MARKET_NUMBER = "+8610690000"
MOBILE = re.compile(r"(?<!\d)1[3-9]\d{9}(?!\d)")  # a mainland mobile number, once spaces and dashes go


@pytest.fixture
def settings_overrides():
    return {"MARKET_NUMBER": MARKET_NUMBER}


@pytest.fixture(autouse=True)
def _clock(clock):
    return clock


def _forms(phone: str) -> set[str]:
    national = phone.removeprefix("+86")
    return {phone, national, display(phone), phone.removeprefix("+"), national[-8:]}


def test_no_public_page_carries_a_persons_number_name_or_address(client, session, market: Market, runtime):
    boss = market.employer("+8613600005678", name="太行装修队", address="太行西街88号3单元")
    farm = market.employer("+8615900001111", name="李家农场", site="LZ-TX-WYM", address="威远门北路12号")
    sun = market.worker("+8613700001234", name="孙师傅", trades=("cleaner",))
    zhou = market.worker("+8618800004321", name="周大姐", trades=("cleaner",))
    taken = offered(runtime, session, market, sun, zhou, employer=boss, trade="cleaner", headcount=1)
    text_in(client, f"1 {taken.code}", sender=sun.phone)  # the place goes to 孙师傅: the job is filled
    session.expire_all()
    assert session.get(type(taken), taken.id).status == JobStatus.FILLED
    open_job = market.job(farm, trade="farmhand", site="LZ-TX-WYM", headcount=4)
    open_job.notes = "找李老板 13912345678"
    half = market.job(boss, trade="plumber_electrician", headcount=2)
    half.filled = 1
    closed = market.job(farm, trade="porter")
    closed.status = JobStatus.CANCELLED
    commit(runtime, session)

    paths = ["/screen", "/screen/LZ-TX", "/screen/LZ-TX-WYM", "/screen/jobs.json", "/screen/LZ-TX/jobs.json"]
    paths += ["/jobs", "/jobs?town=LZ-TX", "/jobs?trade=farmhand", "/jobs?lang=en"]
    for job in (taken, open_job, half, closed):
        paths += [f"/j/{job.code}", f"/j/{job.code}?lang=en"]
    pages = {}
    for path in paths:
        response = client.get(path)
        assert response.status_code == 200, path
        pages[path] = unquote(unescape(response.get_data(as_text=True)))
    assert open_job.code in pages["/screen/LZ-TX"] and half.code in pages["/jobs"]  # the scan sees jobs

    secrets = {"太行装修队", "李家农场", "孙师傅", "周大姐", "太行西街88号", "威远门北路12号", "李老板"}
    for person in (boss, farm, sun, zhou):
        secrets |= _forms(person.phone)
    secrets |= _forms("+8613912345678")
    for path, text in pages.items():
        assert [secret for secret in secrets if secret in text] == [], path
        joined = re.sub(r"(?<=\d)[ \-](?=\d)", "", text)
        assert MOBILE.findall(joined) == [], path
    assert (
        "10690000" in pages["/jobs"]
        and f"sms:{MARKET_NUMBER}?body=1 {open_job.code}" in pages[f"/j/{open_job.code}"]
    )
