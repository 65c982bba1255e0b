"""pledges and status changes

Revision ID: 8a59e8c8a38a
Revises:
Create Date: 2026-11-27 04:14:17.625759
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "8a59e8c8a38a"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:

    op.create_table(
        "pledges",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("actor", sa.String(length=200), nullable=False),
        sa.Column("reported_by", sa.String(length=200), nullable=True),
        sa.Column("made_on", sa.Date(), nullable=False),
        sa.Column("source_url", sa.String(length=2000), nullable=False),
        sa.Column("source_name", sa.String(length=200), nullable=True),
        sa.Column("quote", sa.Text(), nullable=True),
        sa.Column("deadline", sa.Date(), nullable=True),
        sa.Column("query", sa.Text(), nullable=True),
        sa.Column("notes", sa.Text(), nullable=True),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("actor_key", sa.String(length=200), nullable=False),
        sa.Column("text_key", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_by", sa.String(length=100), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_by", sa.String(length=100), nullable=False),
        sa.CheckConstraint(
            "status IN ('not_yet_rated', 'in_the_works', 'stalled', 'kept', 'compromise', 'broken')",
            name=op.f("ck_pledges_status"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_pledges")),
    )
    with op.batch_alter_table("pledges", schema=None) as batch_op:
        batch_op.create_index("ix_pledges_dedupe", ["actor_key", "text_key"], unique=False)
        batch_op.create_index(batch_op.f("ix_pledges_made_on"), ["made_on"], unique=False)
        batch_op.create_index(batch_op.f("ix_pledges_status"), ["status"], unique=False)

    op.create_table(
        "pledge_revisions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("pledge_id", sa.Integer(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("by", sa.String(length=100), nullable=False),
        sa.Column("field", sa.String(length=40), nullable=False),
        sa.Column("old_value", sa.Text(), nullable=True),
        sa.Column("new_value", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["pledge_id"],
            ["pledges.id"],
            name=op.f("fk_pledge_revisions_pledge_id_pledges"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_pledge_revisions")),
    )
    with op.batch_alter_table("pledge_revisions", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_pledge_revisions_pledge_id"), ["pledge_id"], unique=False
        )

    op.create_table(
        "pledge_tags",
        sa.Column("pledge_id", sa.Integer(), nullable=False),
        sa.Column("tag", sa.String(length=40), nullable=False),
        sa.ForeignKeyConstraint(
            ["pledge_id"],
            ["pledges.id"],
            name=op.f("fk_pledge_tags_pledge_id_pledges"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("pledge_id", "tag", name=op.f("pk_pledge_tags")),
    )
    with op.batch_alter_table("pledge_tags", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_pledge_tags_tag"), ["tag"], unique=False)

    op.create_table(
        "status_changes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("pledge_id", sa.Integer(), nullable=False),
        sa.Column("from_status", sa.String(length=20), nullable=True),
        sa.Column("to_status", sa.String(length=20), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("by", sa.String(length=100), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.CheckConstraint(
            "to_status IN ('not_yet_rated', 'in_the_works', 'stalled', 'kept', 'compromise', 'broken')",
            name=op.f("ck_status_changes_to_status"),
        ),
        sa.ForeignKeyConstraint(
            ["pledge_id"],
            ["pledges.id"],
            name=op.f("fk_status_changes_pledge_id_pledges"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_status_changes")),
    )
    with op.batch_alter_table("status_changes", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_status_changes_at"), ["at"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_status_changes_pledge_id"), ["pledge_id"], unique=False
        )


def downgrade() -> None:

    with op.batch_alter_table("status_changes", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_status_changes_pledge_id"))
        batch_op.drop_index(batch_op.f("ix_status_changes_at"))

    op.drop_table("status_changes")
    with op.batch_alter_table("pledge_tags", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_pledge_tags_tag"))

    op.drop_table("pledge_tags")
    with op.batch_alter_table("pledge_revisions", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_pledge_revisions_pledge_id"))

    op.drop_table("pledge_revisions")
    with op.batch_alter_table("pledges", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_pledges_status"))
        batch_op.drop_index(batch_op.f("ix_pledges_made_on"))
        batch_op.drop_index("ix_pledges_dedupe")

    op.drop_table("pledges")
