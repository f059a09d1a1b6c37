"""a domestic carrier's templates: the SMS template an outbound message was rendered from, and its
carrier variables (Alibaba Cloud SMS sends a template code and variables, not a text)

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-06 22:40:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0015"
down_revision: str | None = "0014"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


# Plain ALTER TABLE, also on SQLite (see 0013); a constant default is no table rewrite on PostgreSQL.


def upgrade() -> None:
    op.add_column("message", sa.Column("template", sa.String(length=48), nullable=False, server_default=""))
    op.add_column("message", sa.Column("template_params", sa.JSON(), nullable=True))


def downgrade() -> None:
    op.drop_column("message", "template_params")
    op.drop_column("message", "template")
