"""Agents keep people's records true: a worker's name, trades (with years), pay floor, home site,
language and voice preference, and an employer's name, site and address.

A worker changes through dispatch.workers.services.update, the one path every channel uses, with the
limits of dispatch.workers.limits; the form reads with the counter form's readers, so a field is refused
for the same reasons (and in the same words) as at registration. Each change is audited with the record
before and after (the changed fields only). Plain functions on a session; they flush, never commit.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from dispatch.console.audit import record
from dispatch.console.intake import forms
from dispatch.console.intake.forms import MAX_ADDRESS, MAX_EMPLOYER_NAME, Problem, Problems
from dispatch.i18n import LANGUAGES
from dispatch.models import Agent, Contact, Employer, Site, Worker
from dispatch.workers import limits
from dispatch.workers import services as workers
from dispatch.workers.services import Skill, WorkerDetails


@dataclass(frozen=True)
class WorkerEdit:
    """The worker's record as the agent wants it; `name` None leaves the name as it is."""

    name: str | None
    trades: tuple[Skill, ...]
    home_site_id: int
    min_daily_pay: int
    language: str
    prefers_voice: bool


def worker_values(db: Session, worker: Worker) -> dict[str, Any]:
    """The edit form's values for the record as it is."""
    contact = db.scalar(select(Contact).where(Contact.phone == worker.phone))
    return {
        "name": worker.name,
        "trades": [(str(row.trade_id), str(row.years_experience)) for row in worker.trades],
        "site": str(worker.home_site_id or ""),
        "min_pay": str(worker.min_daily_pay),
        "language": contact.language if contact is not None else "zh",
        "prefers_voice": "yes" if worker.prefers_voice else "",
    }


def read_worker_edit(
    db: Session, agent: Agent, worker: Worker, form: Any
) -> tuple[WorkerEdit | None, Problems]:
    """The person page's edit form (a MultiDict: one trade and years field per row)."""
    problems: Problems = {}
    name = _text(form, "name")
    if name != worker.name and not name:
        problems["name"] = Problem("intake.error.required")
    elif name != worker.name and not limits.typed_name_fits(name):
        # An agent types it: the insurer's full name may be longer than a name the SMS reads back.
        problems["name"] = Problem("intake.error.too_long", {"limit": limits.TYPED_NAME_MAX_LENGTH})
    trades = forms._worker_trades(db, form, problems)
    site_id = forms._site(db, agent, form, problems)
    min_pay = forms._integer(form, "min_pay", limits.MIN_DAILY_PAY, limits.MAX_DAILY_PAY, problems)
    language = _text(form, "language")
    if language not in LANGUAGES:
        problems["language"] = Problem("intake.error.choose")
    if problems:
        return None, problems
    assert site_id and min_pay
    new_name = None if name == worker.name else name
    skills = tuple(Skill(trade_id, years) for trade_id, years in trades)
    prefers_voice = _text(form, "prefers_voice") == "yes"
    return WorkerEdit(new_name, skills, site_id, min_pay, language, prefers_voice), {}


def edit_worker(
    db: Session,
    agent: Agent,
    worker: Worker,
    edit: WorkerEdit,
    remote_addr: str = "",
    via: str = "person_page",
    **context: Any,
) -> dict[str, Any]:
    """Change the worker's record through dispatch.workers; audited with before and after. Returns the
    changed fields (empty: nothing changed, nothing audited)."""
    before = workers.record_of(db, worker)
    details = WorkerDetails(
        phone=worker.phone,
        trades=edit.trades,
        home_site_id=edit.home_site_id,
        min_daily_pay=edit.min_daily_pay,
        language=edit.language,
        prefers_voice=edit.prefers_voice,
    )
    workers.update(db, worker, details)
    if edit.name is not None:
        workers.rename(db, worker, edit.name)
    after = workers.record_of(db, worker)
    changed = {key for key in after if after[key] != before[key]}
    if changed:
        record(
            db,
            agent,
            "worker.edit",
            worker,
            remote_addr=remote_addr,
            via=via,
            **context,
            before={key: before[key] for key in sorted(changed)},
            after={key: after[key] for key in sorted(changed)},
        )
    return {key: after[key] for key in changed}


def correct_worker(
    db: Session,
    agent: Agent,
    worker: Worker,
    min_pay: int | None,
    skill: Skill | None,
    remote_addr: str = "",
    via: str = "follow_up",
    **context: Any,
) -> dict[str, Any]:
    """What a follow-up call revealed: a new pay floor, or a trade (new, or its years). The rest of the
    record stays; the same path and audit as an edit on the person page. A fourth trade, or a worker
    with no home site, is refused (workers.WorkerDetailsError)."""
    trades = [Skill(row.trade_id, row.years_experience) for row in worker.trades]
    if skill is not None:
        trades = [known for known in trades if known.trade_id != skill.trade_id] + [skill]
    contact = db.scalar(select(Contact).where(Contact.phone == worker.phone))
    edit = WorkerEdit(
        name=None,
        trades=tuple(trades),
        home_site_id=worker.home_site_id or 0,
        min_daily_pay=min_pay if min_pay is not None else worker.min_daily_pay,
        language=contact.language if contact is not None else "zh",
        prefers_voice=worker.prefers_voice,
    )
    if db.get(Site, edit.home_site_id) is None:
        raise workers.WorkerDetailsError("the worker has no home site: correct it on the worker's page")
    return edit_worker(db, agent, worker, edit, remote_addr, via, **context)


# -- employers ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class EmployerEdit:
    name: str
    site_id: int
    address: str


def employer_values(employer: Employer) -> dict[str, Any]:
    return {"name": employer.name, "site": str(employer.site_id or ""), "address": employer.address}


def read_employer_edit(db: Session, agent: Agent, form: Any) -> tuple[EmployerEdit | None, Problems]:
    problems: Problems = {}
    name = _text(form, "name")
    if not name:
        problems["name"] = Problem("intake.error.required")
    elif len(name) > MAX_EMPLOYER_NAME:
        problems["name"] = Problem("intake.error.too_long", {"limit": MAX_EMPLOYER_NAME})
    site_id = forms._site(db, agent, form, problems)
    address = _text(form, "address")
    if len(address) > MAX_ADDRESS:
        problems["address"] = Problem("intake.error.too_long", {"limit": MAX_ADDRESS})
    if problems:
        return None, problems
    assert site_id
    return EmployerEdit(name, site_id, address), {}


def edit_employer(
    db: Session, agent: Agent, employer: Employer, edit: EmployerEdit, remote_addr: str = ""
) -> dict[str, Any]:
    """Change the employer's name, site and address; audited with before and after (changed fields)."""
    before = _employer_record(db, employer)
    employer.name, employer.site_id, employer.address = edit.name, edit.site_id, edit.address
    db.flush()
    after = _employer_record(db, employer)
    changed = sorted(key for key in after if after[key] != before[key])
    if changed:
        record(
            db,
            agent,
            "employer.edit",
            employer,
            remote_addr=remote_addr,
            before={key: before[key] for key in changed},
            after={key: after[key] for key in changed},
        )
    return {key: after[key] for key in changed}


def _employer_record(db: Session, employer: Employer) -> dict[str, Any]:
    site = db.get(Site, employer.site_id or 0)
    return {"name": employer.name, "site": site.code if site else None, "address": employer.address}


def _text(form: Any, name: str) -> str:
    return unicodedata.normalize("NFKC", form.get(name, "") or "").replace("\x00", "").strip()
