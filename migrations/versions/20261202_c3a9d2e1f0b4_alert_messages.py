"""alert messages and marks

The outbox of alerts: each message is queued in the transaction that caused it
and sent afterwards with retries; a mark per alert records how far its evidence
digests have read.

Revision ID: c3a9d2e1f0b4
Revises: b7e4f1a2c3d5
Create Date: 2026-12-02 19:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "c3a9d2e1f0b4"
down_revision: str | None = "b7e4f1a2c3d5"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "alert_messages",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("alert", sa.String(64), nullable=False),
        sa.Column("event", sa.String(20), nullable=False),
        sa.Column("key", sa.String(200), nullable=False),
        sa.Column("payload", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("attempts", sa.Integer(), server_default="0", nullable=False),
        sa.Column("next_attempt_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("claimed_until", sa.DateTime(timezone=True), nullable=True),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("given_up_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_alert_messages")),
        sa.UniqueConstraint("alert", "key", name="uq_alert_messages_alert_key"),
    )
    op.create_index("ix_alert_messages_due", "alert_messages", ["sent_at", "next_attempt_at"])
    op.create_table(
        "alert_marks",
        sa.Column("alert", sa.String(64), nullable=False),
        sa.Column("evidence_upto", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("alert", name=op.f("pk_alert_marks")),
    )


def downgrade() -> None:
    op.drop_table("alert_marks")
    op.drop_index("ix_alert_messages_due", table_name="alert_messages")
    op.drop_table("alert_messages")
