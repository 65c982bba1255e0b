"""pledge archive and a feed's Retry-After

A pledge can leave the board and the sweep, keeping its history.

Archiving is how a newsroom takes back a pledge logged by mistake, or one it no
longer follows, without deleting the verdicts and evidence it has: who
archived it, when and why are kept on the pledge (and as a revision).

A feed keeps until when its publisher asked not to be polled (429 or 503 with
Retry-After), so that ``sweep --all`` honours it too.

Revision ID: 9d4f3a6b2c11
Revises: 7c1d2e8f9a40
Create Date: 2026-12-02 05:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "9d4f3a6b2c11"
down_revision: str | None = "7c1d2e8f9a40"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("pledges", schema=None) as batch_op:
        batch_op.add_column(sa.Column("archived_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("archived_by", sa.String(100), nullable=True))
        batch_op.add_column(sa.Column("archive_reason", sa.Text(), nullable=True))
    with op.batch_alter_table("feeds", schema=None) as batch_op:
        batch_op.add_column(sa.Column("retry_until", sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("feeds", schema=None) as batch_op:
        batch_op.drop_column("retry_until")
    with op.batch_alter_table("pledges", schema=None) as batch_op:
        batch_op.drop_column("archive_reason")
        batch_op.drop_column("archived_by")
        batch_op.drop_column("archived_at")
