"""What the carrier registry's tests (and its draft) share: every context a kind can be rendered with,
worst-case values first (tests/sms/test_templates.py), and each list shorter too (a list is one carrier
variable an item, so each length is its own carrier template)."""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from typing import Any

from jinja2 import TemplateError

from dispatch.i18n import render_sms
from tests.sms.test_templates import _contexts

# Lists in a text that can be shorter than the longest one the worst case lists.
LISTS = ("codes", "placed", "listed", "pending", "bookings", "jobs", "offers")
# Lists never shorter than this: a merged text carries two held offers at least (dispatch/sms/merging.py).
FEWEST = {"offers": 2}
# Contexts a kind is never sent with: the policy text goes only with a policy number
# (dispatch/matching/services.py _confirm).
NEVER = {"placement_insurance": lambda context: not context["insurance"]}


def every_context(session, runtime, kind: str, language: str) -> Iterator[tuple[dict[str, Any], str]]:
    """Each context `kind` can be rendered with, and our text from it (those our own template cannot
    render left out)."""
    seen: set[str] = set()
    never = NEVER.get(kind, lambda context: False)
    for context in _contexts(session, runtime, kind, language):
        if never(context):
            continue
        lists = [key for key in LISTS if context.get(key)]
        lengths = [range(FEWEST.get(key, 0), len(context[key]) + 1) for key in lists]
        for cut in itertools.product(*lengths):
            variant = {**context, **{key: context[key][:n] for key, n in zip(lists, cut, strict=True)}}
            try:
                body = render_sms(kind, language, **variant)
            except (TemplateError, IndexError, TypeError):
                continue  # a list our own text never shows empty (codes[0] of none)
            key = repr(sorted((k, repr(v)) for k, v in variant.items()))
            if key not in seen:
                seen.add(key)
                yield variant, body
