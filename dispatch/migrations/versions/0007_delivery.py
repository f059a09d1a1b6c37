"""delivery guarantees: send attempts, the outbox's RQ job ids and completion

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-06 16:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

UNFINISHED = "completed_at IS NULL AND relayed_at IS NOT NULL"


def upgrade() -> None:
    op.add_column("message", sa.Column("send_started_at", sa.DateTime(timezone=True), nullable=True))
    op.add_column("outbox_event", sa.Column("job_id", sa.String(length=64), nullable=True))
    op.add_column("outbox_event", sa.Column("completed_at", sa.DateTime(timezone=True), nullable=True))
    # Jobs relayed before this revision are taken as done: the lost-job sweep starts from today.
    op.execute("UPDATE outbox_event SET completed_at = relayed_at WHERE relayed_at IS NOT NULL")
    op.create_index(
        "ix_outbox_event_unfinished",
        "outbox_event",
        ["relayed_at"],
        postgresql_where=sa.text(UNFINISHED),
        sqlite_where=sa.text(UNFINISHED),
    )


def downgrade() -> None:
    op.drop_index("ix_outbox_event_unfinished", table_name="outbox_event")
    with op.batch_alter_table("outbox_event") as batch:
        batch.drop_column("completed_at")
        batch.drop_column("job_id")
    with op.batch_alter_table("message") as batch:
        batch.drop_column("send_started_at")
