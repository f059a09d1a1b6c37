"""per-offer facts become columns of offer (given back, cancelled late, uninsured, employer told),
moved out of the id lists in job.matching

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-06 19:00:00
"""

from collections.abc import Iterator, Sequence
from typing import Any

import sqlalchemy as sa
from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BATCH = 1000
CHECK = "ck_offer_cancelled_late_given_back"
CHECK_SQL = "NOT cancelled_late OR given_back_at IS NOT NULL"
# The job.matching keys that held offer ids, and the offer column each becomes.
KEYS = ("given_back", "late_cancelled", "uninsured", "employer_told")

# Lightweight tables: the migration never imports the models (they move on, it must not).
job = sa.table(
    "job",
    sa.column("id", sa.Integer),
    sa.column("matching", sa.JSON),
    sa.column("updated_at", sa.DateTime(timezone=True)),
)
offer = sa.table(
    "offer",
    sa.column("id", sa.Integer),
    sa.column("job_id", sa.Integer),
    sa.column("responded_at", sa.DateTime(timezone=True)),
    sa.column("given_back_at", sa.DateTime(timezone=True)),
    sa.column("cancelled_late", sa.Boolean),
    sa.column("uninsured", sa.Boolean),
    sa.column("employer_told_at", sa.DateTime(timezone=True)),
)


def upgrade() -> None:
    bind = op.get_bind()
    op.add_column("offer", sa.Column("given_back_at", sa.DateTime(timezone=True), nullable=True))
    if bind.dialect.name == "sqlite":
        # SQLite adds a CHECK only inside a column's definition (ALTER TABLE ... ADD CONSTRAINT does not
        # exist there, and copying the table in batch mode would drop `offer` under the rows that refer
        # to it, foreign keys being on).
        op.execute(
            "ALTER TABLE offer ADD COLUMN cancelled_late BOOLEAN DEFAULT 0 NOT NULL "
            f"CONSTRAINT {CHECK} CHECK ({CHECK_SQL})"
        )
    else:
        op.add_column(
            "offer", sa.Column("cancelled_late", sa.Boolean(), server_default=sa.false(), nullable=False)
        )
        op.create_check_constraint(op.f(CHECK), "offer", CHECK_SQL)
    op.add_column("offer", sa.Column("uninsured", sa.Boolean(), server_default=sa.false(), nullable=False))
    op.add_column("offer", sa.Column("employer_told_at", sa.DateTime(timezone=True), nullable=True))
    for jobs in _batches(_jobs_with_facts(bind)):
        _copy_to_offers(bind, jobs)
        _write_matching(bind, [(job_id, _without_lists(matching)) for job_id, matching in jobs])


def _without_lists(matching: dict[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in matching.items() if key not in KEYS}


def _write_matching(bind: sa.Connection, rows: list[tuple[int, dict[str, Any]]]) -> None:
    if rows:
        statement = (
            sa.update(job)
            .where(job.c.id == sa.bindparam("job_id"))
            .values(matching=sa.bindparam("new_matching", type_=sa.JSON))
        )
        bind.execute(statement, [{"job_id": job_id, "new_matching": matching} for job_id, matching in rows])


def _jobs_with_facts(bind: sa.Connection) -> Iterator[tuple[int, dict[str, Any]]]:
    """Every job whose matching JSON holds one of the lists, read by id in pages (portable: the JSON is
    read in Python rather than with each dialect's JSON operators)."""
    last = 0
    while True:
        rows = bind.execute(
            sa.select(job.c.id, job.c.matching).where(job.c.id > last).order_by(job.c.id).limit(BATCH)
        ).all()
        if not rows:
            return
        for job_id, matching in rows:
            if matching and any(key in matching for key in KEYS):
                yield job_id, matching
        last = rows[-1][0]


def _batches(rows: Iterator[tuple[int, dict[str, Any]]]) -> Iterator[list[tuple[int, dict[str, Any]]]]:
    batch: list[tuple[int, dict[str, Any]]] = []
    for row in rows:
        batch.append(row)
        if len(batch) == BATCH:
            yield batch
            batch = []
    if batch:
        yield batch


def _ids(matching: dict[str, Any], key: str) -> list[int]:
    return sorted({int(offer_id) for offer_id in matching.get(key) or []})


def _copy_to_offers(bind: sa.Connection, jobs: list[tuple[int, dict[str, Any]]]) -> None:
    """Set the columns of each listed offer of these jobs (an id is taken only for its own job's offer).

    When a fact became true was never stored; the best time at hand stands in for it: the offer's
    `responded_at` (a give-back sets it, and it is the yes the employer was told of unless something
    answered the offer since), else the job's `updated_at`."""
    job_updated = sa.select(job.c.updated_at).where(job.c.id == offer.c.job_id).scalar_subquery()
    best_time = sa.func.coalesce(offer.c.responded_at, job_updated)

    def pairs(*keys: str) -> list[dict[str, int]]:
        found = {
            (job_id, offer_id)
            for job_id, matching in jobs
            for key in keys
            for offer_id in _ids(matching, key)
        }
        return [{"job": job_id, "offer": offer_id} for job_id, offer_id in sorted(found)]

    this_offer = sa.and_(offer.c.id == sa.bindparam("offer"), offer.c.job_id == sa.bindparam("job"))
    # A place given back late was given back: both lists set given_back_at (before cancelled_late,
    # which the CHECK ties to it).
    updates: list[tuple[list[dict[str, int]], dict[str, Any]]] = [
        (pairs("given_back", "late_cancelled"), {"given_back_at": best_time}),
        (pairs("late_cancelled"), {"cancelled_late": sa.true()}),
        (pairs("uninsured"), {"uninsured": sa.true()}),
        (pairs("employer_told"), {"employer_told_at": best_time}),
    ]
    for parameters, values in updates:
        if parameters:
            bind.execute(sa.update(offer).where(this_offer).values(**values), parameters)


def downgrade() -> None:
    bind = op.get_bind()
    _copy_to_json(bind)
    op.drop_column("offer", "employer_told_at")
    op.drop_column("offer", "uninsured")
    if bind.dialect.name != "sqlite":
        op.drop_constraint(op.f(CHECK), "offer", type_="check")
    # On SQLite the CHECK goes with its column, which must go before the column it names.
    op.drop_column("offer", "cancelled_late")
    op.drop_column("offer", "given_back_at")


def _copy_to_json(bind: sa.Connection) -> None:
    """The columns back into the id lists of each job's matching JSON (a list only where it has ids)."""
    facts = bind.execute(
        sa.select(
            offer.c.job_id,
            offer.c.id,
            offer.c.given_back_at.is_not(None),
            offer.c.cancelled_late,
            offer.c.uninsured,
            offer.c.employer_told_at.is_not(None),
        )
        .where(
            sa.or_(
                offer.c.given_back_at.is_not(None),
                offer.c.cancelled_late,
                offer.c.uninsured,
                offer.c.employer_told_at.is_not(None),
            )
        )
        .order_by(offer.c.job_id, offer.c.id)
    ).all()
    lists: dict[int, dict[str, list[int]]] = {}
    for job_id, offer_id, *flags in facts:
        entry = lists.setdefault(job_id, {})
        for key, flag in zip(KEYS, flags, strict=True):
            if flag:
                entry.setdefault(key, []).append(offer_id)
    job_ids = sorted(lists)
    for start in range(0, len(job_ids), BATCH):
        chunk = job_ids[start : start + BATCH]
        rows = bind.execute(sa.select(job.c.id, job.c.matching).where(job.c.id.in_(chunk))).all()
        _write_matching(bind, [(job_id, {**(matching or {}), **lists[job_id]}) for job_id, matching in rows])
