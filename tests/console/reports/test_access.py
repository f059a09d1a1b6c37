"""Who may read the reports and what of them: supervisors and admins only; a town supervisor their town
and its village stations, never another town's figures nor the district's rows without a site; odd
query strings answered with a clear 400/404 or a sensible fallback, never a 500."""

from __future__ import annotations

import pytest

from tests.console.conftest import signed_in
from tests.console.helpers import make_agent
from tests.console.reports.helpers import csv_table, week_table

PAGE, CSV = "/console/reports/", "/console/reports/weekly.csv"
TAIXI_SITES = {"LZ-TX", "LZ-TX-WYM", "LZ-TX-FHX"}


def test_not_signed_in_goes_to_sign_in(client, seeded) -> None:
    for path in (PAGE, CSV):
        response = client.get(path)
        assert response.status_code == 302 and "/console/sign-in" in response.headers["Location"]


def test_an_agent_may_not_read_reports(app, session, agent_client) -> None:
    assert agent_client.get(PAGE).status_code == 403
    assert agent_client.get(CSV).status_code == 403
    queue = agent_client.get("/console/tickets/").get_data(as_text=True)
    assert "/console/reports/" not in queue  # nor is the page offered in the navigation


@pytest.mark.parametrize("role", ["supervisor", "admin"])
def test_supervisors_and_admins_may(app, session, seeded, role) -> None:
    client = signed_in(app, make_agent(session, "boss", role, "LZ-TX"))
    assert client.get(PAGE).status_code == 200
    assert client.get(CSV).status_code == 200
    assert "/console/reports/" in client.get("/console/tickets/").get_data(as_text=True)


def test_a_town_supervisor_sees_their_town_and_its_stations(app, session, data) -> None:
    client = signed_in(app, make_agent(session, "tx", "supervisor", "LZ-TX"))
    _, table = csv_table(client.get(f"{CSV}?week=2026-W49&weeks=2"))
    assert {code for _, code in table} == TAIXI_SITES | {""}
    # their week's total: Taixi and its station; not Dongjie's recovered case, not the district's
    # case without a site (500), not Dongjie's insured day
    total = table[("2026-W49", "")]
    assert (total["jobs"], total["places_asked"], total["places_filled"]) == ("2", "3", "2")
    assert (total["cases_opened"], total["amount_owed"]) == ("1", "300")
    assert (total["cases_closed"], total["amount_recovered"], total["insured_days"]) == ("0", "0", "1")
    page = client.get(f"{PAGE}?week=2026-W49&weeks=2").get_data(as_text=True)
    assert "东街街道" not in page and "潞州区零工市场" not in page.split("<main>")[1]
    options = page[page.index('<select name="site">') : page.index("</select>")]
    assert "LZ-TX-WYM" in options and "LZ-DJ" not in options


def test_another_towns_site_is_not_found(app, session, data) -> None:
    client = signed_in(app, make_agent(session, "tx", "supervisor", "LZ-TX"))
    for site in ("LZ-DJ", "LZ", "nowhere"):
        page = client.get(f"{PAGE}?site={site}")
        assert page.status_code == 404
        assert "没有这个站点，或它不在您的管辖范围内" in page.get_data(as_text=True)
        assert '<select name="site">' in page.get_data(as_text=True)  # the form stays, to choose again
        assert client.get(f"{CSV}?site={site}").status_code == 404


def test_a_site_chosen_brings_its_stations(app, session, data) -> None:
    client = signed_in(app, make_agent(session, "sup", "supervisor", "LZ"))
    _, table = csv_table(client.get(f"{CSV}?week=2026-W49&weeks=2&site=LZ-TX"))
    assert {code for _, code in table} == TAIXI_SITES | {""}
    _, station = csv_table(client.get(f"{CSV}?week=2026-W49&weeks=2&site=LZ-TX-WYM"))
    assert {code for _, code in station} == {"LZ-TX-WYM", ""}
    assert station[("2026-W49", "")]["places_filled"] == "2"
    page = client.get(f"{PAGE}?week=2026-W49&weeks=2&site=LZ-TX-WYM").get_data(as_text=True)
    assert list(week_table(page, "2026-W49")) == ["威远门北路社区零工驿站", "合计"]
    assert 'value="LZ-TX-WYM" selected' in page
    assert "site=LZ-TX-WYM" in page  # the download link keeps the choice


@pytest.mark.parametrize(
    "week",
    ["2026-W99", "2026-W00", "2025-W53", "0001-W01", "9999-W52", "last week", "2026-48"],
)
def test_a_week_that_does_not_exist_is_a_clear_400(app, session, seeded, week) -> None:
    client = signed_in(app, make_agent(session, "sup", "supervisor", "LZ"))
    page = client.get(PAGE, query_string={"week": week})
    assert page.status_code == 400
    assert "没有这一周" in page.get_data(as_text=True)
    csv_download = client.get(CSV, query_string={"week": week})
    assert csv_download.status_code == 400 and "没有这一周" in csv_download.get_data(as_text=True)


@pytest.mark.parametrize(
    ("weeks", "shown"),
    [
        ("10000", 26),
        ("9" * 20, 26),
        ("27", 26),
        ("0", 1),
        ("-3", 4),
        ("abc", 4),
        ("", 4),
        ("2", 2),
    ],
)
def test_the_number_of_weeks_is_capped(app, session, seeded, weeks, shown) -> None:
    client = signed_in(app, make_agent(session, "sup", "supervisor", "LZ"))
    page = client.get(PAGE, query_string={"week": "2026-W49", "weeks": weeks})
    assert page.status_code == 200
    assert page.get_data(as_text=True).count('<h2 id="20') == shown
    _, table = csv_table(client.get(CSV, query_string={"week": "2026-W49", "weeks": weeks}))
    assert len({week for week, _ in table}) == shown


def test_other_odd_input(app, session, seeded) -> None:
    client = signed_in(app, make_agent(session, "sup", "supervisor", "LZ"))
    assert client.get(PAGE, query_string={"site": "LZ\x00"}).status_code == 400  # the console's guard
    assert client.get(PAGE, query_string={"site": "x" * 5000}).status_code == 404
    assert client.get(PAGE, query_string={"week": "2026-w49"}).status_code == 200  # what people type
    assert client.get(PAGE, query_string={"week": " 2026W49 "}).status_code == 200
    full_width = client.get(PAGE, query_string={"week": "２０２６-W48"}).get_data(as_text=True)
    assert 'value="2026-W48"' in full_width
    assert client.get(PAGE, query_string={"week": "2026-W01", "weeks": "26"}).status_code == 200  # into 2025
    # repeated parameters: the first counts
    assert client.get(f"{PAGE}?week=2026-W49&week=nonsense&weeks=1").status_code == 200
