"""the question a contact was last asked, for the inbound router (dispatch/inbound/)

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-06 19:20:00
"""

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

import sqlalchemy as sa
from alembic import op

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

COLUMNS = ("question_kind", "question_job_id", "question_asked_at", "question_expires_at")


FOLLOW_UP_OPEN_DAYS = 30  # dispatch.followup.texts.MAX_OPEN_DAYS when this revision was written


def upgrade() -> None:
    with op.batch_alter_table("contact") as batch:
        batch.add_column(sa.Column("question_kind", sa.String(length=24), nullable=True))
        batch.add_column(sa.Column("question_job_id", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("question_asked_at", sa.DateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column("question_expires_at", sa.DateTime(timezone=True), nullable=True))
    _ask_what_was_asked_last()


def _ask_what_was_asked_last() -> None:
    """Each contact's question as the handlers read it before this revision: the open offer or open
    follow-up texted to the number last. (Without it, a bare `1` from a worker with both open would
    go to the follow-up, though the offer was texted after it.)"""
    connection = op.get_bind()
    now = datetime.now(UTC)
    asked: dict[str, tuple[datetime, str, int, datetime]] = {}
    offers = connection.execute(
        sa.text(
            "SELECT w.phone, o.job_id, o.sent_at, o.expires_at"
            " FROM offer o JOIN worker w ON w.id = o.worker_id"
            " WHERE o.status IN ('queued', 'sent') AND o.sent_at IS NOT NULL AND o.expires_at IS NOT NULL"
        ).columns(*_typed("phone", "job_id", "sent_at", "expires_at"))
    )
    for phone, job_id, sent_at, expires_at in offers:
        _keep_latest(asked, phone, _aware(sent_at), "offer", job_id, _aware(expires_at))
    follow_ups = connection.execute(
        sa.text(
            "SELECT CASE WHEN f.party = 'worker' THEN w.phone ELSE e.phone END, f.job_id,"
            " COALESCE(f.reminded_at, f.asked_at) FROM follow_up f"
            " JOIN worker w ON w.id = f.worker_id JOIN employer e ON e.id = f.employer_id"
            " WHERE f.status IN ('asked', 'reminded', 'agent') AND f.channel = 'sms'"
        ).columns(*_typed("phone", "job_id", "asked_at"))
    )
    for phone, job_id, asked_at in follow_ups:
        when = _aware(asked_at)
        _keep_latest(asked, phone, when, "follow_up", job_id, when + timedelta(days=FOLLOW_UP_OPEN_DAYS))
    contact = sa.table(
        "contact",
        sa.column("phone", sa.String),
        sa.column("question_kind", sa.String),
        sa.column("question_job_id", sa.Integer),
        sa.column("question_asked_at", sa.DateTime(timezone=True)),
        sa.column("question_expires_at", sa.DateTime(timezone=True)),
    )
    for phone, (asked_at, kind, job_id, expires_at) in asked.items():
        if expires_at <= now:
            continue
        connection.execute(
            contact.update()
            .where(contact.c.phone == phone)
            .values(
                question_kind=kind,
                question_job_id=job_id,
                question_asked_at=asked_at,
                question_expires_at=expires_at,
            )
        )


def _typed(*names: str) -> list[sa.ColumnClause[Any]]:
    """Result columns typed, so that SQLite's datetimes (stored as text) come back as datetimes."""
    types: dict[str, Any] = {"phone": sa.String(), "job_id": sa.Integer()}
    return [sa.column(name, types.get(name, sa.DateTime(timezone=True))) for name in names]


def _keep_latest(
    asked: dict[str, tuple[datetime, str, int, datetime]],
    phone: str,
    asked_at: datetime,
    kind: str,
    job_id: int,
    expires_at: datetime,
) -> None:
    if phone not in asked or asked[phone][0] < asked_at:
        asked[phone] = (asked_at, kind, job_id, expires_at)


def _aware(moment: datetime) -> datetime:
    """SQLite gives naive datetimes (stored as UTC)."""
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def downgrade() -> None:
    with op.batch_alter_table("contact") as batch:
        for column in reversed(COLUMNS):
            batch.drop_column(column)
