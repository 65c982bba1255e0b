"""feed claims for several workers, run heartbeats, one weekly report per period,
and background rematches

On PostgreSQL any number of workers sweep one database: each claims the due
feeds it polls (claimed_by, lease_until), a run beats while it works, and the
weekly report of a period is recorded by the one worker that writes it. A new
or edited pledge is matched against the newest stored articles at once and
against the rest in the background (rematch_jobs).

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
        "rematch_jobs",
        sa.Column("pledge_id", sa.Integer(), nullable=False),
        sa.Column("before_id", sa.Integer(), nullable=False),
        sa.Column("since", sa.DateTime(timezone=True), nullable=True),
        sa.Column("total", sa.Integer(), nullable=False),
        sa.Column("done", sa.Integer(), nullable=False),
        sa.Column("queued_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["pledge_id"],
            ["pledges.id"],
            name=op.f("fk_rematch_jobs_pledge_id_pledges"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("pledge_id", name=op.f("pk_rematch_jobs")),
    )
    op.create_table(
        "reports_written",
        sa.Column("period", sa.String(40), nullable=False),
        sa.Column("written_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("worker", sa.String(200), nullable=False),
        sa.PrimaryKeyConstraint("period", name=op.f("pk_reports_written")),
    )


def downgrade() -> None:
    op.drop_table("reports_written")
    op.drop_table("rematch_jobs")
    with op.batch_alter_table("sweep_runs") as batch:
        batch.drop_column("heartbeat_at")
        batch.drop_column("worker")
    with op.batch_alter_table("feeds") as batch:
        batch.drop_column("lease_until")
        batch.drop_column("claimed_by")
