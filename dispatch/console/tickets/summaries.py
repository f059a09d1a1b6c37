"""A ticket's one-line summary in the agent's language.

Machine-made tickets store a summary in plain English for logs and audits; the kinds that also store
what the summary says (job code, names, amounts) are worded here from the console's texts, in Chinese
or English. Other tickets show their stored summary (an SMS's own words, a call's collected answers).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from dispatch.console.i18n import money, translate, translate_or
from dispatch.models import Ticket


def _follow_up(details: dict[str, Any]) -> str:
    key = f"tickets.summary.follow_up_{details.get('party')}_{details.get('reason')}"
    if not translate_or(key, ""):  # a party or reason this version has no words for
        return ""
    return translate(key, code=details["job_code"], seq=details.get("seq", 1), name=details.get("name", ""))


def _wage_case(details: dict[str, Any]) -> str:
    paid = "part" if details.get("paid") == "part" else "none"
    return translate(
        f"tickets.summary.wage_case_{paid}",
        code=details["job_code"],
        name=details.get("name", ""),
        employer=details.get("employer", ""),
        owed=money(details.get("owed")),
    )


def _insurance(details: dict[str, Any]) -> str:
    placed = "placed" if details.get("placed") else "not_placed"
    key = f"tickets.summary.insurance_{placed}"
    return translate(key, code=details["job_code"], name=details.get("name", ""))


def _held_job(details: dict[str, Any]) -> str:
    key = f"tickets.summary.held_job_{details.get('reason')}"
    if not translate_or(key, ""):  # a reason this version has no words for
        return ""
    return translate(key, code=details["job_code"], employer=details.get("employer", ""))


_WORDED: dict[str, Callable[[dict[str, Any]], str]] = {
    "follow_up": _follow_up,
    "wage_case": _wage_case,
    "insurance": _insurance,
    "held_job": _held_job,
}


def ticket_summary(ticket: Ticket) -> str:
    """The summary the queue and the ticket page show."""
    details = ticket.details if isinstance(ticket.details, dict) else {}
    word = _WORDED.get(ticket.kind)
    if word is None or "job_code" not in details:
        return ticket.summary
    try:
        return word(details) or ticket.summary
    except (KeyError, TypeError, ValueError):  # details of an older shape: the stored words will do
        return ticket.summary
