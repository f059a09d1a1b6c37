"""Candidates for a job, selected and ranked in SQL: never by loading workers into Python.

Eligible: the job's trade; status active; a number the offer can reach (not opted out; not
undeliverable, unless the worker takes offers by phone call: a landline); no accepted job
overlapping the job's days; a pay floor at or below the job's pay;
a home site within the wave's radius of the job's site; not offered this job before; not blocked by
the employer; for a high-risk trade, a name the day insurer can cover (see `_insurable`). The pool's
covering index (trade, home site, pay floor; active only) finds them; a top-N sort on the policy's
score picks the wave.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from datetime import datetime
from types import SimpleNamespace
from typing import Any

from sqlalchemy import (
    BigInteger,
    Date,
    Integer,
    Select,
    and_,
    bindparam,
    func,
    literal,
    or_,
    select,
    union_all,
)
from sqlalchemy.orm import Session

from dispatch.insurance.providers import MIN_NAME_CHARS, WHITESPACE
from dispatch.matching import ranking
from dispatch.matching.config import MatchingConfig
from dispatch.matching.distances import km_from_origin, near_sites, origin, sqrt_for_sqlite
from dispatch.matching.ranking import Explanation, RankContext
from dispatch.models import Contact, EmployerBlock, Job, Offer, OfferStatus, Site, Worker, WorkerStatus
from dispatch.models.people import MatchPool


@dataclass(frozen=True)
class Candidate:
    worker_id: int
    score: float  # as SQL computed it for the order
    explanation: Explanation


# -- the ranking statement ----------------------------------------------------------------------

_POOL = MatchPool.__table__.c
RANKED_COLUMNS = (
    "worker_id",
    "years_experience",
    "rating_sum",
    "rating_count",
    "placements_worked",
    "no_shows",
    "cancellations",
    "offered_at_s",
    "placed_at_s",
)


def _near_subquery(ctx: RankContext) -> Any:
    """The sites the wave reaches (bound as a list), with their distance from the job's site and
    the weighted distance factor, worked out once per site rather than once per worker."""
    _, km = km_from_origin(Site)
    return (
        select(Site.id.label("site_id"), km.label("km"), ranking.distance_share(km, ctx))
        .where(Site.id.in_(bindparam("sites", expanding=True)))
        .subquery("near")
    )


def _excluded() -> Any:
    """Workers the job must not go to whatever their rank, both small sets: offered it before (one
    job's offers), blocked by the employer."""
    offered = select(Offer.worker_id).where(Offer.job_id == bindparam("job_id", type_=Integer()))
    blocked = select(EmployerBlock.worker_id).where(
        EmployerBlock.employer_id == bindparam("employer_id", type_=Integer())
    )
    return union_all(offered, blocked)


def _available(worker_id: Any) -> Any:
    """No place on another job on any of this job's days, and a number the offer reaches (the Contact
    says so, whatever Worker.status says): one that takes SMS, or a voice worker's that takes calls.
    Checked for the best few only, an index lookup each:
    the set of everyone booked on a busy day runs to thousands. (OFFSET 0 keeps PostgreSQL from
    turning the lookup into a hash of that whole set.)"""
    booked = (
        select(Offer.id)
        .join(Job, Job.id == Offer.job_id)
        .where(
            Offer.worker_id == worker_id,
            Offer.status == OfferStatus.ACCEPTED,
            Job.end_date >= bindparam("work_date", type_=Date()),
            Job.work_date <= bindparam("end_date", type_=Date()),
        )
        .offset(0)
        .exists()
    )
    unreachable = (
        select(Contact.id)
        .where(
            Contact.phone == Worker.phone,
            or_(Contact.opted_out_at.is_not(None), texts_only_and_undeliverable()),
        )
        .offset(0)
        .exists()
    )
    return ~booked & ~unreachable


def texts_only_and_undeliverable() -> Any:
    """The Contact's number takes no SMS and the worker is not called with offers instead (a landline
    worker who prefers voice is: dispatch/voice/offer_calls.py)."""
    return and_(Contact.undeliverable_at.is_not(None), Worker.prefers_voice.is_(False))


def _insurable() -> Any:
    """A high-risk job (bound `min_name` 2, else 0) goes only to workers with a name on record: a
    phone-registered worker whose spoken name was never typed cannot be insured, so an offer would
    only end in a refusal. The insurer's full check (insurance.providers) runs again at the yes. Its
    characters are counted as the insurer counts them: whitespace (U+3000 too) removed, wherever it is."""
    name: Any = Worker.name
    for space in WHITESPACE:  # replace(), not translate(): SQLite (development, the simulation) has it
        name = func.replace(name, literal(space), literal(""))
    return func.length(name) >= bindparam("min_name", type_=Integer())


def _build(ctx: RankContext) -> Select[Any]:
    near = _near_subquery(ctx)
    c = SimpleNamespace(
        **{column.name: column for column in _POOL}, km=near.c.km, distance_share=near.c.distance_share
    )
    score, tiebreak = ranking.score_column(c, ctx), ranking.tiebreak_column(c, ctx)
    ranked = (
        select(*(getattr(c, name) for name in RANKED_COLUMNS), near.c.km, score, tiebreak)
        .select_from(MatchPool)
        .join(near, near.c.site_id == _POOL.home_site_id)
        .where(
            _POOL.home_site_id.in_(bindparam("sites", expanding=True)),
            _POOL.trade_id == bindparam("trade_id", type_=Integer()),
            _POOL.status == WorkerStatus.ACTIVE.value,
            _POOL.min_daily_pay <= bindparam("daily_pay", type_=Integer()),
            _POOL.worker_id.not_in(_excluded()),
        )
        .order_by(score.desc(), tiebreak)
        .limit(bindparam("inner_limit", type_=BigInteger()))
        .subquery("ranked")
    )
    return (
        select(
            ranked.c.worker_id,
            ranked.c.km,
            ranked.c.score,
            (_available(ranked.c.worker_id) & _insurable()).label("available"),
        )
        .add_columns(*ranking.factor_columns(ranked.c, ctx).values())
        .join(Worker, Worker.id == ranked.c.worker_id)
        .order_by(ranked.c.score.desc(), ranked.c.tiebreak)
    )


def _build_explain(ctx: RankContext) -> Select[Any]:
    near = _near_subquery(ctx)
    c = SimpleNamespace(**{column.name: column for column in _POOL}, km=near.c.km)
    return (
        select(near.c.km, *ranking.factor_columns(c, ctx).values())
        .select_from(MatchPool)
        .join(near, near.c.site_id == _POOL.home_site_id)
        .where(
            _POOL.worker_id == bindparam("worker_id", type_=Integer()),
            _POOL.trade_id == bindparam("trade_id", type_=Integer()),
        )
    )


_PLAIN_PLAN = select(
    func.set_config("jit", "off", True), func.set_config("max_parallel_workers_per_gather", "0", True)
)
_statements: dict[tuple[str, int, str], tuple[MatchingConfig, Select[Any]]] = {}
_statements_lock = threading.Lock()


def _statement(kind: str, config: MatchingConfig, policy: str) -> tuple[RankContext, Select[Any]]:
    """Built once per policy and configuration: only its bound values change between rankings."""
    ctx = RankContext(config=config, weights=config.weights[policy])
    key = (kind, id(config), policy)
    cached = _statements.get(key)
    if cached is None or cached[0] is not config:
        with _statements_lock:
            statement = _build(ctx) if kind == "rank" else _build_explain(ctx)
            _statements[key] = cached = (config, statement)
    return ctx, cached[1]


def rank(
    session: Session,
    job: Job,
    *,
    radius_km: float,
    limit: int,
    policy: str,
    config: MatchingConfig,
    seed: int,
    now: datetime,
) -> list[Candidate]:
    """The best `limit` eligible workers within `radius_km`, best first.

    One statement after the site lookup: an index-only scan of the pool per site in reach, a top-N
    sort on the score keeping a few more than wanted, and only those few joined to their worker,
    contact and bookings. Its shape never changes, so SQLAlchemy compiles it once.
    """
    if limit <= 0:
        return []
    near = near_sites(session, job.site, radius_km)
    if not near:
        return []
    ctx, statement = _statement("rank", config, policy)
    if session.get_bind().dialect.name == "postgresql":
        # A plan this cheap gains nothing from JIT compilation or parallel workers, which cost more
        # than the query itself.
        session.execute(
            select(
                func.set_config("jit", "off", True),
                func.set_config("max_parallel_workers_per_gather", "0", True),
            )
        )
    params = {
        **ranking.parameters(now, seed, radius_km),
        **origin(job.site),
        "sites": sorted(near),
        "trade_id": job.trade_id,
        "daily_pay": job.daily_pay,
        "job_id": job.id,
        "employer_id": job.employer_id,
        "work_date": job.work_date,
        "end_date": job.end_date,
        "min_name": MIN_NAME_CHARS if job.trade.high_risk else 0,
        "inner_limit": 2 * limit + 20,
    }
    while True:
        rows = session.execute(statement, params).mappings().all()
        chosen = [row for row in rows if row["available"]][:limit]
        if len(chosen) == limit or len(rows) < params["inner_limit"]:
            break
        params["inner_limit"] *= 8  # many near the top are booked or cannot take SMS: look further down
    weights = ctx.weights
    return [
        Candidate(
            worker_id=row["worker_id"],
            score=float(row["score"]),
            explanation=ranking.explanation(policy, weights, row, float(row["km"])),
        )
        for row in chosen
    ]


def explain(
    session: Session,
    job: Job,
    worker: Worker,
    *,
    radius_km: float,
    policy: str,
    config: MatchingConfig,
    seed: int,
    now: datetime,
) -> Explanation | None:
    """Each factor's share of `worker`'s score for `job` (None if the worker is not in the job's trade
    or has no home site)."""
    sqrt_for_sqlite(session)
    if worker.home_site_id is None:
        return None
    ctx, statement = _statement("explain", config, policy)
    params = {
        **ranking.parameters(now, seed, radius_km),
        **origin(job.site),
        "sites": [worker.home_site_id],
        "worker_id": worker.id,
        "trade_id": job.trade_id,
    }
    row = session.execute(statement, params).mappings().first()
    if row is None:
        return None
    return ranking.explanation(policy, ctx.weights, row, float(row["km"]))
