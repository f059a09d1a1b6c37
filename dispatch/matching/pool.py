"""The candidate pool (`match_pool`): triggers keep it in step with `worker` and `worker_trade`
(migration 0004). `rebuild` fills it afresh from them: after a bulk load that bypassed triggers, or
if an operator ever doubts it. `pool_source` is the same rows as a query, for tests and audits."""

from __future__ import annotations

from typing import Any

from sqlalchemy import BigInteger, Select, cast, delete, extract, func, insert, select
from sqlalchemy.orm import Session

from dispatch.models import Worker, WorkerTrade
from dispatch.models.people import MatchPool

WORKER_COLUMNS = (
    "home_site_id",
    "status",
    "min_daily_pay",
    "rating_sum",
    "rating_count",
    "placements_worked",
    "no_shows",
    "cancellations",
)


def _epoch(column: Any) -> Any:
    return func.coalesce(cast(extract("epoch", column), BigInteger), 0)


def pool_source() -> Select[Any]:
    """What each pool row must hold, computed from the tables it mirrors."""
    return select(
        WorkerTrade.worker_id,
        WorkerTrade.trade_id,
        WorkerTrade.years_experience,
        *(getattr(Worker, name) for name in WORKER_COLUMNS),
        _epoch(Worker.last_offered_at).label("offered_at_s"),
        _epoch(Worker.last_placed_at).label("placed_at_s"),
    ).join(Worker, Worker.id == WorkerTrade.worker_id)


POOL_COLUMNS = ("worker_id", "trade_id", "years_experience", *WORKER_COLUMNS, "offered_at_s", "placed_at_s")


def rebuild(session: Session) -> int:
    """Empty the pool and fill it from `worker` and `worker_trade`; returns the rows written."""
    session.flush()
    connection = session.connection()
    connection.execute(delete(MatchPool))
    fill = insert(MatchPool).from_select(list(POOL_COLUMNS), pool_source())
    return connection.execute(fill.execution_options(preserve_rowcount=True)).rowcount
