"""What a stored value is called on a page: `enum.<group>.<value>` in the catalogue, never the value
itself (an agent reads 招工中, not `open`).

The group of an enum is its class name in snake case (WorkerStatus → worker_status); call flows and
steps, stored as plain strings, are the groups `call_flow` and `call_step`.
"""

from __future__ import annotations

import enum
import re
from functools import cache

from dispatch.i18n.catalogue import translate, translate_or

CALL_FLOW = "call_flow"
CALL_STEP = "call_step"


@cache
def group_of(kind: type[enum.Enum]) -> str:
    return re.sub(r"(?<!^)(?=[A-Z])", "_", kind.__name__).lower()


def label_key(value: enum.Enum) -> str:
    return f"enum.{group_of(type(value))}.{value.value}"


def label(value: enum.Enum | None, language: str) -> str:
    """The name of an enum member in `language` (`WorkerStatus.ACTIVE` → 接活中 / Active); None → ""."""
    if value is None:
        return ""
    return translate(label_key(value), language)


def label_for(group: str, raw: str | None, language: str) -> str:
    """The name of a value stored as a string (a call's flow or step, a status inside an audit record's
    details); a value this version has no name for (a retired step) shows as it is."""
    if not raw:
        return ""
    return translate_or(f"enum.{group}.{raw}", raw, language)


def flow_label(flow: str | None, language: str) -> str:
    return label_for(CALL_FLOW, flow, language)


def step_label(step: str | None, language: str) -> str:
    return label_for(CALL_STEP, step, language)
