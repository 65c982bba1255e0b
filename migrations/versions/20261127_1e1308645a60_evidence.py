"""evidence

Revision ID: 1e1308645a60
Revises: 45908c220ffd
Create Date: 2026-11-27 04:57:42.402444
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "1e1308645a60"
down_revision: str | None = "45908c220ffd"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:

    op.create_table(
        "evidence",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("pledge_id", sa.Integer(), nullable=False),
        sa.Column("article_id", sa.Integer(), nullable=False),
        sa.Column("score", sa.Float(), nullable=False),
        sa.Column("stance", sa.String(length=10), nullable=False),
        sa.Column("stance_reason", sa.String(length=300), nullable=False),
        sa.Column("snippet", sa.Text(), nullable=False),
        sa.Column("query", sa.Text(), nullable=False),
        sa.Column("found_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("review", sa.String(length=10), nullable=False),
        sa.Column("reviewed_by", sa.String(length=100), nullable=True),
        sa.Column("reviewed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("review_note", sa.Text(), nullable=True),
        sa.CheckConstraint(
            "review IN ('pending', 'confirmed', 'rejected')", name=op.f("ck_evidence_review")
        ),
        sa.CheckConstraint(
            "stance IN ('kept', 'broken', 'neutral')", name=op.f("ck_evidence_stance")
        ),
        sa.ForeignKeyConstraint(
            ["article_id"],
            ["articles.id"],
            name=op.f("fk_evidence_article_id_articles"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["pledge_id"],
            ["pledges.id"],
            name=op.f("fk_evidence_pledge_id_pledges"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_evidence")),
        sa.UniqueConstraint("pledge_id", "article_id", name="uq_evidence_pledge_article"),
    )
    with op.batch_alter_table("evidence", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_evidence_article_id"), ["article_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_evidence_pledge_id"), ["pledge_id"], unique=False)
        batch_op.create_index("ix_evidence_review_found", ["review", "found_at"], unique=False)


def downgrade() -> None:

    with op.batch_alter_table("evidence", schema=None) as batch_op:
        batch_op.drop_index("ix_evidence_review_found")
        batch_op.drop_index(batch_op.f("ix_evidence_pledge_id"))
        batch_op.drop_index(batch_op.f("ix_evidence_article_id"))

    op.drop_table("evidence")
