"""wage cases opened by the worker's claim at any time (欠薪 101), not only from a follow-up answer

Revision ID: 0020
Revises: 0019
Create Date: 2026-12-07 03:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0020"
down_revision: str | None = "0019"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Who opened the case: the follow-up answer (every case before this one), the worker's SMS or call,
    # or an agent; and whether the worker had answered "paid" before claiming.
    op.add_column(
        "wage_case", sa.Column("opened_via", sa.String(length=10), nullable=False, server_default="follow_up")
    )
    op.add_column(
        "wage_case", sa.Column("after_paid", sa.Boolean(), nullable=False, server_default=sa.false())
    )


def downgrade() -> None:
    op.drop_column("wage_case", "after_paid")
    op.drop_column("wage_case", "opened_via")
