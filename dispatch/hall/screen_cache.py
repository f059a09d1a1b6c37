"""The screen's last good answers, kept in the web process's memory.

Every TV in every hall polls every few seconds: an answer younger than FRESH is served again without a
query. When the database is briefly away, the last good answer is served with `stale` set, so the
screens keep showing the jobs instead of an error (the page also keeps its list on a failed poll). Keys
are the codes of sites that exist (an answer is stored only once the site was found), so the store
cannot grow past the number of sites.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Generic, TypeVar

from sqlalchemy.exc import SQLAlchemyError

from dispatch.clock import utcnow
from dispatch.db import can_wait

log = logging.getLogger(__name__)
T = TypeVar("T")

FRESH = timedelta(seconds=2)  # under the page's poll interval: a new job shows within one poll or two


@dataclass(frozen=True)
class Answer(Generic[T]):
    value: T
    at: datetime  # when it was read from the database
    stale: bool  # the database could not be read: this is the last good answer


class LastGood(Generic[T]):
    def __init__(self, fresh: timedelta = FRESH) -> None:
        self.fresh = fresh
        self._answers: dict[str, Answer[T]] = {}
        self._lock = threading.Lock()

    def get(self, key: str, read: Callable[[], T | None]) -> Answer[T] | None:
        """A fresh answer from memory, else `read()` (None: no such thing, nothing kept), else on a
        database outage the last good answer marked stale; with none kept, the outage is raised."""
        now = utcnow()
        with self._lock:
            kept = self._answers.get(key)
        if kept is not None and now - kept.at < self.fresh:
            return kept
        try:
            value = read()
        except SQLAlchemyError as error:
            if kept is None or not can_wait(error):
                raise
            log.warning("screen %s: database unavailable, showing the answer of %s: %s", key, kept.at, error)
            return Answer(kept.value, kept.at, stale=True)
        if value is None:
            return None
        answer = Answer(value, now, stale=False)
        with self._lock:
            self._answers[key] = answer
        return answer

    def clear(self) -> None:
        with self._lock:
            self._answers.clear()
