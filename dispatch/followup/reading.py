"""What an all-digit SMS says and whose it is: the numbers (a job code, then small numbers), read as a
worker's answer or an employer's, and, for someone both worker and employer with both sides open,
which side it answers (replies.py acts on it)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from dispatch.followup import texts
from dispatch.followup.services import ANSWERABLE_STATUSES, MAX_STARS
from dispatch.models import FollowUp, FollowUpParty

PAID_DIGITS = range(1, 4)  # 1 paid in full, 2 in part, 3 not paid
_UNITS = ("星", "分")  # `5星`, `4分`: a star count written with its unit


@dataclass(frozen=True)
class Numbers:
    """An all-digit text: the job code it starts with (3-8 digits), if any, then the small numbers."""

    code: str | None
    values: list[int]


def read_numbers(text: str) -> Numbers | None:
    tokens = [token.removesuffix(_UNITS[0]).removesuffix(_UNITS[1]) for token in text.split()]
    if not 1 <= len(tokens) <= 3 or not all(token.isascii() and token.isdigit() for token in tokens):
        return None
    code = tokens[0] if 3 <= len(tokens[0]) <= 8 and len(tokens) > 1 else None
    rest = tokens[1:] if code else tokens
    if not all(len(token) <= 2 for token in rest):
        return None
    return Numbers(code, [int(token) for token in rest])


def open_ones(follow_ups: Sequence[FollowUp]) -> list[FollowUp]:
    """Those an answer may still fill in (an ended one is in the list only when its code was named)."""
    return [fu for fu in follow_ups if fu.status in ANSWERABLE_STATUSES]


def worker_values(values: list[int], follow_ups: Sequence[FollowUp]) -> list[int] | None:
    """The numbers as a worker's answer (paid, stars), or None when they cannot be one. `15` typed
    without its space is `1 5` while a worker's follow-up is open."""
    if len(values) == 1 and values[0] >= 10 and open_ones(follow_ups):
        paid, stars = divmod(values[0], 10)
        if paid in PAID_DIGITS and 1 <= stars <= MAX_STARS:
            return [paid, stars]
    if len(values) not in (1, 2) or any(value > 9 for value in values):
        return None
    return values


def named(follow_ups: list[FollowUp], code: str | None) -> list[FollowUp]:
    return follow_ups if code is None else [fu for fu in follow_ups if fu.job.code == code]


def party(
    workers: list[FollowUp], employers: list[FollowUp], worker_values: list[int], numbers: Numbers
) -> FollowUpParty | None:
    """Which side of a person the answer is for; None when a worker-and-employer must say (code)."""
    if not employers:
        return FollowUpParty.WORKER
    if not workers:
        return FollowUpParty.EMPLOYER
    open_workers, open_employers = open_ones(workers), open_ones(employers)
    if bool(open_workers) != bool(open_employers):
        return FollowUpParty.WORKER if open_workers else FollowUpParty.EMPLOYER
    if not open_workers:  # both answered lately: a repeat, thanked by the side answered last
        answered = max([*workers, *employers], key=lambda fu: fu.answered_at or fu.asked_at)
        return answered.party
    fits = {
        FollowUpParty.WORKER: _fits_worker(worker_values, open_workers),
        FollowUpParty.EMPLOYER: _fits_employer(numbers, open_employers),
    }
    asked = {
        FollowUpParty.WORKER: last_asked(open_workers),
        FollowUpParty.EMPLOYER: last_asked(open_employers),
    }
    latest = max(asked.values())
    last = [side for side, moment in asked.items() if moment == latest]
    usable = [side for side, fit in fits.items() if fit]
    if len(usable) == 1:
        # Fits one side only: that side, unless the other was asked later (a slip answering it).
        return usable[0] if usable[0] in last else None
    return last[0] if len(last) == 1 else None


def _fits_worker(values: list[int], waiting: Sequence[FollowUp]) -> bool:
    if len(values) == 2:
        return values[0] in PAID_DIGITS and 1 <= values[1] <= MAX_STARS
    wanted = {texts.missing(fu) for fu in waiting}
    top = MAX_STARS if "stars" in wanted else max(PAID_DIGITS)
    return len(values) == 1 and 1 <= values[0] <= top


def _fits_employer(numbers: Numbers, waiting: Sequence[FollowUp]) -> bool:
    values = numbers.values
    if len(values) == 2:  # `123 2 4` only: without a code two numbers are no employer's answer
        return (
            numbers.code is not None and any(fu.seq == values[0] for fu in waiting) and values[1] <= MAX_STARS
        )
    return len(values) == 1 and 0 <= values[0] <= MAX_STARS


def last_asked(follow_ups: Sequence[FollowUp]) -> datetime:
    return max(fu.reminded_at or fu.asked_at for fu in follow_ups)
