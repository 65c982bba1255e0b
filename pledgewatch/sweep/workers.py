"""Parsing off the event loop: a pool of worker processes; a dead worker's feeds
are parsed again, each alone.

Part of the sweep package (see its docstring).
"""

from __future__ import annotations

import asyncio
import atexit
import logging
import multiprocessing
import multiprocessing.context
import os
import signal
import threading
import time
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from datetime import datetime

from pledgewatch.characters import clean
from pledgewatch.errors import (
    PledgewatchError,
)
from pledgewatch.feeds.parse import ParsedEntry, parse_feed

log = logging.getLogger("pledgewatch.sweep")


# -- parsing off the event loop -------------------------------------------------------------------


@dataclass(frozen=True)
class Parsed:
    """What a parse worker sends back: entries and warnings, or the feed's error."""

    entries: list[ParsedEntry]
    warnings: list[str]
    error: str | None = None


def _parse_job(body: bytes, url: str, fetched_at: datetime, content_type: str | None) -> Parsed:
    """Runs in a worker process; returns plain data, never an exception.

    Whatever parsing one feed raises is that feed's error: a parser bug met
    by one odd feed must not stop the sweep, nor every sweep after it.
    """
    try:
        parsed = parse_feed(body, url=url, fetched_at=fetched_at, content_type=content_type)
    except Exception as exc:
        if not isinstance(exc, PledgewatchError):
            log.warning("parsing %s failed", url, exc_info=True)
        return Parsed([], [], failure("could not parse the feed", exc))
    return Parsed(parsed.entries, parsed.warnings)


def failure(what: str, exc: BaseException) -> str:
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
    ) -> Parsed:
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
            return Parsed([], [], "the feed parser crashed on this feed")
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
