"""`dispatch insurance export --date D`: the insurer's CSV of one day's enrolments.

UTF-8 with a byte-order mark, so that Excel (what the insurer's clerks open it with) reads the Chinese
names; a header row; one row per worker insured on that working day, oldest enrolment first.
"""

from __future__ import annotations

import argparse
import csv
import sys
from datetime import date
from typing import Any, TextIO
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

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


def add_arguments(parser: argparse.ArgumentParser) -> None:
    commands = parser.add_subparsers(dest="insurance_command", required=True)
    export = commands.add_parser("export", help="write the insurer's CSV of one day's enrolments")
    export.add_argument("--date", required=True, help="the working day, YYYY-MM-DD")
    export.add_argument("--output", default="-", help="a file path, or - for standard output")


def rows(session: Session, settings: Settings, day: date) -> list[dict[str, Any]]:
    """The enrolled workers of `day`: names and codes as the insurer files them (Chinese names, the
    phone in E.164, the enrolment time in the market's time zone)."""
    zone = ZoneInfo(settings.MARKET_TIMEZONE)
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


def write_csv(found: list[dict[str, Any]], stream: TextIO) -> None:
    stream.write(BOM)
    writer = csv.DictWriter(stream, fieldnames=COLUMNS, lineterminator="\r\n")
    writer.writeheader()
    writer.writerows(found)


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
