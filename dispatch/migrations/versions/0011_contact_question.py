"""the question a contact was last asked, for the inbound router (dispatch/inbound/)

Revision ID: 0011
Revises: 0008
Create Date: 2026-12-06 19:20:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0011"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

COLUMNS = ("question_kind", "question_job_id", "question_asked_at", "question_expires_at")


def upgrade() -> None:
    # Nullable columns, no data to copy: until a contact is asked something after this revision, the
    # router treats it as asked nothing, and bare answers go through the keyword routes as before.
    with op.batch_alter_table("contact") as batch:
        batch.add_column(sa.Column("question_kind", sa.String(length=24), nullable=True))
        batch.add_column(sa.Column("question_job_id", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("question_asked_at", sa.DateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column("question_expires_at", sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("contact") as batch:
        for column in reversed(COLUMNS):
            batch.drop_column(column)
