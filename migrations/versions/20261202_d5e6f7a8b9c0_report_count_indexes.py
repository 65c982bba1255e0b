"""indexes for the report's counts of a period

The weekly report counts articles fetched and evidence found in its period;
without these indexes both counts read every row.

Revision ID: d5e6f7a8b9c0
Revises: c3a9d2e1f0b4
Create Date: 2026-12-02 19:05:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "d5e6f7a8b9c0"
down_revision: str | None = "c3a9d2e1f0b4"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index("ix_articles_fetched_at", "articles", ["fetched_at"])
    op.create_index("ix_evidence_found_at", "evidence", ["found_at"])


def downgrade() -> None:
    op.drop_index("ix_evidence_found_at", table_name="evidence")
    op.drop_index("ix_articles_fetched_at", table_name="articles")
