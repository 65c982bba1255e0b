"""feed claims for several workers, run heartbeats, and one weekly report per period

On PostgreSQL any number of workers sweep one database: each claims the due
feeds it polls (claimed_by, lease_until), a run beats while it works, and the
weekly report of a period is recorded by the one worker that writes it.

Revision ID: e1f2a3b4c5d6
Revises: d5e6f7a8b9c0
Create Date: 2026-12-03 09:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "e1f2a3b4c5d6"
down_revision: str | None = "d5e6f7a8b9c0"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("feeds") as batch:
        batch.add_column(sa.Column("claimed_by", sa.String(200), nullable=True))
        batch.add_column(sa.Column("lease_until", sa.DateTime(timezone=True), nullable=True))
    with op.batch_alter_table("sweep_runs") as batch:
        batch.add_column(sa.Column("worker", sa.String(200), nullable=True))
        batch.add_column(sa.Column("heartbeat_at", sa.DateTime(timezone=True), nullable=True))
    op.create_table(
        "reports_written",
        sa.Column("period", sa.String(40), primary_key=True),
        sa.Column("written_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("worker", sa.String(200), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("reports_written")
    with op.batch_alter_table("sweep_runs") as batch:
        batch.drop_column("heartbeat_at")
        batch.drop_column("worker")
    with op.batch_alter_table("feeds") as batch:
        batch.drop_column("lease_until")
        batch.drop_column("claimed_by")
