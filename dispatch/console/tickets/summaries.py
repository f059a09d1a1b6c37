"""A ticket's one-line summary in the agent's language.

Machine-made tickets store what their summary says as data (dispatch/tickets/summaries.py): a key of
the `tickets.summary.*` texts and its fields, worded here in Chinese or English when the page is
drawn. Tickets made before that was kept are read from their details where those hold the words;
a person's own words (an SMS, a call's answers) are shown as they were stored.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from dispatch.console.i18n import current_language, money, translate, translate_or
from dispatch.models import Ticket
from dispatch.phones import display
from dispatch.tickets.summaries import Summary, from_details, stored


def _coded(prefix: str) -> Callable[[Any, str], str]:
    """A field holding a code (a step, a flow) with a text of its own; an unknown code shows itself."""
    return lambda value, language: translate_or(f"{prefix}{value}", str(value), language)


def _listed(value: Any, language: str) -> str:
    words = value if isinstance(value, list) else [value]
    word = _coded("tickets.field.")
    return translate("tickets.list_separator", language).join(word(item, language) for item in words)


# Fields whose value is a code or an amount rather than words to show as they are.
WORDED_FIELDS: dict[str, Callable[[Any, str], str]] = {
    "flow": _coded("tickets.flow."),
    "step": _coded("tickets.step."),
    "queue_result": _coded("tickets.queue_result."),
    "missing": _listed,
    "owed": lambda value, language: money(value, language),
    "phone": lambda value, language: display(str(value)),
}


def _field(name: str, value: Any, language: str) -> Any:
    if isinstance(value, dict):  # a name in each language
        return value.get(language) or value.get("zh") or next(iter(value.values()), "")
    worded = WORDED_FIELDS.get(name)
    return worded(value, language) if worded is not None else value


def render(summary: Summary, language: str) -> str:
    """The summary's words in `language`, its fields filled in."""
    fields = {name: _field(name, value, language) for name, value in summary.fields.items()}
    return translate(f"tickets.summary.{summary.key}", language, **fields)


def ticket_summary(ticket: Ticket, language: str | None = None) -> str:
    """The summary the queue and the ticket page show."""
    summary = stored(ticket.summary_key, ticket.summary_fields) or from_details(ticket.kind, ticket.details)
    if summary is None:
        return ticket.summary
    try:
        return render(summary, language or current_language())
    except (KeyError, TypeError, ValueError, IndexError):  # fields of an older shape: the stored words
        return ticket.summary
