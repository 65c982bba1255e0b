"""Evidence: match articles to pledges, store what is found, and list it.

A pledge's effective query is its own query, or one derived from its text and
actor. ``PledgeMatcher`` holds every pledge's query in the presearcher, so the
sweep checks each new or changed article against the candidate pledges only;
``rematch`` runs one pledge (or all) over stored articles (a pledge logged today
finds last month's coverage). Only articles published on or after the day the
pledge was made count, with a day of grace for time zones. Each (pledge,
article) pair is stored once; what an editor reviewed is never overwritten.

May import: pledgewatch.errors, pledgewatch.matching, pledgewatch.models, pledgewatch.pledges.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any, cast

from sqlalchemy import Table, func, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from pledgewatch.errors import InputError, QuerySyntaxError, ValidationError
from pledgewatch.matching.analysis import Document
from pledgewatch.matching.derive import derive_query
from pledgewatch.matching.monitor import Monitor
from pledgewatch.matching.query import Node, parse
from pledgewatch.matching.score import assess
from pledgewatch.models import (
    REVIEW_VALUES,
    STANCE_VALUES,
    Article,
    ArticleFeed,
    Evidence,
    Feed,
    Pledge,
)
from pledgewatch.pledges import get_pledge

log = logging.getLogger("pledgewatch.evidence")

GRACE = timedelta(days=1)
CHUNK = 500
# Stored articles the presearcher learns from how common each term is, so it
# indexes every query by its rarest terms (see ``Monitor``): the newest ones.
SAMPLE = 300

Progress = Callable[[int, int], None]

_EVIDENCE = cast(Table, Evidence.__table__)


def effective_query(pledge: Pledge) -> tuple[str, bool]:
    """(query text, whether it was derived) for a pledge."""
    if pledge.query:
        return pledge.query, False
    return derive_query(pledge.text, pledge.actor), True


def earliest_publication(made_on: date) -> datetime:
    return datetime.combine(made_on, time(0, 0), tzinfo=UTC) - GRACE


@dataclass(frozen=True)
class _Target:
    pledge_id: int
    text: str
    query: str
    since: datetime


def _target(pledge: Pledge) -> tuple[_Target, Node]:
    text, _derived = effective_query(pledge)
    try:
        node = parse(text)
    except QuerySyntaxError as exc:
        # A stored query was valid when saved; the language may have changed since.
        raise ValidationError("query", f"pledge #{pledge.id}: {exc}") from None
    target = _Target(pledge.id, pledge.text, text, earliest_publication(pledge.made_on))
    return target, node


def _document(row: Any) -> Document:
    return Document.from_fields(title=row.title, summary=row.summary, content=row.content)


def _insert_new(session: Session, rows: list[dict[str, Any]]) -> int:
    """Insert evidence rows, skipping pairs already stored (a concurrent edit, say)."""
    if not rows:
        return 0
    dialect = session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    statement = (
        insert(_EVIDENCE)
        .on_conflict_do_nothing(index_elements=["pledge_id", "article_id"])
        .returning(_EVIDENCE.c.id)
    )
    # RETURNING counts what was inserted on both databases (rowcount does not).
    return len(session.connection().execute(statement, rows).all())


def _row(target: _Target, article_id: int, finding: Any, now: datetime) -> dict[str, Any]:
    return {
        "pledge_id": target.pledge_id,
        "article_id": article_id,
        "score": finding.score,
        "stance": finding.stance,
        "stance_reason": finding.stance_reason,
        "snippet": finding.snippet,
        "query": target.query,
        "found_at": now,
        "review": "pending",
    }


class PledgeMatcher:
    """Every pledge's effective query in one presearcher, which learns how
    common terms are from ``sample``, articles typical of the feeds."""

    def __init__(self, pledges: Iterable[Pledge], sample: Iterable[Document] = ()) -> None:
        self.monitor: Monitor[int] = Monitor(sample)
        self.targets: dict[int, _Target] = {}
        # A stored query that no longer parses must not stop matching for every
        # other pledge in an unattended sweep: it is left out and reported.
        self.skipped: list[str] = []
        for pledge in pledges:
            try:
                target, node = _target(pledge)
            except ValidationError as exc:
                self.skipped.append(str(exc))
                log.warning("not matching %s", exc)
                continue
            self.targets[pledge.id] = target
            self.monitor.add(pledge.id, node)

    @classmethod
    def load(cls, session: Session) -> PledgeMatcher:
        """Every pledge, with the newest stored articles as the sample."""
        pledges = list(session.scalars(select(Pledge).order_by(Pledge.id)))
        if not pledges:
            return cls([])
        newest = session.execute(
            select(Article.title, Article.summary, Article.content)
            .order_by(Article.id.desc())
            .limit(SAMPLE)
        )
        return cls(pledges, [_document(row) for row in newest])

    def __len__(self) -> int:
        return len(self.targets)

    def match_articles(self, session: Session, article_ids: Sequence[int], now: datetime) -> int:
        """Match articles against every pledge; store new evidence; return how many."""
        if not self.targets or not article_ids:
            return 0
        rows: list[dict[str, Any]] = []
        for start in range(0, len(article_ids), CHUNK):
            chunk = list(article_ids[start : start + CHUNK])
            known = {
                (pledge_id, article_id)
                for pledge_id, article_id in session.execute(
                    select(Evidence.pledge_id, Evidence.article_id).where(
                        Evidence.article_id.in_(chunk)
                    )
                )
            }
            articles = session.execute(
                select(
                    Article.id,
                    Article.title,
                    Article.summary,
                    Article.content,
                    Article.published_at,
                ).where(Article.id.in_(chunk))
            )
            for article in articles:
                doc = _document(article)
                for pledge_id, found in self.monitor.match(doc):
                    target = self.targets[pledge_id]
                    if article.published_at < target.since:
                        continue
                    if (pledge_id, article.id) in known:
                        continue
                    finding = assess(target.text, found, doc)
                    rows.append(_row(target, article.id, finding, now))
        return _insert_new(session, rows)


def _article_ids(session: Session, since: datetime | None) -> Iterator[list[int]]:
    """Ids of stored articles (published since ``since``), a chunk at a time."""
    last_id = 0
    while True:
        query = select(Article.id).where(Article.id > last_id)
        if since is not None:
            query = query.where(Article.published_at >= since)
        ids = list(session.scalars(query.order_by(Article.id).limit(CHUNK)))
        if not ids:
            return
        yield ids
        last_id = ids[-1]


def rematch(
    session: Session,
    now: datetime,
    pledge_id: int | None = None,
    progress: Progress | None = None,
) -> int:
    """Match stored articles again (all pledges, or one) and store any new evidence.

    For one pledge (a pledge just logged or edited), only the articles published
    since it was made are read.
    """
    if pledge_id is not None:
        matcher = PledgeMatcher([get_pledge(session, pledge_id)])
        if matcher.skipped:
            raise ValidationError("query", matcher.skipped[0])
        since: datetime | None = matcher.targets[pledge_id].since
    else:
        matcher = PledgeMatcher.load(session)
        since = None
    counted = select(func.count()).select_from(Article)
    if since is not None:
        counted = counted.where(Article.published_at >= since)
    total = session.scalar(counted) or 0
    found = done = 0
    for ids in _article_ids(session, since):
        found += matcher.match_articles(session, ids, now)
        done += len(ids)
        if progress is not None:
            progress(done, total)
    return found


# -- listing ---------------------------------------------------------------------------------


def list_evidence(
    session: Session,
    *,
    pledge_id: int | None = None,
    review: str | None = None,
    stance: str | None = None,
    since: datetime | None = None,
) -> list[Evidence]:
    """Evidence newest first (by the article's date), filtered."""
    query = select(Evidence).join(Article, Evidence.article_id == Article.id)
    if pledge_id is not None:
        query = query.where(Evidence.pledge_id == pledge_id)
    if review is not None:
        if review not in REVIEW_VALUES:
            raise InputError(
                f'"{review}" is not a review state; use one of {", ".join(REVIEW_VALUES)}'
            )
        query = query.where(Evidence.review == review)
    if stance is not None:
        if stance not in STANCE_VALUES:
            raise InputError(f'"{stance}" is not a stance; use one of {", ".join(STANCE_VALUES)}')
        query = query.where(Evidence.stance == stance)
    if since is not None:
        query = query.where(Evidence.found_at >= since)
    query = query.order_by(Article.published_at.desc(), Evidence.id.desc())
    return list(session.scalars(query))


def feeds_of(session: Session, article_ids: Iterable[int]) -> dict[int, list[str]]:
    """Names of the feeds that carried each article."""
    ids = list(article_ids)
    found: dict[int, list[str]] = {i: [] for i in ids}
    for start in range(0, len(ids), CHUNK):
        rows = session.execute(
            select(ArticleFeed.article_id, Feed.name)
            .join(Feed, Feed.id == ArticleFeed.feed_id)
            .where(ArticleFeed.article_id.in_(ids[start : start + CHUNK]))
            .order_by(Feed.name)
        )
        for article_id, name in rows:
            found[article_id].append(name)
    return found


def evidence_to_dict(item: Evidence, feeds: list[str]) -> dict[str, Any]:
    article = item.article
    return {
        "id": item.id,
        "pledge_id": item.pledge_id,
        "article": {
            "url": article.url,
            "title": article.title,
            "published_at": article.published_at.isoformat(),
            "feeds": feeds,
        },
        "score": item.score,
        "stance": item.stance,
        "stance_reason": item.stance_reason,
        "snippet": item.snippet,
        "review": item.review,
        "found_at": item.found_at.isoformat(),
        "reviewed_by": item.reviewed_by,
        "reviewed_at": item.reviewed_at.isoformat() if item.reviewed_at else None,
        "review_note": item.review_note,
        "query": item.query,
    }
