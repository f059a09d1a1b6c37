"""What a machine-made ticket says, as data: a key and the fields its words are filled with.

The words themselves are the console's texts (`tickets.summary.<key>` in
dispatch/console/tickets/texts/*.toml), chosen when the ticket is shown, so an agent reads every
summary in their own language; dispatch/console/tickets/summaries.py does the wording. The ticket
keeps a plain-English copy in `summary` for logs and audits.

Field values are what JSON holds: text and numbers as they are (a job code, a person's name, an SMS
body stay as written), a list of words, or a name in each language (`{"zh": ..., "en": ...}`). A
few field names are worded too: `flow`, `step`, `missing`, `queue_result` (codes with texts of their
own) and `owed` (money).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol

# Every summary a machine writes, with the fields its words use.
KEYS: dict[str, tuple[str, ...]] = {
    # -- about a job (matching, held jobs, insurance, follow-ups, wage cases)
    "unfilled_escalated": ("code", "trade", "filled", "headcount"),
    "unfilled_no_time": ("code", "trade", "filled", "headcount", "start"),
    "unfilled_after_start": ("code", "name", "filled", "headcount"),
    "unfilled_opted_out": ("code", "name", "phone"),
    "held_job_wage_case": ("code", "employer"),
    "held_job_employer_held": ("code", "employer"),
    "insurance_placed": ("code", "name"),
    "insurance_not_placed": ("code", "name"),
    "follow_up_worker_unanswered": ("code", "seq", "name"),
    "follow_up_worker_cannot_text": ("code", "seq", "name"),
    "follow_up_employer_unanswered": ("code", "seq", "name"),
    "follow_up_employer_cannot_text": ("code", "seq", "name"),
    "wage_case_none": ("code", "name", "employer", "owed"),
    "wage_case_part": ("code", "name", "employer", "owed"),
    "wage_case_after_paid": ("code", "name", "employer", "owed"),
    # -- about a text (the sender's own words go in `body`)
    "job_request_missing": ("missing", "body"),
    "job_request_blocked": ("body",),
    "job_request_no_draft": ("body",),
    "job_request_unclear": ("code", "body"),
    "registration_stuck": ("step",),
    # -- about a call
    "call_back_part_way": ("flow", "step"),
    "call_back_at_menu": (),
    "agent_asked": (),
    "agent_asked_about_jobs": (),
    "agent_asked_again": (),
    "agent_queue_failed": ("queue_result", "ticket"),
    "voicemail_asked_again": (),
    "outage_voicemail": (),
    "registration_cannot_text": (),
    "job_request_cannot_text": (),
    "job_request_blocked_caller": (),
    "job_request_refused": (),
    "no_answer_at_step": ("count", "flow", "step"),
    "wrong_keys_at_step": ("count", "flow", "step"),
    "past_time_at_step": ("count", "flow", "step"),
    "menu_failed": ("step",),
    "recorded_name": (),
    "worker_asked_agent": (),
    "employer_not_told": ("code", "employer"),
}


class Named(Protocol):
    name_zh: str
    name_en: str


@dataclass(frozen=True)
class Summary:
    key: str
    fields: dict[str, Any]

    @classmethod
    def of(cls, key: str, **fields: Any) -> Summary:
        """A summary with exactly the fields its words use (a typo fails where it is made, in tests)."""
        if key not in KEYS:
            raise ValueError(f"no ticket summary {key!r}")
        if sorted(fields) != sorted(KEYS[key]):
            raise ValueError(f"ticket summary {key!r} takes {KEYS[key]}, not {tuple(fields)}")
        return cls(key, fields)


def names(thing: Named) -> dict[str, str]:
    """A trade's or a site's name in each language, for a field shown in the agent's language."""
    return {"zh": thing.name_zh, "en": thing.name_en}


def stored(key: str | None, fields: dict[str, Any] | None) -> Summary | None:
    """The summary a ticket stores (`summary_key`, `summary_fields`), if it has one this version knows."""
    if not key or key not in KEYS:
        return None
    return Summary(key, dict(fields or {}))


def from_details(kind: str, details: dict[str, Any]) -> Summary | None:
    """The summary of a ticket made before 0010 by a kind that kept its wording in `details`."""
    if not isinstance(details, dict) or "job_code" not in details:
        return None
    code, name = details["job_code"], details.get("name", "")
    if kind == "follow_up":
        key = f"follow_up_{details.get('party')}_{details.get('reason')}"
        return (
            Summary(key, {"code": code, "seq": details.get("seq", 1), "name": name}) if key in KEYS else None
        )
    if kind == "wage_case":
        paid = "part" if details.get("paid") == "part" else "none"
        fields = {
            "code": code,
            "name": name,
            "employer": details.get("employer", ""),
            "owed": details.get("owed"),
        }
        return Summary(f"wage_case_{paid}", fields)
    if kind == "insurance":
        placed = "placed" if details.get("placed") else "not_placed"
        return Summary(f"insurance_{placed}", {"code": code, "name": name})
    if kind == "held_job":
        key = f"held_job_{details.get('reason')}"
        return Summary(key, {"code": code, "employer": details.get("employer", "")}) if key in KEYS else None
    return None
