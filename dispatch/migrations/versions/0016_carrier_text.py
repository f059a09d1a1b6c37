"""the carrier template an outbound message was queued with: its text with ${name} variables (one SMS
template's conditions give several carrier templates; the text names the one, whatever its code)

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-07 10:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0016"
down_revision: str | None = "0015"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("message", sa.Column("carrier_text", sa.Text(), nullable=True))


def downgrade() -> None:
    op.drop_column("message", "carrier_text")
