"""reviews and verdict evidence

Revision ID: 0cdb60d8a9e9
Revises: 1e1308645a60
Create Date: 2026-11-27 05:12:30.186671
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0cdb60d8a9e9"
down_revision: str | None = "1e1308645a60"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:

    op.create_table(
        "evidence_reviews",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("evidence_id", sa.Integer(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("by", sa.String(length=100), nullable=False),
        sa.Column("review", sa.String(length=10), nullable=False),
        sa.Column("stance", sa.String(length=10), nullable=False),
        sa.Column("note", sa.Text(), nullable=True),
        sa.CheckConstraint(
            "review IN ('confirmed', 'rejected')", name=op.f("ck_evidence_reviews_review")
        ),
        sa.ForeignKeyConstraint(
            ["evidence_id"],
            ["evidence.id"],
            name=op.f("fk_evidence_reviews_evidence_id_evidence"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_evidence_reviews")),
    )
    with op.batch_alter_table("evidence_reviews", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_evidence_reviews_evidence_id"), ["evidence_id"], unique=False
        )

    op.create_table(
        "status_change_evidence",
        sa.Column("status_change_id", sa.Integer(), nullable=False),
        sa.Column("evidence_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["evidence_id"],
            ["evidence.id"],
            name=op.f("fk_status_change_evidence_evidence_id_evidence"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["status_change_id"],
            ["status_changes.id"],
            name=op.f("fk_status_change_evidence_status_change_id_status_changes"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint(
            "status_change_id", "evidence_id", name=op.f("pk_status_change_evidence")
        ),
    )
    with op.batch_alter_table("status_change_evidence", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_status_change_evidence_evidence_id"), ["evidence_id"], unique=False
        )

    with op.batch_alter_table("status_changes", schema=None) as batch_op:
        batch_op.add_column(sa.Column("source_url", sa.String(length=2000), nullable=True))


def downgrade() -> None:

    with op.batch_alter_table("status_changes", schema=None) as batch_op:
        batch_op.drop_column("source_url")

    with op.batch_alter_table("status_change_evidence", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_status_change_evidence_evidence_id"))

    op.drop_table("status_change_evidence")
    with op.batch_alter_table("evidence_reviews", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_evidence_reviews_evidence_id"))

    op.drop_table("evidence_reviews")
