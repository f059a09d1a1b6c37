"""`dispatch insurance export --date D`: the insurer's CSV of one day's enrolments.

UTF-8 with a byte-order mark, so that Excel (what the insurer's clerks open it with) reads the Chinese
names; a header row; one row per worker insured on that working day, oldest enrolment first.

What Excel would take for a formula is written as text: a cell starting with = + - @ (or a tab or
carriage return, which Excel skips before looking) gets a leading apostrophe, so a worker registered
as `=HYPERLINK(...)` is shown as typed, never run (OWASP's advice for CSV injection). The phone is
the one value we write ourselves in that shape: `+8613800138000` would be read as the number
8.6E+12, so it is written after a tab, which Excel keeps as text and shows as is (the tab is not
seen), while any program reading the file gets the E.164 number back with strip(); an apostrophe
would be shown, not hidden, when Excel opens a CSV, and would stay in the value for such a program.

Known limit: each export is the day's list as it stands when it runs. A day enrolled later (a
placement made after that day's export) or cancelled later (a place given back, a job called off)
reaches the insurer only if the day is exported again, and a cancelled day is then simply missing
from the list (there is no status column, and nothing records what was exported when). Export a day
once its work has begun (its places are settled by then) or again after changes.
"""

from __future__ import annotations

import argparse
import csv
import sys
from datetime import date
from typing import Any, TextIO

from sqlalchemy import select
from sqlalchemy.orm import Session

from dispatch.i18n import market_zone
from dispatch.models import Employer, EnrolmentStatus, InsuranceEnrolment, Job, Site, Trade, Worker
from dispatch.settings import Settings

COLUMNS = (
    "reference",
    "work_date",
    "worker_name",
    "worker_phone",
    "trade_code",
    "trade_name",
    "high_risk",
    "job_code",
    "employer_name",
    "site_code",
    "site_name",
    "daily_pay",
    "enrolled_at",
)
BOM = "\ufeff"
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
TEXT_ONLY = "'"  # Excel shows the value as text
PHONE_AS_TEXT = "\t"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    commands = parser.add_subparsers(dest="insurance_command", required=True)
    export = commands.add_parser("export", help="write the insurer's CSV of one day's enrolments")
    export.add_argument("--date", required=True, help="the working day, YYYY-MM-DD")
    export.add_argument("--output", default="-", help="a file path, or - for standard output")


def rows(session: Session, settings: Settings, day: date) -> list[dict[str, Any]]:
    """The enrolled workers of `day`: names and codes as the insurer files them (Chinese names, the
    phone in E.164, the enrolment time in the market's time zone)."""
    zone = market_zone(settings)
    query = (
        select(InsuranceEnrolment, Worker, Job, Trade, Employer, Site)
        .join(Worker, Worker.id == InsuranceEnrolment.worker_id)
        .join(Job, Job.id == InsuranceEnrolment.job_id)
        .join(Trade, Trade.id == InsuranceEnrolment.trade_id)
        .join(Employer, Employer.id == Job.employer_id)
        .join(Site, Site.id == Job.site_id)
        .where(InsuranceEnrolment.work_date == day, InsuranceEnrolment.status == EnrolmentStatus.ENROLLED)
        .order_by(InsuranceEnrolment.id)
    )
    found = []
    for enrolment, worker, job, trade, employer, site in session.execute(query):
        enrolled_at = enrolment.enrolled_at or enrolment.updated_at
        found.append(
            {
                "reference": enrolment.reference,
                "work_date": enrolment.work_date.isoformat(),
                "worker_name": worker.name,
                "worker_phone": worker.phone,
                "trade_code": trade.code,
                "trade_name": trade.name_zh,
                "high_risk": int(trade.high_risk),
                "job_code": job.code,
                "employer_name": employer.name,
                "site_code": site.code,
                "site_name": site.name_zh,
                "daily_pay": job.daily_pay,
                "enrolled_at": enrolled_at.astimezone(zone).strftime("%Y-%m-%d %H:%M:%S"),
            }
        )
    return found


def cell(value: Any) -> Any:
    """A value as written: text that a spreadsheet would run as a formula is made plain text."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return TEXT_ONLY + value
    return value


def write_csv(found: list[dict[str, Any]], stream: TextIO) -> None:
    stream.write(BOM)
    writer = csv.DictWriter(stream, fieldnames=COLUMNS, lineterminator="\r\n")
    writer.writeheader()
    for row in found:
        written = {column: cell(value) for column, value in row.items()}
        written["worker_phone"] = PHONE_AS_TEXT + row["worker_phone"]  # E.164, as text (see above)
        writer.writerow(written)


def run(settings: Settings, args: argparse.Namespace) -> int:
    from dispatch.db import Database

    try:
        day = date.fromisoformat(args.date)
    except ValueError:
        print(f"dispatch insurance export: --date {args.date!r} is not a day (YYYY-MM-DD)", file=sys.stderr)
        return 2
    with Database(settings.DATABASE_URL).transaction() as session:
        found = rows(session, settings, day)
    if args.output == "-":
        write_csv(found, sys.stdout)
    else:
        try:
            with open(args.output, "w", encoding="utf-8", newline="") as file:
                write_csv(found, file)
        except OSError as exc:
            print(f"dispatch insurance export: cannot write {args.output}: {exc}", file=sys.stderr)
            return 2
    print(f"{len(found)} enrolments for {day.isoformat()}", file=sys.stderr)
    return 0
