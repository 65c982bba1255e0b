"""The board's per-pledge evidence counts, kept by triggers, are always what the
evidence rows say: after any inserts, reviews, moves, deletes, on both backends,
from one connection or from several processes at once."""

from __future__ import annotations

import multiprocessing
from collections import Counter
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import delete, select, text, update

from pledgewatch.db import Database
from pledgewatch.models import Article, Evidence, EvidenceCount, Pledge
from pledgewatch.states import REVIEW_VALUES, STANCE_VALUES

NOW = datetime(2026, 12, 1, 9, 30, tzinfo=UTC)
PLEDGES = 3
ARTICLES = 12


def counted(database: Database) -> dict[int, tuple[int, int, int, int, datetime | None]]:
    with database.session(write=False) as session:
        return {
            row.pledge_id: (row.pending, row.kept, row.broken, row.neutral, row.last_found_at)
            for row in session.scalars(select(EvidenceCount))
        }


def truth(database: Database) -> dict[int, tuple[int, int, int, int, datetime | None]]:
    """The counts worked out in Python from every evidence row."""
    found: dict[int, Counter[str]] = {}
    latest: dict[int, datetime] = {}
    with database.session(write=False) as session:
        for pledge_id, review, stance, at in session.execute(
            select(Evidence.pledge_id, Evidence.review, Evidence.stance, Evidence.found_at)
        ):
            tally = found.setdefault(pledge_id, Counter())
            tally["pending"] += review == "pending"
            tally[stance] += review == "confirmed"
            latest[pledge_id] = max(latest.get(pledge_id, at), at)
    return {
        pledge_id: (t["pending"], t["kept"], t["broken"], t["neutral"], latest[pledge_id])
        for pledge_id, t in found.items()
    }


def seed(database: Database) -> tuple[list[int], list[int]]:
    with database.session() as session:
        pledges = [
            Pledge(
                text=f"pledge {n}",
                actor="actor",
                made_on=date(2024, 1, 1),
                source_url="https://example.org/",
                actor_key="actor",
                text_key=f"pledge {n}",
                dedupe_key=f"{n:064d}",
                created_at=NOW,
                created_by="t",
                updated_at=NOW,
                updated_by="t",
            )
            for n in range(PLEDGES)
        ]
        articles = [
            Article(
                url=f"https://example.org/{n}",
                title="t",
                summary="s",
                content="c",
                published_at=NOW,
                fetched_at=NOW,
                updated_at=NOW,
                content_hash="h",
            )
            for n in range(ARTICLES)
        ]
        session.add_all([*pledges, *articles])
        session.flush()
        return [p.id for p in pledges], [a.id for a in articles]


def evidence(pledge_id: int, article_id: int, review: str, stance: str, at: datetime) -> Evidence:
    return Evidence(
        pledge_id=pledge_id,
        article_id=article_id,
        score=1.0,
        stance=stance,
        stance_reason="",
        snippet="",
        query="q",
        found_at=at,
        review=review,
    )


@pytest.fixture
def seeded(database: Database) -> tuple[Database, list[int], list[int]]:
    return (database, *seed(database))


times = st.builds(
    lambda minutes: NOW - timedelta(minutes=minutes), st.integers(min_value=0, max_value=10**6)
)
operations = st.lists(
    st.one_of(
        st.tuples(
            st.just("add"),
            st.integers(0, PLEDGES - 1),
            st.integers(0, ARTICLES - 1),
            st.sampled_from(REVIEW_VALUES),
            st.sampled_from(STANCE_VALUES),
            times,
        ),
        st.tuples(
            st.just("review"),
            st.integers(0, 50),
            st.sampled_from(REVIEW_VALUES),
            st.none() | st.sampled_from(STANCE_VALUES),
        ),
        st.tuples(st.just("move"), st.integers(0, 50), st.integers(0, PLEDGES - 1)),
        st.tuples(st.just("retime"), st.integers(0, 50), times),
        st.tuples(st.just("delete"), st.integers(0, 50)),
        st.tuples(st.just("reject all of"), st.integers(0, PLEDGES - 1)),
    ),
    max_size=25,
)


def apply(database: Database, pledges: list[int], articles: list[int], ops: list[Any]) -> None:
    for op in ops:
        with database.session() as session:
            items = list(session.scalars(select(Evidence).order_by(Evidence.id)))
            kind = op[0]
            if kind == "add":
                _, p, a, review, stance, at = op
                if not any(
                    e.pledge_id == pledges[p] and e.article_id == articles[a] for e in items
                ):
                    session.add(evidence(pledges[p], articles[a], review, stance, at))
            elif kind == "reject all of":
                session.execute(
                    update(Evidence)
                    .where(Evidence.pledge_id == pledges[op[1]])
                    .values(review="rejected")
                )
            elif items:
                item = items[op[1] % len(items)]
                if kind == "review":
                    item.review = op[2]
                    if op[3] is not None:
                        item.stance = op[3]
                elif kind == "move":
                    taken = {e.article_id for e in items if e.pledge_id == pledges[op[2]]}
                    if item.article_id not in taken:
                        item.pledge_id = pledges[op[2]]
                elif kind == "retime":
                    item.found_at = op[2]
                else:
                    session.delete(item)


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(ops=operations)
def test_the_counts_are_what_the_rows_say_after_any_changes(
    seeded: tuple[Database, list[int], list[int]], ops: list[Any]
) -> None:
    database, pledges, articles = seeded
    with database.session() as session:
        session.execute(delete(Evidence))
    assert counted(database) == {}
    apply(database, pledges, articles, ops)
    assert counted(database) == truth(database)


def test_a_store_counted_before_the_counts_existed_is_counted_by_the_upgrade(
    sqlite_url: str,
) -> None:
    database = Database(sqlite_url)
    database.migrate("a7b8c9d0e1f2")
    pledges, articles = seed(database)
    shares = [
        ("pending", "kept"),
        ("confirmed", "broken"),
        ("confirmed", "broken"),
        ("rejected", "kept"),
    ]
    with database.session() as session:
        for n, (review, stance) in enumerate(shares):
            session.add(evidence(pledges[1], articles[n], review, stance, NOW - timedelta(days=n)))
    database.migrate()
    assert counted(database) == {pledges[1]: (1, 0, 2, 0, NOW)}
    with database.session() as session:
        session.add(evidence(pledges[1], articles[5], "confirmed", "kept", NOW + timedelta(days=1)))
    assert counted(database) == {pledges[1]: (1, 1, 2, 0, NOW + timedelta(days=1))}


def test_truncating_the_evidence_clears_the_counts(
    seeded: tuple[Database, list[int], list[int]],
) -> None:
    database, pledges, articles = seeded
    if database.dialect != "postgresql":
        pytest.skip("TRUNCATE is PostgreSQL's")
    with database.session() as session:
        session.add(evidence(pledges[0], articles[0], "pending", "kept", NOW))
    assert counted(database)
    with database.session() as session:
        session.execute(text("TRUNCATE evidence CASCADE"))
    assert counted(database) == {}


def _insert_many(url: str, pledges: list[int], articles: list[int], worker: int) -> None:
    database = Database(url)
    try:
        for n, article_id in enumerate(articles):
            if n % 3 != worker:
                continue
            for pledge_id in pledges:
                with database.session() as session:
                    session.add(evidence(pledge_id, article_id, "pending", "kept", NOW))
            with database.session() as session:
                for item in session.scalars(
                    select(Evidence).where(Evidence.article_id == article_id)
                ):
                    item.review = "confirmed"
    finally:
        database.dispose()


def test_processes_storing_and_reviewing_at_once_leave_the_counts_right(
    seeded: tuple[Database, list[int], list[int]],
) -> None:
    database, pledges, articles = seeded
    context = multiprocessing.get_context("spawn")
    workers = [
        context.Process(target=_insert_many, args=(database.url, pledges, articles, w))
        for w in range(3)
    ]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(120)
        assert worker.exitcode == 0
    assert counted(database) == truth(database)
    assert {row[1] for row in counted(database).values()} == {ARTICLES}  # every one kept
