"""One sweep: sync feeds from the config, claim the due ones, fetch, parse, store, match.

On SQLite a sweep holds the database's sweep lock (one sweep at a time; a
lock whose holder died is taken over). On PostgreSQL any number of sweeps
share the feeds instead: each claims a few due feeds at a time and holds them
with a lease (see ``claims``), and they store one batch at a time. A sweep
records a ``sweep_runs`` row, fetches its feeds concurrently, and stores each
feed's new and changed articles
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

Modules: summary (what a sweep returns), registry (the config's feeds in the
database, which are due), lock (one sweep at a time, SQLite), claims (feeds
shared by workers, PostgreSQL; one weekly report a period), store (bulk
storing), workers (parse processes), run (the sweep itself).

May import: pledgewatch.characters, pledgewatch.config, pledgewatch.db, pledgewatch.errors,
pledgewatch.evidence, pledgewatch.feeds, pledgewatch.matching, pledgewatch.models.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

# Each name from its module on first use: a command that only lists the feeds
# (``registry``) need not load the fetcher, the parse workers and asyncio.
_EXPORTS = {
    "MatcherCache": "pledgewatch.evidence",
    "FeedClaims": "pledgewatch.sweep.claims",
    "claim_report": "pledgewatch.sweep.claims",
    "release_report": "pledgewatch.sweep.claims",
    "LOCK_STALE_AFTER": "pledgewatch.sweep.lock",
    "SweepLockHolder": "pledgewatch.sweep.lock",
    "holder_id": "pledgewatch.sweep.lock",
    "article_counts": "pledgewatch.sweep.registry",
    "check_feed_names": "pledgewatch.sweep.registry",
    "due_feeds": "pledgewatch.sweep.registry",
    "feed_states": "pledgewatch.sweep.registry",
    "feeds_maybe_needing_attention": "pledgewatch.sweep.registry",
    "fetch_settings": "pledgewatch.sweep.registry",
    "stored_feed_names": "pledgewatch.sweep.registry",
    "sync_feeds": "pledgewatch.sweep.registry",
    "Sweep": "pledgewatch.sweep.run",
    "content_hash": "pledgewatch.sweep.store",
    "store_entries": "pledgewatch.sweep.store",
    "SweepSummary": "pledgewatch.sweep.summary",
    "FeedParser": "pledgewatch.sweep.workers",
}

__all__ = [
    "LOCK_STALE_AFTER",
    "FeedClaims",
    "FeedParser",
    "MatcherCache",
    "Sweep",
    "SweepLockHolder",
    "SweepSummary",
    "article_counts",
    "check_feed_names",
    "claim_report",
    "content_hash",
    "due_feeds",
    "feed_states",
    "feeds_maybe_needing_attention",
    "fetch_settings",
    "holder_id",
    "release_report",
    "store_entries",
    "stored_feed_names",
    "sync_feeds",
]

if TYPE_CHECKING:
    from pledgewatch.evidence import MatcherCache
    from pledgewatch.sweep.claims import FeedClaims, claim_report, release_report
    from pledgewatch.sweep.lock import LOCK_STALE_AFTER, SweepLockHolder, holder_id
    from pledgewatch.sweep.registry import (
        article_counts,
        check_feed_names,
        due_feeds,
        feed_states,
        feeds_maybe_needing_attention,
        fetch_settings,
        stored_feed_names,
        sync_feeds,
    )
    from pledgewatch.sweep.run import Sweep
    from pledgewatch.sweep.store import content_hash, store_entries
    from pledgewatch.sweep.summary import SweepSummary
    from pledgewatch.sweep.workers import FeedParser


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'pledgewatch.sweep' has no attribute {name!r}")
    return getattr(import_module(module), name)
