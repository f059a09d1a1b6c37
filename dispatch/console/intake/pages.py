"""What the intake pages show besides the form's own values: the choices, the ticket the form works
from, the employer behind a phone number, and where a new job can be seen."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from flask import current_app, request, url_for
from sqlalchemy.orm import Session
from werkzeug.routing import BuildError

from dispatch.catalogue import trades_in_menu_order
from dispatch.console.access import may_see
from dispatch.console.guards import parse_id
from dispatch.console.intake import forms, sites, tickets
from dispatch.ivr import services as ivr_services
from dispatch.models import Agent, Ticket, Worker
from dispatch.settings import Settings
from dispatch.workers import limits


def settings() -> Settings:
    return current_app.extensions["dispatch.runtime"].settings


def job_url(job_id: int) -> str:
    """The job page, once the jobs area has one; its plain path until then."""
    if "console.jobs.job_page" in current_app.view_functions:
        try:
            return url_for("console.jobs.job_page", job_id=job_id)
        except BuildError:  # the endpoint names its argument differently
            pass
    return f"/console/jobs/{job_id}"


def worker_url(worker_id: int) -> str:
    return f"/console/people/workers/{worker_id}"


def employer_card(db: Session, agent: Agent, raw_phone: str) -> dict[str, Any]:
    """What the form shows about the number typed: nothing yet, not a number, a new employer, or
    the employer (their details only to an agent who may see their site)."""
    if not raw_phone.strip():
        return {"state": "empty"}
    phone = forms.phone_or_none(raw_phone, settings())
    if phone is None:
        return {"state": "invalid"}
    employer = ivr_services.employer_for(db, phone)
    if employer is None:
        return {"state": "new"}
    visible = may_see(db, agent, employer.site_id)
    last_job = ivr_services.last_job(db, employer.id) if visible else None
    card = {"state": "known", "employer": employer, "visible": visible, "last_job": last_job}
    return {**card, "defaults": employer_defaults(db, agent, card)}


def employer_defaults(db: Session, agent: Agent, card: dict[str, Any]) -> dict[str, str]:
    """The site and address a known employer's job most likely has: the employer's own (kept true on
    their page), else their last job's; only a site the agent may choose, only for an employer the
    agent may see."""
    if card.get("state") != "known" or not card.get("visible"):
        return {}
    employer, last_job = card["employer"], card.get("last_job")
    site_id = employer.site_id or (last_job.site_id if last_job is not None else None)
    address = employer.address or (last_job.address if last_job is not None else "")
    defaults = {"address": address} if address else {}
    if site_id in {site.id for site in forms.choosable_sites(db, agent)}:
        defaults["site"] = str(site_id)
    return defaults


def with_employer_defaults(db: Session, agent: Agent, values: dict[str, str]) -> dict[str, str]:
    """The form's first values with the known employer's site and address where nothing else (the
    IVR's answers) filled them; the agent may change both."""
    card = employer_card(db, agent, values.get("phone", ""))
    defaults = card.get("defaults") or {}
    return {**values, **{key: value for key, value in defaults.items() if not values.get(key)}}


def _common(db: Session, agent: Agent, ticket: Ticket | None, values: dict, problems: dict) -> dict[str, Any]:
    return {
        "ticket": ticket,
        "spoken": tickets.spoken(ticket) if ticket is not None else {},
        "values": values,
        "problems": problems,
        "trades": trades_in_menu_order(db),
        "site_groups": sites.site_groups(db, agent),
        "limits": forms.LIMITS,
    }


def job_context(db: Session, agent: Agent, ticket: Ticket | None, values: dict, problems: dict) -> dict:
    today = ivr_services.market_today(settings())
    # The phone's own problem (not a number, a blocked employer) is shown once: by the field.
    card = {"state": "empty"} if "phone" in problems else employer_card(db, agent, values.get("phone", ""))
    return {
        **_common(db, agent, ticket, values, problems),
        "today": today,
        "last_day": today + timedelta(days=forms.MAX_DAYS_AHEAD),
        "card": card,
        "starts": forms.START_TIMES,
    }


def worker_context(db: Session, agent: Agent, ticket: Ticket | None, values: dict, problems: dict) -> dict:
    rows = list(values.get("trades") or [])[: limits.MAX_TRADES]
    rows += [("", "")] * (limits.MAX_TRADES - len(rows))
    done: Worker | None = None
    if done_id := parse_id(request.args.get("done")):  # the worker just registered, shown above a fresh form
        worker = db.get(Worker, done_id)
        done = worker if worker is not None and may_see(db, agent, worker.home_site_id) else None
    return {
        **_common(db, agent, ticket, values, problems),
        "rows": rows,
        "done": done,
    }
