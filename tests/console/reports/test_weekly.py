"""The weekly report's figures, exact, on the hand-built weeks of conftest.py: per site and week and in
each week's total, in the CSV (plain numbers) and on the page (formatted, charted), in both languages."""

from __future__ import annotations

from datetime import UTC, date

from sqlalchemy import select

from dispatch.models import JobStatus, Site
from tests.console.conftest import signed_in
from tests.console.helpers import console_post, make_agent
from tests.console.reports.conftest import local
from tests.console.reports.helpers import ZERO, bars, csv_table, week_table
from tests.factories import commit

W48, W49 = "2026-W48", "2026-W49"
TWO_WEEKS = "/console/reports/weekly.csv?week=2026-W49&weeks=2"

EXPECTED = {
    (W48, "LZ-TX"): {
        **ZERO,
        "jobs": "3",  # A, E and B (posted 23:30 on the Sunday); the draft D never counts
        "places_asked": "6",
        "places_filled": "4",
        "fill_rate": "66.7",
        "median_fill": "170",  # between 90 and 250 minutes
        "p90_fill": "250",
        "follow_ups_asked": "4",
        "follow_ups_answered": "3",
        "response_rate": "75.0",
        "worker_rating": "5.00",  # the employer's 5; their 0 is a no-show, not a rating
        "no_shows": "1",
        "employer_rating": "4.00",
        "insured_days": "3",  # the failed and the cancelled enrolment do not count
    },
    (W48, "LZ-DJ"): {
        **ZERO,
        "jobs": "1",
        "places_asked": "4",
        "places_filled": "4",
        "fill_rate": "100.0",
        "median_fill": "1470",
        "p90_fill": "1470",
        "follow_ups_asked": "2",
        "follow_ups_answered": "2",
        "response_rate": "100.0",
        "worker_rating": "3.00",
        "employer_rating": "2.00",
        "cases_opened": "1",
        "amount_owed": "1200",
    },
    (W48, ""): {
        **ZERO,
        "jobs": "4",
        "places_asked": "10",
        "places_filled": "8",
        "fill_rate": "80.0",
        "median_fill": "250",  # of 90, 250 and 1470: a median of the jobs, not of the sites' medians
        "p90_fill": "1470",
        "follow_ups_asked": "6",
        "follow_ups_answered": "5",
        "response_rate": "83.3",
        "worker_rating": "4.00",
        "no_shows": "1",
        "employer_rating": "3.00",
        "cases_opened": "1",
        "amount_owed": "1200",
        "insured_days": "3",
    },
    (W49, "LZ-TX"): {
        **ZERO,
        "jobs": "1",  # C, posted at 00:10 on the Monday
        "places_asked": "1",
        "fill_rate": "0.0",
        "follow_ups_asked": "1",
        "response_rate": "0.0",
        "cases_opened": "1",
        "amount_owed": "300",
    },
    (W49, "LZ-TX-WYM"): {
        **ZERO,
        "jobs": "1",
        "places_asked": "2",
        "places_filled": "2",
        "fill_rate": "100.0",
        "median_fill": "30",
        "p90_fill": "30",
        "insured_days": "1",
    },
    (W49, "LZ-DJ"): {**ZERO, "cases_closed": "1", "amount_recovered": "1200", "insured_days": "1"},
    (W49, "LZ"): {**ZERO, "cases_opened": "1", "amount_owed": "500"},  # the case without a site
    (W49, ""): {
        **ZERO,
        "jobs": "2",
        "places_asked": "3",
        "places_filled": "2",
        "fill_rate": "66.7",
        "median_fill": "30",
        "p90_fill": "30",
        "follow_ups_asked": "1",
        "response_rate": "0.0",
        "cases_opened": "2",
        "amount_owed": "800",
        "cases_closed": "1",
        "amount_recovered": "1200",
        "insured_days": "2",
    },
}


def test_every_figure_per_site_and_week_in_the_csv(app, session, data) -> None:
    supervisor = make_agent(session, "sup", "supervisor", "LZ")
    _, table = csv_table(signed_in(app, supervisor).get(TWO_WEEKS))
    sites = set(session.scalars(select(Site.code)))
    # every site the district supervisor sees, in both weeks, plus each week's total
    assert set(table) == {(week, code) for week in (W48, W49) for code in (*sites, "")}
    for key, expected in EXPECTED.items():
        assert table[key] == expected, key
    quiet = [key for key in table if key not in EXPECTED]
    assert quiet and all(table[key] == ZERO for key in quiet)


def test_a_week_is_the_markets_week(app, runtime, session, data) -> None:
    """A job posted at 23:30 on Sunday (local) is in that week; one at 00:10 on Monday in the next,
    though both are on Sunday in UTC (a report bucketing in UTC would put them in one week)."""
    late, early = data.market.job(site="LZ-DJ"), data.market.job(site="LZ-DJ")
    late.created_at, early.created_at = local(12, 6, 23, 30), local(12, 7, 0, 10)
    assert {late.created_at.astimezone(UTC).date(), early.created_at.astimezone(UTC).date()} == {
        date(2026, 12, 6)
    }
    commit(runtime, session)
    supervisor = make_agent(session, "sup", "supervisor", "LZ")
    _, table = csv_table(signed_in(app, supervisor).get("/console/reports/weekly.csv?week=2026-W50&weeks=2"))
    assert table[(W49, "LZ-DJ")]["jobs"] == "1"  # Dongjie had no other job in week 49
    assert table[("2026-W50", "LZ-DJ")]["jobs"] == "1"


def test_a_longer_report_reaches_back(app, session, data) -> None:
    supervisor = make_agent(session, "sup", "supervisor", "LZ")
    _, table = csv_table(signed_in(app, supervisor).get("/console/reports/weekly.csv?week=2026-W49&weeks=3"))
    # H was posted at 23:59 on Sunday 22 Nov: the last minute of week 47
    assert table[("2026-W47", "LZ-TX")] == {
        **ZERO,
        "jobs": "1",
        "places_asked": "7",
        "places_filled": "7",
        "fill_rate": "100.0",
        "median_fill": "60",
        "p90_fill": "60",
    }
    assert table[(W48, "LZ-TX")] == EXPECTED[(W48, "LZ-TX")]


def test_the_page_in_chinese(app, session, data) -> None:
    supervisor = make_agent(session, "sup", "supervisor", "LZ")
    response = signed_in(app, supervisor).get("/console/reports/?week=2026-W49&weeks=2")
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert "周报表" in page and "2026-W48 至 2026-W49" in page
    assert page.index(f'id="{W49}"') < page.index(f'id="{W48}"')  # the newest week first
    w48 = week_table(page, W48)
    # sites with nothing that week are left out of the page (and counted), never the total
    assert list(w48) == ["东街街道", "太行西街街道", "合计"]
    assert w48["太行西街街道"] == [
        "3", "6", "4", "67%", "2小时50分钟", "4小时10分钟",
        "4", "3", "75%", "5.0", "1", "4.0",
        "0", "0元", "0", "0元",
        "3",
    ]  # fmt: skip
    assert w48["合计"] == [
        "4", "10", "8", "80%", "4小时10分钟", "24小时30分钟",
        "6", "5", "83%", "4.0", "1", "3.0",
        "1", "1,200元", "0", "0元",
        "3",
    ]  # fmt: skip
    w49 = week_table(page, W49)
    assert w49["合计"] == [
        "2", "3", "2", "67%", "30分钟", "30分钟",
        "1", "0", "0%", "—", "0", "—",
        "2", "800元", "1", "1,200元",
        "2",
    ]  # fmt: skip
    assert w49["东街街道"][13:16] == ["0元", "1", "1,200元"]  # recovered in the week the case closed
    assert "另有" in page and "个站点本周没有数据" in page
    # the charts: the district's fill rate per week, and each site's over both weeks
    assert bars(page, "各周填满率") == {W48: 80, W49: 67}
    assert bars(page, "各站点填满率") == {"东街街道": 100, "太行西街街道": 57, "威远门北路社区零工驿站": 100}
    assert "4/7个名额" in page


def test_the_page_in_english(app, session, data) -> None:
    supervisor = make_agent(session, "sup", "supervisor", "LZ", language="en")
    client = signed_in(app, supervisor)
    page = client.get("/console/reports/?week=2026-W49&weeks=2").get_data(as_text=True)
    assert "Weekly reports" in page and "周报表" not in page
    w48 = week_table(page, W48)
    assert list(w48) == ["Dongjie Street", "Taihang West Street", "Total"]
    assert w48["Total"][3:6] == ["80%", "4 h 10 min", "24 h 30 min"]
    assert w48["Total"][12:16] == ["1", "¥1,200", "0", "¥0"]
    assert "4 of 7 places" in page
    # the switch in the page's header works too
    assert console_post(client, "/console/language", {"lang": "zh"}).status_code == 302
    assert "周报表" in client.get("/console/reports/?week=2026-W49&weeks=2").get_data(as_text=True)


def test_defaults_are_the_current_week_and_the_three_before(app, session, data) -> None:
    supervisor = make_agent(session, "sup", "supervisor", "LZ")
    page = signed_in(app, supervisor).get("/console/reports/").get_data(as_text=True)
    weeks = [f"2026-W{number}" for number in (46, 47, 48, 49)]
    assert all(f'<h2 id="{week}">' in page for week in weeks)
    assert '<h2 id="2026-W45">' not in page and '<h2 id="2026-W50">' not in page
    assert 'value="2026-W49"' in page and 'value="4"' in page  # the form shows what it reports
    assert "weekly.csv?week=2026-W49&amp;weeks=4" in page


def test_cancelled_and_held_jobs_were_posted_drafts_were_not(app, runtime, session, data) -> None:
    for status in (JobStatus.CANCELLED, JobStatus.HELD, JobStatus.DRAFT):
        job = data.market.job(site="LZ-DJ", headcount=2)
        job.status, job.created_at = status, local(12, 2, 9)
    commit(runtime, session)
    supervisor = make_agent(session, "sup", "supervisor", "LZ")
    _, table = csv_table(signed_in(app, supervisor).get(TWO_WEEKS))
    assert (table[(W49, "LZ-DJ")]["jobs"], table[(W49, "LZ-DJ")]["places_asked"]) == ("2", "4")
