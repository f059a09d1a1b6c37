"""ticket summaries as data: the key of the words and their fields, worded in the agent's language

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-06 19:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Nullable, no default: tickets made before keep their stored words. Nothing is copied: the kinds
    # that already kept their wording in `details` (follow-up, wage case, insurance, held job) are read
    # from there (dispatch/tickets/summaries.py, from_details); the others only have their English text.
    op.add_column("ticket", sa.Column("summary_key", sa.String(length=48), nullable=True))
    op.add_column("ticket", sa.Column("summary_fields", sa.JSON(), nullable=True))


def downgrade() -> None:
    # Not in batch mode: SQLite (3.35+) drops a column in place (see 0008).
    op.drop_column("ticket", "summary_fields")
    op.drop_column("ticket", "summary_key")
