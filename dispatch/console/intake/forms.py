"""Reading the intake forms: every field is checked with the bounds the IVR's keypad steps use, so a
request an agent types is refused for the same reasons a caller's would be.

A reader returns the parsed entry (or None) and, per field, a `Problem`: a text key of the catalogue
with the values it names; the form is shown again with what was typed.
"""

from __future__ import annotations

import itertools
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, time, timedelta
from typing import Any

import phonenumbers
from sqlalchemy import select
from sqlalchemy.orm import Session

from dispatch.console.access import sites_for_choice
from dispatch.console.guards import parse_id
from dispatch.i18n import LANGUAGES
from dispatch.ivr import services as ivr_services
from dispatch.ivr.intake import MAX_DAYS, MAX_DAYS_AHEAD
from dispatch.jobs.services import JobRequest, JobRequestError
from dispatch.models import Agent, EmployerStatus, Site, SiteLevel, Trade, Worker
from dispatch.phones import try_e164
from dispatch.settings import Settings
from dispatch.workers import limits
from dispatch.workers.services import Skill, WorkerDetails

MAX_HEADCOUNT = 99  # the IVR's headcount step and JobRequest.check
MAX_EMPLOYER_NAME = 64  # Employer.name
MAX_ADDRESS = 200  # Job.address
MAX_NOTES = 2000
# The bounds the pages give their inputs, so that a browser says what the server would.
LIMITS = {
    "max_headcount": MAX_HEADCOUNT,
    "max_days": MAX_DAYS,
    "min_pay": limits.MIN_DAILY_PAY,
    "max_pay": limits.MAX_DAILY_PAY,
    "max_years": limits.MAX_YEARS,
    "max_name": limits.NAME_MAX_LENGTH,
    "max_employer_name": MAX_EMPLOYER_NAME,
    "max_address": MAX_ADDRESS,
    "max_notes": MAX_NOTES,
}
# Start times: whole and half hours, as the IVR's start step takes them.
START_MINUTES = (0, 30)
START_TIMES = tuple(f"{hour:02d}:{minute:02d}" for hour in range(24) for minute in START_MINUTES)
# A worker's phone must take the consent SMS; numbers that may be either (as in the US) are let through.
TEXTABLE_TYPES = frozenset(
    {phonenumbers.PhoneNumberType.MOBILE, phonenumbers.PhoneNumberType.FIXED_LINE_OR_MOBILE}
)


@dataclass(frozen=True)
class Problem:
    """What is wrong with a field: a console text key and the values it names."""

    key: str
    fields: Mapping[str, Any] = field(default_factory=dict)


Problems = dict[str, Problem]


@dataclass(frozen=True)
class JobEntry:
    phone: str
    employer_name: str
    request: JobRequest


@dataclass(frozen=True)
class WorkerEntry:
    phone: str
    name: str
    trades: list[tuple[int, int]]  # (trade id, years of experience)
    site_id: int
    min_pay: int
    language: str
    notes: str
    prefers_voice: bool = False  # follow-ups by phone call with a keypad menu, not SMS

    def details(self) -> WorkerDetails:
        """What dispatch.workers registers."""
        return WorkerDetails(
            phone=self.phone,
            trades=tuple(Skill(trade_id, years) for trade_id, years in self.trades),
            home_site_id=self.site_id,
            min_daily_pay=self.min_pay,
            name=self.name,
            language=self.language,
            notes=self.notes,
            prefers_voice=self.prefers_voice,
        )


def choosable_sites(db: Session, agent: Agent) -> list[Site]:
    """Where a job or a worker may be placed: the agent's towns and villages (the district itself is
    no place to send anyone to, and the IVR never files under it)."""
    return [site for site in sites_for_choice(db, agent) if site.level != SiteLevel.DISTRICT]


def _text(form: Mapping[str, str], name: str) -> str:
    return unicodedata.normalize("NFKC", form.get(name, "") or "").strip()


def _integer(form: Mapping[str, str], name: str, low: int, high: int, problems: Problems) -> int | None:
    raw = _text(form, name)
    if not raw:
        problems[name] = Problem("intake.error.required")
        return None
    # A length check first: int() refuses more than 4,300 digits, and no bound here has ten.
    if not (raw.isascii() and raw.isdigit()) or len(raw) > 9 or not low <= int(raw) <= high:
        problems[name] = Problem("intake.error.range", {"low": low, "high": high})
        return None
    return int(raw)


def phone_or_none(raw: str, settings: Settings) -> str | None:
    """E.164, however it was typed (full-width digits, spaces, +86); None when it is no number."""
    return try_e164(unicodedata.normalize("NFKC", raw).strip(), settings.DEFAULT_REGION)


def _phone(form: Mapping[str, str], settings: Settings, problems: Problems) -> str | None:
    raw = _text(form, "phone")
    if not raw:
        problems["phone"] = Problem("intake.error.required")
        return None
    phone = phone_or_none(raw, settings)
    if phone is None:  # withheld and mistyped numbers alike: nobody could text or call it back
        problems["phone"] = Problem("intake.error.phone")
    return phone


def _site(db: Session, agent: Agent, form: Mapping[str, str], problems: Problems) -> int | None:
    site_id = parse_id(_text(form, "site"))
    if site_id is None or site_id not in {site.id for site in choosable_sites(db, agent)}:
        problems["site"] = Problem("intake.error.site")
        return None
    return site_id


def _trade(db: Session, raw: str) -> int | None:
    trade_id = parse_id(raw)
    return db.scalar(select(Trade.id).where(Trade.id == trade_id)) if trade_id else None


def _start(form: Mapping[str, str], problems: Problems) -> time | None:
    """`07:30`: a whole or a half hour, as the IVR takes them (a bare hour, `7`, is 07:00)."""
    raw = _text(form, "start") or _text(form, "hour")  # `hour`: a page loaded before half hours
    if not raw:
        problems["start"] = Problem("intake.error.required")
        return None
    hour, _, minute = raw.partition(":")
    minute = minute or "0"
    if not (hour.isascii() and hour.isdigit() and minute.isascii() and minute.isdigit()) or len(raw) > 5:
        problems["start"] = Problem("intake.error.start")
        return None
    if not 0 <= int(hour) <= 23 or int(minute) not in START_MINUTES:
        problems["start"] = Problem("intake.error.start")
        return None
    return time(int(hour), int(minute))


def _work_date(form: Mapping[str, str], today: date, problems: Problems) -> date | None:
    day = _text(form, "day")
    if day == "today":
        return today
    if day == "tomorrow":
        return today + timedelta(days=1)
    if not _text(form, "date"):  # a date typed counts even if its radio button was not pressed
        problems["date"] = Problem("intake.error.required")
        return None
    try:
        wanted = date.fromisoformat(_text(form, "date"))
    except ValueError:
        wanted = None
    last = today + timedelta(days=MAX_DAYS_AHEAD)
    if wanted is None or not today <= wanted <= last:
        problems["date"] = Problem(
            "intake.error.date", {"first": today.isoformat(), "last": last.isoformat()}
        )
        return None
    return wanted


def read_job(
    db: Session, settings: Settings, agent: Agent, form: Mapping[str, str], recording_url: str = ""
) -> tuple[JobEntry | None, Problems]:
    """The phone intake form as a JobRequest, checked as the IVR checks each keypad answer."""
    problems: Problems = {}
    phone = _phone(form, settings, problems)
    name = _text(form, "employer_name")
    if phone is not None:
        employer = ivr_services.employer_for(db, phone)
        if employer is not None and employer.status == EmployerStatus.BLOCKED:
            problems["phone"] = Problem("intake.error.employer_blocked")  # the IVR sends these to an agent
        elif employer is None and not name:
            problems["employer_name"] = Problem("intake.error.employer_name")
    if len(name) > MAX_EMPLOYER_NAME:
        problems["employer_name"] = Problem("intake.error.too_long", {"limit": MAX_EMPLOYER_NAME})
    trade_id = _trade(db, _text(form, "trade"))
    if trade_id is None:
        problems["trade"] = Problem("intake.error.choose")
    headcount = _integer(form, "headcount", 1, MAX_HEADCOUNT, problems)
    work_date = _work_date(form, ivr_services.market_today(settings), problems)
    start = _start(form, problems)
    if (
        work_date is not None
        and start is not None
        and ivr_services.start_passed(settings, work_date, start.hour, minute=start.minute)
    ):
        problems["start"] = Problem("intake.error.hour_passed")
    days = _integer(form, "days", 1, MAX_DAYS, problems)
    pay = _integer(form, "pay", limits.MIN_DAILY_PAY, limits.MAX_DAILY_PAY, problems)
    site_id = _site(db, agent, form, problems)
    address, notes = _text(form, "address"), _text(form, "notes")
    if len(address) > MAX_ADDRESS:
        problems["address"] = Problem("intake.error.too_long", {"limit": MAX_ADDRESS})
    if len(notes) > MAX_NOTES:
        problems["notes"] = Problem("intake.error.too_long", {"limit": MAX_NOTES})
    if problems:
        return None, problems
    assert phone and trade_id and headcount and work_date and start is not None and days and pay and site_id
    request = JobRequest(
        trade_id=trade_id,
        headcount=headcount,
        work_date=work_date,
        start_time=start,
        days=days,
        daily_pay=pay,
        site_id=site_id,
        address=address,
        notes=notes,
        recording_url=recording_url,
    )
    try:
        request.check()  # the service's own rules, whatever the form's bounds say
    except JobRequestError as exc:
        return None, {"form": Problem("intake.error.refused", {"reason": str(exc)})}
    return JobEntry(phone=phone, employer_name=name, request=request), problems


def _worker_phone(db: Session, form: Mapping[str, str], settings: Settings, problems: Problems) -> str | None:
    phone = _phone(form, settings, problems)
    if phone is None:
        return None
    if phonenumbers.number_type(phonenumbers.parse(phone)) not in TEXTABLE_TYPES:
        problems["phone"] = Problem("intake.error.not_mobile")
        return None
    worker_id = db.scalar(select(Worker.id).where(Worker.phone == phone))
    if worker_id is not None:
        problems["phone"] = Problem("intake.error.worker_exists", {"worker_id": worker_id})
        return None
    return phone


def trade_rows(form: Any) -> list[tuple[str, str]]:
    """The (trade, years) pairs as posted; a row without its years field has none."""
    return list(itertools.zip_longest(form.getlist("trade"), form.getlist("years"), fillvalue=""))


def _worker_trades(db: Session, form: Any, problems: Problems) -> list[tuple[int, int]]:
    """The trade rows: each chosen trade with its years; empty rows are skipped, repeats refused."""
    rows = trade_rows(form)[: limits.MAX_TRADES]
    chosen: list[tuple[int, int]] = []
    for raw_trade, raw_years in rows:
        raw_trade = unicodedata.normalize("NFKC", raw_trade).strip()
        raw_years = unicodedata.normalize("NFKC", raw_years).strip() or "0"
        if not raw_trade:
            continue
        trade_id = _trade(db, raw_trade)
        if trade_id is None or trade_id in {known for known, _ in chosen}:
            problems["trades"] = Problem("intake.error.trades")
            continue
        if (
            not (raw_years.isascii() and raw_years.isdigit())
            or len(raw_years) > 3
            or not limits.years_fit(int(raw_years))
        ):
            problems["trades"] = Problem("intake.error.years", {"high": limits.MAX_YEARS})
            continue
        chosen.append((trade_id, int(raw_years)))
    if not chosen and "trades" not in problems:
        problems["trades"] = Problem("intake.error.choose")
    return chosen


def read_worker(
    db: Session, settings: Settings, agent: Agent, form: Any
) -> tuple[WorkerEntry | None, Problems]:
    """The counter registration form (a MultiDict: one trade and years field per row)."""
    problems: Problems = {}
    name = _text(form, "name")
    if not name:
        problems["name"] = Problem("intake.error.required")
    elif not limits.name_fits(name):  # the SMS dialogue's limit: its confirmation reads the name back
        problems["name"] = Problem("intake.error.too_long", {"limit": limits.NAME_MAX_LENGTH})
    phone = _worker_phone(db, form, settings, problems)
    trades = _worker_trades(db, form, problems)
    site_id = _site(db, agent, form, problems)
    min_pay = _integer(form, "min_pay", limits.MIN_DAILY_PAY, limits.MAX_DAILY_PAY, problems)
    language = _text(form, "language")
    if language not in LANGUAGES:
        problems["language"] = Problem("intake.error.choose")
    notes = _text(form, "notes")
    if len(notes) > MAX_NOTES:
        problems["notes"] = Problem("intake.error.too_long", {"limit": MAX_NOTES})
    if problems:
        return None, problems
    assert phone and site_id and min_pay
    entry = WorkerEntry(
        phone,
        name,
        trades,
        site_id,
        min_pay,
        language,
        notes,
        prefers_voice=_text(form, "prefers_voice") == "yes",
    )
    return entry, problems
