"""Bulk storing: a batch of feeds' entries as articles, in few statements.

Part of the sweep package (see its docstring).
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import NamedTuple, cast

from sqlalchemy import Table, insert, select, update
from sqlalchemy.orm import Session

from pledgewatch.characters import clean
from pledgewatch.config import Config
from pledgewatch.feeds.parse import ParsedEntry
from pledgewatch.feeds.urls import MAX_URL_LENGTH
from pledgewatch.models import Article, ArticleFeed

_ARTICLES = cast(Table, Article.__table__)
_ARTICLE_FEEDS = cast(Table, ArticleFeed.__table__)


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
class Outcome:
    name: str
    outcome: str
    error: str | None
    warnings: list[str]
    stored: Stored


FeedEntries = Sequence[tuple[int, Sequence[ParsedEntry]]]


@dataclass
class _Plan:
    """What storing a batch does, decided from what is stored (see ``plan_batch``)."""

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


def plan_batch(session: Session, batch: FeedEntries) -> _Plan:
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
    plan = plan_batch(session, batch)
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


def feed_interval(config: Config, name: str) -> timedelta:
    conf = config.feed(name)
    return conf.interval if conf and conf.interval else config.sweep.interval
