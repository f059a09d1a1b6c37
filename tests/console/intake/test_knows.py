"""Intake that knows what it knows: a known employer's site and address filled in (from the ticket's
number and from the lookup), the site picker with the IVR's numbers and villages under their towns,
and starts to the half hour."""

from __future__ import annotations

import re
from datetime import datetime, time
from zoneinfo import ZoneInfo

import time_machine
from sqlalchemy import select

from dispatch.ivr.choices import site_keys, villages_in_menu_order
from dispatch.models import Employer, Site, TicketKind
from tests.console.helpers import console_post, sign_in
from tests.console.intake.conftest import EMPLOYER_PHONE, make_ticket
from tests.console.intake.test_job_form import URL, job_form, jobs
from tests.factories import Market
from tests.helpers import outbound_to

SHANGHAI = ZoneInfo("Asia/Shanghai")


def selected_site(page: str) -> str | None:
    found = re.search(r'<option value="(\d+)" data-key="[^"]*" data-search="[^"]*" selected>', page)
    return found.group(1) if found else None


def address_value(page: str) -> str:
    found = re.search(r'<input type="text" name="address" id="address" value="([^"]*)"', page)
    assert found is not None
    return found.group(1)


def test_a_known_employers_site_and_address_fill_the_form_from_the_tickets_number(
    agent_client, session, catalogue
):
    Market(session).employer(EMPLOYER_PHONE, name="王老板", site="LZ-TX-WYM", address="威远门北路12号")
    ticket = make_ticket(session, TicketKind.CALL_BACK, "job", {"trade": catalogue.trade("cleaner")})
    page = agent_client.get(f"{URL}?ticket={ticket.id}").get_data(as_text=True)
    assert selected_site(page) == str(catalogue.site("LZ-TX-WYM"))
    assert address_value(page) == "威远门北路12号"
    # The agent may change both: what is posted is what counts.
    form = job_form(catalogue, phone=EMPLOYER_PHONE, site=str(catalogue.site("LZ-DJ")), address="东街1号")
    assert console_post(agent_client, f"{URL}?ticket={ticket.id}", form).status_code == 302
    [job] = jobs(session)
    assert (job.site_id, job.address) == (catalogue.site("LZ-DJ"), "东街1号")


def test_the_ivr_answers_win_over_the_employers_site_and_the_last_job_gives_the_address(
    agent_client, session, catalogue
):
    market = Market(session)
    employer = market.employer(EMPLOYER_PHONE, site="LZ-TX", address="")
    market.job(employer, site="LZ-TX", address="府后西街3号")
    answers = {"site": catalogue.site("LZ-DJ")}
    ticket = make_ticket(session, TicketKind.CALL_BACK, "job", answers)
    page = agent_client.get(f"{URL}?ticket={ticket.id}").get_data(as_text=True)
    assert selected_site(page) == str(catalogue.site("LZ-DJ"))
    assert address_value(page) == "府后西街3号"


def test_the_lookup_card_carries_the_defaults_only_for_an_employer_the_agent_may_see(
    agent_client, town_client, session, catalogue
):
    Market(session).employer(EMPLOYER_PHONE, site="LZ-DJ", address="东街8号")
    session.commit()
    card = console_post(agent_client, "/console/intake/employer", {"phone": EMPLOYER_PHONE}).get_data(
        as_text=True
    )
    assert f'data-site="{catalogue.site("LZ-DJ")}" data-address="东街8号"' in card
    card = console_post(town_client, "/console/intake/employer", {"phone": EMPLOYER_PHONE}).get_data(
        as_text=True
    )
    assert 'data-site="" data-address=""' in card  # another town's employer: nothing of theirs shown


def test_the_site_picker_shows_the_ivrs_numbers_with_villages_under_their_towns(agent_client, session):
    page = agent_client.get(URL).get_data(as_text=True)
    keys = site_keys(session)
    town = session.scalars(select(Site).where(Site.code == "LZ-TX")).one()
    assert keys[town.id] == "8"
    group = re.search(r'<optgroup label="8 · 太行西街街道">(.*?)</optgroup>', page, re.S)
    assert group is not None
    options = re.findall(r'<option value="(\d+)" data-key="([^"]*)"[^>]*>([^<]*)</option>', group.group(1))
    villages = villages_in_menu_order(session, town.id)
    assert [int(site_id) for site_id, _, _ in options] == [town.id, *(v.id for v in villages)]
    assert [key for _, key, _ in options] == ["8", *(f"8-{n}" for n in range(1, len(villages) + 1))]
    assert options[0][2] == "8 · 太行西街街道"
    assert options[1][2] == f"8-1 · — {villages[0].name_zh}"
    # Every choosable place carries the key the IVR teaches, and the filter box is there for the script.
    assert 'data-site-filter="site-select" hidden' in page
    assert len(re.findall(r'data-key="\d+(-\d+)?"', page)) == len(keys)


def test_the_worker_form_uses_the_same_picker(agent_client):
    page = agent_client.get("/console/intake/worker").get_data(as_text=True)
    assert '<optgroup label="8 · 太行西街街道">' in page and 'data-site-filter="site-select"' in page


def test_starts_go_by_half_hours(agent_client, session, catalogue):
    page = agent_client.get(URL).get_data(as_text=True)
    assert '<option value="07:30"' in page and '<option value="23:30"' in page
    assert console_post(agent_client, URL, job_form(catalogue, start="07:15")).status_code == 422
    assert console_post(agent_client, URL, job_form(catalogue, start="24:00")).status_code == 422
    assert console_post(agent_client, URL, job_form(catalogue, start="07:30")).status_code == 302
    [job] = jobs(session)
    assert job.start_time == time(7, 30)


def test_the_sms_to_the_employer_says_half_past(agent_client, session, catalogue):
    assert console_post(agent_client, URL, job_form(catalogue, start="07:30")).status_code == 302
    [sms] = outbound_to(session, EMPLOYER_PHONE)
    assert "7点30分上工" in sms.body


def test_today_a_half_hour_gone_by_is_refused_and_one_ahead_taken(app, agent, session, catalogue):
    with time_machine.travel(datetime(2026, 12, 1, 15, 10, tzinfo=SHANGHAI), tick=False):
        client = app.test_client()
        sign_in(client, agent.username)
        response = console_post(client, URL, job_form(catalogue, day="today", start="15:00"))
        assert response.status_code == 422 and "这个时间已经过了" in response.get_data(as_text=True)
        assert console_post(client, URL, job_form(catalogue, day="today", start="15:30")).status_code == 302
    [job] = jobs(session)
    assert job.start_time == time(15, 30)


def test_a_tickets_half_past_answer_fills_the_start(agent_client, session, catalogue):
    ticket = make_ticket(session, TicketKind.CALL_BACK, "job", {"hour": 7, "minute": 30})
    page = agent_client.get(f"{URL}?ticket={ticket.id}").get_data(as_text=True)
    assert '<option value="07:30" selected>' in page


def test_a_form_posting_the_bare_hour_still_works(agent_client, session, catalogue):
    form = job_form(catalogue)
    del form["start"]
    assert console_post(agent_client, URL, {**form, "hour": "9" * 5000}).status_code == 422
    assert console_post(agent_client, URL, {**form, "hour": "9"}).status_code == 302
    [job] = jobs(session)
    assert job.start_time == time(9)


def test_the_employer_row_is_not_changed_by_the_defaults(agent_client, session, catalogue):
    Market(session).employer(EMPLOYER_PHONE, site="LZ-TX-WYM", address="威远门北路12号")
    session.commit()
    form = job_form(catalogue, phone=EMPLOYER_PHONE, site=str(catalogue.site("LZ-TX")), address="别处")
    assert console_post(agent_client, URL, form).status_code == 302
    session.expire_all()
    employer = session.scalars(select(Employer).where(Employer.phone == EMPLOYER_PHONE)).one()
    assert (employer.site_id, employer.address) == (catalogue.site("LZ-TX-WYM"), "威远门北路12号")
