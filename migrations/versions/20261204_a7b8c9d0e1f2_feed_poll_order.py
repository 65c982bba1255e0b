"""feeds indexed by when they are next due, then id: the order workers claim them in

A claim takes the few feeds due first. With an index on next_poll_at alone,
PostgreSQL sorted every candidate feed for each claim (a whole-table sort, on
disk, 35 ms a claim at 50,000 feeds); with the id beside it, each claim reads
its feeds off the index (see FeedClaims.claim).

Revision ID: a7b8c9d0e1f2
Revises: f2a3b4c5d6e7
Create Date: 2026-12-04 18:50:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "a7b8c9d0e1f2"
down_revision: str | None = "f2a3b4c5d6e7"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index("ix_feeds_next_poll", "feeds", ["next_poll_at", "id"])
    op.drop_index("ix_feeds_next_poll_at", table_name="feeds")


def downgrade() -> None:
    op.create_index("ix_feeds_next_poll_at", "feeds", ["next_poll_at"])
    op.drop_index("ix_feeds_next_poll", table_name="feeds")
