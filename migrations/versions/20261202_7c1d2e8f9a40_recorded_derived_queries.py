"""recorded derived queries: a derived query is stored on its pledge, as a revision

Until now a pledge without a query had one derived whenever it was matched, so
a new derivation rule changed silently which evidence it collected. Each such
pledge now has its query derived once, here, and recorded (by "pledgewatch"),
with ``query_derived`` saying it was not written by a journalist.

Revision ID: 7c1d2e8f9a40
Revises: 5b2e9c41d7a3
Create Date: 2026-12-02 02:30:00
"""

from collections.abc import Sequence
from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

revision: str = "7c1d2e8f9a40"
down_revision: str | None = "5b2e9c41d7a3"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("pledges", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("query_derived", sa.Boolean(), server_default=sa.false(), nullable=False)
        )
    # The derivation of today's code, recorded once: what the pledge collected
    # so far was found by the same rules.
    from pledgewatch.errors import PledgewatchError
    from pledgewatch.matching.derive import derive_query

    pledges = sa.table(
        "pledges",
        sa.column("id", sa.Integer),
        sa.column("text", sa.Text),
        sa.column("actor", sa.String),
        sa.column("query", sa.Text),
        sa.column("query_derived", sa.Boolean),
    )
    revisions = sa.table(
        "pledge_revisions",
        sa.column("pledge_id", sa.Integer),
        sa.column("at", sa.DateTime(timezone=True)),
        sa.column("by", sa.String),
        sa.column("field", sa.String),
        sa.column("old_value", sa.Text),
        sa.column("new_value", sa.Text),
    )
    connection = op.get_bind()
    now = datetime.now(UTC)
    if connection.dialect.name == "sqlite":
        now = now.replace(tzinfo=None)
    rows = connection.execute(
        sa.select(pledges.c.id, pledges.c.text, pledges.c.actor).where(pledges.c.query.is_(None))
    ).all()
    for pledge_id, text, actor in rows:
        try:
            query = derive_query(text, actor)
        except PledgewatchError:
            continue  # left to derive as before; `pledge rederive` records it
        connection.execute(
            pledges.update()
            .where(pledges.c.id == pledge_id)
            .values(query=query, query_derived=True)
        )
        connection.execute(
            revisions.insert().values(
                pledge_id=pledge_id,
                at=now,
                by="pledgewatch",
                field="query",
                old_value=None,
                new_value=query,
            )
        )


def downgrade() -> None:
    with op.batch_alter_table("pledges", schema=None) as batch_op:
        batch_op.drop_column("query_derived")
