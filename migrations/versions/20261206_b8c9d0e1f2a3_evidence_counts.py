"""evidence counted per pledge as it is stored and reviewed, for the status board

The board showed, for every pledge, its evidence counted by review and stance,
by reading every evidence row: 200,000 of them on a large store, a cost that
grew with the store. ``evidence_counts`` holds those counts and the latest find
per pledge, kept by triggers on ``evidence`` in the same transaction as the
change, whichever code (or person with a SQL prompt) makes it: an insert adds
its row's share, a review or a change of stance moves it, and a row deleted or
moved to another pledge or time has its pledges counted again from their rows.

Revision ID: b8c9d0e1f2a3
Revises: a7b8c9d0e1f2
Create Date: 2026-12-06 22:10:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "b8c9d0e1f2a3"
down_revision: str | None = "a7b8c9d0e1f2"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# A row's share of each count, as 0 or 1, from its review and stance (SQL over
# "row", which is NEW or OLD in a trigger, or the table in a recount).
SHARES = {
    "pending": "{row}.review = 'pending'",
    "kept": "{row}.review = 'confirmed' AND {row}.stance = 'kept'",
    "broken": "{row}.review = 'confirmed' AND {row}.stance = 'broken'",
    "neutral": "{row}.review = 'confirmed' AND {row}.stance = 'neutral'",
}
COLUMNS = ", ".join(SHARES)


def share(name: str, row: str) -> str:
    return f"CASE WHEN {SHARES[name].format(row=row)} THEN 1 ELSE 0 END"


def recount(pledge: str) -> list[str]:
    """Statements that count one pledge's evidence again from its rows."""
    sums = ", ".join(f"SUM({share(name, 'evidence')})" for name in SHARES)
    return [
        f"DELETE FROM evidence_counts WHERE pledge_id = {pledge}",
        f"INSERT INTO evidence_counts (pledge_id, {COLUMNS}, last_found_at) "
        f"SELECT pledge_id, {sums}, MAX(found_at) FROM evidence "
        f"WHERE pledge_id = {pledge} GROUP BY pledge_id",
    ]


def sqlite_triggers() -> list[str]:
    values = ", ".join(share(name, "NEW") for name in SHARES)
    added = ", ".join(f"{name} = {name} + excluded.{name}" for name in SHARES)
    moved = ", ".join(
        f"{name} = {name} - {share(name, 'OLD')} + {share(name, 'NEW')}" for name in SHARES
    )
    same_place = "OLD.pledge_id = NEW.pledge_id AND OLD.found_at IS NEW.found_at"
    return [
        "CREATE TRIGGER evidence_counts_insert AFTER INSERT ON evidence BEGIN "
        f"INSERT INTO evidence_counts (pledge_id, {COLUMNS}, last_found_at) "
        f"VALUES (NEW.pledge_id, {values}, NEW.found_at) "
        f"ON CONFLICT (pledge_id) DO UPDATE SET {added}, last_found_at = CASE "
        "WHEN last_found_at IS NULL OR excluded.last_found_at > last_found_at "
        "THEN excluded.last_found_at ELSE last_found_at END; END",
        "CREATE TRIGGER evidence_counts_review AFTER UPDATE OF review, stance ON evidence "
        f"WHEN {same_place} BEGIN "
        f"UPDATE evidence_counts SET {moved} WHERE pledge_id = NEW.pledge_id; END",
        "CREATE TRIGGER evidence_counts_moved AFTER UPDATE OF pledge_id, found_at ON evidence "
        f"WHEN NOT ({same_place}) BEGIN "
        + "; ".join(recount("OLD.pledge_id") + recount("NEW.pledge_id"))
        + "; END",
        "CREATE TRIGGER evidence_counts_delete AFTER DELETE ON evidence BEGIN "
        + "; ".join(recount("OLD.pledge_id"))
        + "; END",
    ]


def postgresql_triggers() -> list[str]:
    values = ", ".join(share(name, "NEW") for name in SHARES)
    added = ", ".join(f"{name} = c.{name} + EXCLUDED.{name}" for name in SHARES)
    moved = ", ".join(
        f"{name} = {name} - {share(name, 'OLD')} + {share(name, 'NEW')}" for name in SHARES
    )
    recount_old = "; ".join(recount("OLD.pledge_id"))
    recount_new = "; ".join(recount("NEW.pledge_id"))
    return [
        "CREATE FUNCTION evidence_counts_track() RETURNS trigger LANGUAGE plpgsql AS $$ "
        "BEGIN "
        "IF TG_OP = 'INSERT' THEN "
        f"INSERT INTO evidence_counts AS c (pledge_id, {COLUMNS}, last_found_at) "
        f"VALUES (NEW.pledge_id, {values}, NEW.found_at) "
        f"ON CONFLICT (pledge_id) DO UPDATE SET {added}, "
        "last_found_at = GREATEST(c.last_found_at, EXCLUDED.last_found_at); "
        "RETURN NULL; "
        "END IF; "
        "IF TG_OP = 'UPDATE' AND OLD.pledge_id = NEW.pledge_id "
        "AND OLD.found_at IS NOT DISTINCT FROM NEW.found_at THEN "
        f"UPDATE evidence_counts SET {moved} WHERE pledge_id = NEW.pledge_id; "
        "RETURN NULL; "
        "END IF; "
        f"{recount_old}; "
        f"IF TG_OP = 'UPDATE' THEN {recount_new}; END IF; "
        "RETURN NULL; "
        "END $$",
        "CREATE TRIGGER evidence_counts AFTER INSERT OR DELETE "
        "OR UPDATE OF review, stance, pledge_id, found_at ON evidence "
        "FOR EACH ROW EXECUTE FUNCTION evidence_counts_track()",
        "CREATE FUNCTION evidence_counts_clear() RETURNS trigger LANGUAGE plpgsql AS $$ "
        "BEGIN DELETE FROM evidence_counts; RETURN NULL; END $$",
        "CREATE TRIGGER evidence_counts_truncate AFTER TRUNCATE ON evidence "
        "FOR EACH STATEMENT EXECUTE FUNCTION evidence_counts_clear()",
    ]


def upgrade() -> None:
    op.create_table(
        "evidence_counts",
        sa.Column("pledge_id", sa.Integer(), nullable=False),
        sa.Column("pending", sa.Integer(), nullable=False),
        sa.Column("kept", sa.Integer(), nullable=False),
        sa.Column("broken", sa.Integer(), nullable=False),
        sa.Column("neutral", sa.Integer(), nullable=False),
        sa.Column("last_found_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["pledge_id"], ["pledges.id"], name="fk_evidence_counts_pledge_id_pledges"
        ),
        sa.PrimaryKeyConstraint("pledge_id", name="pk_evidence_counts"),
    )
    sums = ", ".join(f"SUM({share(name, 'evidence')})" for name in SHARES)
    op.execute(
        f"INSERT INTO evidence_counts (pledge_id, {COLUMNS}, last_found_at) "
        f"SELECT pledge_id, {sums}, MAX(found_at) FROM evidence GROUP BY pledge_id"
    )
    dialect = op.get_bind().dialect.name
    for statement in sqlite_triggers() if dialect == "sqlite" else postgresql_triggers():
        op.execute(statement)


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        for name in ("insert", "review", "moved", "delete"):
            op.execute(f"DROP TRIGGER evidence_counts_{name}")
    else:
        op.execute("DROP TRIGGER evidence_counts_truncate ON evidence")
        op.execute("DROP TRIGGER evidence_counts ON evidence")
        op.execute("DROP FUNCTION evidence_counts_clear()")
        op.execute("DROP FUNCTION evidence_counts_track()")
    op.drop_table("evidence_counts")
