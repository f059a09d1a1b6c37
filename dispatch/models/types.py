"""Column helpers shared by the models."""

from __future__ import annotations

import enum
from typing import Any

from sqlalchemy import JSON, Enum

from dispatch.db import UTCDateTime

__all__ = ["JSON", "UTCDateTime", "str_enum"]


def str_enum(enum_class: type[enum.Enum], length: int = 24) -> Enum:
    """Enums are stored as their lowercase values in a VARCHAR, portable to SQLite and easy to extend."""
    return Enum(
        enum_class,
        native_enum=False,
        create_constraint=False,
        length=length,
        values_callable=lambda members: [member.value for member in members],
    )


def enum_values(enum_class: type[enum.Enum]) -> list[Any]:
    return [member.value for member in enum_class]
