"""One sweep: sync feeds from the config, claim the due ones, fetch, parse, store, match.

A sweep holds the database's sweep lock (one sweep at a time per database; a
lock whose holder died is taken over), records a ``sweep_runs`` row, fetches
the due feeds concurrently, and stores each feed's new and changed articles
together with the feed's new state in one transaction, so a sweep killed at
any moment loses nothing it committed and the next sweep carries on. New and
changed articles are matched against every pledge in that same transaction
(see ``evidence``).

May import: pledgewatch.config, pledgewatch.db, pledgewatch.errors,
pledgewatch.evidence, pledgewatch.feeds, pledgewatch.models.
"""

from __future__ import annotations

import asyncio
import atexit
import hashlib
import json
import logging
import multiprocessing
import multiprocessing.context
import os
import random
import signal
import socket
import threading
import time
import uuid
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from typing import Any, cast

import httpx
from sqlalchemy import Table, func, insert, or_, select, update
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from pledgewatch.config import Config, FeedConfig
from pledgewatch.db import Database
from pledgewatch.errors import FeedError, InputError, SweepLocked
from pledgewatch.evidence import PledgeMatcher
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
MAX_URL_LENGTH = 2000  # the articles.url column
WRITE_BATCH = 50  # feeds committed together at most (each feed's rows and state stay atomic)
WRITE_WAIT = 0.05  # seconds the writer gathers results before a transaction

log = logging.getLogger("pledgewatch.sweep")

_ARTICLES = cast(Table, Article.__table__)
_ARTICLE_FEEDS = cast(Table, ArticleFeed.__table__)

Clock = Callable[[], datetime]
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


def _clean(entry: ParsedEntry) -> ParsedEntry:
    # PostgreSQL refuses NUL in text; a feed may still carry one.
    if "\x00" in entry.title or "\x00" in entry.summary or "\x00" in entry.content:
        return replace(
            entry,
            title=entry.title.replace("\x00", ""),
            summary=entry.summary.replace("\x00", ""),
            content=entry.content.replace("\x00", ""),
        )
    return entry


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


@dataclass(frozen=True)
class _Outcome:
    name: str
    outcome: str
    error: str | None
    warnings: list[str]
    stored: Stored


def store_entries(
    session: Session, batch: Sequence[tuple[int, Sequence[ParsedEntry]]], now: datetime
) -> dict[int, Stored]:
    """Store the entries of several feeds at once: (feed id, entries) in, per feed what changed.

    New articles are inserted, changed ones updated, and every article linked to
    each feed that carried it. A story carried by two feeds of the batch is new
    once, for the first of them. The work is a handful of statements for the
    whole batch, not per feed: per-statement overhead was most of a sweep's cost.
    """
    per_feed: dict[int, dict[str, ParsedEntry]] = {}
    for feed_id, entries in batch:
        by_url = per_feed.setdefault(feed_id, {})
        for entry in entries:
            if len(entry.url) <= MAX_URL_LENGTH:
                by_url.setdefault(entry.url, _clean(entry))
    stored = {feed_id: Stored() for feed_id in per_feed}
    hashes = {
        (feed_id, url): content_hash(entry)
        for feed_id, by_url in per_feed.items()
        for url, entry in by_url.items()
    }
    urls = list(dict.fromkeys(url for by_url in per_feed.values() for url in by_url))
    if not urls:
        return stored
    conn = session.connection()
    articles = _ARTICLES
    known: dict[str, tuple[int, str]] = {}
    for start in range(0, len(urls), 500):
        for article_id, url, digest in conn.execute(
            select(articles.c.id, articles.c.url, articles.c.content_hash).where(
                articles.c.url.in_(urls[start : start + 500])
            )
        ):
            known[url] = (article_id, digest)
    links: dict[tuple[int, int], str] = {}
    known_ids = [article_id for article_id, _ in known.values()]
    for start in range(0, len(known_ids), 500):
        for article_id, feed_id, digest in conn.execute(
            select(
                _ARTICLE_FEEDS.c.article_id, _ARTICLE_FEEDS.c.feed_id, _ARTICLE_FEEDS.c.content_hash
            ).where(
                _ARTICLE_FEEDS.c.article_id.in_(known_ids[start : start + 500]),
                _ARTICLE_FEEDS.c.feed_id.in_(list(per_feed)),
            )
        ):
            links[(article_id, feed_id)] = digest

    # New articles: the first feed of the batch that carries one provides its text.
    first_feed: dict[str, int] = {}
    for feed_id, by_url in per_feed.items():
        for url in by_url:
            if url not in known:
                first_feed.setdefault(url, feed_id)
    if first_feed:
        conn.execute(
            insert(articles),
            [
                {
                    "url": url,
                    "title": per_feed[feed_id][url].title,
                    "summary": per_feed[feed_id][url].summary,
                    "content": per_feed[feed_id][url].content,
                    "published_at": per_feed[feed_id][url].published_at,
                    "fetched_at": now,
                    "updated_at": now,
                    "content_hash": hashes[(feed_id, url)],
                }
                for url, feed_id in first_feed.items()
            ],
        )
        new_urls = list(first_feed)
        for start in range(0, len(new_urls), 500):
            for article_id, url in conn.execute(
                select(articles.c.id, articles.c.url).where(
                    articles.c.url.in_(new_urls[start : start + 500])
                )
            ):
                known[url] = (article_id, hashes[(first_feed[url], url)])
                stored[first_feed[url]].new.append(article_id)

    new_links: list[dict[str, Any]] = []
    for feed_id, by_url in per_feed.items():
        for url, entry in by_url.items():
            article_id, article_hash = known[url]
            digest = hashes[(feed_id, url)]
            link = links.get((article_id, feed_id))
            if link is None:
                # New here, or known from another feed: this feed carries it too.
                new_links.append(
                    {
                        "article_id": article_id,
                        "feed_id": feed_id,
                        "first_seen_at": now,
                        "content_hash": digest,
                    }
                )
            elif link != digest:
                # This feed changed what it says about the story: an update.
                conn.execute(
                    update(articles)
                    .where(articles.c.id == article_id)
                    .values(
                        title=entry.title,
                        summary=entry.summary,
                        content=entry.content,
                        content_hash=digest,
                        updated_at=now,
                    )
                )
                conn.execute(
                    update(_ARTICLE_FEEDS)
                    .where(
                        _ARTICLE_FEEDS.c.article_id == article_id,
                        _ARTICLE_FEEDS.c.feed_id == feed_id,
                    )
                    .values(content_hash=digest)
                )
                if digest != article_hash:
                    stored[feed_id].updated.append(article_id)
    if new_links:
        conn.execute(insert(_ARTICLE_FEEDS), new_links)
    return stored


def _feed_interval(config: Config, name: str) -> timedelta:
    conf = config.feed(name)
    return conf.interval if conf and conf.interval else config.sweep.interval


# -- parsing off the event loop -------------------------------------------------------------------


@dataclass(frozen=True)
class _Parsed:
    """What a parse worker sends back: entries and warnings, or the feed's error."""

    entries: list[ParsedEntry]
    warnings: list[str]
    error: str | None = None


def _parse_job(body: bytes, url: str, fetched_at: datetime, content_type: str | None) -> _Parsed:
    """Runs in a worker process; returns plain data, never a pledgewatch exception."""
    try:
        parsed = parse_feed(body, url=url, fetched_at=fetched_at, content_type=content_type)
    except FeedError as exc:
        return _Parsed([], [], str(exc))
    return _Parsed(parsed.entries, parsed.warnings)


def _worker_start(sweep_pid: int) -> None:
    # Ctrl-C and systemd's SIGTERM reach the whole process group; the sweep
    # decides when to stop, so a worker must not die under a feed in hand.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    # A sweep killed outright (SIGKILL, OOM) cannot tell its workers to go:
    # they watch it and leave with it, so cron never piles up orphans.
    threading.Thread(target=_exit_with, args=(sweep_pid,), daemon=True).start()


def _exit_with(pid: int) -> None:
    while True:
        time.sleep(1.0)
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            os._exit(0)
        except PermissionError:
            pass


def _ready() -> None:
    """A no-op job: submitting it starts the workers."""


class FeedParser:
    """Parses feed bodies in a worker process, so fetching and storing go on meanwhile.

    feedparser is pure Python and the slowest step of a sweep; a worker process
    puts it on another core. Workers are forked from this process when no other
    thread runs (a cron sweep), else started from a fork server (`watch`, where
    scheduler threads run). A worker that dies fails only the feed it had; if no
    worker can be started at all, feeds are parsed in this process.
    """

    _shared: FeedParser | None = None

    def __init__(self, workers: int | None = None) -> None:
        self.workers = workers or max(1, min(2, (os.cpu_count() or 2)))
        self._pool: ProcessPoolExecutor | None = None
        self._ready: Future[None] | None = None
        self._inline = False

    @classmethod
    def shared(cls) -> FeedParser:
        """One parser for the process: workers start once, not once per sweep."""
        if cls._shared is None:
            cls._shared = cls()
            atexit.register(cls._shared.close)
        return cls._shared

    def _start(self) -> ProcessPoolExecutor | None:
        if self._pool is None and not self._inline:
            try:
                context: multiprocessing.context.BaseContext
                if threading.active_count() == 1:
                    # No other thread holds a lock a child could inherit: fork, and
                    # the workers start at once with everything already imported.
                    context = multiprocessing.get_context("fork")
                else:
                    context = multiprocessing.get_context("forkserver")
                    # The main module is imported once, in the server, not once a worker.
                    context.set_forkserver_preload(["__main__", "pledgewatch.feeds.parse"])
                self._pool = ProcessPoolExecutor(
                    max_workers=self.workers,
                    mp_context=context,
                    initializer=_worker_start,
                    initargs=(os.getpid(),),
                )
                self._ready = self._pool.submit(_ready)
            except (OSError, RuntimeError, ValueError) as exc:
                log.warning("parsing in the sweep's own process: no worker process (%s)", exc)
                self._pool = None
                self._inline = True
        return self._pool

    def warm_up(self) -> None:
        self._start()

    async def parse(
        self, body: bytes, url: str, fetched_at: datetime, content_type: str | None
    ) -> _Parsed:
        pool = self._start()
        if pool is None or (self._ready is not None and not self._ready.done()):
            # Until the workers are up (a cron sweep's first half second), parse here.
            return _parse_job(body, url, fetched_at, content_type)
        loop = asyncio.get_running_loop()
        try:
            return await loop.run_in_executor(pool, _parse_job, body, url, fetched_at, content_type)
        except BrokenProcessPool:
            self.close()
            return _Parsed([], [], "the feed parser crashed on this feed")

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
            self._pool = None
            self._ready = None


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
        self._matcher: PledgeMatcher | None = None
        self.on_progress = on_progress
        self.stop = stop or threading.Event()
        self.transport = transport
        self.rng = rng or random.Random()
        self.summary = SweepSummary()
        self._lock = SweepLockHolder(database, clock)
        self._last_beat = 0.0

    def run(self) -> SweepSummary:
        started = time.monotonic()
        # Workers start while the database work below is done.
        FeedParser.shared().warm_up()
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
                self._matcher = PledgeMatcher.load(session)
                for problem in self._matcher.skipped:
                    self.summary.warnings.append({"feed": "-", "warning": problem})
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
        queue: asyncio.Queue[tuple[FetchResult, _Parsed] | None] = asyncio.Queue()
        parser = FeedParser.shared()
        async with Fetcher(settings, transport=self.transport, stop=self.stop) as fetcher:

            async def one(request: FeedRequest) -> None:
                try:
                    result = await fetcher.fetch(request)
                except FetchStopped:
                    return
                parsed = _Parsed([], [])
                if result.outcome == "ok" and result.body is not None:
                    parsed = await parser.parse(
                        result.body, request.url, self.clock(), result.content_type
                    )
                await queue.put((result, parsed))

            writer = asyncio.create_task(self._write(queue, len(requests)))
            beat = asyncio.create_task(self._beat())
            try:
                await asyncio.gather(*(one(r) for r in requests))
            finally:
                await queue.put(None)
                await writer
                beat.cancel()

    async def _beat(self) -> None:
        while True:
            await asyncio.sleep(HEARTBEAT_EVERY)
            self._lock.heartbeat()

    async def _write(
        self, queue: asyncio.Queue[tuple[FetchResult, _Parsed] | None], total: int
    ) -> None:
        """Store results as they come: whatever arrives within WRITE_WAIT of the
        first one, up to WRITE_BATCH feeds, in one transaction."""
        done = 0
        finished = False
        loop = asyncio.get_running_loop()
        while not finished:
            item = await queue.get()
            batch = []
            deadline = loop.time() + WRITE_WAIT
            while item is not None:
                batch.append(item)
                if len(batch) >= WRITE_BATCH:
                    break
                try:
                    item = await asyncio.wait_for(queue.get(), max(0.0, deadline - loop.time()))
                except TimeoutError:
                    break
            finished = item is None
            if not batch:
                continue
            self._store_batch(batch)
            for result, _parsed in batch:
                done += 1
                if self.on_progress is not None:
                    self.on_progress(done, total, result.request.name)
            if time.monotonic() - self._last_beat > HEARTBEAT_EVERY:
                self._lock.heartbeat()
                self._last_beat = time.monotonic()
            # Let fetches in flight hand over their bytes between batches.
            await asyncio.sleep(0)

    def _store_batch(self, batch: list[tuple[FetchResult, _Parsed]]) -> None:
        try:
            with self.database.session() as session:
                outcomes, evidence = self._store_many(session, batch)
        except DBAPIError:
            if len(batch) == 1:
                log.exception("could not store feed %s", batch[0][0].request.name)
                self._record_store_failure(batch[0][0])
                return
            # One feed's rows broke the transaction: store the others one by one.
            for item in batch:
                self._store_batch([item])
            return
        for outcome in outcomes:
            self._count(outcome)
        self.summary.evidence_new += evidence

    def _record_store_failure(self, result: FetchResult) -> None:
        now = self.clock()
        name = result.request.name
        error = "could not store this feed's articles (see the log with -v)"
        with self.database.session() as session:
            feed = session.scalars(select(Feed).where(Feed.name == name)).one()
            feed.last_polled_at = now
            feed.last_outcome = "error"
            feed.consecutive_errors += 1
            feed.last_error = error
            feed.last_error_at = now
            feed.next_poll_at = next_poll_at(
                "error",
                now=now,
                interval=_feed_interval(self.config, name),
                consecutive_errors=feed.consecutive_errors,
                retry_after=None,
                rng=self.rng,
            )
        self._count(_Outcome(name, "error", error, [], Stored()))

    def _store_many(
        self, session: Session, batch: list[tuple[FetchResult, _Parsed]]
    ) -> tuple[list[_Outcome], int]:
        """Several feeds' articles and new states, in the caller's one transaction;
        returns each feed's outcome and the number of new evidence items."""
        now = self.clock()
        names = [result.request.name for result, _ in batch]
        feeds = {f.name: f for f in session.scalars(select(Feed).where(Feed.name.in_(names)))}
        states = []
        for result, parsed in batch:
            feed = feeds[result.request.name]
            outcome, error = self._update_state(feed, result, parsed, now)
            states.append((feed, outcome, error, parsed))
        session.flush()
        stored = store_entries(
            session,
            [(feed.id, parsed.entries) for feed, outcome, _, parsed in states if parsed.entries],
            now,
        )
        outcomes = [
            _Outcome(feed.name, outcome, error, parsed.warnings, stored.get(feed.id, Stored()))
            for feed, outcome, error, parsed in states
        ]
        # The batch's new and changed articles, matched against every pledge at once.
        changed = [i for done in stored.values() for i in (*done.new, *done.updated)]
        evidence = 0
        if changed and self._matcher is not None:
            evidence = self._matcher.match_articles(session, changed, now)
        return outcomes, evidence

    def _update_state(
        self, feed: Feed, result: FetchResult, parsed: _Parsed, now: datetime
    ) -> tuple[str, str | None]:
        outcome: str = result.outcome
        error = result.error
        if outcome == "ok" and parsed.error is not None:
            outcome, error = "error", parsed.error
        feed.last_polled_at = now
        feed.last_status = result.http_status
        feed.last_outcome = outcome
        if result.permanent_redirect:
            feed.redirect_url = result.permanent_redirect
        if outcome in ("ok", "not_modified"):
            feed.consecutive_errors = 0
            feed.last_error = None
            feed.etag = result.etag
            feed.last_modified = result.last_modified
            feed.last_warning = "; ".join(parsed.warnings)[:2000] or None
        else:
            feed.consecutive_errors += 1
            feed.last_error = error or "failed"
            feed.last_error_at = now
            if outcome == "gone":
                feed.gone_at = now
        feed.next_poll_at = next_poll_at(
            outcome,
            now=now,
            interval=_feed_interval(self.config, feed.name),
            consecutive_errors=feed.consecutive_errors,
            retry_after=result.retry_after,
            rng=self.rng,
        )
        return outcome, error

    def _count(self, outcome: _Outcome) -> None:
        """Add one committed feed to the summary: it never claims what was rolled back."""
        summary = self.summary
        summary.feeds_polled += 1
        if outcome.outcome == "not_modified":
            summary.feeds_not_modified += 1
        elif outcome.outcome != "ok":
            summary.feeds_failed += 1
            summary.errors.append({"feed": outcome.name, "error": outcome.error or "failed"})
        for warning in outcome.warnings:
            summary.warnings.append({"feed": outcome.name, "warning": warning})
        summary.articles_new += len(outcome.stored.new)
        summary.articles_updated += len(outcome.stored.updated)

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
