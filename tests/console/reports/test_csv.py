"""The CSV download: UTF-8 with a BOM (Excel reads the Chinese), a header in the agent's language, one
row per site and week and a total per week, and an audit row for every export."""

from __future__ import annotations

from sqlalchemy import func, select

from dispatch.console.reports.present import FIGURE_COLUMNS, LEAD_COLUMNS
from dispatch.i18n import catalogue
from dispatch.models import AuditEvent, Site
from tests.console.conftest import signed_in
from tests.console.helpers import console_post, make_agent
from tests.console.reports.helpers import csv_table

CSV = "/console/reports/weekly.csv?week=2026-W49&weeks=2"
HEADER_ZH = [
    "周", "起（周一）", "止（周日）", "站点代码", "站点",
    "发布岗位数", "招工人数", "已招人数", "填满率(%)", "招满用时中位数(分钟)", "招满用时90分位(分钟)",
    "发出回访数", "已答复回访数", "回访答复率(%)", "零工平均评分(1-5)", "未到岗人次", "用工主体平均评分(1-5)",
    "欠薪立案数", "立案欠薪金额(元)", "结案数", "追回金额(元)", "参保人天",
]  # fmt: skip
HEADER_EN = [
    "Week", "From (Monday)", "To (Sunday)", "Site code", "Site",
    "Jobs posted", "Places asked", "Places filled", "Fill rate (%)", "Median time to fill (min)",
    "P90 time to fill (min)", "Follow-ups sent", "Follow-ups answered", "Response rate (%)",
    "Average worker rating (1-5)", "No-shows", "Average employer rating (1-5)", "Wage cases opened",
    "Amount owed (yuan)", "Wage cases closed", "Amount recovered (yuan)", "Insured worker-days",
]  # fmt: skip


def test_the_csv_download(app, session, data) -> None:
    supervisor = make_agent(session, "sup", "supervisor", "LZ")
    response = signed_in(app, supervisor).get(CSV)
    assert response.status_code == 200
    assert response.mimetype == "text/csv" and response.mimetype_params["charset"] == "utf-8"
    disposition = response.headers["Content-Disposition"]
    assert disposition == 'attachment; filename="report-2026-W48-2026-W49.csv"'
    header, table = csv_table(response)
    assert header == HEADER_ZH
    sites = session.scalar(select(func.count()).select_from(Site))
    assert len(table) == 2 * (sites + 1)
    rows = response.get_data().decode("utf-8-sig").splitlines()
    # week by week, the sites in the list's order (the district first), each week closed by its total
    assert rows[1].startswith("2026-W48,2026-11-23,2026-11-29,LZ,潞州区零工市场,")
    assert rows[sites + 1].startswith("2026-W48,2026-11-23,2026-11-29,,合计,4,10,8,80.0,")
    assert rows[sites + 2].startswith("2026-W49,2026-11-30,2026-12-06,LZ,")
    assert rows[-1].startswith("2026-W49,2026-11-30,2026-12-06,,合计,2,3,2,66.7,")


def test_the_header_follows_the_agents_language(app, session, data) -> None:
    english = make_agent(session, "sup-en", "supervisor", "LZ", language="en")
    client = signed_in(app, english)
    header, table = csv_table(client.get(CSV))
    assert header == HEADER_EN
    rows = client.get(CSV).get_data().decode("utf-8-sig").splitlines()
    assert rows[1].startswith("2026-W48,2026-11-23,2026-11-29,LZ,Luzhou District Gig Market,")
    assert ",,Total,4,10,8," in rows[len(table) // 2]
    # and the switch in the header
    assert console_post(client, "/console/language", {"lang": "zh"}).status_code == 302
    assert csv_table(client.get(CSV))[0] == HEADER_ZH


def test_every_export_is_audited(app, session, data) -> None:
    supervisor = make_agent(session, "sup", "supervisor", "LZ")
    client = signed_in(app, supervisor)
    client.get(CSV + "&site=LZ-TX")
    client.get("/console/reports/?week=2026-W49")  # reading the page is not an export
    client.get(CSV + "&site=LZ-DJ")
    session.expire_all()
    events = list(session.scalars(select(AuditEvent).where(AuditEvent.action == "report.export")))
    assert [event.agent_id for event in events] == [supervisor.id, supervisor.id]
    assert [event.details for event in events] == [
        {"week": "2026-W49", "weeks": 2, "site": "LZ-TX", "sites": 3},
        {"week": "2026-W49", "weeks": 2, "site": "LZ-DJ", "sites": 1},
    ]
    # a refused export is not one
    assert client.get("/console/reports/weekly.csv?week=2026-W99").status_code == 400
    session.expire_all()
    assert len(list(session.scalars(select(AuditEvent).where(AuditEvent.action == "report.export")))) == 2


def test_every_column_has_its_texts_in_both_languages() -> None:
    for language in ("zh", "en"):
        texts = catalogue(language)
        keys = [*LEAD_COLUMNS, *(key for key, _ in FIGURE_COLUMNS)]
        assert [key for key in keys if f"reports.csv.{key}" not in texts] == []
        assert [key for key, _ in FIGURE_COLUMNS if f"reports.col.{key}" not in texts] == []
