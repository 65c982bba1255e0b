"""evidence keeps its article's publication time, indexed with the review state;
an index the status board's counts read alone

The review queue and every evidence list show the newest article first. With the
time on the article only, a page of pending evidence sorted every pending row
(200,000 of them at a newsroom's scale) to show fifty; with it on the evidence
row, beside the review state in one index, a page is read off the index. An
article's publication time never changes once stored, so the copy cannot drift.

Revision ID: f2a3b4c5d6e7
Revises: e1f2a3b4c5d6
Create Date: 2026-12-03 14:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "f2a3b4c5d6e7"
down_revision: str | None = "e1f2a3b4c5d6"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("evidence", sa.Column("published_at", sa.DateTime(timezone=True), nullable=True))
    op.execute(
        "UPDATE evidence SET published_at = "
        "(SELECT articles.published_at FROM articles WHERE articles.id = evidence.article_id)"
    )
    op.create_index("ix_evidence_review_published", "evidence", ["review", "published_at", "id"])
    op.create_index("ix_evidence_published", "evidence", ["published_at", "id"])
    op.create_index("ix_evidence_pledge_published", "evidence", ["pledge_id", "published_at", "id"])
    # Every column the status board counts by, so it reads the index, not the rows.
    op.create_index("ix_evidence_board", "evidence", ["pledge_id", "review", "stance", "found_at"])


def downgrade() -> None:
    op.drop_index("ix_evidence_board", table_name="evidence")
    op.drop_index("ix_evidence_pledge_published", table_name="evidence")
    op.drop_index("ix_evidence_published", table_name="evidence")
    op.drop_index("ix_evidence_review_published", table_name="evidence")
    with op.batch_alter_table("evidence") as batch:
        batch.drop_column("published_at")
