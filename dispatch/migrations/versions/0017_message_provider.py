"""which provider an outbound message's latest attempt went to (routing and failover between Twilio and
the domestic carrier), and how often a per-number frequency limit held it back

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-07 01:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0017"
down_revision: str | None = "0016"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("message", sa.Column("provider", sa.String(length=16), nullable=True))
    op.add_column("message", sa.Column("frequency_delays", sa.Integer(), nullable=False, server_default="0"))


def downgrade() -> None:
    op.drop_column("message", "frequency_delays")
    op.drop_column("message", "provider")
