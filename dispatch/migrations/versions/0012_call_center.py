"""the live call center: agent presence, callers waiting for a person, agents' calls (issue 15)

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-06 21:26:05.188861
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "queued_call",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("call_id", sa.Integer(), nullable=False),
        sa.Column("call_sid", sa.String(length=64), nullable=False),
        sa.Column("site_id", sa.Integer(), nullable=False),
        sa.Column("queue_name", sa.String(length=64), nullable=False),
        sa.Column("ticket_id", sa.Integer(), nullable=True),
        sa.Column(
            "status",
            sa.Enum(
                "waiting",
                "answered",
                "call_back",
                "voicemail",
                "abandoned",
                name="waitstatus",
                native_enum=False,
                length=24,
            ),
            nullable=False,
        ),
        sa.Column("queued_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("left_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("answered_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("answered_by_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["answered_by_id"], ["agent.id"], name=op.f("fk_queued_call_answered_by_id_agent")
        ),
        sa.ForeignKeyConstraint(["call_id"], ["call.id"], name=op.f("fk_queued_call_call_id_call")),
        sa.ForeignKeyConstraint(["site_id"], ["site.id"], name=op.f("fk_queued_call_site_id_site")),
        sa.ForeignKeyConstraint(["ticket_id"], ["ticket.id"], name=op.f("fk_queued_call_ticket_id_ticket")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_queued_call")),
    )
    op.create_index(op.f("ix_queued_call_call_id"), "queued_call", ["call_id"], unique=False)
    op.create_index(op.f("ix_queued_call_call_sid"), "queued_call", ["call_sid"], unique=False)
    op.create_index("ix_queued_call_status_queued_at", "queued_call", ["status", "queued_at"], unique=False)
    op.create_table(
        "agent_call",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("agent_id", sa.Integer(), nullable=False),
        sa.Column(
            "direction",
            sa.Enum("inbound", "outbound", name="calldirection", native_enum=False, length=24),
            nullable=False,
        ),
        sa.Column("call_sid", sa.String(length=64), nullable=True),
        sa.Column("queued_call_id", sa.Integer(), nullable=True),
        sa.Column("ticket_id", sa.Integer(), nullable=True),
        sa.Column("phone", sa.String(length=40), nullable=False),
        sa.Column("worker_id", sa.Integer(), nullable=True),
        sa.Column("employer_id", sa.Integer(), nullable=True),
        sa.Column("job_id", sa.Integer(), nullable=True),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("answered_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("ended_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("duration_seconds", sa.Integer(), nullable=True),
        sa.Column("dial_status", sa.String(length=16), nullable=False),
        sa.Column("outcome", sa.String(length=32), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(["agent_id"], ["agent.id"], name=op.f("fk_agent_call_agent_id_agent")),
        sa.ForeignKeyConstraint(
            ["employer_id"], ["employer.id"], name=op.f("fk_agent_call_employer_id_employer")
        ),
        sa.ForeignKeyConstraint(["job_id"], ["job.id"], name=op.f("fk_agent_call_job_id_job")),
        sa.ForeignKeyConstraint(
            ["queued_call_id"], ["queued_call.id"], name=op.f("fk_agent_call_queued_call_id_queued_call")
        ),
        sa.ForeignKeyConstraint(["ticket_id"], ["ticket.id"], name=op.f("fk_agent_call_ticket_id_ticket")),
        sa.ForeignKeyConstraint(["worker_id"], ["worker.id"], name=op.f("fk_agent_call_worker_id_worker")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_agent_call")),
        sa.UniqueConstraint("call_sid", name=op.f("uq_agent_call_call_sid")),
    )
    op.create_index("ix_agent_call_agent_started", "agent_call", ["agent_id", "started_at"], unique=False)
    op.create_index(op.f("ix_agent_call_ticket_id"), "agent_call", ["ticket_id"], unique=False)
    op.create_table(
        "agent_presence",
        sa.Column("agent_id", sa.Integer(), nullable=False),
        sa.Column("site_id", sa.Integer(), nullable=False),
        sa.Column(
            "status",
            sa.Enum("available", "busy", "wrap_up", "away", name="presence", native_enum=False, length=24),
            nullable=False,
        ),
        sa.Column("changed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("seen_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("agent_call_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["agent_call_id"], ["agent_call.id"], name=op.f("fk_agent_presence_agent_call_id_agent_call")
        ),
        sa.ForeignKeyConstraint(["agent_id"], ["agent.id"], name=op.f("fk_agent_presence_agent_id_agent")),
        sa.ForeignKeyConstraint(["site_id"], ["site.id"], name=op.f("fk_agent_presence_site_id_site")),
        sa.PrimaryKeyConstraint("agent_id", name=op.f("pk_agent_presence")),
    )
    op.create_index("ix_agent_presence_site_status", "agent_presence", ["site_id", "status"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_agent_presence_site_status", table_name="agent_presence")
    op.drop_table("agent_presence")
    op.drop_index(op.f("ix_agent_call_ticket_id"), table_name="agent_call")
    op.drop_index("ix_agent_call_agent_started", table_name="agent_call")
    op.drop_table("agent_call")
    op.drop_index("ix_queued_call_status_queued_at", table_name="queued_call")
    op.drop_index(op.f("ix_queued_call_call_sid"), table_name="queued_call")
    op.drop_index(op.f("ix_queued_call_call_id"), table_name="queued_call")
    op.drop_table("queued_call")
