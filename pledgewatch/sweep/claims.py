"""Feed claims: on PostgreSQL, any number of workers share one database's feeds.

A worker claims a few due feeds at a time (``FOR UPDATE SKIP LOCKED``, so two
workers never wait for or take the same row), writes itself into
``claimed_by`` with a lease, and renews the lease from a heartbeat thread while
the feeds are in hand. Storing a feed's result clears its claim in the same
transaction; a worker that dies leaves its claims to run out, after which any
worker takes the feeds. A worker whose lease ran out and whose feed another
worker took stores nothing for that feed.

Part of the sweep package (see its docstring).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta
from typing import Any, cast

from sqlalchemy import CursorResult, Select, delete, func, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from pledgewatch.db import Database
from pledgewatch.models import Feed, ReportWritten, SweepRun
from pledgewatch.sweep.lock import HEARTBEAT_EVERY, Beats
from pledgewatch.sweep.summary import utcnow

log = logging.getLogger("pledgewatch.sweep")
Clock = Callable[[], datetime]


class FeedClaims(Beats):
    """The feeds one worker holds, and the heartbeat that keeps them its own."""

    def __init__(self, database: Database, lease: timedelta, clock: Clock = utcnow) -> None:
        super().__init__(database, clock)
        self.lease = lease
        self.run_id: int | None = None
        # ``lost`` stays False: claims are lost feed by feed, never all at once.

    def acquire(self) -> None:
        """Nothing to take: only mark the runs of workers that stopped beating abandoned."""
        now = self.clock()
        with self.database.session() as session:
            session.execute(
                update(SweepRun)
                .where(
                    SweepRun.state == "running",
                    func.coalesce(SweepRun.heartbeat_at, SweepRun.started_at)
                    < now - self.stale_after,
                )
                .values(state="abandoned", finished_at=now)
                .execution_options(synchronize_session=False)
            )
        self.progress()

    def check(self, session: Session) -> None:
        """Every write may go on: a feed's own claim is checked where it is stored."""

    def heartbeat(self) -> bool:
        """Renew the lease of every feed in hand, and show the run is alive."""
        now = self.clock()
        with self.database.session() as session:
            # Feeds locked by this worker's own store are being stored (their claim
            # ends with it): skipped, so a long store never holds the beat up.
            in_hand = (
                select(Feed.id)
                .where(Feed.claimed_by == self.holder)
                .with_for_update(skip_locked=True)
            )
            session.execute(
                update(Feed)
                .where(Feed.id.in_(in_hand.scalar_subquery()))
                .values(lease_until=now + self.lease)
                .execution_options(synchronize_session=False)
            )
            if self.run_id is not None:
                session.execute(
                    update(SweepRun)
                    .where(SweepRun.id == self.run_id)
                    .values(heartbeat_at=now)
                    .execution_options(synchronize_session=False)
                )
        return True

    def start_heartbeat(
        self, every: float = HEARTBEAT_EVERY, on_lost: Callable[[], None] | None = None
    ) -> None:
        # Four beats a lease: a beat or two lost to a busy database loses no feed.
        super().start_heartbeat(min(every, self.lease.total_seconds() / 4), on_lost)

    def release(self) -> None:
        """Give back the feeds claimed and not stored (a sweep stopped early)."""
        with self.database.session() as session:
            session.execute(
                update(Feed)
                .where(Feed.claimed_by == self.holder)
                .values(claimed_by=None, lease_until=None)
                .execution_options(synchronize_session=False)
            )

    @property
    def stale_after(self) -> timedelta:
        """A run that has not beaten for this long was left by a worker that died."""
        return 3 * self.lease

    # -- claiming ------------------------------------------------------------------------------

    def claim(
        self,
        limit: int,
        *,
        names: Sequence[str] = (),
        all_feeds: bool = False,
        since: datetime,
        skip: Sequence[int] = (),
    ) -> list[Feed]:
        """Claim up to ``limit`` feeds this sweep should poll, in one short transaction.

        Due feeds (or, with ``all_feeds``, every feed the publisher lets us
        poll; with ``names``, those named) that no live worker holds and that
        no worker polled since ``since``, the start of this sweep.
        """
        now = self.clock()
        with self.database.session() as session:
            query = claimable(now, names=names, all_feeds=all_feeds, since=since).where(
                # Never a feed still in this worker's hand, even if a slow beat let
                # its lease run out: it is being fetched or stored.
                or_(Feed.claimed_by.is_(None), Feed.claimed_by != self.holder)
            )
            if skip:
                query = query.where(Feed.id.not_in(list(skip)))
            # Feeds never polled first, then the longest due; each part read off the
            # index on (next_poll_at, id). One ORDER BY ... NULLS FIRST would not match
            # PostgreSQL's index (nulls last) and sorted every candidate feed per claim.
            feeds: list[Feed] = []
            for part in (Feed.next_poll_at.is_(None), Feed.next_poll_at.is_not(None)):
                if len(feeds) >= limit:
                    break
                feeds += session.scalars(
                    query.where(part)
                    .order_by(Feed.next_poll_at, Feed.id)
                    .limit(limit - len(feeds))
                    .with_for_update(skip_locked=True)
                )
            for feed in feeds:
                feed.claimed_by = self.holder
                feed.lease_until = now + self.lease
            session.flush()
            session.expunge_all()
        if feeds:
            self.progress()
        return feeds

    def still_mine(self, feed: Feed) -> bool:
        return feed.claimed_by == self.holder


def claimable(
    now: datetime, *, names: Sequence[str] = (), all_feeds: bool = False, since: datetime
) -> Select[Feed]:
    """The feeds a worker may claim now (see ``FeedClaims.claim``)."""
    query = select(Feed).where(
        Feed.removed_at.is_(None),
        or_(Feed.claimed_by.is_(None), Feed.lease_until < now),
        # Polled by any worker since this sweep began: done for this sweep.
        or_(Feed.last_polled_at.is_(None), Feed.last_polled_at < since),
    )
    if names:
        # Naming a feed polls it whatever its schedule or state: the admin asked.
        return query.where(Feed.name.in_(list(names)))
    query = query.where(Feed.enabled.is_(True), Feed.gone_at.is_(None))
    if all_feeds:
        # --all: due or not, but never before a publisher's Retry-After.
        return query.where(or_(Feed.retry_until.is_(None), Feed.retry_until <= now))
    return query.where(or_(Feed.next_poll_at.is_(None), Feed.next_poll_at <= now))


def claim_report(database: Database, period: str, worker: str, now: datetime) -> bool:
    """Whether this worker writes the report of ``period``: the first to ask does,
    every other worker sharing the database is told no."""
    dialect = database.dialect
    upsert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    with database.session() as session:
        inserted = session.execute(
            upsert(ReportWritten)
            .values(period=period, written_at=now, worker=worker)
            .on_conflict_do_nothing(index_elements=["period"])
        )
        return bool(cast(CursorResult[Any], inserted).rowcount)


def release_report(database: Database, period: str, worker: str) -> None:
    """Give the period back: this worker could not write its report."""
    try:
        with database.session() as session:
            session.execute(
                delete(ReportWritten).where(
                    ReportWritten.period == period, ReportWritten.worker == worker
                )
            )
    except Exception:
        log.warning("could not give back the report period %s", period, exc_info=True)


__all__ = ["FeedClaims", "claim_report", "claimable", "release_report"]
