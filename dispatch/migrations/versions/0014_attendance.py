"""the day itself: when a placed worker arrived (`到`) and when the employer said they did not (`没来`)

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-06 22:20:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0014"
down_revision: str | None = "0013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


# Plain ALTER TABLE, also on SQLite: copying `offer` in batch mode would drop it under the rows that
# refer to it (foreign keys are on), as 0009 found.


def upgrade() -> None:
    op.add_column("offer", sa.Column("arrived_at", sa.DateTime(timezone=True), nullable=True))
    op.add_column("offer", sa.Column("no_show_at", sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    op.drop_column("offer", "no_show_at")
    op.drop_column("offer", "arrived_at")
