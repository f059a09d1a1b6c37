"""The simulated days several test files read, each run once per pytest process (a day costs tens of
seconds): tests/simulation/conftest.py's session fixtures and tests/test_logs_private.py ask here.

A day's report is plain data the tests only read. The small day and the voice day also keep every line
the process logged while they ran (no masking filter anywhere), which the logs test scans for phone
numbers in full: between them they go through every path that handles a number.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import rq.worker.base

from dispatch.logs import FORMAT, MaskPhoneNumbers
from dispatch.simulation.day import DayOptions, DayResult, run_day
from dispatch.simulation.days import RunResult, run_days

# No voice workers: test_day.py's TODAYS_SMALL_DAY pins the figures of this SMS-only day.
SMALL = DayOptions(workers=60, employers=8, jobs=12, seed=1, late_jobs=8, voice_share=0.0)
# Half the workers prefer voice, so that a short day sees every path a voice worker takes.
VOICE_DAY = DayOptions(
    workers=60, employers=8, jobs=20, late_jobs=4, seed=1, voice_share=0.5, next_morning=False
)
TWO_DAYS = DayOptions(workers=24, employers=4, jobs=5, late_jobs=2, seed=2, days=2)


class Lines(logging.Handler):
    """Every record as the operator's log would print it (traceback included)."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.setFormatter(logging.Formatter(FORMAT))
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(self.format(record))


@contextmanager
def every_line() -> Iterator[list[str]]:
    """Every line the process logs with the root at DEBUG (as `--debug` runs), RQ's worker at INFO (as
    `dispatch worker` runs it; at DEBUG it only adds its own bookkeeping, 28,000 lines of it a day), and
    no masking filter anywhere on the way. Levels the libraries set themselves stay (SQLAlchemy's
    statement echo is off unless asked for; Twilio's HTTP client, which logs request bodies, is kept at
    WARNING by dispatch; a simulated day sends no real SMS anyway). Everything is put back after."""
    root = logging.getLogger()
    loggers = [root, *(lg for lg in root.manager.loggerDict.values() if isinstance(lg, logging.Logger))]
    saved = [(lg, lg.level, lg.propagate, lg.disabled, list(lg.filters)) for lg in loggers]
    saved_handler_filters = [(handler, list(handler.filters)) for handler in root.handlers]
    for logger in loggers:
        logger.filters = [f for f in logger.filters if not isinstance(f, MaskPhoneNumbers)]
        logger.propagate, logger.disabled = True, False
        if logger.name == "dispatch" or logger.name.startswith("dispatch."):
            # `dispatch simulate`, run in this process by other tests, quiets "dispatch" for its report.
            logger.setLevel(logging.NOTSET)
    for handler in root.handlers:
        handler.filters = [f for f in handler.filters if not isinstance(f, MaskPhoneNumbers)]
    root.setLevel(logging.DEBUG)
    setup = rq.worker.base.setup_loghandlers  # a worker sets its loggers' level on each run (ERROR in a day)
    rq.worker.base.setup_loghandlers = lambda level, *a, **kw: setup("INFO", *a, **kw)  # type: ignore[assignment]
    lines = Lines()
    root.addHandler(lines)
    try:
        yield lines.lines
    finally:
        root.removeHandler(lines)
        rq.worker.base.setup_loghandlers = setup
        for logger, level, propagate, disabled, filters in saved:
            logger.setLevel(level)
            logger.propagate, logger.disabled, logger.filters = propagate, disabled, filters
        for handler, filters in saved_handler_filters:
            handler.filters = filters


@dataclass(frozen=True)
class LoggedDay:
    day: DayResult
    lines: list[str]  # everything the process logged while the day ran


def _logged(options: DayOptions) -> LoggedDay:
    with every_line() as lines:
        day = run_day(options)
    return LoggedDay(day, list(lines))


@functools.cache
def small_day() -> LoggedDay:
    return _logged(SMALL)


@functools.cache
def voice_day() -> LoggedDay:
    return _logged(VOICE_DAY)


@functools.cache
def two_days() -> RunResult:
    return run_days(TWO_DAYS)
