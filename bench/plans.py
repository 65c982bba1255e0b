"""The plan of every statement the desk's list, board and report calls run, on a
database at a newsroom's scale, written to bench/PLANS.md.

    python bench/plans.py SQLITE_URL POSTGRESQL_URL   (databases filled as
                                                       scale_bench.py's store section fills them)

Each Desk call is run once with every statement it sends recorded; each statement
is then explained on its own database (SQLite: EXPLAIN QUERY PLAN; PostgreSQL:
EXPLAIN ANALYZE, with the time it took), so a full scan or a sort of a whole table
shows where it starts.
"""

from __future__ import annotations

import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from pledgewatch.config import config_from_dict
from pledgewatch.desk import Desk

ROOT = Path(__file__).resolve().parent.parent


def calls(desk: Desk) -> dict[str, Any]:
    now = datetime.now(UTC)
    pledge_id = 5_000
    return {
        "status (the board)": desk.status_board,
        "evidence list --pledge": lambda: desk.evidence(pledge_id=pledge_id, limit=50),
        "the pending queue's first page": lambda: desk.evidence(limit=50),
        "evidence list --review pending": lambda: desk.evidence(review="pending", limit=50),
        "pledge show": lambda: desk.pledge(pledge_id),
        "pledge list": lambda: desk.pledges(limit=50),
        "the weekly report": lambda: desk.report(now - timedelta(days=7), now),
    }


def explain(url: str) -> list[str]:
    desk = Desk(config_from_dict({"database": {"url": url}}, path=None, env={}))
    engine = desk.database.engine
    dialect = engine.dialect.name
    out = [f"## {dialect}", ""]
    for name, call in calls(desk).items():
        seen: list[tuple[str, Any]] = []

        def record(conn: Any, cursor: Any, statement: str, params: Any, *_: Any) -> None:
            if statement.lstrip().upper().startswith("SELECT"):
                seen.append((statement, params))  # noqa: B023 - read at once

        sa.event.listen(engine, "before_cursor_execute", record)
        try:
            call()
        finally:
            sa.event.remove(engine, "before_cursor_execute", record)
        out += [f"### {name}", ""]
        raw = engine.raw_connection()
        try:
            cursor = raw.cursor()
            for statement, params in seen:
                prefix = "EXPLAIN QUERY PLAN " if dialect == "sqlite" else "EXPLAIN ANALYZE "
                cursor.execute(prefix + statement, params)
                rows = cursor.fetchall()
                plan = [" ".join(str(r[-1]) for r in [row]) for row in rows]
                first = " ".join(statement.split())[:150]
                out += ["```", first, *("    " + line for line in plan), "```", ""]
        finally:
            raw.close()
    desk.close()
    return out


def main() -> None:
    lines = [
        "# Query plans at a newsroom's scale",
        "",
        "Written by `bench/plans.py` on databases of 10,000 pledges, 1,000,000 articles",
        f"and 200,000 evidence rows ({datetime.now(UTC):%Y-%m-%d}); see bench/RESULTS.md.",
        "",
    ]
    for url in sys.argv[1:]:
        lines += explain(url)
    (ROOT / "bench" / "PLANS.md").write_text("\n".join(lines) + "\n", encoding="utf-8")
    print(f"wrote {ROOT / 'bench' / 'PLANS.md'}")


if __name__ == "__main__":
    main()
