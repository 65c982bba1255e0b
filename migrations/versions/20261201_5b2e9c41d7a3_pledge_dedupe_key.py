"""pledge dedupe key: a hash of the normalised actor and text, indexed

The normalised actor and text were indexed as they are: NFKD can make a
normalised actor longer than its 200-character column, and PostgreSQL refuses
a btree entry over about 2,700 bytes (1,000 characters of Chinese), so such a
pledge could not be logged there. The index is now on a fixed-size hash.

Revision ID: 5b2e9c41d7a3
Revises: 0cdb60d8a9e9
Create Date: 2026-12-01 22:40:00
"""

import hashlib
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "5b2e9c41d7a3"
down_revision: str | None = "0cdb60d8a9e9"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _key(actor_key: str, text_key: str) -> str:
    # The same function as pledgewatch.pledges.dedupe_key, frozen here.
    return hashlib.sha256(f"{actor_key}\x1f{text_key}".encode()).hexdigest()


def upgrade() -> None:
    with op.batch_alter_table("pledges", schema=None) as batch_op:
        batch_op.drop_index("ix_pledges_dedupe")
        batch_op.alter_column(
            "actor_key",
            existing_type=sa.String(length=200),
            type_=sa.Text(),
            existing_nullable=False,
        )
        batch_op.add_column(sa.Column("dedupe_key", sa.String(length=64), nullable=True))
    pledges = sa.table(
        "pledges",
        sa.column("id", sa.Integer),
        sa.column("actor_key", sa.Text),
        sa.column("text_key", sa.Text),
        sa.column("dedupe_key", sa.String),
    )
    connection = op.get_bind()
    rows = connection.execute(sa.select(pledges.c.id, pledges.c.actor_key, pledges.c.text_key))
    for pledge_id, actor_key, text_key in rows.all():
        connection.execute(
            pledges.update()
            .where(pledges.c.id == pledge_id)
            .values(dedupe_key=_key(actor_key, text_key))
        )
    with op.batch_alter_table("pledges", schema=None) as batch_op:
        batch_op.alter_column("dedupe_key", existing_type=sa.String(length=64), nullable=False)
        batch_op.create_index("ix_pledges_dedupe_key", ["dedupe_key"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("pledges", schema=None) as batch_op:
        batch_op.drop_index("ix_pledges_dedupe_key")
        batch_op.drop_column("dedupe_key")
        batch_op.alter_column(
            "actor_key",
            existing_type=sa.Text(),
            type_=sa.String(length=200),
            existing_nullable=False,
        )
        batch_op.create_index("ix_pledges_dedupe", ["actor_key", "text_key"], unique=False)
