"""the hall's counter: attendance of event sign-ups (came, completed, walk-in), cancelled sign-ups, and
the trade a training teaches

Revision ID: 0021
Revises: 0019
Create Date: 2026-12-07 03:40:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0021"
down_revision: str | None = "0020"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("event", sa.Column("trade_id", sa.Integer(), nullable=True))
    if op.get_bind().dialect.name != "sqlite":  # SQLite cannot add a constraint without a table rebuild
        op.create_foreign_key(op.f("fk_event_trade_id_trade"), "event", "trade", ["trade_id"], ["id"])
    op.add_column("event_signup", sa.Column("attended_at", sa.DateTime(timezone=True), nullable=True))
    op.add_column("event_signup", sa.Column("completed_at", sa.DateTime(timezone=True), nullable=True))
    op.add_column("event_signup", sa.Column("cancelled_at", sa.DateTime(timezone=True), nullable=True))
    op.add_column(
        "event_signup", sa.Column("walk_in", sa.Boolean(), server_default=sa.false(), nullable=False)
    )


def downgrade() -> None:
    op.drop_column("event_signup", "walk_in")
    op.drop_column("event_signup", "cancelled_at")
    op.drop_column("event_signup", "completed_at")
    op.drop_column("event_signup", "attended_at")
    if op.get_bind().dialect.name != "sqlite":
        op.drop_constraint(op.f("fk_event_trade_id_trade"), "event", type_="foreignkey")
    op.drop_column("event", "trade_id")
