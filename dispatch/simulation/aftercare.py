"""How the synthetic people behave after the job: whether a placed worker came, whether they were
paid, and how both sides answer the follow-up (回访) texts the next morning.

The model. Each person's after-job draws come from a stream of their own, apart from the day's, so the
day itself is the same with or without its next morning.
- Attendance: a placed worker does not come with half their past no-show rate plus 2 % (at most
  25 %; 5 % for a newcomer). A worker who did not come never answers their follow-up (there is nothing
  they would want to tell), and the employer rates them `0`.
- Wages: an employer's placements go unpaid (in part or at all) 2 % of the time, a bad payer's (one
  employer in eight) 30 %; of those, paid in part (`2`) 60 %, not at all (`3`) 40 %.
- Workers answer with 85 % of the chance they answer offers (one in twelve never answers anything),
  at about four times their offer pace (median 8-60 minutes, at most 3 hours): mostly `1 5` at once,
  some with the job's code first (`123 1 5`), a few as `15`, and about one in eight step by step
  (`1`, then the stars when asked for them). A worker who got an offer after the question always
  puts the code first, as the question's own text is no longer the last thing they were asked (a
  bare `1` would take the offer). Stars for the employer: around the employer's mean (3.3-4.8), 1-2
  when not paid in full.
- Employers answer each worker's text (`123 2 4`) with a chance of their own (60-95 %), after 10-120
  minutes; stars around the worker's past rating (4 for a newcomer), `0` for a worker who did not come.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass, field
from datetime import timedelta

from dispatch.simulation.market import EmployerSpec, WorkerSpec, stream

NEWCOMER_NO_SHOW = 0.05
MAX_NO_SHOW = 0.25
BAD_PAYERS = 1 / 8
UNPAID_RATE, BAD_PAYER_UNPAID_RATE = 0.02, 0.3
PART_PAID_SHARE = 0.6  # of the unpaid: `2` (in part) rather than `3` (nothing)
ANSWER_SHARE = 0.85  # of a worker's offer answer rate
PACE = 4.0  # a follow-up is answered at this many times the worker's offer pace
MAX_DELAY_MINUTES = 180
# How a worker writes a whole answer; `steps` answers the paid question first, the stars when asked.
FORMS = {"pair": 0.58, "coded": 0.25, "joined": 0.05, "steps": 0.12}


def _clamp_stars(value: float) -> int:
    return max(1, min(5, round(value)))


@dataclass(frozen=True)
class EmployerTraits:
    rating_mean: float  # the stars their workers give them, on average
    unpaid_rate: float  # the share of placements not paid in full
    answer_rate: float  # the share of follow-up texts they answer
    rng: random.Random  # their answers' draws

    def rating_delay(self) -> timedelta:
        return timedelta(minutes=self.rng.uniform(10, 120))


def employer_traits(seed: int, spec: EmployerSpec) -> EmployerTraits:
    traits = stream(seed, f"aftercare-traits:employer:{spec.index}")
    bad_payer = traits.random() < BAD_PAYERS
    return EmployerTraits(
        rating_mean=traits.uniform(3.3, 4.8),
        unpaid_rate=BAD_PAYER_UNPAID_RATE if bad_payer else UNPAID_RATE,
        answer_rate=traits.uniform(0.6, 0.95),
        rng=stream(seed, f"aftercare:employer:{spec.index}"),
    )


def no_show_chance(spec: WorkerSpec) -> float:
    if spec.placements_worked == 0:
        return NEWCOMER_NO_SHOW
    return min(MAX_NO_SHOW, 0.02 + 0.5 * spec.no_shows / spec.placements_worked)


def worker_stars_mean(spec: WorkerSpec) -> float:
    """What employers have made of the worker so far (4 for a newcomer)."""
    return spec.rating_sum / spec.rating_count if spec.rating_count else 4.0


def rate_worker(employer: EmployerTraits, worker: WorkerSpec | None, came: bool) -> int:
    """An employer's stars for one worker: 0 when they did not come."""
    if not came:
        return 0
    mean = worker_stars_mean(worker) if worker is not None else 4.0
    return _clamp_stars(employer.rng.gauss(mean, 0.7))


@dataclass(frozen=True)
class Placement:
    """A place a worker was confirmed for, as they know it: the job's code and the employer's phone."""

    code: str
    employer_phone: str | None
    came: bool


@dataclass(frozen=True)
class Answer:
    """A worker's whole answer to a follow-up: paid (1-3), the employer's stars, and how it is written."""

    paid: int
    stars: int
    form: str
    delay: timedelta


@dataclass
class WorkerAftercare:
    spec: WorkerSpec
    rng: random.Random
    placements: dict[str, Placement] = field(default_factory=dict)

    def placed(self, code: str, employer_phone: str | None) -> Placement:
        """Confirmed for a job: whether they will come is settled now (once per job)."""
        if code not in self.placements:
            came = self.rng.random() >= no_show_chance(self.spec)
            self.placements[code] = Placement(code, employer_phone, came)
        return self.placements[code]

    def answer(self, code: str, employer: EmployerTraits | None) -> Answer | None:
        """Asked about a job: the answer they will give, or None (no answer at all)."""
        placement = self.placements.get(code)
        if placement is not None and not placement.came:
            return None
        rng = self.rng
        if rng.random() >= ANSWER_SHARE * self.spec.answer_rate:
            return None
        unpaid_rate = employer.unpaid_rate if employer is not None else UNPAID_RATE
        paid = 1 if rng.random() >= unpaid_rate else (2 if rng.random() < PART_PAID_SHARE else 3)
        mean = employer.rating_mean if employer is not None else 4.0
        stars = _clamp_stars(rng.gauss(mean, 0.8)) if paid == 1 else rng.choice((1, 1, 2))
        form = rng.choices(list(FORMS), weights=list(FORMS.values()))[0]
        minutes = PACE * self.spec.median_delay_minutes * math.exp(rng.gauss(0.0, 0.6))
        return Answer(paid, stars, form, timedelta(minutes=min(minutes, MAX_DELAY_MINUTES)))


def first_text(answer: Answer, code: str, offer_since: bool) -> str:
    """What the worker sends first: the whole answer, or (step by step) whether they were paid."""
    form = "coded" if offer_since and answer.form != "steps" else answer.form
    if form == "steps":
        return f"{code} {answer.paid}" if offer_since else str(answer.paid)
    return {
        "pair": f"{answer.paid} {answer.stars}",
        "coded": f"{code} {answer.paid} {answer.stars}",
        "joined": f"{answer.paid}{answer.stars}",
    }[form]


def stars_text(answer: Answer, code: str, offer_since: bool) -> str:
    """Step by step, asked for the stars next."""
    return f"{code} {answer.stars}" if offer_since else str(answer.stars)


def workers(market_workers: tuple[WorkerSpec, ...], seed: int) -> dict[str, WorkerAftercare]:
    return {
        spec.phone: WorkerAftercare(spec, stream(seed, f"aftercare:worker:{spec.index}"))
        for spec in market_workers
    }
