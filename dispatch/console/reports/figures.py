"""The figures of one site in one week (or of a total), and the rates and times derived from them.

Counts and sums are what SQL returns; rates are derived here so a total is the sum of its parts
first (a total's fill rate is its filled places over its asked places, never an average of rates).
"""

from __future__ import annotations

import math
import statistics
from dataclasses import dataclass, field, fields


@dataclass
class Figures:
    jobs: int = 0  # posted in the week (created then, drafts aside)
    places_asked: int = 0  # their headcount
    places_filled: int = 0
    fill_seconds: list[float] = field(default_factory=list)  # created → filled, for each filled job
    follow_ups_asked: int = 0  # both sides' follow-ups asked in the week ...
    follow_ups_answered: int = 0  # ... and how many of those have been answered
    worker_stars: int = 0  # employers' stars for workers (1-5), summed ...
    workers_rated: int = 0  # ... over this many ratings
    no_shows: int = 0  # an employer's `0`: the worker did not come
    employer_stars: int = 0  # workers' stars for employers (1-5), summed ...
    employers_rated: int = 0  # ... over this many ratings
    cases_opened: int = 0
    amount_owed: int = 0  # yuan, of the cases opened
    cases_closed: int = 0
    amount_recovered: int = 0  # yuan, of the cases closed
    insured_days: int = 0  # enrolled worker-days worked in the week

    def add(self, other: Figures) -> Figures:
        for item in fields(self):
            mine = getattr(self, item.name)
            if isinstance(mine, list):
                mine.extend(getattr(other, item.name))
            else:
                setattr(self, item.name, mine + getattr(other, item.name))
        return self

    @property
    def empty(self) -> bool:
        return not any(getattr(self, item.name) for item in fields(self))

    @property
    def fill_rate(self) -> float | None:
        return _ratio(self.places_filled, self.places_asked)

    @property
    def response_rate(self) -> float | None:
        return _ratio(self.follow_ups_answered, self.follow_ups_asked)

    @property
    def worker_rating(self) -> float | None:
        return _ratio(self.worker_stars, self.workers_rated)

    @property
    def employer_rating(self) -> float | None:
        return _ratio(self.employer_stars, self.employers_rated)

    @property
    def median_fill_minutes(self) -> int | None:
        if not self.fill_seconds:
            return None
        return round(statistics.median(self.fill_seconds) / 60)

    @property
    def p90_fill_minutes(self) -> int | None:
        """Nearest rank: the time within which 90% of the filled jobs were filled (an observed value,
        not an interpolation, which with a handful of jobs a week would be a time no job took)."""
        if not self.fill_seconds:
            return None
        ordered = sorted(self.fill_seconds)
        return round(ordered[math.ceil(0.9 * len(ordered)) - 1] / 60)


def _ratio(part: int, whole: int) -> float | None:
    return part / whole if whole else None


def total(parts: list[Figures]) -> Figures:
    summed = Figures()
    for part in parts:
        summed.add(part)
    return summed
