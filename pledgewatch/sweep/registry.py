"""The feed registry: the config's feeds in the database, which are due, their state.

Part of the sweep package (see its docstring).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any, cast

from sqlalchemy import Table, func, or_, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from pledgewatch.characters import printable
from pledgewatch.config import Config, FeedConfig, SweepConfig
from pledgewatch.errors import (
    InputError,
)
from pledgewatch.models import ArticleFeed, Feed

if TYPE_CHECKING:
    from pledgewatch.feeds.fetch import FetchSettings

_FEEDS = cast(Table, Feed.__table__)


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


def feeds_in_sync(session: Session, feeds: Iterable[FeedConfig]) -> bool:
    """Whether the feeds table already matches the config (one light read): then
    a sweep need not write it, nor wait for other workers to write it."""
    wanted = {f.name: (f.url, f.enabled) for f in feeds}
    stored = {
        name: (url, enabled)
        for name, url, enabled in session.execute(
            select(Feed.name, Feed.url, Feed.enabled).where(Feed.removed_at.is_(None))
        )
    }
    return stored == wanted


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


# -- reading feed state --------------------------------------------------------------------------


def fetch_settings(sweep: SweepConfig, *, one: bool = False) -> FetchSettings:
    """The fetch limits of the ``[sweep]`` config; ``one`` for a single feed's check."""
    from pledgewatch.feeds.fetch import FetchSettings  # the fetcher (httpx) when fetching

    return FetchSettings(
        concurrency=1 if one else sweep.concurrency,
        per_host=1 if one else sweep.per_host,
        timeout=sweep.timeout,
        connect_timeout=min(10.0, sweep.timeout),
        max_bytes=sweep.max_bytes,
        user_agent=sweep.user_agent,
    )


_STATE_COLUMNS = (
    Feed.id,
    Feed.name,
    Feed.url,
    Feed.last_polled_at,
    Feed.last_status,
    Feed.last_outcome,
    Feed.consecutive_errors,
    Feed.last_error,
    Feed.last_warning,
    Feed.next_poll_at,
    Feed.redirect_url,
    Feed.gone_at,
    Feed.removed_at,
)


def feed_states(session: Session, names: Iterable[str]) -> dict[str, Any]:
    """The stored state of the feeds named, as rows of columns by name."""
    wanted = sorted(set(names))
    found: dict[str, Any] = {}
    for start in range(0, len(wanted), 500):
        rows = session.execute(
            select(*_STATE_COLUMNS).where(Feed.name.in_(wanted[start : start + 500]))
        )
        found.update((row.name, row) for row in rows)
    return found


def stored_feed_names(session: Session) -> set[str]:
    # Read off the driver's own cursor: 50,000 names through SQLAlchemy's rows
    # cost several times as much, through the ORM's loading more again.
    cursor = session.connection().connection.cursor()
    try:
        cursor.execute(f"SELECT name FROM {_FEEDS.name}")
        return {name for (name,) in cursor.fetchall()}
    finally:
        cursor.close()


def feeds_maybe_needing_attention(session: Session) -> set[str]:
    """Names of the stored feeds that failed, are gone, moved or were removed: a
    superset of the ones an admin must look at (state kept for an older URL counts
    here, not once described)."""
    return set(
        session.scalars(
            select(Feed.name).where(
                or_(
                    Feed.removed_at.is_not(None),
                    Feed.gone_at.is_not(None),
                    Feed.redirect_url.is_not(None),
                    Feed.last_outcome.not_in(("ok", "not_modified")),
                )
            )
        )
    )


def article_counts(session: Session, feed_ids: Iterable[int]) -> dict[int, int]:
    """How many articles each of ``feed_ids`` brought (through the index on feed_id)."""
    wanted = sorted(set(feed_ids))
    counts: dict[int, int] = {}
    for start in range(0, len(wanted), 500):
        rows = session.execute(
            select(ArticleFeed.feed_id, func.count())
            .where(ArticleFeed.feed_id.in_(wanted[start : start + 500]))
            .group_by(ArticleFeed.feed_id)
        )
        counts.update((feed_id, count) for feed_id, count in rows)
    return counts
