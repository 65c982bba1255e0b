"""One sweep: sync feeds from the config, claim the due ones, fetch, parse, store.

A sweep holds the database's sweep lock (one sweep at a time per database; a
lock whose holder died is taken over), records a ``sweep_runs`` row, fetches
the due feeds concurrently, and stores each feed's new and changed articles
together with the feed's new state in one transaction, so a sweep killed at
any moment loses nothing it committed and the next sweep carries on.

May import: pledgewatch.config, pledgewatch.db, pledgewatch.errors,
pledgewatch.feeds, pledgewatch.models.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import os
import random
import socket
import threading
import time
import uuid
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
from sqlalchemy import func, insert, or_, select, update
from sqlalchemy.orm import Session

from pledgewatch.config import Config, FeedConfig
from pledgewatch.db import Database
from pledgewatch.errors import FeedError, InputError, SweepLocked
from pledgewatch.feeds.fetch import (
    FeedRequest,
    Fetcher,
    FetchResult,
    FetchSettings,
    FetchStopped,
)
from pledgewatch.feeds.parse import ParsedEntry, parse_feed
from pledgewatch.feeds.schedule import next_poll_at
from pledgewatch.models import Article, ArticleFeed, Feed, SweepLock, SweepRun

# A holder that has not beaten for this long is presumed dead, wherever it ran.
LOCK_STALE_AFTER = timedelta(minutes=10)
HEARTBEAT_EVERY = 30.0  # seconds
LOCK_ROW = 1

Clock = Callable[[], datetime]
# Called after a feed's articles are stored, in the same transaction, with the
# ids of new and changed articles; returns the number of new evidence items.
ArticleHook = Callable[[Session, Sequence[int]], int]
Progress = Callable[[int, int, str], None]


def utcnow() -> datetime:
    return datetime.now(UTC)


@dataclass
class SweepSummary:
    run_id: int | None = None
    feeds_due: int = 0
    feeds_polled: int = 0
    feeds_not_modified: int = 0
    feeds_failed: int = 0
    articles_new: int = 0
    articles_updated: int = 0
    evidence_new: int = 0
    seconds: float = 0.0
    errors: list[dict[str, str]] = field(default_factory=list)
    warnings: list[dict[str, str]] = field(default_factory=list)
    interrupted: bool = False

    def to_json(self) -> dict[str, Any]:
        return {
            "run_id": self.run_id,
            "feeds_due": self.feeds_due,
            "feeds_polled": self.feeds_polled,
            "feeds_not_modified": self.feeds_not_modified,
            "feeds_failed": self.feeds_failed,
            "articles_new": self.articles_new,
            "articles_updated": self.articles_updated,
            "evidence_new": self.evidence_new,
            "seconds": round(self.seconds, 3),
            "errors": self.errors,
            "warnings": self.warnings,
            "interrupted": self.interrupted,
        }


# -- feeds from the config ---------------------------------------------------------------------


def sync_feeds(session: Session, feeds: Iterable[FeedConfig], now: datetime) -> None:
    """Make the feeds table match the config; removed feeds keep their articles."""
    wanted = {f.name: f for f in feeds}
    existing = {feed.name: feed for feed in session.scalars(select(Feed))}
    for name, conf in wanted.items():
        feed = existing.get(name)
        if feed is None:
            session.add(
                Feed(
                    name=name,
                    url=conf.url,
                    enabled=conf.enabled,
                    created_at=now,
                    consecutive_errors=0,
                )
            )
            continue
        if feed.url != conf.url:
            # A new address is a new start: old validators, errors and "gone" do not apply.
            feed.url = conf.url
            feed.etag = feed.last_modified = None
            feed.consecutive_errors = 0
            feed.last_error = feed.last_error_at = feed.last_warning = None
            feed.gone_at = None
            feed.redirect_url = None
            feed.next_poll_at = None
        feed.enabled = conf.enabled
        feed.removed_at = None
    for name, feed in existing.items():
        if name not in wanted and feed.removed_at is None:
            feed.removed_at = now
    session.flush()


def due_feeds(
    session: Session, now: datetime, *, names: Sequence[str] = (), all_feeds: bool = False
) -> list[Feed]:
    """Feeds to poll now: due, enabled, in the config and not gone; or those named."""
    query = select(Feed).where(Feed.removed_at.is_(None))
    if names:
        known = set(session.scalars(select(Feed.name).where(Feed.removed_at.is_(None))))
        unknown = [n for n in names if n not in known]
        if unknown:
            listed = ", ".join(sorted(known)) or "none configured"
            raise InputError(f'no feed named "{unknown[0]}" in the config; feeds: {listed}')
        # Naming a feed polls it whatever its schedule or state: the admin asked.
        return list(session.scalars(query.where(Feed.name.in_(names)).order_by(Feed.name)))
    query = query.where(Feed.enabled.is_(True), Feed.gone_at.is_(None))
    if not all_feeds:
        query = query.where(or_(Feed.next_poll_at.is_(None), Feed.next_poll_at <= now))
    return list(session.scalars(query.order_by(Feed.name)))


# -- the lock ------------------------------------------------------------------------------------


class SweepLockHolder:
    """Holds the one sweep lock row of a database for the length of a sweep."""

    def __init__(self, database: Database, clock: Clock = utcnow) -> None:
        self.database = database
        self.clock = clock
        self.holder = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"

    def acquire(self) -> None:
        now = self.clock()
        with self.database.session() as session:
            conn = session.connection()
            taken = conn.execute(
                update(SweepLock)
                .where(
                    SweepLock.id == LOCK_ROW,
                    or_(
                        SweepLock.holder.is_(None),
                        SweepLock.heartbeat_at < now - LOCK_STALE_AFTER,
                    ),
                )
                .values(holder=self.holder, acquired_at=now, heartbeat_at=now)
            ).rowcount
            if not taken:
                row = session.get(SweepLock, LOCK_ROW)
                assert row is not None and row.holder is not None
                if _holder_is_dead(row.holder):
                    taken = conn.execute(
                        update(SweepLock)
                        .where(SweepLock.id == LOCK_ROW, SweepLock.holder == row.holder)
                        .values(holder=self.holder, acquired_at=now, heartbeat_at=now)
                    ).rowcount
                if not taken:
                    host, pid, _ = [*row.holder.split(":"), "", ""][:3]
                    since = f"{row.acquired_at:%Y-%m-%d %H:%M} UTC" if row.acquired_at else "?"
                    raise SweepLocked(
                        f"another sweep is running on this database (process {pid} on {host}, "
                        f"since {since}); this one did nothing"
                    )
            # Any run still marked running was left by a sweep that died.
            session.execute(
                update(SweepRun)
                .where(SweepRun.state == "running")
                .values(state="abandoned", finished_at=now)
                .execution_options(synchronize_session=False)
            )

    def heartbeat(self) -> None:
        with self.database.session() as session:
            session.execute(
                update(SweepLock)
                .where(SweepLock.id == LOCK_ROW, SweepLock.holder == self.holder)
                .values(heartbeat_at=self.clock())
                .execution_options(synchronize_session=False)
            )

    def release(self) -> None:
        with self.database.session() as session:
            session.execute(
                update(SweepLock)
                .where(SweepLock.id == LOCK_ROW, SweepLock.holder == self.holder)
                .values(holder=None, acquired_at=None, heartbeat_at=None)
                .execution_options(synchronize_session=False)
            )


def _holder_is_dead(holder: str) -> bool:
    """True when the holder ran on this host and its process is gone."""
    host, _, rest = holder.partition(":")
    pid_text = rest.partition(":")[0]
    if host != socket.gethostname() or not pid_text.isdigit():
        return False
    pid = int(pid_text)
    if pid == os.getpid():
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False
    return _is_zombie(pid)


def _is_zombie(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii", errors="replace") as handle:
            return handle.read().rsplit(")", 1)[-1].split()[0] == "Z"
    except OSError:
        return False


# -- storing -------------------------------------------------------------------------------------


def content_hash(entry: ParsedEntry) -> str:
    digest = hashlib.sha256()
    for part in (entry.title, entry.summary, entry.content):
        digest.update(part.encode("utf-8", "surrogatepass"))
        digest.update(b"\x00")
    return digest.hexdigest()


@dataclass
class Stored:
    new: list[int] = field(default_factory=list)
    updated: list[int] = field(default_factory=list)


def store_entries(
    session: Session, feed_id: int, entries: Sequence[ParsedEntry], now: datetime
) -> Stored:
    """Insert new articles, update changed ones, link all of them to the feed."""
    by_url: dict[str, ParsedEntry] = {}
    for entry in entries:
        by_url.setdefault(entry.url, entry)
    stored = Stored()
    if not by_url:
        return stored
    hashes = {url: content_hash(entry) for url, entry in by_url.items()}
    known: dict[str, tuple[int, str]] = {}
    urls = list(by_url)
    for start in range(0, len(urls), 500):
        chunk = urls[start : start + 500]
        for article_id, url, digest in session.execute(
            select(Article.id, Article.url, Article.content_hash).where(Article.url.in_(chunk))
        ):
            known[url] = (article_id, digest)
    links: dict[int, str] = {}
    known_ids = [article_id for article_id, _ in known.values()]
    for start in range(0, len(known_ids), 500):
        chunk_ids = known_ids[start : start + 500]
        for article_id, digest in session.execute(
            select(ArticleFeed.article_id, ArticleFeed.content_hash).where(
                ArticleFeed.feed_id == feed_id, ArticleFeed.article_id.in_(chunk_ids)
            )
        ):
            links[article_id] = digest

    new_rows = [
        {
            "url": url,
            "title": entry.title,
            "summary": entry.summary,
            "content": entry.content,
            "published_at": entry.published_at,
            "fetched_at": now,
            "updated_at": now,
            "content_hash": hashes[url],
        }
        for url, entry in by_url.items()
        if url not in known
    ]
    new_links: list[dict[str, Any]] = []
    if new_rows:
        inserted = session.execute(
            insert(Article).returning(Article.id, Article.url, sort_by_parameter_order=True),
            new_rows,
        ).all()
        for article_id, url in inserted:
            stored.new.append(article_id)
            new_links.append(
                {
                    "article_id": article_id,
                    "feed_id": feed_id,
                    "first_seen_at": now,
                    "content_hash": hashes[url],
                }
            )
    for url, (article_id, article_hash) in known.items():
        digest = hashes[url]
        if article_id not in links:
            # Known from another feed: this feed carries it too; not a change.
            new_links.append(
                {
                    "article_id": article_id,
                    "feed_id": feed_id,
                    "first_seen_at": now,
                    "content_hash": digest,
                }
            )
        elif links[article_id] != digest:
            entry = by_url[url]
            session.execute(
                update(Article)
                .where(Article.id == article_id)
                .values(
                    title=entry.title,
                    summary=entry.summary,
                    content=entry.content,
                    content_hash=digest,
                    updated_at=now,
                )
                .execution_options(synchronize_session=False)
            )
            session.execute(
                update(ArticleFeed)
                .where(ArticleFeed.article_id == article_id, ArticleFeed.feed_id == feed_id)
                .values(content_hash=digest)
                .execution_options(synchronize_session=False)
            )
            if digest != article_hash:
                stored.updated.append(article_id)
    if new_links:
        session.execute(insert(ArticleFeed), new_links)
    return stored


def _feed_interval(config: Config, name: str) -> timedelta:
    conf = config.feed(name)
    return conf.interval if conf and conf.interval else config.sweep.interval


# -- the sweep -----------------------------------------------------------------------------------


class Sweep:
    """One pass over the due feeds. Build it, then call ``run()``."""

    def __init__(
        self,
        database: Database,
        config: Config,
        *,
        names: Sequence[str] = (),
        all_feeds: bool = False,
        clock: Clock = utcnow,
        on_articles: ArticleHook | None = None,
        on_progress: Progress | None = None,
        stop: threading.Event | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
        rng: random.Random | None = None,
    ) -> None:
        self.database = database
        self.config = config
        self.names = list(names)
        self.all_feeds = all_feeds
        self.clock = clock
        self.on_articles = on_articles
        self.on_progress = on_progress
        self.stop = stop or threading.Event()
        self.transport = transport
        self.rng = rng or random.Random()
        self.summary = SweepSummary()
        self._lock = SweepLockHolder(database, clock)
        self._last_beat = 0.0

    def run(self) -> SweepSummary:
        started = time.monotonic()
        now = self.clock()
        with self.database.session() as session:
            sync_feeds(session, self.config.feeds, now)
        # Validate --feed names before taking the lock: a typo is not a sweep.
        with self.database.session() as session:
            due_feeds(session, now, names=self.names, all_feeds=self.all_feeds)
        self._lock.acquire()
        try:
            with self.database.session() as session:
                feeds = due_feeds(session, now, names=self.names, all_feeds=self.all_feeds)
                requests = [
                    FeedRequest(name=f.name, url=f.url, etag=f.etag, last_modified=f.last_modified)
                    for f in feeds
                ]
                run = SweepRun(
                    started_at=now, state="running", feeds_due=len(requests), errors="[]"
                )
                session.add(run)
                session.flush()
                self.summary.run_id = run.id
            self.summary.feeds_due = len(requests)
            self._last_beat = time.monotonic()
            if requests:
                asyncio.run(self._fetch_all(requests))
            self.summary.interrupted = self.stop.is_set()
            self.summary.seconds = time.monotonic() - started
            self._finish_run()
        finally:
            self._lock.release()
        return self.summary

    async def _fetch_all(self, requests: list[FeedRequest]) -> None:
        settings = FetchSettings(
            concurrency=self.config.sweep.concurrency,
            per_host=self.config.sweep.per_host,
            timeout=self.config.sweep.timeout,
            connect_timeout=min(10.0, self.config.sweep.timeout),
            max_bytes=self.config.sweep.max_bytes,
            user_agent=self.config.sweep.user_agent,
        )
        done = 0
        total = len(requests)

        async with Fetcher(settings, transport=self.transport, stop=self.stop) as fetcher:

            async def one(request: FeedRequest) -> None:
                nonlocal done
                try:
                    result = await fetcher.fetch(request)
                except FetchStopped:
                    return
                if result is None:
                    return
                self._handle(result)
                done += 1
                if self.on_progress is not None:
                    self.on_progress(done, total, request.name)

            beat = asyncio.create_task(self._beat())
            try:
                await asyncio.gather(*(one(r) for r in requests))
            finally:
                beat.cancel()

    async def _beat(self) -> None:
        while True:
            await asyncio.sleep(HEARTBEAT_EVERY)
            self._lock.heartbeat()

    def _handle(self, result: FetchResult) -> None:
        """Parse and store one feed's result with its new state, in one transaction."""
        now = self.clock()
        name = result.request.name
        outcome = result.outcome
        error = result.error
        entries: list[ParsedEntry] = []
        warnings: list[str] = []
        if outcome == "ok":
            assert result.body is not None
            try:
                parsed = parse_feed(
                    result.body,
                    url=result.request.url,
                    fetched_at=now,
                    content_type=result.content_type,
                )
                entries = parsed.entries
                warnings = parsed.warnings
            except FeedError as exc:
                outcome, error = "error", str(exc)
        with self.database.session() as session:
            feed = session.scalars(select(Feed).where(Feed.name == name)).one()
            feed.last_polled_at = now
            feed.last_status = result.http_status
            feed.last_outcome = outcome
            if result.permanent_redirect:
                feed.redirect_url = result.permanent_redirect
            interval = _feed_interval(self.config, name)
            if outcome in ("ok", "not_modified"):
                feed.consecutive_errors = 0
                feed.last_error = None
                feed.etag = result.etag
                feed.last_modified = result.last_modified
                feed.last_warning = "; ".join(warnings)[:2000] or None
            else:
                feed.consecutive_errors += 1
                feed.last_error = error or "failed"
                feed.last_error_at = now
                if outcome == "gone":
                    feed.gone_at = now
            feed.next_poll_at = next_poll_at(
                outcome,
                now=now,
                interval=interval,
                consecutive_errors=feed.consecutive_errors,
                retry_after=result.retry_after,
                rng=self.rng,
            )
            stored = store_entries(session, feed.id, entries, now) if entries else Stored()
            evidence = 0
            changed = stored.new + stored.updated
            if changed and self.on_articles is not None:
                evidence = self.on_articles(session, changed)
        # Counted only once committed: the summary never claims what was rolled back.
        summary = self.summary
        if outcome == "ok":
            summary.feeds_polled += 1
        elif outcome == "not_modified":
            summary.feeds_polled += 1
            summary.feeds_not_modified += 1
        else:
            summary.feeds_polled += 1
            summary.feeds_failed += 1
            summary.errors.append({"feed": name, "error": error or "failed"})
        for warning in warnings:
            summary.warnings.append({"feed": name, "warning": warning})
        summary.articles_new += len(stored.new)
        summary.articles_updated += len(stored.updated)
        summary.evidence_new += evidence
        if time.monotonic() - self._last_beat > HEARTBEAT_EVERY:
            self._lock.heartbeat()
            self._last_beat = time.monotonic()

    def _finish_run(self) -> None:
        s = self.summary
        with self.database.session() as session:
            run = session.get(SweepRun, s.run_id)
            assert run is not None
            run.finished_at = self.clock()
            run.state = "interrupted" if s.interrupted else "finished"
            run.feeds_polled = s.feeds_polled
            run.feeds_not_modified = s.feeds_not_modified
            run.feeds_failed = s.feeds_failed
            run.articles_new = s.articles_new
            run.articles_updated = s.articles_updated
            run.evidence_new = s.evidence_new
            run.errors = json.dumps(s.errors, ensure_ascii=False)


# -- reading feed state --------------------------------------------------------------------------


def feed_states(session: Session) -> list[tuple[Feed, int]]:
    """Every feed still in the config with the number of articles it brought."""
    counts: dict[int, int] = {
        feed_id: count
        for feed_id, count in session.execute(
            select(ArticleFeed.feed_id, func.count()).group_by(ArticleFeed.feed_id)
        )
    }
    feeds = session.scalars(select(Feed).order_by(Feed.removed_at.is_not(None), Feed.name))
    return [(feed, counts.get(feed.id, 0)) for feed in feeds]
