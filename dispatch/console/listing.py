"""A page of rows filtered by status, with the count of every filter: the shape the job list and the
wage-case list share (filter tabs with counts, pages of PAGE_SIZE, a next link)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import ColumnElement, Select, func, select
from sqlalchemy.orm import Session


def status_page(
    db: Session,
    query: Select[Any],
    status: Any,
    visible: ColumnElement[bool],
    filters: Mapping[str, Sequence[Any]],
    chosen: str,
    page: int,
    page_size: int,
) -> tuple[list[Any], bool, dict[str, int]]:
    """The page's rows (of `query`, already scoped and ordered), whether another page follows, and
    each filter's count over the rows the agent may see (`visible`). An empty filter means all."""
    if filters[chosen]:
        query = query.where(status.in_(filters[chosen]))
    rows = list(db.scalars(query.offset((page - 1) * page_size).limit(page_size + 1)))
    by_status: dict[Any, int] = dict(
        db.execute(select(status, func.count()).where(visible).group_by(status)).all()
    )
    counts = {
        name: sum(by_status.get(value, 0) for value in values) if values else sum(by_status.values())
        for name, values in filters.items()
    }
    return rows[:page_size], len(rows) > page_size, counts
