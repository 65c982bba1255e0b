"""Lookups that must not grow with what is stored or configured: a feed found by
name in a large config, and the report's counts of a period read through indexes
(the plans, on each backend)."""

from __future__ import annotations

import time
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import func, select, text
from sqlalchemy.dialects import postgresql, sqlite

from pledgewatch.config import config_from_dict
from pledgewatch.db import Database
from pledgewatch.models import Article, Evidence


def test_a_feed_is_found_by_name_among_fifty_thousand(tmp_path: Path) -> None:
    feeds = [
        {"name": f"feed-{n}", "url": f"https://news{n % 97}.example/{n}.xml"} for n in range(50_000)
    ]
    config = config_from_dict(
        {"database": {"url": "sqlite:///p.db"}, "feeds": feeds}, path=tmp_path / "c.toml", env={}
    )
    started = time.perf_counter()
    found = [config.feed(f"feed-{n}") for n in range(0, 50_000, 5)]
    seconds = time.perf_counter() - started
    assert all(f is not None and f.name == f"feed-{n * 5}" for n, f in enumerate(found))
    assert config.feed("feed-50000") is None
    # A scan of the list would take minutes for these 10,000 lookups.
    assert seconds < 0.5, seconds


def _plan(database: Database, statement: object) -> str:
    dialect = postgresql.dialect() if database.dialect == "postgresql" else sqlite.dialect()
    compiled = statement.compile(dialect=dialect, compile_kwargs={"literal_binds": True})  # type: ignore[attr-defined]
    prefix = "EXPLAIN " if database.dialect == "postgresql" else "EXPLAIN QUERY PLAN "
    with database.connect() as conn:
        if database.dialect == "postgresql":
            conn.execute(text("SET enable_seqscan = off"))  # small tables: ask what it can use
        rows = conn.execute(text(prefix + str(compiled))).all()
    return "\n".join(" ".join(str(c) for c in row) for row in rows)


def test_the_reports_period_counts_read_indexes(database: Database) -> None:
    since, until = datetime(2026, 1, 1, tzinfo=UTC), datetime(2026, 1, 8, tzinfo=UTC)
    articles = (
        select(func.count())
        .select_from(Article)
        .where(Article.fetched_at > since, Article.fetched_at <= until)
    )
    evidence = select(Evidence.id).where(Evidence.found_at > since, Evidence.found_at <= until)
    assert "ix_articles_fetched_at" in _plan(database, articles)
    assert "ix_evidence_found_at" in _plan(database, evidence)
