"""agent sessions kept on the server: a row per sign-in, ended by sign-out (replaces agent.session_epoch)

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-08 10:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "agent_session",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("agent_id", sa.Integer(), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_seen_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("ended_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("address", sa.String(length=64), nullable=False),
        sa.ForeignKeyConstraint(["agent_id"], ["agent.id"], name=op.f("fk_agent_session_agent_id_agent")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_agent_session")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_agent_session_token_hash")),
    )
    op.create_index(op.f("ix_agent_session_agent_id"), "agent_session", ["agent_id"], unique=False)
    # Sessions signed in before this revision carry the old stamp, which nothing reads any more: those
    # agents sign in again once. Not in batch mode: SQLite (3.35+) drops the column in place, where
    # copying the table would drop `agent` under the rows that refer to it (foreign keys are on).
    op.drop_column("agent", "session_epoch")


def downgrade() -> None:
    op.add_column("agent", sa.Column("session_epoch", sa.Integer(), nullable=False, server_default="0"))
    if op.get_bind().dialect.name != "sqlite":  # as 0005 made it (SQLite would have to copy the table)
        op.alter_column("agent", "session_epoch", server_default=None)
    op.drop_index(op.f("ix_agent_session_agent_id"), table_name="agent_session")
    op.drop_table("agent_session")
