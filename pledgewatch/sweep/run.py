"""The run: fetch, parse, store and match the due feeds, with the lock or the claims held.

Part of the sweep package (see its docstring).
"""

from __future__ import annotations

import asyncio
import json
import logging
import random
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime

import httpx
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from pledgewatch.characters import clean
from pledgewatch.config import Config
from pledgewatch.db import Database, lock_pledges, lock_store
from pledgewatch.errors import (
    DatabaseBusy,
    DatabaseError,
    SweepLockLost,
)
from pledgewatch.evidence import (
    MatcherCache,
    PledgeMatcher,
    PledgeVersion,
    insert_evidence,
    known_evidence,
    pledge_version,
    pledges_changed_since,
    run_queued,
)
from pledgewatch.feeds.fetch import (
    FeedRequest,
    Fetcher,
    FetchResult,
    FetchStopped,
    failed_result,
)
from pledgewatch.feeds.parse import ParsedEntry
from pledgewatch.feeds.schedule import next_poll_at, retry_until
from pledgewatch.matcher_file import load_matcher
from pledgewatch.matching.analysis import Document
from pledgewatch.matching.score import Finding
from pledgewatch.models import Feed, SweepRun
from pledgewatch.sweep.claims import FeedClaims, claimable
from pledgewatch.sweep.lock import SweepLockHolder
from pledgewatch.sweep.registry import (
    check_feed_names,
    due_feeds,
    feeds_in_sync,
    fetch_settings,
    sync_feeds,
)
from pledgewatch.sweep.store import (
    Changed,
    FeedEntries,
    Outcome,
    Stored,
    feed_interval,
    plan_batch,
    store_entries,
)
from pledgewatch.sweep.summary import SweepSummary, utcnow
from pledgewatch.sweep.workers import FeedParser, Parsed, failure

HEARTBEAT_EVERY = 30.0  # seconds
REMATCH_BUDGET = 60.0  # seconds a sweep spends on queued rematches at most
WRITE_BATCH = 50  # feeds committed together at most (each feed's rows and state stay atomic)
WRITE_WAIT = 0.05  # seconds the writer gathers results before a transaction
# How long a sweep keeps asking for a database another process keeps locked
# (a command waits minutes; an unattended sweep waits for it to finish).
BUSY_PATIENCE = 1800.0  # seconds
log = logging.getLogger("pledgewatch.sweep")
Clock = Callable[[], datetime]
Progress = Callable[[int, int, str], None]


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


class _Source:
    """The feeds a sweep polls, handed out as it has room for them."""

    total = 0  # how many there are, as far as is known when the sweep starts
    taken = 0
    exhausted = False

    def take(self, room: int) -> list[FeedRequest]:
        raise NotImplementedError


def _request(feed: Feed) -> FeedRequest:
    return FeedRequest(
        name=feed.name, url=feed.url, etag=feed.etag, last_modified=feed.last_modified
    )


class _Listed(_Source):
    """The due feeds of a sweep that holds the lock: all of them at once."""

    def __init__(self, feeds: list[Feed], ids: dict[str, int]) -> None:
        self.requests = [_request(f) for f in feeds]
        ids.update((f.name, f.id) for f in feeds)
        self.total = len(self.requests)

    def take(self, room: int) -> list[FeedRequest]:
        # The fetcher keeps to its limits; every feed is in its queue from the start.
        requests, self.requests = self.requests, []
        self.taken += len(requests)
        self.exhausted = True
        return requests


class _Claimed(_Source):
    """Feeds claimed from the database a few at a time, as other workers claim theirs."""

    def __init__(self, sweep: Sweep, claims: FeedClaims, total: int) -> None:
        self.sweep = sweep
        self.claims = claims
        self.total = total
        self.unclaimed = set(sweep.names)

    def take(self, room: int) -> list[FeedRequest]:
        sweep = self.sweep
        feeds = self.claims.claim(
            room,
            names=sweep.names,
            all_feeds=sweep.all_feeds,
            since=sweep._since,
            skip=sorted(sweep._unrecorded),
        )
        sweep._feed_ids.update((f.name, f.id) for f in feeds)
        self.unclaimed.difference_update(f.name for f in feeds)
        self.taken += len(feeds)
        if len(feeds) < room:
            self.exhausted = True
            for name in sorted(self.unclaimed):
                sweep.summary.warnings.append(
                    {"feed": name, "warning": "not polled: another worker has it in hand"}
                )
            self.unclaimed.clear()
        return [_request(f) for f in feeds]


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
        matchers: MatcherCache | None = None,
    ) -> None:
        self.database = database
        # A `watch` keeps its matcher between sweeps; a one-shot sweep loads its own.
        self.matchers = matchers
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
        # SQLite has one writer: one sweep at a time holds the database's lock.
        # On PostgreSQL any number of workers share the feeds by claiming them.
        self._lock: SweepLockHolder | FeedClaims = (
            FeedClaims(database, config.sweep.lease, clock)
            if database.dialect == "postgresql"
            else SweepLockHolder(database, clock)
        )
        self._since = clock()
        # Feeds whose result not even an error could be recorded for: never
        # claimed again in this sweep.
        self._unrecorded: set[int] = set()

    def run(self) -> SweepSummary:
        started = time.monotonic()
        # Workers start while the database work below is done.
        FeedParser.shared().warm_up()
        now = self.clock()
        self._since = now
        # Validate --feed names before taking the lock: a typo is not a sweep.
        check_feed_names(self.config, self.names)
        self._lock.acquire()
        self._lock.start_heartbeat(self.heartbeat_every, on_lost=self._halt.set)
        try:
            # Only the holder of the lock writes feeds: a sweep turned away must
            # not change what the running one is polling. Workers sharing a
            # PostgreSQL database sync one at a time.
            with self.database.session(write=False) as session:
                synced = feeds_in_sync(session, self.config.feeds)
            if not synced:
                with self._writing(sync=True) as session:
                    sync_feeds(session, self.config.feeds, now)
            with self.database.session(write=False) as session:
                source = self._source(session, now)
                self._matcher = (
                    self.matchers.get(session)
                    if self.matchers
                    else load_matcher(session, self.database.url)
                )
            for problem in self._matcher.skipped:
                self.summary.warnings.append({"feed": "-", "warning": problem})
            with self._writing() as session:
                run = SweepRun(
                    started_at=now,
                    state="running",
                    feeds_due=source.total,
                    errors="[]",
                    worker=self._lock.holder,
                    heartbeat_at=now,
                )
                session.add(run)
                session.flush()
                self.summary.run_id = run.id
            if isinstance(self._lock, FeedClaims):
                self._lock.run_id = self.summary.run_id
            self.summary.feeds_due = source.total
            if source.total:
                asyncio.run(self._fetch_all(source))
            self.summary.feeds_due = source.taken
            if not self._halt.is_set():
                # Stored articles a newly logged or edited pledge is still to be
                # matched against, for a while each sweep, until none are left.
                self.summary.evidence_new += run_queued(
                    self.database, self.clock(), budget=REMATCH_BUDGET, stop=self._halt.is_set
                )
                self._lock.progress()
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

    def _source(self, session: Session, now: datetime) -> _Source:
        """Where this sweep's feeds come from: the due list (it holds the lock),
        or claims a few at a time (workers sharing a PostgreSQL database)."""
        if isinstance(self._lock, FeedClaims):
            total = session.scalar(
                select(func.count()).select_from(
                    claimable(now, names=self.names, all_feeds=self.all_feeds, since=now).subquery()
                )
            )
            return _Claimed(self, self._lock, int(total or 0))
        feeds = due_feeds(session, now, names=self.names, all_feeds=self.all_feeds)
        return _Listed(feeds, self._feed_ids)

    @contextmanager
    def _writing(self, *, pledges: bool = False, sync: bool = False) -> Iterator[Session]:
        """A write transaction of this sweep: it first checks the lock is still held.

        With ``pledges``, it also holds the pledges lock shared (PostgreSQL), so
        a pledge logged meanwhile is either seen here or sees what this stores,
        and the store lock, so workers sharing the database store one batch at a
        time (a story two workers bring at once is then stored once, and every
        evidence id below the highest is committed when an alert digest reads
        them). ``sync`` takes the store lock alone.
        """
        with self.database.session() as session:
            if pledges:
                lock_pledges(session, exclusive=False)
            if pledges or sync:
                lock_store(session)
            self._lock.check(session)
            yield session

    async def _fetch_all(self, source: _Source) -> None:
        settings = fetch_settings(self.config.sweep)
        queue: asyncio.Queue[tuple[FetchResult, Parsed] | None] = asyncio.Queue()
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
                    result = failed_result(request, failure("could not fetch the feed", exc))
                parsed = Parsed([], [])
                if result.outcome == "ok" and result.body is not None:
                    try:
                        parsed = await parser.parse(
                            result.body, request.url, self.clock(), result.content_type
                        )
                    except Exception as exc:
                        log.warning("parsing %s failed", request.url, exc_info=True)
                        parsed = Parsed([], [], failure("could not parse the feed", exc))
                self._lock.progress()
                await queue.put((result, parsed))

            running: set[asyncio.Task[None]] = set()
            # One token a feed done: waiting on this stays cheap however many feeds
            # are in hand (asyncio.wait over every task costs as many as there are).
            finished: asyncio.Queue[None] = asyncio.Queue()

            async def handled(request: FeedRequest) -> None:
                try:
                    await one(request)
                except Exception:
                    log.error("feed %s was not handled", request.name, exc_info=True)

            def done(task: asyncio.Task[None]) -> None:
                # A callback, not a ``finally``: a task cancelled before it starts runs none.
                running.discard(task)
                finished.put_nowait(None)

            writer = asyncio.create_task(self._write(queue, source))

            def stop_fetching(task: asyncio.Task[None]) -> None:
                # The writer failed (the database, or the lock lost): fetch no more.
                if not task.cancelled() and task.exception() is not None:
                    self._halt.set()
                    for fetch in list(running):
                        fetch.cancel()

            writer.add_done_callback(stop_fetching)
            try:
                more = True
                in_flight = 0
                # Twice the fetcher's slots in hand: a slot that frees starts the
                # next feed at once, while more are claimed and parsed. More are
                # taken once half the hand is free, not one as each feed ends: on
                # PostgreSQL every take is a claim, a transaction of its own.
                in_hand = 2 * settings.concurrency
                refill = in_hand - settings.concurrency
                while True:
                    room = in_hand - in_flight
                    if more and room >= refill and not self._halt.is_set():
                        taken = await asyncio.to_thread(source.take, room)
                        more = len(taken) >= room and not source.exhausted
                        for request in taken:
                            task = asyncio.create_task(handled(request))
                            running.add(task)
                            task.add_done_callback(done)
                        in_flight += len(taken)
                    if in_flight == 0:
                        break
                    await finished.get()
                    in_flight -= 1
            finally:
                await queue.put(None)
                await writer

    async def _write(
        self, queue: asyncio.Queue[tuple[FetchResult, Parsed] | None], source: _Source
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
                    self.on_progress(done, max(done, source.total), result.request.name)

    def _store_batch(self, batch: list[tuple[FetchResult, Parsed]]) -> None:
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

    def _store_batch_once(self, batch: list[tuple[FetchResult, Parsed]]) -> None:
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

    def _entries(self, batch: list[tuple[FetchResult, Parsed]]) -> FeedEntries:
        return [
            (self._feed_ids[result.request.name], parsed.entries)
            for result, parsed in batch
            if parsed.entries
        ]

    def _precompute(self, batch: list[tuple[FetchResult, Parsed]]) -> _Precomputed:
        """Match what storing the batch will add or change, outside any write
        transaction: matching is the slow part of a write."""
        matcher = self._matcher
        version = matcher.version
        entries = self._entries(batch)
        if not matcher.targets or not entries:
            return _Precomputed(version, {})
        with self.database.session(write=False) as session:
            changed = plan_batch(session, entries).changed()
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
        error = failure("could not store this feed's articles", exc)
        failed = failed_result(result.request, error, status=result.http_status)
        try:
            with self._writing() as session:
                feed = session.scalars(
                    select(Feed).where(Feed.name == name).with_for_update()
                ).one()
                if not self._mine(feed):
                    return
                self._update_state(feed, failed, Parsed([], []), self.clock())
        except (SweepLockLost, DatabaseError):
            raise
        except Exception:
            # Not even the error could be recorded: the summary still says so.
            log.error("could not record the failure of feed %s", name, exc_info=True)
            self._unrecorded.add(self._feed_ids[name])
        self._count(Outcome(name, "error", error, [], Stored()))

    def _store_many(
        self, session: Session, batch: list[tuple[FetchResult, Parsed]], pre: _Precomputed
    ) -> tuple[list[Outcome], int]:
        """Several feeds' articles, new states and evidence, in the caller's one
        transaction; returns each feed's outcome and the number of new evidence items."""
        now = self.clock()
        names = [result.request.name for result, _ in batch]
        query = select(Feed).where(Feed.name.in_(names)).order_by(Feed.id)
        if isinstance(self._lock, FeedClaims):
            # Locked until the batch commits: no worker claims them in between.
            query = query.with_for_update()
        feeds = {f.name: f for f in session.scalars(query)}
        batch = [item for item in batch if self._mine(feeds[item[0].request.name])]
        states = []
        for result, parsed in batch:
            feed = feeds[result.request.name]
            outcome, error = self._update_state(feed, result, parsed, now)
            states.append((feed, outcome, error, parsed))
        session.flush()
        stored, changed = store_entries(session, self._entries(batch), now)
        outcomes = [
            Outcome(feed.name, outcome, error, parsed.warnings, stored.get(feed.id, Stored()))
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
        self, feed: Feed, result: FetchResult, parsed: Parsed, now: datetime
    ) -> tuple[str, str | None]:
        outcome: str = result.outcome
        error = clean(result.error) if result.error else None
        feed.claimed_by = feed.lease_until = None  # stored: no longer in any worker's hand
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
            interval=feed_interval(self.config, feed.name),
            consecutive_errors=feed.consecutive_errors,
            retry_after=result.retry_after,
            rng=self.rng,
        )
        return outcome, error

    def _mine(self, feed: Feed) -> bool:
        """Whether this sweep may store the feed's result: always, with the lock; with
        claims, only while its claim is this worker's (a lease that ran out and
        was taken by another worker loses the result)."""
        if not isinstance(self._lock, FeedClaims) or self._lock.still_mine(feed):
            return True
        log.warning("feed %s was taken by another worker; its result is not stored", feed.name)
        return False

    def _count(self, outcome: Outcome) -> None:
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
        # With alerts, the digest reads evidence ids up to the highest: the store
        # lock makes sure no worker holds a lower one uncommitted.
        with self._writing(pledges=bool(self.config.alerts)) as session:
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
            if self.config.alerts and state != "failed":
                self._queue_alerts(session, run.started_at)

    def _queue_alerts(self, session: Session, started_at: datetime) -> None:
        """What this sweep brings each alert, queued with its run (in a savepoint: an
        alert that cannot be queued is logged and never fails the sweep)."""
        from pledgewatch.alerts.outbox import after_sweep

        assert self.summary.run_id is not None
        now = self.clock()
        try:
            with session.begin_nested():
                after_sweep(
                    session,
                    self.config,
                    run_id=self.summary.run_id,
                    started_at=started_at,
                    now=now,
                    today=now.date(),
                )
        except Exception:
            log.exception("alerts of sweep #%s not queued", self.summary.run_id)

    def _mark_failed(self) -> None:
        """A sweep that could not go on says so in its run, if the database lets it."""
        if self.summary.run_id is None or self._lock.lost:
            return
        try:
            self._finish_run("failed")
        except Exception:
            log.warning("could not mark sweep run #%s failed", self.summary.run_id, exc_info=True)
