"""The synthetic market of a simulated day, drawn from a seed: workers of varied trades, places and pay
floors, employers, and the jobs they will post over the morning. Plain data: nothing here touches the
database (population.py registers it) or the clock.

Every draw comes from a `random.Random` seeded with the run's seed and a purpose, so the same seed
gives the same market whatever the matching policy, and one policy's day cannot shift another's draws.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, time, timedelta

from dispatch.i18n import zone
from dispatch.simulation.behaviour import DEFAULT, DEFAULT_TASTE, Behaviour, Taste

# Share of workers and of jobs per trade, and a typical day's wage (yuan): the market's own figures
# would replace these; a trade not listed here gets the defaults.
TRADE_PROFILE: dict[str, tuple[float, int]] = {
    "general_labourer": (20, 200),
    "porter": (14, 220),
    "cleaner": (14, 180),
    "plumber_electrician": (8, 320),
    "bricklayer": (8, 300),
    "carpenter": (6, 300),
    "painter": (6, 260),
    "courier": (8, 200),
    "farmhand": (6, 160),
    "welder": (4, 330),
    "fitter": (3, 310),
    "student_part_time": (3, 120),
}
DEFAULT_PROFILE = (3.0, 200)
SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘"
GIVEN = "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华建国志红玉兰凤云海林峰波"
BUSINESSES = ("装修", "物流", "家政", "建材", "餐饮", "农场", "搬家", "超市", "工程队", "物业")
POSTING_FROM, POSTING_TO = time(6, 30), time(12, 0)  # employers post over the morning
# And some after work or before dawn (issue 16): (from, to, which day the job is on: 1 tomorrow, 0 today),
# each a share of the late postings, starting early (LATE_HOURS) when quiet hours hold texts. A stream
# of their own: the morning's draws stay as they were.
LATE_POSTINGS = ((time(18, 0), time(23, 40), 1, 3), (time(5, 5), time(6, 25), 0, 1))
LATE_HOURS = (7, 8, 10)


@dataclass(frozen=True)
class SiteInfo:
    id: int
    code: str
    level: str
    parent_id: int | None
    number: int | None
    name_zh: str
    lat: float
    lon: float


@dataclass(frozen=True)
class TradeInfo:
    id: int
    code: str
    ivr_digit: str
    word: str  # what an employer types for it in an SMS request


@dataclass(frozen=True)
class WorkerSpec:
    index: int
    phone: str
    name: str
    trade_ids: tuple[int, ...]
    years: int
    site_id: int
    min_pay: int
    # History before the day, which the ranking reads.
    placements_worked: int
    rating_count: int
    rating_sum: int
    no_shows: int
    last_placed_days_ago: int | None
    # Behaviour: the share of offers answered at all, how long an answer takes (median minutes), how
    # likely a place taken is given back, how likely an offer makes the worker opt out.
    answer_rate: float
    median_delay_minutes: float
    cancel_rate: float
    opt_out_rate: float
    # Prefers a call to a text (issue 16); a landline-like number takes no SMS at all (voice.py).
    prefers_voice: bool = False
    landline: bool = False
    taste: Taste = DEFAULT_TASTE  # how they weigh an offer (behaviour.py; --behaviour FILE)


@dataclass(frozen=True)
class EmployerSpec:
    index: int
    phone: str
    name: str
    site_id: int


@dataclass(frozen=True)
class JobSpec:
    index: int
    employer: int  # EmployerSpec.index
    channel: str  # "ivr" or "sms"
    at: datetime  # when the employer starts posting it (UTC)
    trade_id: int
    headcount: int
    day_offset: int  # 0 today, 1 tomorrow, 2 the day after
    hour: int
    days: int
    pay: int
    site_id: int


@dataclass(frozen=True)
class Market:
    day: date
    timezone: str
    sites: dict[int, SiteInfo]
    trades: dict[int, TradeInfo]
    workers: tuple[WorkerSpec, ...]
    employers: tuple[EmployerSpec, ...]
    jobs: tuple[JobSpec, ...]

    def local(self, moment: time) -> datetime:
        return datetime.combine(self.day, moment, tzinfo=zone(self.timezone))


def km_between(a: SiteInfo, b: SiteInfo) -> float:
    """As dispatch.matching.distances works it out in SQL (equirectangular, km)."""
    per_degree = 111.195
    dy = (a.lat - b.lat) * per_degree
    dx = (a.lon - b.lon) * per_degree * math.cos(math.radians(b.lat))
    return math.hypot(dx, dy)


def stream(seed: int, purpose: str) -> random.Random:
    """A random stream of its own for each purpose (string seeds are hashed stably, not by hash())."""
    return random.Random(f"dispatch-simulation:{seed}:{purpose}")


def build_market(
    seed: int,
    *,
    workers: int,
    employers: int,
    jobs: int,
    day: date,
    timezone: str,
    sites: list[SiteInfo],
    trades: list[TradeInfo],
    late_jobs: int = 0,
    voice_share: float = 0.0,
    landline_share: float = 0.0,
    behaviour: Behaviour = DEFAULT,
    day_index: int = 0,
) -> Market:
    """The market's population and one day's postings; day `day_index` of a run of days (0 the first)
    draws the same population and postings of its own (the first day's are those of a one-day run)."""
    places = [site for site in sites if site.level != "district"]
    weights = [TRADE_PROFILE.get(trade.code, DEFAULT_PROFILE)[0] for trade in trades]
    market = Market(day, timezone, {s.id: s for s in sites}, {t.id: t for t in trades}, (), (), ())
    worker_specs = tuple(
        _voice(
            stream(seed, f"voice:{i}"),
            _worker(stream(seed, f"worker:{i}"), i, places, trades, weights, behaviour),
            voice_share,
            landline_share,
        )
        for i in range(workers)
    )
    employer_specs = tuple(_employer(stream(seed, f"employer:{i}"), i, places) for i in range(employers))
    day_tag = f":day{day_index}" if day_index else ""
    rng = stream(seed, f"jobs{day_tag}")
    start, end = market.local(POSTING_FROM), market.local(POSTING_TO)
    span = (end - start).total_seconds()
    moments = sorted((start + timedelta(seconds=rng.uniform(0, span))).astimezone(UTC) for _ in range(jobs))
    job_specs = tuple(
        _job(rng, i, moment, employer_specs, market, trades, weights) for i, moment in enumerate(moments)
    )
    job_specs += _late_jobs(
        stream(seed, f"late-jobs{day_tag}"), late_jobs, len(job_specs), employer_specs, market, trades
    )
    return Market(day, timezone, market.sites, market.trades, worker_specs, employer_specs, job_specs)


def _name(rng: random.Random) -> str:
    return rng.choice(SURNAMES) + "".join(rng.choice(GIVEN) for _ in range(rng.choice((1, 2))))


def _round10(value: float) -> int:
    return max(30, round(value / 10.0) * 10)


def _worker(
    rng: random.Random,
    index: int,
    places: list[SiteInfo],
    trades: list[TradeInfo],
    weights: list[float],
    behaviour: Behaviour = DEFAULT,
) -> WorkerSpec:
    count = rng.choices((1, 2, 3), weights=(65, 30, 5))[0]
    chosen: list[TradeInfo] = []
    while len(chosen) < count:
        trade = rng.choices(trades, weights=weights)[0]
        if trade not in chosen:
            chosen.append(trade)
    base = TRADE_PROFILE.get(chosen[0].code, DEFAULT_PROFILE)[1]
    worked = int(rng.expovariate(1 / 8))
    rated = min(worked, int(worked * rng.uniform(0.3, 0.9)))
    _, behaves = behaviour.choose(rng)  # which kind of worker (DEFAULT: never answers? flaky?)
    return WorkerSpec(
        index=index,
        phone=f"+86139{index:08d}",
        name=_name(rng),
        trade_ids=tuple(trade.id for trade in chosen),
        years=rng.randint(0, 20),
        site_id=rng.choice(places).id,
        min_pay=_round10(base * rng.uniform(0.8, 1.1)),
        placements_worked=worked,
        rating_count=rated,
        rating_sum=round(rated * rng.uniform(3.0, 5.0)),
        no_shows=int(worked * rng.uniform(0, 0.15)),
        last_placed_days_ago=rng.randint(1, 30) if worked else None,
        **behaviour.values(rng, behaves),  # answer and cancel rates, pace, opt-outs, taste
    )


def _voice(rng: random.Random, spec: WorkerSpec, voice_share: float, landline_share: float) -> WorkerSpec:
    """A share of workers prefer voice, a share of those on a landline-like number (Beijing's 010,
    which no SMS reaches); a stream of their own, so the rest of the market is drawn as before."""
    if rng.random() >= voice_share:
        return spec
    if rng.random() < landline_share:
        return replace(spec, prefers_voice=True, landline=True, phone=f"+86106{spec.index:07d}")
    return replace(spec, prefers_voice=True)


def _employer(rng: random.Random, index: int, places: list[SiteInfo]) -> EmployerSpec:
    name = rng.choice(SURNAMES) + rng.choice(("记", "氏", "家")) + rng.choice(BUSINESSES)
    return EmployerSpec(index=index, phone=f"+86137{index:08d}", name=name, site_id=rng.choice(places).id)


def _job(
    rng: random.Random,
    index: int,
    moment: datetime,
    employers: tuple[EmployerSpec, ...],
    market: Market,
    trades: list[TradeInfo],
    weights: list[float],
) -> JobSpec:
    employer = rng.choice(employers)
    trade = rng.choices(trades, weights=weights)[0]
    local = moment.astimezone(zone(market.timezone))
    day_offset = rng.choices((0, 1, 2), weights=(25, 55, 20))[0]
    hour = rng.choice((7, 8, 8, 9))
    if day_offset == 0:
        hour = max(13, local.hour + 2)  # this afternoon, if there is time to fill it
        if hour > 16:
            day_offset, hour = 1, 8
    # Most jobs are at the employer's own place; some elsewhere in the district.
    site_id = employer.site_id if rng.random() < 0.8 else rng.choice(list(market.sites.values())).id
    if market.sites[site_id].level == "district":
        site_id = employer.site_id
    base = TRADE_PROFILE.get(trade.code, DEFAULT_PROFILE)[1]
    return JobSpec(
        index=index,
        employer=employer.index,
        channel=rng.choice(("ivr", "sms")),
        at=moment,
        trade_id=trade.id,
        headcount=rng.choices((1, 2, 3, 4, 5), weights=(35, 30, 20, 10, 5))[0],
        day_offset=day_offset,
        hour=hour,
        days=rng.choices((1, 2, 3), weights=(60, 25, 15))[0],
        pay=_round10(base * rng.uniform(0.9, 1.3)),
        site_id=site_id,
    )


def _late_jobs(
    rng: random.Random,
    count: int,
    first_index: int,
    employers: tuple[EmployerSpec, ...],
    market: Market,
    trades: list[TradeInfo],
) -> tuple[JobSpec, ...]:
    """Jobs posted in the evening for the next morning, and before dawn for this morning."""
    weights = [TRADE_PROFILE.get(trade.code, DEFAULT_PROFILE)[0] for trade in trades]
    shares = [share for *_, share in LATE_POSTINGS]
    jobs = []
    for i in range(count):
        start, end, day_offset, _ = rng.choices(LATE_POSTINGS, weights=shares)[0]
        low, high = market.local(start), market.local(end)
        moment = (low + timedelta(seconds=rng.uniform(0, (high - low).total_seconds()))).astimezone(UTC)
        job = _job(rng, first_index + i, moment, employers, market, trades, weights)
        jobs.append(replace(job, day_offset=day_offset, hour=rng.choice(LATE_HOURS)))
    return tuple(jobs)
