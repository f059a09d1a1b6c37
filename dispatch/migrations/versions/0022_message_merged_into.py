"""texts merged under a per-number frequency limit: the message that carried each one

Revision ID: 0022
Revises: 0019
Create Date: 2026-12-07 03:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0022"
down_revision: str | None = "0021"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # A plain id, as Contact.question_job_id: no foreign key, so SQLite adds the column without a rebuild.
    op.add_column("message", sa.Column("merged_into_id", sa.Integer(), nullable=True))


def downgrade() -> None:
    op.drop_column("message", "merged_into_id")
