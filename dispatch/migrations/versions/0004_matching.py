"""matching: the candidate pool (kept by triggers), worker cancellations, job end-date index

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-29 09:00:00.000000

`match_pool` holds one row per worker and trade with what candidate selection filters and ranks on,
so that one covering index answers a wave at a million workers. It is never written by the
application: triggers on `worker` and `worker_trade` keep it in step, whatever code (ORM, Core,
psql) changes a worker. On SQLite a later batch migration that rebuilds `worker` or `worker_trade`
drops their triggers: such a migration must create them again (tests/matching/test_pool.py checks).
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Columns copied from `worker`, then the two epoch-second columns made from its timestamps.
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
POOL_COLUMNS = ("worker_id", "trade_id", "years_experience", *WORKER_COLUMNS, "offered_at_s", "placed_at_s")
INCLUDED = [
    "worker_id",
    "years_experience",
    "rating_sum",
    "rating_count",
    "placements_worked",
    "no_shows",
    "cancellations",
    "offered_at_s",
    "placed_at_s",
]


def _epoch(dialect: str, column: str) -> str:
    if dialect == "postgresql":
        return f"coalesce(extract(epoch FROM {column})::bigint, 0)"
    return f"coalesce(CAST(strftime('%s', {column}) AS INTEGER), 0)"


def _worker_values(dialect: str, worker: str) -> str:
    copied = ", ".join(f"{worker}.{name}" for name in WORKER_COLUMNS)
    offered = _epoch(dialect, f"{worker}.last_offered_at")
    placed = _epoch(dialect, f"{worker}.last_placed_at")
    return f"{copied}, {offered}, {placed}"


def _set_from_worker(dialect: str) -> str:
    assignments = [f"{name} = NEW.{name}" for name in WORKER_COLUMNS]
    assignments.append(f"offered_at_s = {_epoch(dialect, 'NEW.last_offered_at')}")
    assignments.append(f"placed_at_s = {_epoch(dialect, 'NEW.last_placed_at')}")
    return ", ".join(assignments)


WATCHED = (*WORKER_COLUMNS, "last_offered_at", "last_placed_at")


def _postgresql_triggers() -> list[str]:
    columns = ", ".join(POOL_COLUMNS)
    old = ", ".join(f"OLD.{name}" for name in WATCHED)
    new = ", ".join(f"NEW.{name}" for name in WATCHED)
    return [
        f"""
        CREATE FUNCTION match_pool_add() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            INSERT INTO match_pool ({columns})
            SELECT NEW.worker_id, NEW.trade_id, NEW.years_experience, {_worker_values("postgresql", "w")}
            FROM worker w WHERE w.id = NEW.worker_id
            -- FOR SHARE: a concurrent update of the worker finishes first (its own trigger then finds
            -- this row) or waits for us; either way the pool never keeps the worker's old values.
            FOR SHARE OF w
            ON CONFLICT (worker_id, trade_id) DO UPDATE SET years_experience = EXCLUDED.years_experience;
            RETURN NULL;
        END $$
        """,
        """
        CREATE TRIGGER match_pool_on_worker_trade AFTER INSERT OR UPDATE ON worker_trade
        FOR EACH ROW EXECUTE FUNCTION match_pool_add()
        """,
        f"""
        CREATE FUNCTION match_pool_worker_changed() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            UPDATE match_pool SET {_set_from_worker("postgresql")} WHERE worker_id = NEW.id;
            RETURN NULL;
        END $$
        """,
        f"""
        CREATE TRIGGER match_pool_on_worker AFTER UPDATE ON worker
        FOR EACH ROW WHEN (({old}) IS DISTINCT FROM ({new}))
        EXECUTE FUNCTION match_pool_worker_changed()
        """,
    ]


def _sqlite_triggers() -> list[str]:
    columns = ", ".join(POOL_COLUMNS)
    add = f"""
        INSERT OR REPLACE INTO match_pool ({columns})
        SELECT NEW.worker_id, NEW.trade_id, NEW.years_experience, {_worker_values("sqlite", "w")}
        FROM worker w WHERE w.id = NEW.worker_id;
    """
    return [
        f"CREATE TRIGGER match_pool_on_worker_trade_insert AFTER INSERT ON worker_trade BEGIN {add} END",
        f"CREATE TRIGGER match_pool_on_worker_trade_update AFTER UPDATE ON worker_trade BEGIN {add} END",
        f"""
        CREATE TRIGGER match_pool_on_worker AFTER UPDATE OF {", ".join(WATCHED)} ON worker BEGIN
            UPDATE match_pool SET {_set_from_worker("sqlite")} WHERE worker_id = NEW.id;
        END
        """,
    ]


def upgrade() -> None:
    dialect = op.get_bind().dialect.name
    with op.batch_alter_table("worker", schema=None) as batch_op:
        batch_op.add_column(sa.Column("cancellations", sa.Integer(), server_default="0", nullable=False))
    with op.batch_alter_table("job", schema=None) as batch_op:
        batch_op.create_index("ix_job_end_date", ["end_date"], unique=False)
    op.create_index(
        "ix_offer_open_expiry",
        "offer",
        ["expires_at"],
        unique=False,
        postgresql_where=sa.text("status IN ('queued', 'sent')"),
        sqlite_where=sa.text("status IN ('queued', 'sent')"),
    )

    op.create_table(
        "match_pool",
        sa.Column("worker_id", sa.Integer(), nullable=False),
        sa.Column("trade_id", sa.Integer(), nullable=False),
        sa.Column("years_experience", sa.Integer(), nullable=False),
        sa.Column("home_site_id", sa.Integer(), nullable=True),
        sa.Column("status", sa.String(length=24), nullable=False),
        sa.Column("min_daily_pay", sa.Integer(), nullable=False),
        sa.Column("rating_sum", sa.Integer(), nullable=False),
        sa.Column("rating_count", sa.Integer(), nullable=False),
        sa.Column("placements_worked", sa.Integer(), nullable=False),
        sa.Column("no_shows", sa.Integer(), nullable=False),
        sa.Column("cancellations", sa.Integer(), nullable=False),
        sa.Column("offered_at_s", sa.BigInteger(), nullable=False),
        sa.Column("placed_at_s", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["worker_id", "trade_id"],
            ["worker_trade.worker_id", "worker_trade.trade_id"],
            name="fk_match_pool_worker_trade",
            onupdate="CASCADE",
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("worker_id", "trade_id", name=op.f("pk_match_pool")),
    )
    op.create_index(
        "ix_match_pool_candidates",
        "match_pool",
        ["trade_id", "home_site_id", "min_daily_pay"],
        unique=False,
        postgresql_include=INCLUDED,
        postgresql_where=sa.text("status = 'active'"),
        sqlite_where=sa.text("status = 'active'"),
    )
    for statement in _postgresql_triggers() if dialect == "postgresql" else _sqlite_triggers():
        op.execute(sa.text(statement))
    op.execute(
        sa.text(
            f"INSERT INTO match_pool ({', '.join(POOL_COLUMNS)}) "
            f"SELECT wt.worker_id, wt.trade_id, wt.years_experience, {_worker_values(dialect, 'w')} "
            "FROM worker_trade wt JOIN worker w ON w.id = wt.worker_id"
        )
    )


def downgrade() -> None:
    dialect = op.get_bind().dialect.name
    if dialect == "postgresql":
        op.execute("DROP TRIGGER IF EXISTS match_pool_on_worker ON worker")
        op.execute("DROP TRIGGER IF EXISTS match_pool_on_worker_trade ON worker_trade")
        op.execute("DROP FUNCTION IF EXISTS match_pool_worker_changed()")
        op.execute("DROP FUNCTION IF EXISTS match_pool_add()")
    else:
        for name in ("on_worker", "on_worker_trade_insert", "on_worker_trade_update"):
            op.execute(f"DROP TRIGGER IF EXISTS match_pool_{name}")
    op.drop_index("ix_match_pool_candidates", table_name="match_pool")
    op.drop_index("ix_offer_open_expiry", table_name="offer")
    op.drop_table("match_pool")
    with op.batch_alter_table("job", schema=None) as batch_op:
        batch_op.drop_index("ix_job_end_date")
    with op.batch_alter_table("worker", schema=None) as batch_op:
        batch_op.drop_column("cancellations")
