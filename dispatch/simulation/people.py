"""How the synthetic people behave: what a worker does with an offer, how an employer types a job.

Each person has a random stream of their own (from the seed), so what one worker decides does not
depend on how many offers the matcher sent to somebody else first.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass, field
from datetime import timedelta

from dispatch.simulation.behaviour import DEFAULT_TASTE, Taste
from dispatch.simulation.market import JobSpec, Market, WorkerSpec, km_between, stream

# Reply texts a worker sends, with and without the job's code (`{code}`), as people type them.
YES_CODED = ("1 {code}", "1 {code}", "接{code}", "Y {code}", "１ {code}")
YES_BARE = ("1", "好", "接", "可以")
NO_CODED = ("2 {code}", "2 {code}", "不接{code}", "N {code}")
NO_BARE = ("2", "没空", "不去")
BARE_SHARE = 0.25  # how often a reply leaves the code out
MAX_DELAY_MINUTES = 240


def acceptance(pay: int, min_pay: int, km: float, taste: Taste = DEFAULT_TASTE) -> float:
    """The chance a worker takes an offer: more likely the more it pays above their floor and the
    nearer it is (by default about 40 % at their floor next door, 85 % well above it; half as likely
    10 km off). The worker's taste (behaviour.py) sets the curve's constants."""
    margin = (pay - min_pay) / max(min_pay, 1)
    pay_part = min(1.0, taste.pay_base + taste.pay_slope * max(margin, 0.0))
    near_part = taste.near_floor + (1 - taste.near_floor) * math.exp(-km / taste.km_scale)
    return taste.ceiling * pay_part * near_part


@dataclass(frozen=True)
class Answer:
    """What a worker will do about an offer, and when (after it arrives)."""

    text: str | None  # None: no answer at all
    delay: timedelta
    accepts: bool
    opt_out: bool = False


@dataclass
class WorkerAgent:
    spec: WorkerSpec
    rng: random.Random
    opted_out: bool = False
    # The answer the worker meant for each job code, to say again with the code when asked which job.
    meant: dict[str, bool] = field(default_factory=dict)

    def _delay(self) -> timedelta:
        minutes = self.spec.median_delay_minutes * math.exp(self.rng.gauss(0.0, self.spec.taste.delay_spread))
        return timedelta(minutes=min(minutes, MAX_DELAY_MINUTES))

    def consider(self, code: str, pay: int, km: float) -> Answer:
        """An offer arrived: yes, no, silence, or (rarely) an opt-out."""
        rng = self.rng
        if rng.random() < self.spec.opt_out_rate:
            return Answer("退订", self._delay(), accepts=False, opt_out=True)
        if rng.random() >= self.spec.answer_rate:
            return Answer(None, timedelta(0), accepts=False)
        accepts = rng.random() < acceptance(pay, self.spec.min_pay, km, self.spec.taste)
        if not accepts and rng.random() < self.spec.taste.silent_no:
            return Answer(None, timedelta(0), accepts=False)
        self.meant[code] = accepts
        bare = rng.random() < BARE_SHARE
        choices = (YES_BARE if bare else YES_CODED) if accepts else (NO_BARE if bare else NO_CODED)
        return Answer(rng.choice(choices).format(code=code), self._delay(), accepts)

    def say_which(self, codes: list[str]) -> str | None:
        """Asked which job a bare answer meant: the same answer again, with the code, once (asked again,
        e.g. which place to give back after a `2 <code>` to a job already taken, a person gives up
        rather than texting the same answer all night)."""
        for code in codes:
            if code in self.meant:
                return (YES_CODED[0] if self.meant.pop(code) else NO_CODED[0]).format(code=code)
        return None

    def maybe_cancel(self) -> timedelta | None:
        """Just placed: will the worker give the place back (`取消 <code>`), and after how long?"""
        if self.rng.random() < self.spec.cancel_rate:
            return timedelta(minutes=self.rng.uniform(15, 240))
        return None


def workers(market: Market, seed: int) -> dict[str, WorkerAgent]:
    return {spec.phone: WorkerAgent(spec, stream(seed, f"behaviour:{spec.index}")) for spec in market.workers}


def offer_distance(market: Market, worker: WorkerSpec, site_id: int) -> float:
    return km_between(market.sites[worker.site_id], market.sites[site_id])


# -- employers ----------------------------------------------------------------------------------

_DAY_WORDS = ("今天", "明天", "后天")


def sms_request(market: Market, job: JobSpec) -> str:
    """The one-line request an employer texts: `招 水电工 2人 明天 7点 3天 300元 太行西街街道`."""
    trade = market.trades[job.trade_id].word
    hour = f"{job.hour}点" if job.hour < 12 else f"下午{job.hour - 12}点"
    site = market.sites[job.site_id].name_zh
    return f"招 {trade} {job.headcount}人 {_DAY_WORDS[job.day_offset]} {hour} {job.days}天 {job.pay}元 {site}"


def ivr_keys(market: Market, job: JobSpec, step: str) -> str | None:
    """The keys an employer presses at a step of the voice menu's job intake; None: not expected."""
    trade = market.trades[job.trade_id]
    site = market.sites[job.site_id]
    town = market.sites[site.parent_id] if site.level == "village" and site.parent_id else site
    keys = {
        "menu": "1",
        "trade": trade.ivr_digit if len(trade.ivr_digit) == 1 else "0",
        "trade_more": trade.ivr_digit,
        "headcount": str(job.headcount),
        "date": str(job.day_offset + 1),
        "hour": str(job.hour),
        "days": str(job.days),
        "pay": str(job.pay),
        "area": str(town.number),
        "village": _village_key(market, town.id, site.id),
        "review": "1",
    }
    return keys.get(step)


def _village_key(market: Market, town_id: int, site_id: int) -> str:
    """A village station by its place in the town's list (ordered by id, as the menu reads them); #
    keeps the town itself."""
    villages = sorted(s.id for s in market.sites.values() if s.parent_id == town_id and s.level == "village")
    return str(villages.index(site_id) + 1) if site_id in villages else "#"
