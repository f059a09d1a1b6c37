"""How the figures are shown: formatted for the page, plain numbers for the CSV a supervisor opens in
a spreadsheet (minutes rather than "3小时5分钟", a rate as 66.7 rather than "67%")."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable

from dispatch.console.i18n import translate
from dispatch.console.reports.figures import Figures
from dispatch.console.reports.queries import Report

NOTHING = "—"  # a rate of nothing (no places asked, no follow-ups sent) is not 0%

# The CSV's columns after week and site: the header key (reports.csv.<key>) and the value.
FIGURE_COLUMNS: list[tuple[str, Callable[[Figures], object]]] = [
    ("jobs", lambda f: f.jobs),
    ("places_asked", lambda f: f.places_asked),
    ("places_filled", lambda f: f.places_filled),
    ("fill_rate", lambda f: _decimal(f.fill_rate, 100, 1)),
    ("median_fill", lambda f: _blank(f.median_fill_minutes)),
    ("p90_fill", lambda f: _blank(f.p90_fill_minutes)),
    ("follow_ups_asked", lambda f: f.follow_ups_asked),
    ("follow_ups_answered", lambda f: f.follow_ups_answered),
    ("response_rate", lambda f: _decimal(f.response_rate, 100, 1)),
    ("worker_rating", lambda f: _decimal(f.worker_rating, 1, 2)),
    ("no_shows", lambda f: f.no_shows),
    ("employer_rating", lambda f: _decimal(f.employer_rating, 1, 2)),
    ("cases_opened", lambda f: f.cases_opened),
    ("amount_owed", lambda f: f.amount_owed),
    ("cases_closed", lambda f: f.cases_closed),
    ("amount_recovered", lambda f: f.amount_recovered),
    ("insured_days", lambda f: f.insured_days),
]
LEAD_COLUMNS = ("week", "monday", "sunday", "site_code", "site_name")


def percent(rate: float | None) -> str:
    return NOTHING if rate is None else f"{rate * 100:.0f}%"


def rating(value: float | None) -> str:
    return NOTHING if value is None else f"{value:.1f}"


def duration(minutes: int | None, language: str | None = None) -> str:
    """Hours and minutes (`26小时5分钟`, `26 h 5 min`): a fill time is read against a working day."""
    if minutes is None:
        return NOTHING
    hours, minutes = divmod(minutes, 60)
    if hours:
        return translate("format.hours_minutes", language, hours=hours, minutes=minutes)
    return translate("format.minutes", language, minutes=minutes)


def bar_width(rate: float | None) -> int:
    """A bar's width in percent of its track (a rate above 1 cannot happen, but never draw past it)."""
    return 0 if rate is None else max(0, min(100, round(rate * 100)))


def csv_bytes(report: Report, language: str) -> bytes:
    """One row per site and week, then the week's total; UTF-8 with a BOM so Excel reads the Chinese."""
    out = io.StringIO()
    writer = csv.writer(out)
    keys = [*LEAD_COLUMNS, *(key for key, _ in FIGURE_COLUMNS)]
    writer.writerow([translate(f"reports.csv.{key}", language) for key in keys])
    total_label = translate("reports.total", language)
    for index, week in enumerate(report.weeks):
        lead = [week.label, week.monday.isoformat(), week.sunday.isoformat()]
        for site in report.sites:
            cells = [site.code, _text(site.name(language))]
            writer.writerow([*lead, *cells, *_values(report.cell(site.id, index))])
        writer.writerow([*lead, "", total_label, *_values(report.week_total(index))])
    return ("\ufeff" + out.getvalue()).encode("utf-8")


def _values(figures: Figures) -> list[object]:
    return [value(figures) for _, value in FIGURE_COLUMNS]


def _decimal(value: float | None, scale: int, places: int) -> str:
    return "" if value is None else f"{value * scale:.{places}f}"


def _blank(value: int | None) -> object:
    return "" if value is None else value


def _text(value: str) -> str:
    # A cell starting with = + - @ is a formula to a spreadsheet; site names come from config, but a
    # typo there should not run anything on a supervisor's computer.
    return "'" + value if value[:1] in ("=", "+", "-", "@") else value
