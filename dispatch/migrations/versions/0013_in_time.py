"""in time (issue 16): urgent texts and their deadline on message, reminders sent on offer

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-06 21:40:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0013"
down_revision: str | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


# Plain ADD/DROP COLUMN (SQLite has both): a batch copy of `offer` would rewrite its CHECK constraint,
# which 0009's downgrade then cannot find.
def upgrade() -> None:
    op.add_column("message", sa.Column("urgent", sa.Boolean(), server_default=sa.false(), nullable=False))
    op.add_column("message", sa.Column("not_after", sa.DateTime(timezone=True), nullable=True))
    op.add_column("offer", sa.Column("reminded_evening_at", sa.DateTime(timezone=True), nullable=True))
    op.add_column("offer", sa.Column("reminded_soon_at", sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    op.drop_column("offer", "reminded_soon_at")
    op.drop_column("offer", "reminded_evening_at")
    op.drop_column("message", "not_after")
    op.drop_column("message", "urgent")
