"""The insurer boundary: `Insurer.enrol(worker, job, day, ...) -> reference`, or `EnrolmentRefused`.

The market buys day insurance (零工日险) for every placed worker and day. The only provider today is
`register` (INSURANCE_PROVIDER): the register is kept here and the insurer takes the daily CSV
(`dispatch insurance export --date D`). So this provider refuses what the insurer would refuse when
it reads that CSV, rather than letting a day go out uninsured; an insurer with an API would sit
behind the same interface and refuse for its own reasons.
"""

from __future__ import annotations

import enum
from collections.abc import Callable
from datetime import date
from typing import Protocol

from dispatch.models import Job, Worker
from dispatch.settings import Settings

# A name the insurer can put on a policy: at least two characters (a surname alone, `张`, is no name
# on an identity card). Whether it is the worker's legal name is for the insurer's own check.
MIN_NAME_CHARS = 2
# What does not count towards a name: every character Python calls whitespace (str.split() drops them),
# the ideographic space U+3000 of Chinese input methods among them. Candidate selection strips the same
# set in SQL (matching.candidates), so that a worker it offers a high-risk job is one the insurer takes.
WHITESPACE = "".join(ch for ch in map(chr, range(0x110000)) if ch.isspace())


def name_chars(name: str) -> int:
    """How many characters of a name count: whitespace anywhere in it does not."""
    return len("".join(name.split()))


class RefusalReason(enum.StrEnum):
    NO_NAME = "no_name"  # no name on record (a phone registration whose spoken name was never typed)
    NAME_INCOMPLETE = "name_incomplete"  # one character (a surname alone): not a real (实名) name
    DAY_PAST = "day_past"  # cover is never backdated: the working day is over already


class EnrolmentRefused(Exception):
    """The insurer will not cover this worker on this day; `reason` says why in one word."""

    def __init__(self, reason: RefusalReason) -> None:
        super().__init__(reason.value)
        self.reason = reason


class Insurer(Protocol):
    def check(self, worker: Worker, job: Job, day: date, *, today: date) -> None:
        """Raise EnrolmentRefused if `enrol` would refuse; change nothing."""

    def enrol(self, worker: Worker, job: Job, day: date, *, today: date, number: int) -> str:
        """Cover `worker` on `day` of `job`; the reference, or EnrolmentRefused. `number` is the
        enrolment's id: unique, so a reference made from it is unique too."""


def _refusal(worker: Worker, day: date, today: date) -> RefusalReason | None:
    chars = name_chars(worker.name)
    if not chars:
        return RefusalReason.NO_NAME
    if chars < MIN_NAME_CHARS:
        return RefusalReason.NAME_INCOMPLETE
    if day < today:
        return RefusalReason.DAY_PAST
    return None


class RegisterInsurer:
    """Keeps the register here; references are PREFIX-YYMMDD-NNNNNN (the working day, the enrolment id)."""

    def __init__(self, settings: Settings) -> None:
        self.prefix = settings.INSURANCE_REFERENCE_PREFIX

    def check(self, worker: Worker, job: Job, day: date, *, today: date) -> None:
        reason = _refusal(worker, day, today)
        if reason is not None:
            raise EnrolmentRefused(reason)

    def enrol(self, worker: Worker, job: Job, day: date, *, today: date, number: int) -> str:
        self.check(worker, job, day, today=today)
        return f"{self.prefix}-{day:%y%m%d}-{number:06d}"


PROVIDERS: dict[str, Callable[[Settings], Insurer]] = {"register": RegisterInsurer}


def get_insurer(settings: Settings) -> Insurer:
    return PROVIDERS[settings.INSURANCE_PROVIDER](settings)
