"""One sweep: sync feeds from the config, claim the due ones, fetch, parse, store, match.

A sweep holds the database's sweep lock (one sweep at a time per database; a
lock whose holder died is taken over), records a ``sweep_runs`` row, fetches
the due feeds concurrently, and stores each feed's new and changed articles
together with the feed's new state and the evidence they are in one
transaction, so a sweep killed at any moment loses nothing it committed and
the next sweep carries on.

Nothing a feed sends stops a sweep: whatever one feed's fetch, parse or store
raises becomes that feed's recorded error (it backs off like any failing
feed) and the sweep goes on with the others. Only a database that cannot be
used, or the loss of the lock, ends a sweep early.

Write transactions stay short, so people can work while a sweep runs: the
articles of a batch are matched against the pledges (the slow part) before
the write transaction opens, from a read of what storing them will change;
the transaction then stores, checks that the sweep still holds the lock, and
matches only what changed meanwhile (a pledge logged during the sweep: see
``evidence``).

The lock's holder is a token of its own; a thread beats its heartbeat whatever
the sweep is doing, and every write first checks the lock is still held: a
sweep that lost it (presumed dead after 10 minutes without a beat) stops
without writing anything more.

The heartbeat shows the sweep is alive, not merely its process: it beats only
while the sweep makes progress (a feed fetched or stored, a wait for the
database), so a sweep hung for 10 minutes lets its lock go stale.

May import: pledgewatch.characters, pledgewatch.config, pledgewatch.db, pledgewatch.errors,
pledgewatch.evidence, pledgewatch.feeds, pledgewatch.matching, pledgewatch.models.
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
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, NamedTuple, cast

import httpx
from sqlalchemy import Table, func, insert, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from pledgewatch.characters import clean, printable
from pledgewatch.config import Config, FeedConfig, SweepConfig
from pledgewatch.db import Database, lock_pledges
from pledgewatch.errors import (
    DatabaseBusy,
    DatabaseError,
    InputError,
    PledgewatchError,
    SweepLocked,
    SweepLockLost,
)
from pledgewatch.evidence import (
    PledgeMatcher,
    PledgeVersion,
    insert_evidence,
    known_evidence,
    pledge_version,
    pledges_changed_since,
)
from pledgewatch.feeds.fetch import (
    FeedRequest,
    Fetcher,
    FetchResult,
    FetchSettings,
    FetchStopped,
    failed_result,
)
from pledgewatch.feeds.parse import ParsedEntry, parse_feed
from pledgewatch.feeds.schedule import next_poll_at, retry_until
from pledgewatch.feeds.urls import MAX_URL_LENGTH
from pledgewatch.matching.analysis import Document
from pledgewatch.matching.score import Finding
from pledgewatch.models import Article, ArticleFeed, Feed, SweepLock, SweepRun

# A holder that has not beaten for this long is presumed dead, wherever it ran.
LOCK_STALE_AFTER = timedelta(minutes=10)
HEARTBEAT_EVERY = 30.0  # seconds
LOCK_ROW = 1
WRITE_BATCH = 50  # feeds committed together at most (each feed's rows and state stay atomic)
WRITE_WAIT = 0.05  # seconds the writer gathers results before a transaction
# How long a sweep keeps asking for a database another process keeps locked
# (a command waits minutes; an unattended sweep waits for it to finish).
BUSY_PATIENCE = 1800.0  # seconds

log = logging.getLogger("pledgewatch.sweep")

_ARTICLES = cast(Table, Article.__table__)
_ARTICLE_FEEDS = cast(Table, ArticleFeed.__table__)
_FEEDS = cast(Table, Feed.__table__)

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
    """Make the feeds table match the config; removed feeds keep their articles.

    New feeds are inserted with ON CONFLICT DO NOTHING: several sweeps may
    start at once on a fresh database, and each must see the same rows.
    """
    wanted = {f.name: f for f in feeds}
    known = set(session.scalars(select(Feed.name)))
    missing = [
        {
            "name": name,
            "url": conf.url,
            "enabled": conf.enabled,
            "created_at": now,
            "consecutive_errors": 0,
        }
        for name, conf in wanted.items()
        if name not in known
    ]
    if missing:
        dialect = session.get_bind().dialect.name
        upsert = postgresql.insert if dialect == "postgresql" else sqlite.insert
        statement = upsert(_FEEDS).on_conflict_do_nothing(index_elements=["name"])
        for start in range(0, len(missing), 500):
            session.execute(statement, missing[start : start + 500])
    existing = {feed.name: feed for feed in session.scalars(select(Feed))}
    for name, conf in wanted.items():
        feed = existing[name]
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


def check_feed_names(config: Config, names: Sequence[str]) -> None:
    """Refuse a --feed that is not in the config."""
    known = {f.name for f in config.feeds}
    unknown = [n for n in names if n not in known]
    if unknown:
        listed = ", ".join(sorted(known)) or "none configured"
        raise InputError(f'no feed named "{printable(unknown[0])}" in the config; feeds: {listed}')


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
    else:
        # --all: due or not, but never before a publisher's Retry-After.
        query = query.where(or_(Feed.retry_until.is_(None), Feed.retry_until <= now))
    return list(session.scalars(query.order_by(Feed.name)))


# -- the lock ------------------------------------------------------------------------------------


class SweepLockHolder:
    """Holds the one sweep lock row of a database for the length of a sweep.

    The holder is ``host:pid:namespace:token``. The token is this holder's own
    (a uuid), so no other process, however alike, mistakes the lock for its
    own. A lock is taken over from a holder that has not beaten for
    ``LOCK_STALE_AFTER``, or at once from one whose process is gone, and that
    only when it ran on this host, in this PID namespace, since this boot
    (two containers may share a hostname and reuse each other's PIDs).
    """

    def __init__(self, database: Database, clock: Clock = utcnow) -> None:
        self.database = database
        self.clock = clock
        self.holder = holder_id(os.getpid(), uuid.uuid4().hex[:16])
        self.lost = False
        self._beating: _Heartbeat | None = None
        self._progress_at = time.monotonic()

    def progress(self) -> None:
        """The sweep moved on: the heartbeat may go on beating."""
        self._progress_at = time.monotonic()

    def idle_for(self) -> float:
        return time.monotonic() - self._progress_at

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
                    host, pid = _holder_parts(row.holder)[:2]
                    since = f"{row.acquired_at:%Y-%m-%d %H:%M} UTC" if row.acquired_at else "?"
                    raise SweepLocked(
                        f"another sweep is running on this database (process {pid} on {host}, "
                        f"since {since}); this one did nothing"
                    )
            self.progress()
            # Any run still marked running was left by a sweep that died.
            session.execute(
                update(SweepRun)
                .where(SweepRun.state == "running")
                .values(state="abandoned", finished_at=now)
                .execution_options(synchronize_session=False)
            )
        self.lost = False

    def check(self, session: Session) -> None:
        """Raise SweepLockLost unless this holder still holds the lock.

        Called first in every write transaction of the sweep. On PostgreSQL the
        row is read FOR SHARE, so no one can take the lock over before this
        transaction ends; on SQLite the transaction's write lock does the same.
        """
        query = select(SweepLock.holder).where(SweepLock.id == LOCK_ROW)
        if session.get_bind().dialect.name == "postgresql":
            query = query.with_for_update(read=True)
        if session.scalar(query) != self.holder:
            self.lost = True
            raise SweepLockLost(
                "another sweep took this database's sweep lock over (this one was presumed "
                "dead); this sweep stopped without writing more: what it committed is kept"
            )

    def heartbeat(self) -> bool:
        """Beat; False when the lock is no longer this holder's."""
        with self.database.session() as session:
            beaten = (
                session.connection()
                .execute(
                    update(SweepLock)
                    .where(SweepLock.id == LOCK_ROW, SweepLock.holder == self.holder)
                    .values(heartbeat_at=self.clock())
                )
                .rowcount
            )
        if not beaten:
            self.lost = True
        return bool(beaten)

    def start_heartbeat(
        self, every: float = HEARTBEAT_EVERY, on_lost: Callable[[], None] | None = None
    ) -> None:
        """Beat from a thread of its own, whatever the sweep is doing meanwhile."""
        self._beating = _Heartbeat(self, every, on_lost)
        self._beating.start()

    def stop_heartbeat(self) -> None:
        if self._beating is not None:
            self._beating.finish()
            self._beating = None

    def release(self) -> None:
        if self.lost:
            return
        with self.database.session() as session:
            session.execute(
                update(SweepLock)
                .where(SweepLock.id == LOCK_ROW, SweepLock.holder == self.holder)
                .values(holder=None, acquired_at=None, heartbeat_at=None)
                .execution_options(synchronize_session=False)
            )


class _Heartbeat(threading.Thread):
    def __init__(
        self, holder: SweepLockHolder, every: float, on_lost: Callable[[], None] | None
    ) -> None:
        super().__init__(name="sweep-heartbeat", daemon=True)
        self.holder = holder
        self.every = every
        self.on_lost = on_lost
        self._done = threading.Event()

    def run(self) -> None:
        while not self._done.wait(self.every):
            if self.holder.idle_for() > LOCK_STALE_AFTER.total_seconds():
                log.warning("this sweep made no progress for 10 minutes; not beating its lock")
                continue
            try:
                held = self.holder.heartbeat()
            except Exception:
                # A busy or briefly unreachable database: beat again next time.
                # The lock goes stale only after many missed beats.
                log.warning("sweep heartbeat failed", exc_info=True)
                continue
            if not held:
                log.error("this sweep lost its lock to another sweep; stopping")
                if self.on_lost is not None:
                    self.on_lost()
                return

    def finish(self) -> None:
        self._done.set()
        self.join()


def holder_id(pid: int, token: str) -> str:
    """How a lock holder is written: ``host:pid:namespace:token``."""
    return f"{socket.gethostname()}:{pid}:{_namespace()}:{token}"


def _holder_parts(holder: str) -> list[str]:
    return [*holder.split(":"), "", "", ""][:4]


def _namespace() -> str:
    """This boot and PID namespace, or "" when the system does not say."""
    try:
        boot = Path("/proc/sys/kernel/random/boot_id").read_text(encoding="ascii").strip()
        pid_namespace = os.stat("/proc/self/ns/pid").st_ino
    except (OSError, UnicodeError):
        return ""
    return hashlib.sha256(f"{boot}/{pid_namespace}".encode()).hexdigest()[:12]


def _holder_is_dead(holder: str) -> bool:
    """True when the holder ran in this host's PID namespace and its process is gone."""
    host, pid_text, namespace, _token = _holder_parts(holder)
    if host != socket.gethostname() or not namespace or namespace != _namespace():
        return False
    if not pid_text.isascii() or not pid_text.isdigit():
        return False
    pid = int(pid_text)
    if pid == os.getpid():
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except (PermissionError, OverflowError):
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
    # What the database can hold is guarded where rows are written, whatever
    # produced the entry (the parser already cleans; this is the last word).
    title, summary, content = clean(entry.title), clean(entry.summary), clean(entry.content)
    if (title, summary, content) == (entry.title, entry.summary, entry.content):
        return entry
    return replace(entry, title=title, summary=summary, content=content)


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


class Changed(NamedTuple):
    """A new article, or one whose text changed: what matching it needs."""

    article_id: int | None  # None before a new article is inserted
    digest: str
    entry: ParsedEntry  # the entry whose text the article holds
    published_at: datetime


@dataclass(frozen=True)
class _Outcome:
    name: str
    outcome: str
    error: str | None
    warnings: list[str]
    stored: Stored


FeedEntries = Sequence[tuple[int, Sequence[ParsedEntry]]]


@dataclass
class _Plan:
    """What storing a batch does, decided from what is stored (see ``_plan``)."""

    per_feed: dict[int, dict[str, ParsedEntry]]
    hashes: dict[tuple[int, str], str]
    known: dict[str, tuple[int, str, datetime]]  # url -> (article id, hash, published_at)
    inserts: dict[str, int]  # url of a new article -> the feed whose entry provides its text
    links: list[tuple[str, int]]  # (url, feed id) a feed carries for the first time
    updates: list[tuple[str, int]]  # (url, feed id) whose entry changed since this feed sent it

    def changed(self) -> dict[str, Changed]:
        """Articles whose text storing sets or changes, by URL (the last update wins)."""
        found: dict[str, Changed] = {}
        for url, feed_id in self.inserts.items():
            entry = self.per_feed[feed_id][url]
            found[url] = Changed(None, self.hashes[(feed_id, url)], entry, entry.published_at)
        for url, feed_id in self.updates:
            article_id, article_hash, published_at = self.known[url]
            digest = self.hashes[(feed_id, url)]
            if digest != article_hash:
                found[url] = Changed(article_id, digest, self.per_feed[feed_id][url], published_at)
        return found


def _plan(session: Session, batch: FeedEntries) -> _Plan:
    """Read what is stored for a batch's entries and decide what storing them does.

    A story carried by two feeds of the batch is new once, for the first of
    them; an article changes when a feed changes what it says about it, not
    when two feeds word it differently.
    """
    per_feed: dict[int, dict[str, ParsedEntry]] = {}
    for feed_id, entries in batch:
        by_url = per_feed.setdefault(feed_id, {})
        for entry in entries:
            # Bytes, not characters: PostgreSQL's index on the URL takes at most
            # 2,704 bytes, which 900 Chinese characters already pass.
            if len(entry.url.encode("utf-8", "surrogatepass")) <= MAX_URL_LENGTH:
                by_url.setdefault(entry.url, _clean(entry))
    hashes = {
        (feed_id, url): content_hash(entry)
        for feed_id, by_url in per_feed.items()
        for url, entry in by_url.items()
    }
    urls = list(dict.fromkeys(url for by_url in per_feed.values() for url in by_url))
    conn = session.connection()
    known: dict[str, tuple[int, str, datetime]] = {}
    for start in range(0, len(urls), 500):
        for article_id, url, digest, published_at in conn.execute(
            select(Article.id, Article.url, Article.content_hash, Article.published_at).where(
                Article.url.in_(urls[start : start + 500])
            )
        ):
            known[url] = (article_id, digest, published_at)
    stored_links: dict[tuple[int, int], str] = {}
    known_ids = [article_id for article_id, _, _ in known.values()]
    for start in range(0, len(known_ids), 500):
        for article_id, feed_id, digest in conn.execute(
            select(
                _ARTICLE_FEEDS.c.article_id, _ARTICLE_FEEDS.c.feed_id, _ARTICLE_FEEDS.c.content_hash
            ).where(
                _ARTICLE_FEEDS.c.article_id.in_(known_ids[start : start + 500]),
                _ARTICLE_FEEDS.c.feed_id.in_(list(per_feed)),
            )
        ):
            stored_links[(article_id, feed_id)] = digest
    plan = _Plan(per_feed, hashes, known, {}, [], [])
    for feed_id, by_url in per_feed.items():
        for url in by_url:
            if url not in known:
                plan.inserts.setdefault(url, feed_id)
                plan.links.append((url, feed_id))
                continue
            link = stored_links.get((known[url][0], feed_id))
            if link is None:
                # Known from another feed: this feed carries it too.
                plan.links.append((url, feed_id))
            elif link != hashes[(feed_id, url)]:
                plan.updates.append((url, feed_id))
    return plan


def store_entries(
    session: Session, batch: FeedEntries, now: datetime
) -> tuple[dict[int, Stored], dict[int, Changed]]:
    """Store the entries of several feeds at once: (feed id, entries) in; per feed
    what changed, and every new or changed article with the text it now holds.

    New articles are inserted, changed ones updated, and every article linked to
    each feed that carried it. The work is a handful of statements for the
    whole batch, not per feed: per-statement overhead was most of a sweep's cost.
    """
    plan = _plan(session, batch)
    stored = {feed_id: Stored() for feed_id in plan.per_feed}
    changed = plan.changed()
    conn = session.connection()
    ids = {url: article_id for url, (article_id, _, _) in plan.known.items()}
    if plan.inserts:
        conn.execute(
            insert(_ARTICLES),
            [
                {
                    "url": url,
                    "title": entry.title,
                    "summary": entry.summary,
                    "content": entry.content,
                    "published_at": entry.published_at,
                    "fetched_at": now,
                    "updated_at": now,
                    "content_hash": plan.hashes[(feed_id, url)],
                }
                for url, feed_id in plan.inserts.items()
                for entry in (plan.per_feed[feed_id][url],)
            ],
        )
        new_urls = list(plan.inserts)
        for start in range(0, len(new_urls), 500):
            for article_id, url in conn.execute(
                select(_ARTICLES.c.id, _ARTICLES.c.url).where(
                    _ARTICLES.c.url.in_(new_urls[start : start + 500])
                )
            ):
                ids[url] = article_id
                stored[plan.inserts[url]].new.append(article_id)
    for url, feed_id in plan.updates:
        entry = plan.per_feed[feed_id][url]
        digest = plan.hashes[(feed_id, url)]
        conn.execute(
            update(_ARTICLES)
            .where(_ARTICLES.c.id == ids[url])
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
            .where(_ARTICLE_FEEDS.c.article_id == ids[url], _ARTICLE_FEEDS.c.feed_id == feed_id)
            .values(content_hash=digest)
        )
        if digest != plan.known[url][1]:
            stored[feed_id].updated.append(ids[url])
    if plan.links:
        conn.execute(
            insert(_ARTICLE_FEEDS),
            [
                {
                    "article_id": ids[url],
                    "feed_id": feed_id,
                    "first_seen_at": now,
                    "content_hash": plan.hashes[(feed_id, url)],
                }
                for url, feed_id in plan.links
            ],
        )
    return stored, {ids[url]: item._replace(article_id=ids[url]) for url, item in changed.items()}


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
    """Runs in a worker process; returns plain data, never an exception.

    Whatever parsing one feed raises is that feed's error: a parser bug met
    by one odd feed must not stop the sweep, nor every sweep after it.
    """
    try:
        parsed = parse_feed(body, url=url, fetched_at=fetched_at, content_type=content_type)
    except Exception as exc:
        if not isinstance(exc, PledgewatchError):
            log.warning("parsing %s failed", url, exc_info=True)
        return _Parsed([], [], _failure("could not parse the feed", exc))
    return _Parsed(parsed.entries, parsed.warnings)


def _failure(what: str, exc: BaseException) -> str:
    """One line for a feed's error: our own errors as they are, others with their kind."""
    text = " ".join(clean(str(exc)).split())[:300]
    if isinstance(exc, PledgewatchError):
        return text or what
    return f"{what} ({type(exc).__name__}{': ' + text if text else ''})"


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

    def _context(self) -> multiprocessing.context.BaseContext:
        if threading.active_count() == 1:
            # No other thread holds a lock a child could inherit: fork, and
            # the workers start at once with everything already imported.
            return multiprocessing.get_context("fork")
        context = multiprocessing.get_context("forkserver")
        # The main module is imported once, in the server, not once a worker.
        context.set_forkserver_preload(["__main__", "pledgewatch.feeds.parse"])
        return context

    def _start(self) -> ProcessPoolExecutor | None:
        if self._pool is None and not self._inline:
            try:
                self._pool = ProcessPoolExecutor(
                    max_workers=self.workers,
                    mp_context=self._context(),
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
            self._discard(pool)
        # A worker that dies fails every job its pool holds, not only the one
        # that killed it. Each is parsed again in a process of its own, so only
        # the feed that kills its worker again is blamed.
        alone = ProcessPoolExecutor(
            max_workers=1,
            mp_context=self._context(),
            initializer=_worker_start,
            initargs=(os.getpid(),),
        )
        try:
            return await loop.run_in_executor(
                alone, _parse_job, body, url, fetched_at, content_type
            )
        except BrokenProcessPool:
            return _Parsed([], [], "the feed parser crashed on this feed")
        finally:
            alone.shutdown(wait=False)

    def _discard(self, pool: ProcessPoolExecutor) -> None:
        """Drop a broken pool, unless another job already replaced it."""
        if pool is self._pool:
            self._pool = None
            self._ready = None
        pool.shutdown(wait=False, cancel_futures=False)

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
            self._pool = None
            self._ready = None


# -- the sweep -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Precomputed:
    """A batch matched before its write: findings by (URL, content hash), and the
    pledge version the matcher was at."""

    version: PledgeVersion
    findings: dict[tuple[str, str], list[tuple[int, Finding]]]


def _doc(entry: ParsedEntry) -> Document:
    return Document.from_fields(title=entry.title, summary=entry.summary, content=entry.content)


class _Halt(threading.Event):
    """Set by this sweep, or set when the caller's stop is."""

    def __init__(self, stop: threading.Event) -> None:
        super().__init__()
        self._stop = stop

    def is_set(self) -> bool:
        return super().is_set() or self._stop.is_set()


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
        heartbeat_every: float = HEARTBEAT_EVERY,
    ) -> None:
        self.database = database
        self.config = config
        self.names = list(names)
        self.all_feeds = all_feeds
        self.clock = clock
        self._matcher = PledgeMatcher([])
        self._feed_ids: dict[str, int] = {}
        self.on_progress = on_progress
        self.stop = stop or threading.Event()
        # The sweep's own reason to stop fetching (its lock lost, its writer
        # failed), set by this sweep alone; ``stop`` is the caller's (a signal),
        # which a `watch` shares across sweeps and must not be set by one.
        self._halt = _Halt(self.stop)
        self.transport = transport
        self.rng = rng or random.Random()
        self.heartbeat_every = heartbeat_every
        self.summary = SweepSummary()
        self._lock = SweepLockHolder(database, clock)

    def run(self) -> SweepSummary:
        started = time.monotonic()
        # Workers start while the database work below is done.
        FeedParser.shared().warm_up()
        now = self.clock()
        # Validate --feed names before taking the lock: a typo is not a sweep.
        check_feed_names(self.config, self.names)
        self._lock.acquire()
        self._lock.start_heartbeat(self.heartbeat_every, on_lost=self._halt.set)
        try:
            # Only the holder of the lock writes feeds: a sweep turned away must
            # not change what the running one is polling.
            with self._writing() as session:
                sync_feeds(session, self.config.feeds, now)
            with self.database.session(write=False) as session:
                feeds = due_feeds(session, now, names=self.names, all_feeds=self.all_feeds)
                self._feed_ids = {f.name: f.id for f in feeds}
                requests = [
                    FeedRequest(name=f.name, url=f.url, etag=f.etag, last_modified=f.last_modified)
                    for f in feeds
                ]
                self._matcher = PledgeMatcher.load(session)
            for problem in self._matcher.skipped:
                self.summary.warnings.append({"feed": "-", "warning": problem})
            with self._writing() as session:
                run = SweepRun(
                    started_at=now, state="running", feeds_due=len(requests), errors="[]"
                )
                session.add(run)
                session.flush()
                self.summary.run_id = run.id
            self.summary.feeds_due = len(requests)
            if requests:
                asyncio.run(self._fetch_all(requests))
            self.summary.interrupted = self.stop.is_set() or self._halt.is_set()
            self.summary.seconds = time.monotonic() - started
            self._finish_run("interrupted" if self.summary.interrupted else "finished")
        except SweepLockLost:
            raise
        except BaseException:
            self._mark_failed()
            raise
        finally:
            self._lock.stop_heartbeat()
            self._lock.release()
        return self.summary

    @contextmanager
    def _writing(self, *, pledges: bool = False) -> Iterator[Session]:
        """A write transaction of this sweep: it first checks the lock is still held.

        With ``pledges``, it also holds the pledges lock shared (PostgreSQL), so
        a pledge logged meanwhile is either seen here or sees what this stores.
        """
        with self.database.session() as session:
            if pledges:
                lock_pledges(session, exclusive=False)
            self._lock.check(session)
            yield session

    async def _fetch_all(self, requests: list[FeedRequest]) -> None:
        settings = fetch_settings(self.config.sweep)
        queue: asyncio.Queue[tuple[FetchResult, _Parsed] | None] = asyncio.Queue()
        parser = FeedParser.shared()
        async with Fetcher(settings, transport=self.transport, stop=self._halt) as fetcher:

            async def one(request: FeedRequest) -> None:
                # Whatever one feed's fetch or parse raises is that feed's error.
                try:
                    result = await fetcher.fetch(request)
                except FetchStopped:
                    return
                except Exception as exc:
                    log.warning("fetching %s failed", request.url, exc_info=True)
                    result = failed_result(request, _failure("could not fetch the feed", exc))
                parsed = _Parsed([], [])
                if result.outcome == "ok" and result.body is not None:
                    try:
                        parsed = await parser.parse(
                            result.body, request.url, self.clock(), result.content_type
                        )
                    except Exception as exc:
                        log.warning("parsing %s failed", request.url, exc_info=True)
                        parsed = _Parsed([], [], _failure("could not parse the feed", exc))
                self._lock.progress()
                await queue.put((result, parsed))

            tasks = [asyncio.create_task(one(r)) for r in requests]
            writer = asyncio.create_task(self._write(queue, len(requests)))

            def stop_fetching(task: asyncio.Task[None]) -> None:
                # The writer failed (the database, or the lock lost): fetch no more.
                if not task.cancelled() and task.exception() is not None:
                    self._halt.set()
                    for fetch in tasks:
                        fetch.cancel()

            writer.add_done_callback(stop_fetching)
            try:
                results = await asyncio.gather(*tasks, return_exceptions=True)
                for outcome in results:
                    if isinstance(outcome, Exception):
                        log.error("a feed was not handled", exc_info=outcome)
            finally:
                await queue.put(None)
                await writer

    async def _write(
        self, queue: asyncio.Queue[tuple[FetchResult, _Parsed] | None], total: int
    ) -> None:
        """Store results as they come: whatever arrives within WRITE_WAIT of the
        first one, up to WRITE_BATCH feeds, in one transaction, in a thread (so
        fetching goes on while the database works or waits for its lock)."""
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
            await asyncio.to_thread(self._store_batch, batch)
            for result, _parsed in batch:
                done += 1
                if self.on_progress is not None:
                    self.on_progress(done, total, result.request.name)

    def _store_batch(self, batch: list[tuple[FetchResult, _Parsed]]) -> None:
        """Store a batch, waiting as long as another process keeps the database
        busy (a pledge matched against a large store, say)."""
        give_up = time.monotonic() + BUSY_PATIENCE
        while True:
            try:
                self._store_batch_once(batch)
                self._lock.progress()
                return
            except DatabaseBusy:
                if time.monotonic() > give_up or self._halt.is_set():
                    raise
                log.warning("the database is busy; still waiting to store %d feeds", len(batch))
                self._lock.progress()  # waiting for the database is not hanging

    def _store_batch_once(self, batch: list[tuple[FetchResult, _Parsed]]) -> None:
        try:
            pre = self._precompute(batch)
            with self._writing(pledges=True) as session:
                outcomes, evidence = self._store_many(session, batch, pre)
        except (SweepLockLost, DatabaseError):
            raise  # not one feed's fault: the sweep cannot go on
        except Exception as exc:
            if len(batch) == 1:
                log.warning("could not store feed %s", batch[0][0].request.name, exc_info=True)
                self._record_store_failure(batch[0][0], exc)
                return
            # One feed's rows broke the transaction: store the others one by one.
            for item in batch:
                self._store_batch_once([item])
            return
        for outcome in outcomes:
            self._count(outcome)
        self.summary.evidence_new += evidence

    def _entries(self, batch: list[tuple[FetchResult, _Parsed]]) -> FeedEntries:
        return [
            (self._feed_ids[result.request.name], parsed.entries)
            for result, parsed in batch
            if parsed.entries
        ]

    def _precompute(self, batch: list[tuple[FetchResult, _Parsed]]) -> _Precomputed:
        """Match what storing the batch will add or change, outside any write
        transaction: matching is the slow part of a write."""
        matcher = self._matcher
        version = matcher.version
        entries = self._entries(batch)
        if not matcher.targets or not entries:
            return _Precomputed(version, {})
        with self.database.session(write=False) as session:
            changed = _plan(session, entries).changed()
            known = known_evidence(
                session, [c.article_id for c in changed.values() if c.article_id is not None]
            )
        findings = {
            (item.entry.url, item.digest): matcher.findings(
                _doc(item.entry), item.published_at, known.get(item.article_id or 0, ())
            )
            for item in changed.values()
        }
        return _Precomputed(version, findings)

    def _record_store_failure(self, result: FetchResult, exc: BaseException) -> None:
        name = result.request.name
        error = _failure("could not store this feed's articles", exc)
        failed = failed_result(result.request, error, status=result.http_status)
        try:
            with self._writing() as session:
                feed = session.scalars(select(Feed).where(Feed.name == name)).one()
                self._update_state(feed, failed, _Parsed([], []), self.clock())
        except (SweepLockLost, DatabaseError):
            raise
        except Exception:
            # Not even the error could be recorded: the summary still says so.
            log.error("could not record the failure of feed %s", name, exc_info=True)
        self._count(_Outcome(name, "error", error, [], Stored()))

    def _store_many(
        self, session: Session, batch: list[tuple[FetchResult, _Parsed]], pre: _Precomputed
    ) -> tuple[list[_Outcome], int]:
        """Several feeds' articles, new states and evidence, in the caller's one
        transaction; returns each feed's outcome and the number of new evidence items."""
        now = self.clock()
        names = [result.request.name for result, _ in batch]
        feeds = {f.name: f for f in session.scalars(select(Feed).where(Feed.name.in_(names)))}
        states = []
        for result, parsed in batch:
            feed = feeds[result.request.name]
            outcome, error = self._update_state(feed, result, parsed, now)
            states.append((feed, outcome, error, parsed))
        session.flush()
        stored, changed = store_entries(session, self._entries(batch), now)
        outcomes = [
            _Outcome(feed.name, outcome, error, parsed.warnings, stored.get(feed.id, Stored()))
            for feed, outcome, error, parsed in states
        ]
        return outcomes, self._evidence(session, changed, pre, now)

    def _evidence(
        self, session: Session, changed: dict[int, Changed], pre: _Precomputed, now: datetime
    ) -> int:
        """Store the evidence among the batch's new and changed articles.

        Findings come from before the transaction; pledges logged or edited
        since the matcher's version are matched here, and the matcher takes
        them in for the batches that follow.
        """
        if not changed:
            return 0
        matcher = self._matcher
        version = pledge_version(session)
        fresh: PledgeMatcher | None = None
        fresh_ids: set[int] = set()
        if version != pre.version:
            pledges = pledges_changed_since(session, pre.version)
            matcher.refresh(pledges, version)
            fresh = PledgeMatcher(pledges, version=version)
            fresh_ids = {p.id for p in pledges}
        if not matcher.targets:
            return 0
        known = known_evidence(session, list(changed))
        rows = []
        for article_id, item in changed.items():
            stored_for = known.get(article_id, set())
            found = pre.findings.get((item.entry.url, item.digest))
            if found is None:
                found = matcher.findings(_doc(item.entry), item.published_at, stored_for)
            elif fresh is not None:
                found = [f for f in found if f[0] not in fresh_ids]
                found += fresh.findings(_doc(item.entry), item.published_at, stored_for)
            for pledge_id, finding in found:
                if pledge_id in stored_for or pledge_id not in matcher.targets:
                    continue
                rows.append(matcher.evidence_row(pledge_id, article_id, finding, now))
        return insert_evidence(session, rows)

    def _update_state(
        self, feed: Feed, result: FetchResult, parsed: _Parsed, now: datetime
    ) -> tuple[str, str | None]:
        outcome: str = result.outcome
        error = clean(result.error) if result.error else None
        if outcome == "ok" and parsed.error is not None:
            outcome, error = "error", clean(parsed.error)
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
            feed.last_warning = clean("; ".join(parsed.warnings))[:2000] or None
        else:
            feed.consecutive_errors += 1
            feed.last_error = error or "failed"
            feed.last_error_at = now
            if outcome == "gone":
                feed.gone_at = now
        feed.retry_until = retry_until(outcome, now=now, retry_after=result.retry_after)
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

    def _finish_run(self, state: str) -> None:
        s = self.summary
        with self._writing() as session:
            run = session.get(SweepRun, s.run_id)
            assert run is not None
            run.finished_at = self.clock()
            run.state = state
            run.feeds_polled = s.feeds_polled
            run.feeds_not_modified = s.feeds_not_modified
            run.feeds_failed = s.feeds_failed
            run.articles_new = s.articles_new
            run.articles_updated = s.articles_updated
            run.evidence_new = s.evidence_new
            run.errors = json.dumps(s.errors, ensure_ascii=False)

    def _mark_failed(self) -> None:
        """A sweep that could not go on says so in its run, if the database lets it."""
        if self.summary.run_id is None or self._lock.lost:
            return
        try:
            self._finish_run("failed")
        except Exception:
            log.warning("could not mark sweep run #%s failed", self.summary.run_id, exc_info=True)


# -- reading feed state --------------------------------------------------------------------------


def fetch_settings(sweep: SweepConfig, *, one: bool = False) -> FetchSettings:
    """The fetch limits of the ``[sweep]`` config; ``one`` for a single feed's check."""
    return FetchSettings(
        concurrency=1 if one else sweep.concurrency,
        per_host=1 if one else sweep.per_host,
        timeout=sweep.timeout,
        connect_timeout=min(10.0, sweep.timeout),
        max_bytes=sweep.max_bytes,
        user_agent=sweep.user_agent,
    )


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
