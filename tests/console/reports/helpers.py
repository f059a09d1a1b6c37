"""Reading the reports page and CSV back: the figures of a week's table, the CSV's rows by week and site."""

from __future__ import annotations

import csv
import html
import io
import re

from dispatch.console.reports.present import FIGURE_COLUMNS, LEAD_COLUMNS

KEYS = [*LEAD_COLUMNS, *(key for key, _ in FIGURE_COLUMNS)]
# What a site with nothing in a week shows in the CSV: counts of 0, no rate.
ZERO = {
    key: ""
    if key in ("fill_rate", "median_fill", "p90_fill", "response_rate", "worker_rating", "employer_rating")
    else "0"
    for key, _ in FIGURE_COLUMNS
}


def csv_table(response) -> tuple[list[str], dict[tuple[str, str], dict[str, str]]]:
    """The header, and each row's figures by (week, site code); a week's total under site code ""."""
    body = response.get_data()
    assert body.startswith(b"\xef\xbb\xbf"), "no UTF-8 BOM"
    header, *rows = list(csv.reader(io.StringIO(body.decode("utf-8-sig"))))
    table: dict[tuple[str, str], dict[str, str]] = {}
    for row in rows:
        values = dict(zip(KEYS, row, strict=True))
        key = (values["week"], values["site_code"])
        assert key not in table, f"row {key} twice"
        table[key] = {name: values[name] for name, _ in FIGURE_COLUMNS}
    return header, table


def week_table(page: str, week: str) -> dict[str, list[str]]:
    """The rows of one week's table on the page: site name (or the total's label) → its cells' text."""
    start = page.index(f'<h2 id="{week}">')
    table = page[start : page.index("</table>", start)]
    rows = {}
    for row in re.findall(r'<tr class="(?:site-row|total)">(.*?)</tr>', table, re.S):
        cells = [
            html.unescape(re.sub(r"<[^>]+>", "", cell)).strip()
            for cell in re.findall(r"<td[^>]*>(.*?)</td>", row, re.S)
        ]
        rows[cells[0]] = cells[1:]
    return rows


def bars(page: str, heading: str) -> dict[str, int]:
    """A chart's bars: label → width in percent."""
    start = page.index(heading)
    chart = page[start : page.index("</table>", start)]
    row = r'<th scope="row">(.*?)</th>\s*<td class="track-cell">.*?data-width="(\d+)"'
    found = re.findall(row, chart, re.S)
    return {html.unescape(label): int(width) for label, width in found}
