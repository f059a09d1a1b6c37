"""A short-lived, per-database memo of the market-wide aggregates the adaptive policy reads every wave
(the population's rates, a trade's fair share of offers): they move slowly, and over a month's
record each costs a scan of `offer` (tests/matching/measure_adaptive.py measures it).

Kept per bind (the engine; in tests, each test's connection, so nothing leaks between tests) and
reused while `now` is within `ttl` after it was computed (never before: a clock set back recomputes).
"""

from __future__ import annotations

import weakref
from collections.abc import Callable, Hashable
from datetime import datetime, timedelta
from typing import Any, TypeVar

from sqlalchemy.orm import Session

T = TypeVar("T")

_memo: weakref.WeakKeyDictionary[Any, dict[Hashable, tuple[datetime, Any]]] = weakref.WeakKeyDictionary()


def remembered(session: Session, key: Hashable, now: datetime, ttl: timedelta, compute: Callable[[], T]) -> T:
    entries = _memo.setdefault(session.get_bind(), {})
    hit = entries.get(key)
    if hit is not None and timedelta(0) <= now - hit[0] < ttl:
        return hit[1]
    value = compute()
    entries[key] = (now, value)
    return value
