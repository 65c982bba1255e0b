"""Evidence: match articles to pledges, store what is found, and list it.

A pledge's effective query is its own query, or one derived from its text and
actor. ``PledgeMatcher`` holds every pledge's query in the presearcher, so the
sweep checks each new or changed article against the candidate pledges only;
``rematch`` runs one pledge (or all) over stored articles (a pledge logged today
finds last month's coverage). Only articles published on or after the day the
pledge was made count, with a day of grace for time zones. Each (pledge,
article) pair is stored once; what an editor reviewed is never overwritten.

No evidence is missed when a pledge is logged while a sweep runs: a change to
pledges and its rematch are one transaction, a sweep's write is another, and
the two are serialised (SQLite's write lock; on PostgreSQL the pledges lock of
``db.lock_pledges``, exclusive for a change, shared for a sweep). So either the
rematch sees the sweep's articles, or the sweep's write sees the new pledge:
it compares ``pledge_version`` with the version its matcher was built at and
matches the batch against the pledges changed since.

The matching modules are imported where they are used, so a command that only
lists (``status``, ``evidence list``) does not load them.

May import: pledgewatch.db, pledgewatch.errors, pledgewatch.matching, pledgewatch.models,
pledgewatch.pledges.
"""

from __future__ import annotations

import gc
import logging
from collections.abc import Callable, Container, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import TYPE_CHECKING, Any, cast

from sqlalchemy import Table, delete, func, or_, select
from sqlalchemy.orm import Session, lazyload

from pledgewatch.db import Database, lock_pledges
from pledgewatch.errors import InputError, QuerySyntaxError, ValidationError
from pledgewatch.models import (
    REVIEW_VALUES,
    STANCE_VALUES,
    Article,
    ArticleFeed,
    Evidence,
    EvidenceCount,
    Feed,
    Pledge,
    PledgeRevision,
    RematchJob,
)
from pledgewatch.pledges import PledgeData, get_pledge, in_id_range

if TYPE_CHECKING:
    from pledgewatch.matching.analysis import Document
    from pledgewatch.matching.monitor import Monitor
    from pledgewatch.matching.query import Node
    from pledgewatch.matching.score import Finding

log = logging.getLogger("pledgewatch.evidence")

GRACE = timedelta(days=1)
CHUNK = 500
# Stored articles a new or edited pledge is matched against before the command
# returns (the newest, about a fifth of a second of analysis); the rest are
# matched in the background, by the sweeps.
INLINE_REMATCH = 1_000
# Stored articles the presearcher learns from how common each term is, so it
# indexes every query by its rarest terms (see ``Monitor``): the newest ones.
SAMPLE = 300

Progress = Callable[[int, int], None]

_EVIDENCE = cast(Table, Evidence.__table__)


def effective_query(pledge: Pledge | PledgeData) -> tuple[str, bool]:
    """(query text, whether it was derived) for a pledge, stored or not yet.

    A stored pledge's derived query is the one recorded on it; only a pledge not
    yet logged has its query derived here."""
    from pledgewatch.matching.derive import derive_query

    if isinstance(pledge, Pledge) and pledge.query:
        return pledge.query, pledge.query_derived
    if pledge.query:
        return pledge.query, False
    return derive_query(pledge.text, pledge.actor), True


def unmatched_pending(session: Session, pledge: Pledge) -> list[int]:
    """Pending evidence of a pledge that its query, as it is now, no longer matches."""
    from pledgewatch.matching.query import match, parse

    node = parse(effective_query(pledge)[0])
    rows = session.execute(
        select(Evidence.id, Article.title, Article.summary, Article.content)
        .join(Article, Article.id == Evidence.article_id)
        .where(Evidence.pledge_id == pledge.id, Evidence.review == "pending")
        .order_by(Evidence.id)
    )
    return [row.id for row in rows if match(node, _document(row)) is None]


def earliest_publication(made_on: date) -> datetime:
    # made_on is validated to be 1900 or later; a row stored before that rule
    # must not make every sweep overflow.
    day = max(made_on, date(1900, 1, 2))
    return datetime.combine(day, time(0, 0), tzinfo=UTC) - GRACE


# (highest pledge id, highest revision id): both only grow, and on PostgreSQL
# they are allocated under the pledges lock, so a change of pledges is a change
# of this pair in commit order.
PledgeVersion = tuple[int, int]


def pledge_version(session: Session) -> PledgeVersion:
    return (
        session.scalar(select(func.max(Pledge.id))) or 0,
        session.scalar(select(func.max(PledgeRevision.id))) or 0,
    )


def pledges_changed_since(session: Session, version: PledgeVersion) -> list[Pledge]:
    """Pledges logged or edited after ``version`` was read."""
    max_id, max_revision = version
    edited = select(PledgeRevision.pledge_id).where(PledgeRevision.id > max_revision)
    query = select(Pledge).where(or_(Pledge.id > max_id, Pledge.id.in_(edited)))
    return list(session.scalars(query.order_by(Pledge.id)))


@dataclass(frozen=True)
class _Target:
    pledge_id: int
    text: str
    query: str
    since: datetime


def _target(pledge: Pledge) -> tuple[_Target, Node]:
    from pledgewatch.matching.query import parse

    text, _derived = effective_query(pledge)
    try:
        node = parse(text)
    except QuerySyntaxError as exc:
        # A stored query was valid when saved; the language may have changed since.
        raise ValidationError("query", f"pledge #{pledge.id}: {exc}") from None
    target = _Target(pledge.id, pledge.text, text, earliest_publication(pledge.made_on))
    return target, node


def _document(row: Any) -> Document:
    from pledgewatch.matching.analysis import Document

    return Document.from_fields(title=row.title, summary=row.summary, content=row.content)


def matched_words(query: str, title: str, snippet: str) -> tuple[str, ...]:
    """The words ``query`` matches in an article's title and snippet, for
    highlighting (analysed forms: "selling", "military aid"); none when the query
    does not parse or does not match what is shown."""
    from pledgewatch.errors import QuerySyntaxError
    from pledgewatch.matching.analysis import Document
    from pledgewatch.matching.query import match, parse

    try:
        node = parse(query)
    except QuerySyntaxError:
        return ()
    hit = match(node, Document.from_fields(title=title, summary=snippet))
    if hit is None:
        return ()
    return tuple(dict.fromkeys(h.matched for h in hit.hits))


def insert_evidence(session: Session, rows: list[dict[str, Any]]) -> int:
    """Insert evidence rows, skipping pairs already stored (a concurrent edit, say)."""
    from sqlalchemy.dialects import postgresql, sqlite

    if not rows:
        return 0
    missing = sorted({row["article_id"] for row in rows if "published_at" not in row})
    published: dict[int, datetime] = {}
    for start in range(0, len(missing), 500):
        found = session.execute(
            select(Article.id, Article.published_at).where(
                Article.id.in_(missing[start : start + 500])
            )
        )
        published.update((article_id, at) for article_id, at in found)
    rows = [
        row if "published_at" in row else {**row, "published_at": published[row["article_id"]]}
        for row in rows
    ]
    dialect = session.get_bind().dialect.name
    if dialect == "postgresql":
        # Each row's trigger updates its pledge's ``evidence_counts`` row: those row
        # locks are taken first, in pledge order, as a batch of reviews takes them, so
        # two transactions never wait on each other's. (Rows keep their order: ids do.)
        pledge_ids = sorted({row["pledge_id"] for row in rows})
        session.execute(
            select(EvidenceCount.pledge_id)
            .where(EvidenceCount.pledge_id.in_(pledge_ids))
            .order_by(EvidenceCount.pledge_id)
            .with_for_update()
        ).all()
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


@contextmanager
def collector_paused() -> Iterator[None]:
    """No cyclic garbage collection meanwhile. Loading 10,000 pledges and parsing their
    queries makes hundreds of thousands of objects that all live on; the collector
    would walk them again and again as they pile up (a third of the load) and find
    nothing to free."""
    paused = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if paused:
            gc.enable()


class PledgeMatcher:
    """Every pledge's effective query in one presearcher, which learns how
    common terms are from ``sample``, articles typical of the feeds.

    ``version`` is the pledge version the pledges were read at (see
    ``pledge_version``); ``refresh`` brings changed pledges in.
    """

    def __init__(
        self,
        pledges: Iterable[Pledge],
        sample: Iterable[Document] = (),
        version: PledgeVersion = (0, 0),
    ) -> None:
        from pledgewatch.matching.monitor import Monitor
        from pledgewatch.matching.score import assess

        # Kept here, not imported in ``findings``, which runs once per article.
        self._assess = assess
        self.monitor: Monitor[int] = Monitor(sample)
        self.targets: dict[int, _Target] = {}
        self.version = version
        # A stored query that no longer parses must not stop matching for every
        # other pledge in an unattended sweep: it is left out and reported.
        self.skipped: list[str] = []
        self.skipped_ids: set[int] = set()
        self.refresh(pledges, version)

    @classmethod
    def load(cls, session: Session) -> PledgeMatcher:
        """Every pledge, with the newest stored articles as the sample."""
        with collector_paused():
            return cls._load(session)

    @classmethod
    def _load(cls, session: Session) -> PledgeMatcher:
        version = pledge_version(session)
        return cls.of(session, active_pledges(session), version)

    @classmethod
    def of(cls, session: Session, pledges: list[Pledge], version: PledgeVersion) -> PledgeMatcher:
        """These pledges, with the newest stored articles as the sample."""
        with collector_paused():
            return cls(pledges, sample_documents(session) if pledges else (), version)

    def refresh(self, pledges: Iterable[Pledge], version: PledgeVersion) -> None:
        """Add or replace these pledges' queries; the matcher is then at ``version``."""
        with collector_paused():
            self._refresh(pledges, version)

    def _refresh(self, pledges: Iterable[Pledge], version: PledgeVersion) -> None:
        for pledge in pledges:
            if pledge.id in self.targets:
                del self.targets[pledge.id]
                self.monitor.remove(pledge.id)
            if pledge.archived_at is not None:
                continue  # archived: out of the sweep, its evidence kept
            try:
                target, node = _target(pledge)
            except ValidationError as exc:
                self.skipped.append(str(exc))
                self.skipped_ids.add(pledge.id)
                log.warning("not matching %s", exc)
                continue
            self.skipped_ids.discard(pledge.id)
            self.targets[pledge.id] = target
            self.monitor.add(pledge.id, node)
        self.version = max(self.version, version)

    def forget(self, pledge_ids: Iterable[int]) -> None:
        """Leave these pledges out (deleted, or archived, since the matcher was built)."""
        for pledge_id in pledge_ids:
            if self.targets.pop(pledge_id, None) is not None:
                self.monitor.remove(pledge_id)
            self.skipped_ids.discard(pledge_id)

    def __len__(self) -> int:
        return len(self.targets)

    def findings(
        self, doc: Document, published_at: datetime, known: Container[int] = ()
    ) -> list[tuple[int, Finding]]:
        """(pledge id, finding) for every pledge the article is evidence for,
        leaving out the pledges in ``known`` (evidence already stored)."""
        found = []
        for pledge_id, matched in self.monitor.match(doc):
            target = self.targets[pledge_id]
            if published_at < target.since or pledge_id in known:
                continue
            found.append((pledge_id, self._assess(target.text, matched, doc)))
        return found

    def evidence_row(
        self, pledge_id: int, article_id: int, finding: Finding, now: datetime
    ) -> dict[str, Any]:
        return _row(self.targets[pledge_id], article_id, finding, now)

    def match_articles(self, session: Session, article_ids: Sequence[int], now: datetime) -> int:
        """Match articles against every pledge; store new evidence; return how many."""
        return insert_evidence(session, self.evidence_rows(session, article_ids, now))

    def evidence_rows(
        self, session: Session, article_ids: Sequence[int], now: datetime
    ) -> list[dict[str, Any]]:
        """The new evidence rows among stored articles (reads only)."""
        if not self.targets or not article_ids:
            return []
        rows: list[dict[str, Any]] = []
        for start in range(0, len(article_ids), CHUNK):
            chunk = list(article_ids[start : start + CHUNK])
            known = known_evidence(session, chunk)
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
                for pledge_id, finding in self.findings(
                    _document(article), article.published_at, known.get(article.id, ())
                ):
                    rows.append(_row(self.targets[pledge_id], article.id, finding, now))
        return rows


def active_pledges(session: Session, ids: Sequence[int] | None = None) -> list[Pledge]:
    """The pledges a sweep matches (not archived), by id; only ``ids`` when given."""
    query = (
        select(Pledge)
        .where(Pledge.archived_at.is_(None))
        .order_by(Pledge.id)
        # A query needs no tags: loading them only if asked saves a fifth of the time.
        .options(lazyload(Pledge.tag_rows))
    )
    if ids is None:
        return list(session.scalars(query))
    found: list[Pledge] = []
    for start in range(0, len(ids), CHUNK):
        found += session.scalars(query.where(Pledge.id.in_(list(ids[start : start + CHUNK]))))
    return found


def outgrew_sample(session: Session, matcher: PledgeMatcher) -> bool:
    """Whether the store now holds twice the articles the matcher learned how common
    terms are from (up to SAMPLE): a matcher built on a new, near-empty store guessed,
    and may have indexed every query by a word every article holds. Rebuilt this way,
    a growing store's matcher is built again a few times early in its life, then kept."""
    sampled = matcher.monitor.sampled
    if sampled >= SAMPLE or not matcher.targets:
        return False
    wanted = min(SAMPLE, 2 * sampled + 1)
    held = select(Article.id).limit(wanted).subquery()
    return (session.scalar(select(func.count()).select_from(held)) or 0) >= wanted


def sample_documents(session: Session) -> list[Document]:
    """The newest stored articles, from which the presearcher learns which terms are rare."""
    newest = session.execute(
        select(Article.title, Article.summary, Article.content)
        .order_by(Article.id.desc())
        .limit(SAMPLE)
    )
    return [_document(row) for row in newest]


class MatcherCache:
    """The matcher a long-running worker keeps from one sweep to the next.

    Loaded once; before each sweep, brought up to date with only the pledges
    logged, edited or archived since (each of those writes a pledge id or a
    revision, so the pledge version moves); loaded afresh once it is
    ``max_age`` old, so the presearcher's sample of common terms follows the news.
    """

    def __init__(self, max_age: timedelta = timedelta(hours=24)) -> None:
        self.max_age = max_age
        self._matcher: PledgeMatcher | None = None
        self._loaded_at: float = 0.0
        self.loads = 0  # full loads, for tests and logs
        self.refreshes = 0

    def get(self, session: Session) -> PledgeMatcher:
        import time as _time

        matcher = self._matcher
        if (
            matcher is None
            or _time.monotonic() - self._loaded_at > self.max_age.total_seconds()
            or outgrew_sample(session, matcher)
        ):
            matcher = self._matcher = PledgeMatcher.load(session)
            self._loaded_at = _time.monotonic()
            self.loads += 1
            return matcher
        version = pledge_version(session)
        if version != matcher.version:
            matcher.skipped.clear()
            matcher.refresh(pledges_changed_since(session, matcher.version), version)
            self.refreshes += 1
        return matcher


def known_evidence(session: Session, article_ids: Sequence[int]) -> dict[int, set[int]]:
    """For each article, the pledges it is already evidence for."""
    known: dict[int, set[int]] = {}
    ids = list(article_ids)
    for start in range(0, len(ids), CHUNK):
        for pledge_id, article_id in session.execute(
            select(Evidence.pledge_id, Evidence.article_id).where(
                Evidence.article_id.in_(ids[start : start + CHUNK])
            )
        ):
            known.setdefault(article_id, set()).add(pledge_id)
    return known


def _article_ids(session: Session, since: datetime | None) -> Iterator[list[int]]:
    """Ids of stored articles (published since ``since``), a chunk at a time."""
    last_id = 0
    while ids := _next_article_ids(session, since, last_id):
        yield ids
        last_id = ids[-1]


def _next_article_ids(session: Session, since: datetime | None, after: int) -> list[int]:
    query = select(Article.id).where(Article.id > after)
    if since is not None:
        query = query.where(Article.published_at >= since)
    return list(session.scalars(query.order_by(Article.id).limit(CHUNK)))


def rematch(
    session: Session,
    now: datetime,
    pledge_id: int | None = None,
    progress: Progress | None = None,
    *,
    pledge_ids: Sequence[int] | None = None,
    defer_after: int | None = None,
) -> int:
    """Match stored articles again (all pledges, one, or ``pledge_ids``) and store
    any new evidence.

    For chosen pledges (just logged, imported or edited), only the articles
    published since the earliest of them was made are read; with
    ``defer_after``, only the newest that many of them, and the rest are queued
    for ``run_queued`` (a sweep's, or `rematch`), so logging a pledge does not
    wait for a large store.
    """
    chosen = list(pledge_ids or ())
    if pledge_id is not None:
        chosen.append(pledge_id)
    matcher, since = _rematcher(session, chosen)
    if not matcher.targets:
        return 0
    total = _articles_since(session, since)
    if chosen and defer_after is not None and total > defer_after:
        return _rematch_newest(session, matcher, since, now, defer_after, total, progress)
    found = done = 0
    for ids in _article_ids(session, since):
        found += matcher.match_articles(session, ids, now)
        done += len(ids)
        if progress is not None:
            progress(done, total)
    return found


def _rematch_newest(
    session: Session,
    matcher: PledgeMatcher,
    since: datetime | None,
    now: datetime,
    limit: int,
    total: int,
    progress: Progress | None,
) -> int:
    """Match the newest ``limit`` candidate articles now; queue the rest."""
    newest = _newest_ids(session, since, limit)
    found = done = 0
    for start in range(0, len(newest), CHUNK):
        ids = newest[start : start + CHUNK]
        found += matcher.match_articles(session, ids, now)
        done += len(ids)
        if progress is not None:
            progress(done, total)
    for pledge_id in matcher.targets:
        queue_rematch(
            session,
            pledge_id,
            before_id=min(newest),
            since=since,
            total=total,
            done=len(newest),
            now=now,
        )
    return found


def queue_rematch(
    session: Session,
    pledge_id: int,
    *,
    before_id: int,
    since: datetime | None,
    total: int,
    done: int,
    now: datetime,
) -> None:
    """Queue (or start again) the background rematch of one pledge."""
    job = session.get(RematchJob, pledge_id, with_for_update=True)
    if job is None:
        job = RematchJob(pledge_id=pledge_id)
        session.add(job)
    job.before_id, job.since, job.total, job.done, job.queued_at = (
        before_id,
        since,
        total,
        done,
        now,
    )
    session.flush()


def drop_queued(session: Session, pledge_id: int | None = None) -> None:
    """Forget queued rematches (one pledge's, or all): a full rematch covered them."""
    query = delete(RematchJob)
    if pledge_id is not None:
        query = query.where(RematchJob.pledge_id == pledge_id)
    session.execute(query)


def rematch_progress(session: Session, pledge_id: int) -> tuple[int, int] | None:
    """(articles matched, articles to match) while a pledge's rematch is queued."""
    job = session.get(RematchJob, pledge_id)
    return None if job is None else (job.done, job.total)


def run_queued(
    database: Database,
    now: datetime,
    *,
    budget: float,
    stop: Callable[[], bool] = lambda: False,
) -> int:
    """Work through queued rematches for at most ``budget`` seconds, a chunk of
    articles at a time (read and matched in a read transaction, its evidence
    written in a short write transaction); returns the evidence found.

    A chunk is written only if its job is as it was when read: a pledge edited
    meanwhile starts its job again, and of two workers on the same chunk one
    writes it. The newest articles go first, as when the pledge was logged.
    """
    import time as _time

    deadline = _time.monotonic() + budget
    found = 0
    while _time.monotonic() < deadline and not stop():
        with database.session(write=False) as session:
            first = session.scalars(
                select(RematchJob).order_by(RematchJob.queued_at, RematchJob.pledge_id).limit(1)
            ).first()
            if first is None:
                return found
            # Pledges imported together share their cursor: one pass over the articles.
            jobs = list(
                session.scalars(
                    select(RematchJob)
                    .where(
                        RematchJob.before_id == first.before_id,
                        RematchJob.since.is_(None)
                        if first.since is None
                        else RematchJob.since == first.since,
                    )
                    .order_by(RematchJob.pledge_id)
                    .limit(1000)
                )
            )
            seen = {job.pledge_id: (job.before_id, job.queued_at) for job in jobs}
            pledges = session.scalars(select(Pledge).where(Pledge.id.in_(list(seen)))).all()
            matcher = PledgeMatcher(pledges)
            query = (
                select(Article.id)
                .where(Article.id < first.before_id)
                .order_by(Article.id.desc())
                .limit(CHUNK)
            )
            if first.since is not None:
                query = query.where(Article.published_at >= first.since)
            ids = list(session.scalars(query)) if matcher.targets else []
            rows = matcher.evidence_rows(session, ids, now)
        with database.session() as session:
            lock_pledges(session, exclusive=False)
            current = {
                job.pledge_id: job
                for job in session.scalars(
                    select(RematchJob)
                    .where(RematchJob.pledge_id.in_(list(seen)))
                    .order_by(RematchJob.pledge_id)
                    .with_for_update()
                )
            }
            # A job edited meanwhile (started again) or moved on by another worker
            # keeps its own course; the chunk is written for the others.
            still = {
                pledge_id
                for pledge_id, job in current.items()
                if (job.before_id, job.queued_at) == seen[pledge_id]
            }
            found += insert_evidence(session, [row for row in rows if row["pledge_id"] in still])
            for pledge_id in still:
                job = current[pledge_id]
                if not ids or pledge_id not in matcher.targets:
                    # Done, or nothing left to match for (archived, a query that no longer parses).
                    session.delete(job)
                else:
                    job.before_id = min(ids)
                    job.done = min(job.total, job.done + len(ids))
    return found


def rematch_stored(
    database: Database,
    now: datetime,
    pledge_id: int | None = None,
    progress: Progress | None = None,
) -> int:
    """``rematch`` for the `rematch` command: the same evidence, found in many
    short transactions (articles are read and matched in a read transaction,
    a chunk's evidence written in a write transaction of its own), so a rematch
    over a large store does not hold SQLite's write lock for minutes."""
    with database.session(write=False) as session:
        matcher, since = _rematcher(session, [] if pledge_id is None else [pledge_id])
        total = _articles_since(session, since)
    if not matcher.targets:
        return 0
    found = done = 0
    last_id = 0
    while True:
        with database.session(write=False) as session:
            ids = _next_article_ids(session, since, last_id)
            rows = matcher.evidence_rows(session, ids, now)
        if not ids:
            return found
        if rows:
            with database.session() as session:
                found += insert_evidence(session, rows)
        last_id = ids[-1]
        done += len(ids)
        if progress is not None:
            progress(done, total)


def _rematcher(session: Session, chosen: Sequence[int]) -> tuple[PledgeMatcher, datetime | None]:
    """The matcher for a rematch of ``chosen`` pledges (all when empty), and the
    earliest publication date that can be evidence for them."""
    if not chosen:
        return PledgeMatcher.load(session), None
    matcher = PledgeMatcher([get_pledge(session, i) for i in dict.fromkeys(chosen)])
    if matcher.skipped:
        raise ValidationError("query", matcher.skipped[0])
    if not matcher.targets:
        return matcher, None
    return matcher, min(t.since for t in matcher.targets.values())


def _newest_ids(session: Session, since: datetime | None, limit: int) -> list[int]:
    """The ids of the newest ``limit`` articles published since ``since``, newest
    first. Read backwards along the primary key, a page at a time: asked in one
    statement, SQLite takes the index on the publication time for the filter and
    then sorts every article since (a million of them) by id to keep the first few."""
    ids: list[int] = []
    below: int | None = None
    for _ in range(20):
        page = select(Article.id, Article.published_at).order_by(Article.id.desc()).limit(limit)
        if below is not None:
            page = page.where(Article.id < below)
        rows = session.execute(page).all()
        ids += [article_id for article_id, at in rows if since is None or at >= since]
        if len(ids) >= limit or len(rows) < limit:
            return ids[:limit]
        below = rows[-1][0]
    # Mostly older articles among the newest ids (a store filled from an archive):
    # let the database find them.
    query = select(Article.id).order_by(Article.id.desc()).limit(limit)
    if since is not None:
        query = query.where(Article.published_at >= since)
    return list(session.scalars(query))


def _articles_since(session: Session, since: datetime | None) -> int:
    counted = select(func.count()).select_from(Article)
    if since is not None:
        counted = counted.where(Article.published_at >= since)
    return session.scalar(counted) or 0


# -- trying a query --------------------------------------------------------------------------


@dataclass(frozen=True)
class QuerySample:
    """One stored article a query matches, and the words it matched on."""

    url: str
    title: str
    published_at: datetime
    words: tuple[str, ...]


@dataclass(frozen=True)
class QueryTrial:
    """What a query would find among the stored articles; nothing is written."""

    query: str
    articles: int  # stored articles looked at (published since the start given)
    matched: int
    sample: list[QuerySample]
    warnings: list[str]

    def to_json(self) -> dict[str, Any]:
        return {
            "query": self.query,
            "articles": self.articles,
            "matched": self.matched,
            "sample": [
                {
                    "url": s.url,
                    "title": s.title,
                    "published_at": s.published_at.isoformat(),
                    "words": list(s.words),
                }
                for s in self.sample
            ],
            "warnings": self.warnings,
        }


def try_query(
    session: Session,
    query: str,
    *,
    since: datetime | None = None,
    limit: int = 10,
    actor: str | None = None,
    pledge_text: str | None = None,
) -> QueryTrial:
    """Run ``query`` over the stored articles (published since ``since``): how many
    it matches, the newest ``limit`` with the words matched, and warnings when it
    matches a large share of everything or asks for nothing of ``actor``."""
    from pledgewatch.matching.advice import BROAD_MINIMUM, BROAD_SHARE, names_actor
    from pledgewatch.matching.query import match, parse

    node = parse(query)
    found: list[tuple[datetime, int]] = []
    articles = 0
    for ids in _article_ids(session, since):
        for row in session.execute(
            select(
                Article.id, Article.title, Article.summary, Article.content, Article.published_at
            ).where(Article.id.in_(ids))
        ):
            articles += 1
            if match(node, _document(row)) is not None:
                found.append((row.published_at, row.id))
    newest = [article_id for _, article_id in sorted(found, reverse=True)[: max(0, limit)]]
    sample = []
    if newest:
        stored = {
            article.id: article
            for article in session.scalars(select(Article).where(Article.id.in_(newest)))
        }
        for article_id in newest:
            article = stored[article_id]
            hit = match(node, _document(article))
            words = tuple(dict.fromkeys(h.matched for h in hit.hits)) if hit else ()
            sample.append(QuerySample(article.url, article.title, article.published_at, words))
    warnings = []
    if articles >= BROAD_MINIMUM and len(found) > BROAD_SHARE * articles:
        warnings.append(
            f"matches {len(found) / articles:.0%} of the stored articles ({len(found):,} of "
            f"{articles:,}): add words only this pledge's coverage would use"
        )
    if actor is not None and not names_actor(node, actor, pledge_text):
        warnings.append(
            f"asks for nothing of {actor}: coverage of anyone else doing the same matches too"
        )
    return QueryTrial(query, articles, len(found), sample, warnings)


# -- deriving again --------------------------------------------------------------------------


@dataclass(frozen=True)
class Rederivation:
    """A pledge whose query today's rules would derive differently, and what the new
    one would add and drop among the stored articles."""

    pledge_id: int
    old: str | None
    new: str
    adds: int
    drops: int
    added: list[str]  # titles, newest first, a few
    dropped: list[str]

    def to_json(self) -> dict[str, Any]:
        return {
            "pledge_id": self.pledge_id,
            "old": self.old,
            "new": self.new,
            "adds": self.adds,
            "drops": self.drops,
            "added": self.added,
            "dropped": self.dropped,
        }


def rederivations(
    session: Session, pledge_id: int | None = None, *, sample: int = 3
) -> list[Rederivation]:
    """For one pledge or every pledge with a derived query: the query today's rules
    derive, where it differs from the one recorded; nothing is written."""
    from pledgewatch.matching.derive import derive_query
    from pledgewatch.matching.query import match, parse

    if pledge_id is not None:
        pledge = get_pledge(session, pledge_id)
        if pledge.query and not pledge.query_derived:
            raise ValidationError(
                "query",
                f"pledge #{pledge_id}'s query was written, not derived; rederive changes "
                "only derived queries",
            )
        chosen = [pledge]
    else:
        chosen = list(
            session.scalars(
                select(Pledge)
                .where(or_(Pledge.query_derived.is_(True), Pledge.query.is_(None)))
                .order_by(Pledge.id)
            )
        )
    found = []
    for pledge in chosen:
        try:
            new = derive_query(pledge.text, pledge.actor)
        except ValidationError:
            continue
        if new == pledge.query:
            continue
        old_node = parse(pledge.query) if pledge.query else None
        new_node = parse(new)
        added: list[tuple[datetime, str]] = []
        dropped: list[tuple[datetime, str]] = []
        for ids in _article_ids(session, earliest_publication(pledge.made_on)):
            for row in session.execute(
                select(Article.title, Article.summary, Article.content, Article.published_at).where(
                    Article.id.in_(ids)
                )
            ):
                doc = _document(row)
                before = old_node is not None and match(old_node, doc) is not None
                after = match(new_node, doc) is not None
                if after and not before:
                    added.append((row.published_at, row.title))
                elif before and not after:
                    dropped.append((row.published_at, row.title))
        found.append(
            Rederivation(
                pledge.id,
                pledge.query,
                new,
                len(added),
                len(dropped),
                [title for _, title in sorted(added, reverse=True)[:sample]],
                [title for _, title in sorted(dropped, reverse=True)[:sample]],
            )
        )
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
        if not in_id_range(pledge_id):
            return []
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
