"""The Desk: pledgewatch as a library, one method per command.

    from pledgewatch import open_desk, load_config

    with open_desk(load_config("config.toml"), user="ana") as desk:
        added = desk.add_pledge(
            {"text": "China will not sell weapons to Russia", "actor": "Xi Jinping",
             "made_on": "2024-06-13", "source_url": "https://www.reuters.com/..."}
        )
        for row in desk.status_board():
            print(row.id, row.status, row.flags)

Each method holds one command's rules: it validates what it is given, stores
it and matches it in one transaction, and returns frozen values (``views``)
with ``to_json()``; no session or row escapes. The clock and the acting user
are given when the Desk is opened (``acting`` gives the same Desk for another
person). Errors are pledgewatch errors with fields (the field, the id, the
URL), never exit codes or option names: the command line and the web desk each
say them in their own words.

May import anything in pledgewatch but the front ends (cli, web).
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import unicodedata
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import IO, Any

from sqlalchemy import Select, delete, func, or_, select
from sqlalchemy.orm import Session

from pledgewatch import board
from pledgewatch import evidence as evidence_store
from pledgewatch import pledges as registry
from pledgewatch import review as reviews
from pledgewatch.characters import first_unsafe
from pledgewatch.clock import FixedClock, SystemClock
from pledgewatch.config import Config, FeedConfig, normalise_feed_url
from pledgewatch.db import Database, lock_pledges
from pledgewatch.errors import (
    ConfigError,
    DuplicatePledgeError,
    FeedError,
    InputError,
    NotFoundError,
    ValidationError,
)
from pledgewatch.feeds.urls import canonical_url, http_url_problem
from pledgewatch.models import (
    REVIEW_VALUES,
    Article,
    Evidence,
    EvidenceReview,
    Pledge,
    PledgeRevision,
    PledgeTag,
    StatusChange,
    StatusChangeEvidence,
    User,
)
from pledgewatch.views import (
    Added,
    AlertsDelivered,
    Archived,
    ArticleView,
    ChangeView,
    CitedArticle,
    DryRun,
    Edited,
    EvidenceView,
    FeedCheck,
    FeedEntryView,
    FeedView,
    Imported,
    Page,
    PledgeDetail,
    PledgeView,
    Pruned,
    PublicPledge,
    ReportView,
    Reviewed,
    ReviewView,
    RevisionView,
    SweepView,
    TimelineEntry,
    UserView,
    VerdictView,
)

Progress = Callable[[int, int], None]

# The fields whose change makes a pledge collect other evidence: an edit of
# one of them matches the stored articles again.
MATCHED_FIELDS = frozenset({"text", "actor", "query", "made_on"})
MAX_REASON = 2000
MAX_LIMIT = 100_000
LEASE_MARGIN = 10.0  # seconds an alert message is held beyond its send timeout


def fold(text: str) -> str:
    """Case and accents folded, for searching: "Inácio" finds "Inacio" and back."""
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch)).casefold()


def open_desk(
    config: Config,
    *,
    user: str = "pledgewatch",
    clock: SystemClock | FixedClock | None = None,
    database: Database | None = None,
) -> Desk:
    """The Desk over ``config``'s database (initialised and current), acting as ``user``."""
    desk = Desk(config, user=user, clock=clock, database=database)
    desk.database.ensure_ready()
    return desk


# A listing of evidence counts its rows up to here; past it, "more than 10,000".
COUNT_CAP = 10_000


def capped_count(session: Session, query: Select[Any], cap: int) -> int:
    """How many rows ``query`` gives, counted up to ``cap + 1``: the count costs the
    same however many more there are."""
    limited = query.limit(cap + 1).subquery()
    return int(session.scalar(select(func.count()).select_from(limited)) or 0)


class Desk:
    """One method per command; see the module's docstring."""

    def __init__(
        self,
        config: Config,
        *,
        user: str = "pledgewatch",
        clock: SystemClock | FixedClock | None = None,
        database: Database | None = None,
    ) -> None:
        self.config = config
        self.user = registry.check_person("by", user)
        self.clock = clock or SystemClock()
        self._database = database
        self._owns_database = database is None

    # -- set-up ----------------------------------------------------------------------------

    @property
    def database(self) -> Database:
        if self._database is None:
            self._database = Database(self.config.database.url)
        return self._database

    def with_config(self, config: Config) -> Desk:
        """The same Desk (database, clock, user) with another config (a reload)."""
        other = Desk(config, user=self.user, clock=self.clock, database=self.database)
        other._owns_database = False
        return other

    def acting(self, user: str) -> Desk:
        """The same Desk (database, clock) acting as ``user``."""
        other = Desk(self.config, user=user, clock=self.clock, database=self.database)
        other._owns_database = False
        return other

    def close(self) -> None:
        if self._owns_database and self._database is not None:
            self._database.dispose()
            self._database = None

    def __enter__(self) -> Desk:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def init(self) -> tuple[str | None, str | None]:
        """Create or upgrade the database; (revision before, revision after)."""
        return self.database.migrate()

    def where(self) -> str:
        """The database, described for people (no password)."""
        from pledgewatch.db import describe_url

        return describe_url(self.config.database.url)

    # -- pledges -----------------------------------------------------------------------------

    def add_pledge(
        self,
        fields: Mapping[str, Any],
        *,
        force: bool = False,
        progress: Progress | None = None,
    ) -> Added:
        """Log a pledge and the evidence its query finds among stored articles, in one
        transaction. ``fields`` are the import columns (text, actor, made_on,
        source_url, ...). A pledge that repeats one by the same actor is refused
        unless ``force``."""
        data = registry.validate(fields, today=self.clock.today())
        with self.database.session() as session:
            pledge = registry.add_pledge(
                session, data, by=self.user, now=self.clock.now(), force=force
            )
            found = evidence_store.rematch(
                session,
                self.clock.now(),
                pledge_id=pledge.id,
                progress=progress,
                defer_after=evidence_store.INLINE_REMATCH,
            )
            similar = self._similar(session, pledge)
            matching = evidence_store.rematch_progress(session, pledge.id)
            return Added(pledge_view(pledge), found, similar, matching)

    def preview_pledge(self, fields: Mapping[str, Any], *, force: bool = False) -> DryRun:
        """What ``add_pledge`` would log and what its query finds; nothing is written."""
        data = registry.validate(fields, today=self.clock.today())
        with self.database.session(write=False) as session:
            if not force:
                existing = registry.find_duplicate(session, data)
                if existing is not None:
                    raise DuplicatePledgeError(existing, data.actor)
            return self._dry_run(session, data)

    def edit_pledge(
        self,
        pledge_id: int,
        changes: Mapping[str, Any],
        *,
        force: bool = False,
        progress: Progress | None = None,
    ) -> Edited:
        """Change a pledge's fields (old values go to its history). A change of its
        text, actor, query or date matches stored articles again, in the same
        transaction; pending evidence the new query no longer matches is named."""
        with self.database.session() as session:
            pledge, changed = registry.edit_pledge(
                session,
                pledge_id,
                changes,
                by=self.user,
                now=self.clock.now(),
                today=self.clock.today(),
                force=force,
            )
            found = 0
            unmatched: list[int] = []
            if set(changed) & MATCHED_FIELDS:
                found = evidence_store.rematch(
                    session,
                    self.clock.now(),
                    pledge_id=pledge_id,
                    progress=progress,
                    defer_after=evidence_store.INLINE_REMATCH,
                )
                unmatched = evidence_store.unmatched_pending(session, pledge)
            matching = evidence_store.rematch_progress(session, pledge_id)
            return Edited(pledge_view(pledge), tuple(changed), found, tuple(unmatched), matching)

    def preview_edit(
        self, pledge_id: int, changes: Mapping[str, Any], *, force: bool = False
    ) -> DryRun:
        with self.database.session(write=False) as session:
            current = registry.get_pledge(session, pledge_id)
            after, _ = registry.preview_edit(
                session, current, changes, today=self.clock.today(), force=force
            )
            return self._dry_run(session, after)

    def _dry_run(self, session: Session, data: registry.PledgeData) -> DryRun:
        query, derived = evidence_store.effective_query(data)
        trial = evidence_store.try_query(
            session,
            query,
            since=evidence_store.earliest_publication(data.made_on),
            actor=data.actor,
            pledge_text=data.text,
        )
        return DryRun(registry.export_row_of(data), query, derived, trial)

    def archive_pledge(self, pledge_id: int, reason: str) -> Archived:
        """Take a pledge off the board and out of the sweep; its verdicts, evidence
        and reviews stay, and the archive (who, when, why) joins its history."""
        text = (reason or "").strip()
        if not text:
            raise ValidationError("reason", "is required: say why, for the record")
        if len(text) > MAX_REASON:
            raise ValidationError(
                "reason", f"is {len(text):,} characters long; the limit is {MAX_REASON:,}"
            )
        problem = first_unsafe(text, multiline=False)
        if problem is not None:
            raise ValidationError("reason", problem)
        now = self.clock.now()
        with self.database.session() as session:
            # Under the pledges lock, like an edit: a sweep sees it archived or not.
            lock_pledges(session, exclusive=True)
            pledge = registry.get_pledge(session, pledge_id, for_update=True)
            if pledge.archived_at is not None:
                raise InputError(
                    f"pledge #{pledge_id} was archived on {pledge.archived_at:%Y-%m-%d} "
                    f"by {pledge.archived_by}"
                )
            pledge.archived_at = now
            pledge.archived_by = self.user
            pledge.archive_reason = text
            pledge.updated_at = now
            pledge.updated_by = self.user
            session.add(
                PledgeRevision(
                    pledge_id=pledge.id,
                    at=now,
                    by=self.user,
                    field="archived",
                    old_value=None,
                    new_value=text,
                )
            )
            session.flush()
            pending = session.scalar(
                select(func.count())
                .select_from(Evidence)
                .where(Evidence.pledge_id == pledge.id, Evidence.review == "pending")
            )
            return Archived(pledge_view(pledge), int(pending or 0))

    def pledge(self, pledge_id: int) -> PledgeDetail:
        """One pledge: its fields, effective query, evidence and one timeline of its
        story (logged, edits, evidence found, reviews, verdicts with what they cite)."""
        with self.database.session(write=False) as session:
            pledge = registry.get_pledge(session, pledge_id)
            query, derived = evidence_store.effective_query(pledge)
            items = evidence_store.list_evidence(session, pledge_id=pledge_id)
            views = self._evidence_views(session, items, with_reviews=True)
            changes, revisions = registry.history(session, pledge_id)
            cited = reviews.cited_evidence(session, [c.id for c in changes])
            verdicts = tuple(verdict_view(c, cited[c.id]) for c in changes)
            revision_views = tuple(
                RevisionView(r.at, r.by, r.field, r.old_value, r.new_value) for r in revisions
            )
            view = pledge_view(pledge)
            return PledgeDetail(
                view,
                query,
                derived,
                views,
                verdicts,
                revision_views,
                timeline(view, views, verdicts, revision_views),
                evidence_store.rematch_progress(session, pledge_id),
            )

    def pledges(
        self,
        *,
        status: str | None = None,
        tag: str | None = None,
        actor: str | None = None,
        search: str | None = None,
        archived: bool = False,
        limit: int | None = None,
        offset: int = 0,
    ) -> Page[PledgeView]:
        """Pledges newest first (by date made), filtered; ``actor`` and ``search``
        are accent- and case-insensitive (``search`` wants every word given, in the
        text, actor, quote, notes or tags). Archived pledges only with ``archived``."""
        check_page(limit, offset)
        with self.database.session(write=False) as session:
            query = select(Pledge)
            query = query.where(
                Pledge.archived_at.is_not(None) if archived else Pledge.archived_at.is_(None)
            )
            if status is not None:
                query = query.where(Pledge.status == registry.check_status(status))
            if tag is not None:
                query = query.where(Pledge.id.in_(_tagged(tag)))
            ids: list[int] | None = None
            if (actor and actor.strip()) or (search and search.strip()):
                ids = self._search(session, query, actor=actor, search=search)
                query = select(Pledge).where(Pledge.id.in_(ids)) if ids else None  # type: ignore[assignment]
            if query is None:
                return Page((), 0, offset)
            total = session.scalar(select(func.count()).select_from(query.subquery())) or 0
            ordered = query.order_by(Pledge.made_on.desc(), Pledge.id.desc()).offset(offset)
            if limit is not None:
                ordered = ordered.limit(limit)
            rows = session.scalars(ordered)
            return Page(tuple(pledge_view(p) for p in rows), int(total), offset)

    def _search(
        self, session: Session, query: Any, *, actor: str | None, search: str | None
    ) -> list[int]:
        """Ids among ``query``'s pledges whose folded actor and words contain what was
        asked; folding is done here, the same on SQLite and PostgreSQL."""
        actor_needle = fold(actor.strip()) if actor and actor.strip() else None
        words = fold(search).split() if search else []
        found = []
        rows = session.execute(
            select(
                Pledge.id,
                Pledge.actor,
                Pledge.text,
                Pledge.quote,
                Pledge.notes,
                Pledge.reported_by,
                Pledge.source_name,
            ).where(Pledge.id.in_(query.with_only_columns(Pledge.id).scalar_subquery()))
        )
        tags: dict[int, list[str]] = {}
        if words:
            for pledge_id, tag in session.execute(select(PledgeTag.pledge_id, PledgeTag.tag)):
                tags.setdefault(pledge_id, []).append(tag)
        for pledge_id, who, text, quote, notes, reported_by, source in rows:
            if actor_needle is not None and actor_needle not in fold(who):
                continue
            if words:
                haystack = fold(
                    " ".join(filter(None, (who, text, quote, notes, reported_by, source)))
                    + " "
                    + " ".join(tags.get(pledge_id, ()))
                )
                if not all(word in haystack for word in words):
                    continue
            found.append(pledge_id)
        return found

    def _similar(self, session: Session, pledge: Pledge) -> tuple[PledgeView, ...]:
        """Other pledges whose actor is a variant of this one's name ("Macron",
        "President Macron") and whose words are mostly the same."""
        mine = set(pledge.actor_key.split())
        words = set(pledge.text_key.split())
        if not mine or not words:
            return ()
        # The stored keys are the normalised actor and text: no pledge is loaded or
        # normalised again to compare (10,000 pledges are read in a few milliseconds).
        ids = []
        candidates = session.execute(
            select(Pledge.id, Pledge.actor_key, Pledge.text_key).where(
                Pledge.id != pledge.id, Pledge.archived_at.is_(None)
            )
        )
        for other_id, actor_key, text_key in candidates:
            theirs = set(actor_key.split())
            if not (mine <= theirs or theirs <= mine):
                continue
            other_words = set(text_key.split())
            overlap = len(words & other_words) / max(1, len(words | other_words))
            if overlap >= 0.6:
                ids.append(other_id)
        similar = [
            pledge_view(other)
            for other in session.scalars(
                select(Pledge).where(Pledge.id.in_(ids[:5])).order_by(Pledge.id)
            )
        ]
        return tuple(similar[:5])

    def import_pledges(
        self,
        path: Path,
        *,
        skip_existing: bool = False,
        progress: Progress | None = None,
    ) -> Imported:
        """Import a CSV or JSON Lines file: every row checked first, nothing written
        if any is bad; the pledges and their evidence in one transaction."""
        with self.database.session() as session:
            result = registry.import_pledges(
                session,
                path,
                by=self.user,
                now=self.clock.now(),
                today=self.clock.today(),
                skip_existing=skip_existing,
            )
            found = (
                evidence_store.rematch(
                    session,
                    self.clock.now(),
                    pledge_ids=result.imported,
                    progress=progress,
                    defer_after=evidence_store.INLINE_REMATCH,
                )
                if result.imported
                else 0
            )
            return Imported(
                tuple(result.imported), tuple(result.skipped), found, tuple(result.warnings)
            )

    def export_pledges(self, fmt: str, out: IO[str]) -> int:
        """Every pledge (archived too) as CSV or JSON Lines, the columns import reads."""
        fmt = fmt.strip().lower()
        if fmt not in ("csv", "jsonl"):
            raise ValidationError("format", f'"{fmt}" is not an export format; use csv or jsonl')
        with self.database.session(write=False) as session:
            return registry.export_pledges(registry.all_pledges(session), fmt, out)

    def rederive(
        self, pledge_id: int | None = None, *, apply: bool = False
    ) -> list[tuple[evidence_store.Rederivation, int | None]]:
        """Derive queries again with today's rules (one pledge, or every derived one):
        each new query with what it adds or drops; with ``apply``, recorded and
        matched, with the evidence found."""
        if not apply:
            with self.database.session(write=False) as session:
                return [(item, None) for item in evidence_store.rederivations(session, pledge_id)]
        done: list[tuple[evidence_store.Rederivation, int | None]] = []
        with self.database.session() as session:
            lock_pledges(session, exclusive=True)
            for item in evidence_store.rederivations(session, pledge_id):
                pledge = registry.get_pledge(session, item.pledge_id, for_update=True)
                registry.store_derived_query(
                    session, pledge, item.new, by=self.user, now=self.clock.now()
                )
                found = evidence_store.rematch(
                    session,
                    self.clock.now(),
                    pledge_id=item.pledge_id,
                    defer_after=evidence_store.INLINE_REMATCH,
                )
                done.append((item, found))
        return done

    def test_query(
        self,
        query: str,
        *,
        since: datetime | None = None,
        limit: int = 10,
        pledge_id: int | None = None,
    ) -> evidence_store.QueryTrial:
        """What ``query`` matches among stored articles; nothing is written. With a
        pledge, it is checked against the pledge's actor and date."""
        if limit < 0:
            raise ValidationError("limit", "give 0 or more articles to show")
        with self.database.session(write=False) as session:
            actor = text = None
            if pledge_id is not None:
                found = registry.get_pledge(session, pledge_id)
                actor, text = found.actor, found.text
                if since is None:
                    since = evidence_store.earliest_publication(found.made_on)
            return evidence_store.try_query(
                session, query, since=since, limit=limit, actor=actor, pledge_text=text
            )

    # -- feeds and sweeps --------------------------------------------------------------------

    def feeds(
        self, *, limit: int | None = None, offset: int = 0, attention: bool = False
    ) -> Page[FeedView]:
        """The configured feeds with their state, in config order, then feeds no longer
        configured; a page of them. ``attention``: only the feeds an admin must look
        at (failing, gone, moved, or removed from the config)."""
        from pledgewatch.feeds.state import describe_feed, needs_attention
        from pledgewatch.sweep import (
            article_counts,
            feed_states,
            feeds_maybe_needing_attention,
            stored_feed_names,
        )

        check_page(limit, offset)
        configured = self.config.feeds
        with self.database.session(write=False) as session:
            stored = stored_feed_names(session)
            unconfigured = sorted(stored.difference(self.config.feed_names()))
            if attention:
                flagged = feeds_maybe_needing_attention(session) | set(unconfigured)
                states = feed_states(session, flagged)
                # A scan of the config with a set lookup: the flagged are few.
                candidates: list[tuple[FeedConfig | None, str]] = [
                    (conf, conf.name) for conf in configured if conf.name in flagged
                ]
                candidates += [(None, name) for name in unconfigured]
                entries = [
                    (conf, name)
                    for conf, name in candidates
                    if needs_attention(describe_feed(conf, states[name], 0))
                ]
                total = len(entries)
                window = entries[offset : None if limit is None else offset + limit]
            else:
                # The configured feeds, then those no longer configured: only the
                # page is built, never a copy of 50,000 configured feeds.
                total = len(configured) + len(unconfigured)
                end = total if limit is None else min(total, offset + limit)
                split = len(configured)
                window = [(conf, conf.name) for conf in configured[offset:end]]
                window += [
                    (None, name)
                    for name in unconfigured[max(0, offset - split) : max(0, end - split)]
                ]
            states = feed_states(session, [name for _, name in window if name in stored])
            counts = article_counts(session, [row.id for row in states.values()])
            rows = tuple(
                describe_feed(
                    conf,
                    states.get(name),
                    counts.get(states[name].id, 0) if name in states else 0,
                )
                for conf, name in window
            )
        return Page(rows, total, offset)

    def check_feed(self, target: str, *, base: Path | None = None) -> FeedCheck:
        """Fetch and parse one feed once (a URL, a file, or a configured feed's name)
        with the config's limits; nothing is stored. A feed that fails raises
        FeedError with its URL."""
        return check_feed(self.config, target, base=base)

    def sweep(
        self,
        *,
        names: Sequence[str] = (),
        all_feeds: bool = False,
        on_progress: Callable[[int, int, str], None] | None = None,
        stop: Any = None,
    ) -> SweepView:
        """One pass over the due feeds (or the ``names``, or ``all_feeds``): what it
        did, as the frozen ``SweepView``."""
        from pledgewatch.sweep import Sweep

        summary = Sweep(
            self.database,
            self.config,
            names=names,
            all_feeds=all_feeds,
            on_progress=on_progress,
            stop=stop,
            clock=self.clock.now,
        ).run()
        done = dataclasses.asdict(summary)
        return SweepView(
            **{**done, "errors": tuple(done["errors"]), "warnings": tuple(done["warnings"])}
        )

    def rematch(self, pledge_id: int | None = None, *, progress: Progress | None = None) -> int:
        """Match stored articles again (every pledge, or one); new evidence found.
        Reviews and evidence already found stay as they are."""
        found = evidence_store.rematch_stored(
            self.database, self.clock.now(), pledge_id=pledge_id, progress=progress
        )
        with self.database.session() as session:
            # What was queued for the background is covered now.
            evidence_store.drop_queued(session, pledge_id)
        return found

    # -- evidence, reviews and verdicts ----------------------------------------------------

    def evidence(
        self,
        *,
        pledge_id: int | None = None,
        review: str | None = None,
        stance: str | None = None,
        since: datetime | None = None,
        tag: str | None = None,
        actor: str | None = None,
        limit: int | None = None,
        offset: int = 0,
        pending_first: bool = True,
    ) -> Page[EvidenceView]:
        """Evidence, paged in SQL: pending first (when not filtered by review), then
        the newest article first. Article bodies are never read for a list."""
        check_page(limit, offset)
        # Every filter is on the evidence row, so counts read the evidence table alone
        # (its article and pledge always exist: the foreign keys restrict deletes).
        where: list[Any] = []
        if pledge_id is not None:
            if not registry.in_id_range(pledge_id):
                return Page((), 0, offset)
            where.append(Evidence.pledge_id == pledge_id)
        if review is not None:
            value = review.strip().lower()
            if value not in REVIEW_VALUES:
                raise ValidationError(
                    "review",
                    f'"{review}" is not a review state; use one of {", ".join(REVIEW_VALUES)}',
                )
            where.append(Evidence.review == value)
        if stance is not None:
            where.append(Evidence.stance == reviews.check_stance(stance))
        if since is not None:
            where.append(Evidence.found_at >= since)
        if tag is not None:
            where.append(Evidence.pledge_id.in_(_tagged(tag)))
        with self.database.session(write=False) as session:
            if actor is not None and actor.strip():
                needle = fold(actor.strip())
                ids = [
                    pid
                    for pid, who in session.execute(select(Pledge.id, Pledge.actor))
                    if needle in fold(who)
                ]
                where.append(Evidence.pledge_id.in_(ids))

            def count(*more: Any) -> int:
                found = session.scalar(
                    select(func.count()).select_from(Evidence).where(*where, *more)
                )
                return int(found or 0)

            # "N in all" counts up to COUNT_CAP rows: beyond, "more than N".
            total = capped_count(session, select(Evidence.id).where(*where), COUNT_CAP)
            columns = (
                select(
                    Evidence.id,
                    Evidence.pledge_id,
                    Evidence.article_id,
                    Evidence.score,
                    Evidence.stance,
                    Evidence.stance_reason,
                    Evidence.snippet,
                    Evidence.review,
                    Evidence.found_at,
                    Evidence.reviewed_by,
                    Evidence.reviewed_at,
                    Evidence.review_note,
                    Evidence.query,
                    Article.url,
                    Article.title,
                    Article.published_at,
                    Pledge.text,
                    Pledge.actor,
                )
                .join(Article, Evidence.article_id == Article.id)
                .join(Pledge, Pledge.id == Evidence.pledge_id)
                .where(*where)
                .order_by(Evidence.published_at.desc(), Evidence.id.desc())
            )
            rows: list[Any]
            if pending_first and review is None:
                # Pending items first: two reads, each a walk of the index on
                # (review, published_at), rather than one sort of every row.
                rows = list(
                    session.execute(
                        columns.where(Evidence.review == "pending").offset(offset).limit(limit)
                    )
                )
                wanted = None if limit is None else limit - len(rows)
                if wanted is None or wanted > 0:
                    # The pending ran out on this page: they are the offset and the rows
                    # read, unless none was read (a page past them), which counts them.
                    pending = offset + len(rows) if rows else count(Evidence.review == "pending")
                    rows += session.execute(
                        columns.where(Evidence.review != "pending")
                        .offset(max(0, offset - pending))
                        .limit(wanted)
                    )
            else:
                rows = list(session.execute(columns.offset(offset).limit(limit)))
            feeds = evidence_store.feeds_of(session, [row.article_id for row in rows])
            items = tuple(
                EvidenceView(
                    id=row.id,
                    pledge_id=row.pledge_id,
                    article=ArticleView(
                        row.url, row.title, row.published_at, tuple(feeds[row.article_id])
                    ),
                    score=row.score,
                    stance=row.stance,
                    stance_reason=row.stance_reason,
                    snippet=row.snippet,
                    review=row.review,
                    found_at=row.found_at,
                    reviewed_by=row.reviewed_by,
                    reviewed_at=row.reviewed_at,
                    review_note=row.review_note,
                    query=row.query,
                    pledge_text=row.text,
                    pledge_actor=row.actor,
                )
                for row in rows
            )
            return Page(items, min(total, COUNT_CAP), offset, exact=total <= COUNT_CAP)

    def matched_words(self, items: Iterable[EvidenceView]) -> dict[int, tuple[str, ...]]:
        """For each evidence item, the words its query matched in its title and
        snippet (for highlighting); an item added by hand has none."""
        return {
            item.id: evidence_store.matched_words(item.query, item.article.title, item.snippet)
            if item.query
            else ()
            for item in items
        }

    def add_evidence(
        self, pledge_id: int, url: str, *, title: str | None = None, note: str | None = None
    ) -> EvidenceView:
        """Evidence found outside the feeds: an article by its URL, stored as pending
        evidence for the pledge (its title is the one given, else its address)."""
        return self._add_evidence(pledge_id, url, title=title, note=note)

    def _add_evidence(
        self, pledge_id: int, url: str, *, title: str | None, note: str | None
    ) -> EvidenceView:
        address = registry.check_url("url", url.strip())
        heading = (title or "").strip() or address
        problem = first_unsafe(heading, multiline=False)
        if problem is not None:
            raise ValidationError("title", problem)
        text = reviews.check_note(note)
        now = self.clock.now()
        with self.database.session() as session:
            pledge = registry.get_pledge(session, pledge_id)
            canonical = canonical_url(address)
            article = session.scalars(
                select(Article).where(or_(Article.url == canonical, Article.url == address))
            ).first()
            if article is None:
                article = Article(
                    url=canonical,
                    title=heading[:1000],
                    summary="",
                    content="",
                    published_at=now,
                    fetched_at=now,
                    updated_at=now,
                    content_hash=hashlib.sha256(canonical.encode()).hexdigest(),
                )
                session.add(article)
                session.flush()
            existing = session.scalars(
                select(Evidence).where(
                    Evidence.pledge_id == pledge.id, Evidence.article_id == article.id
                )
            ).first()
            if existing is not None:
                raise InputError(
                    f"evidence #{existing.id} already links this article to pledge #{pledge.id}"
                )
            item = Evidence(
                pledge_id=pledge.id,
                article_id=article.id,
                score=1.0,
                stance="neutral",
                stance_reason=f"added by hand by {self.user}",
                snippet=(text or heading)[:500],
                review="pending",
                found_at=now,
                published_at=article.published_at,
                query="",  # found by a person, not by a query
            )
            session.add(item)
            session.flush()
            return self._evidence_views(session, [item])[0]

    def review_evidence(
        self,
        evidence_ids: Iterable[int],
        decision: str,
        *,
        stance: str | None = None,
        note: str | None = None,
    ) -> Reviewed:
        """Confirm or reject evidence items, all of them or none. Rejecting an item a
        verdict cites is allowed (the verdict keeps its record) and said in
        ``cited_rejections``."""
        decision = decision.strip().lower()
        given = list(dict.fromkeys(evidence_ids))
        with self.database.session() as session:
            pledge_of = dict(
                session.execute(
                    select(Evidence.id, Evidence.pledge_id).where(
                        Evidence.id.in_([i for i in given if registry.in_id_range(i)])
                    )
                ).all()
            )
            missing = [i for i in given if i not in pledge_of]
            if missing:
                reviews.get_evidence(session, missing[0])  # the error, for the first given
            # Reviewed in pledge order, as evidence is stored: each review moves its
            # pledge's evidence counts (a row lock), taken in one order by everyone.
            done = []
            for evidence_id in sorted(given, key=lambda i: (pledge_of[i], i)):
                done.append(
                    reviews.review_evidence(
                        session,
                        evidence_id,
                        decision,
                        by=self.user,
                        now=self.clock.now(),
                        stance=stance,
                        note=note,
                    )
                )
            position = {evidence_id: n for n, evidence_id in enumerate(given)}
            done.sort(key=lambda item: position[item.id])
            views = self._evidence_views(session, done, with_reviews=True)
            cited = (
                tuple((v.id, v.cited_by) for v in views if v.cited_by)
                if decision == "rejected"
                else ()
            )
            return Reviewed(views, cited)

    def record_verdict(
        self,
        pledge_id: int,
        status: str,
        *,
        note: str,
        evidence_ids: Sequence[int] = (),
        source_url: str | None = None,
        same_status: bool = False,
    ) -> VerdictView:
        """Record a new status for a pledge with why and on what; the history is
        append-only. A verdict that changes nothing is refused unless ``same_status``."""
        with self.database.session() as session:
            change = reviews.record_verdict(
                session,
                pledge_id,
                status,
                note=note,
                by=self.user,
                now=self.clock.now(),
                evidence_ids=evidence_ids,
                source_url=source_url,
                same_status=same_status,
            )
            cited = reviews.cited_evidence(session, [change.id])[change.id]
            if self.config.alerts:
                from pledgewatch.alerts.outbox import after_verdict

                pledge = registry.get_pledge(session, pledge_id)
                after_verdict(session, self.config, change, pledge, cited, self.clock.now())
            return verdict_view(change, cited)

    def status_board(
        self,
        *,
        status: str | None = None,
        flag: str | None = None,
        tag: str | None = None,
        actor: str | None = None,
        search: str | None = None,
    ) -> list[board.BoardRow]:
        """One row a pledge (archived ones left out), what needs attention first;
        filtered by status, flag, tag, actor or words as ``pledges`` filters."""
        settings = self.config.review
        wanted_status = registry.check_status(status) if status else None
        if flag and flag.strip().lower() not in board.FLAG_ORDER:
            raise ValidationError(
                "flag", f'"{flag}" is not a flag; use one of {", ".join(board.FLAG_ORDER)}'
            )
        wanted_flag = flag.strip().lower() if flag else None
        with self.database.session(write=False) as session:
            rows = reviews.status_board(
                session,
                today=self.clock.today(),
                stale_after=settings.stale_after,
                due_soon=settings.due_soon,
            )
        if wanted_status is not None:
            rows = [row for row in rows if row.status == wanted_status]
        if wanted_flag is not None:
            rows = [row for row in rows if wanted_flag in row.flags]
        if tag or (actor and actor.strip()) or (search and search.strip()):
            ids = {p.id for p in self.pledges(tag=tag, actor=actor, search=search)}
            rows = [row for row in rows if row.id in ids]
        return rows

    # -- people of the web desk -------------------------------------------------------------

    def add_user(self, name: str, role: str, password: str) -> UserView:
        """A person who can log in to the web desk; the password is stored hashed."""
        from pledgewatch import people

        people.check_role(role)
        digest = people.hash_password(password)
        with self.database.session() as session:
            return user_view(
                people.add_user(session, name, role, digest, by=self.user, now=self.clock.now())
            )

    def users(self) -> list[UserView]:
        """Everyone, by name."""
        with self.database.session(write=False) as session:
            return [user_view(u) for u in session.scalars(select(User).order_by(User.name))]

    def find_user(self, name: str) -> UserView | None:
        """The person of that name (disabled or not), or None."""
        with self.database.session(write=False) as session:
            user = session.scalars(select(User).where(User.name == name.strip())).first()
            return user_view(user) if user is not None else None

    def set_user_role(self, name: str, role: str) -> UserView:
        from pledgewatch import people

        with self.database.session() as session:
            return user_view(people.set_role(session, name, role))

    def disable_user(self, name: str, *, disabled: bool = True) -> UserView:
        """Disabled people cannot log in, and their open sessions end at once."""
        from pledgewatch import people

        with self.database.session() as session:
            return user_view(people.set_disabled(session, name, disabled, now=self.clock.now()))

    def end_sessions(self, name: str) -> None:
        """End every session of this person begun until now (a log-out ends them all:
        a copied cookie stops working too)."""
        from pledgewatch import people

        with self.database.session() as session:
            people.end_sessions(session, name, now=self.clock.now())

    def reset_password(self, name: str, password: str) -> UserView:
        """A new password; sessions begun before it end, and a lock-out is lifted."""
        from pledgewatch import people

        digest = people.hash_password(password)
        with self.database.session() as session:
            return user_view(people.reset_password(session, name, digest, now=self.clock.now()))

    def log_in(self, name: str, password: str) -> UserView:
        """The person these credentials are, or ``LogInRefused`` (the same for a wrong
        name, a wrong password or a disabled person). Failures are counted, and past
        the fifth in a row the name is locked for a while that doubles each time."""
        from pledgewatch import people
        from pledgewatch.errors import LogInRefused

        now = self.clock.now()
        with self.database.session(write=False) as session:
            user = session.scalars(select(User).where(User.name == name.strip())).first()
            digest = user.password_hash if user is not None else None
            user_id = user.id if user is not None else None
            locked_until = user.locked_until if user is not None else None
        # The hash is checked every time (a locked or unknown name too, so neither
        # answers sooner), outside any transaction: it takes a tenth of a second.
        ok, rehash = people.verify(digest, password)
        if user_id is None or (locked_until is not None and locked_until > now):
            # A locked name is refused in the same words as a wrong password: the
            # answer does not tell which names exist.
            raise LogInRefused()
        new_digest = people.hash_password(password) if ok and rehash else None
        with self.database.session() as session:
            stored = session.get(User, user_id)
            if stored is None:
                raise LogInRefused()
            if not ok:
                stored.failed_logins += 1
                stored.locked_until = people.lock_after(stored.failed_logins, now)
            elif not stored.disabled:
                stored.failed_logins = 0
                stored.locked_until = None
                stored.last_login_at = now
                if new_digest is not None and stored.password_hash == digest:
                    stored.password_hash = new_digest
                return user_view(stored)
        raise LogInRefused()

    # -- alerts ------------------------------------------------------------------------------

    def deliver_alerts(
        self, *, limit: int = 100, budget: float | None = None, stop: Any = None
    ) -> AlertsDelivered:
        """Send the queued alert messages that are due, each at most once at a time
        (a claimed message is held by its sender until its lease runs out); failures
        are retried later with backoff. ``budget`` (seconds) stops taking new
        messages when spent; ``stop`` (an Event) likewise."""
        import time

        from pledgewatch.alerts import outbox
        from pledgewatch.alerts.send import send
        from pledgewatch.errors import AlertFailed

        configured = {a.name: a for a in self.config.alerts}
        done = {"sent": 0, "retrying": 0, "given up": 0}
        errors: list[tuple[str, str]] = []
        if not configured:
            return AlertsDelivered(0, 0, 0, ())
        started = time.monotonic()
        # One message is claimed at a time, held for longer than sending it can take:
        # a sender that dies lets it go for another when the hold runs out.
        lease = timedelta(seconds=max(a.timeout for a in configured.values()) + LEASE_MARGIN)
        while True:
            if budget is not None and time.monotonic() - started > budget:
                break
            if stop is not None and stop.is_set():
                break
            with self.database.session() as session:
                batch = outbox.claim(
                    session, list(configured), self.clock.now(), limit=1, lease=lease
                )
            if not batch:
                break
            for message in batch:
                alert = configured[message.alert]
                error = None
                try:
                    send(
                        alert,
                        json.loads(message.payload),
                        delivery=str(message.id),
                        user_agent=self.config.sweep.user_agent,
                    )
                except AlertFailed as failure:
                    error = failure.reason
                    errors.append((alert.name, failure.reason))
                with self.database.session() as session:
                    done[outbox.settle(session, message.id, error, self.clock.now())] += 1
            limit -= len(batch)
            if limit <= 0:
                break
        return AlertsDelivered(done["sent"], done["retrying"], done["given up"], tuple(errors))

    def test_alert(self, name: str) -> str:
        """Send a sample message to one configured alert now (not through the queue);
        ``AlertFailed`` says why it could not be sent."""
        from pledgewatch.alerts import messages
        from pledgewatch.alerts.send import send
        from pledgewatch.errors import NotFoundError

        alert = self.config.alert(name)
        if alert is None:
            known = ", ".join(a.name for a in self.config.alerts) or "none are configured"
            raise NotFoundError("alert", f'"{name}"', f"configured alerts: {known}")
        send(
            alert,
            messages.sample(alert.name, self.config.web.public_url),
            delivery="test",
            user_agent=self.config.sweep.user_agent,
        )
        return alert.webhook or "apprise"

    def alert_counts(self) -> dict[str, dict[str, int]]:
        """Per configured alert: its messages waiting, sent and given up."""
        from pledgewatch.alerts import outbox

        with self.database.session(write=False) as session:
            found = outbox.counts(session)
        empty = {"waiting": 0, "sent": 0, "given_up": 0}
        return {a.name: found.get(a.name, dict(empty)) for a in self.config.alerts}

    # -- reports -----------------------------------------------------------------------------

    def report(self, since: datetime, until: datetime | None = None) -> ReportView:
        """The report of a period (``report.render(view.to_json(), "html")`` writes it)."""
        from pledgewatch.report.weekly import report_data

        end = until or self.clock.now()
        if since > end:
            raise ValidationError("since", "is after the end of the period")
        with self.database.session(write=False) as session:
            data = report_data(
                session, since=since, until=end, today=self.clock.today(), review=self.config.review
            )
        return ReportView(
            title=data["title"], since=since, until=end, document=json.dumps(data, sort_keys=True)
        )

    def claimreview(self, *, publisher: str, url_template: str | None = None) -> str:
        """schema.org ClaimReview JSON-LD for every pledge with a final verdict."""
        from pledgewatch.report.claimreview import claim_review, to_json_ld
        from pledgewatch.report.collect import final_verdicts

        problem = first_unsafe(publisher, multiline=False)
        if problem is not None or not publisher.strip():
            raise ValidationError("publisher", problem or "is empty")
        if url_template is not None and (
            "{id}" not in url_template or http_url_problem(url_template.replace("{id}", "1"))
        ):
            raise ValidationError(
                "url_template",
                'give an http(s) address with {id}, e.g. "https://news.example.org/pledges/{id}"',
            )
        with self.database.session(write=False) as session:
            verdicts = final_verdicts(session)
        if url_template is not None:
            verdicts = [
                replace(v, url=url_template.replace("{id}", str(v.pledge_id))) for v in verdicts
            ]
        return to_json_ld([claim_review(v, publisher=publisher) for v in verdicts])

    # -- retention -----------------------------------------------------------------------

    def prune(self, *, batch: int = 1000, dry_run: bool = False) -> Pruned:
        """Drop stored articles fetched more than ``[retention].articles_days`` ago that
        are no evidence for any pledge, ``batch`` at a time (each its own short
        transaction, so sweeps and editors go on meanwhile). Evidence, and the
        articles it cites, are kept whatever their age."""
        days = self.config.retention.articles_days
        if days <= 0:
            return Pruned(None, 0, 0)
        if not 1 <= batch <= MAX_LIMIT:
            raise ValidationError("batch", f"give a number from 1 to {MAX_LIMIT:,}")
        before = self.clock.now() - timedelta(days=days)
        stale = (
            select(Article.id)
            .where(Article.fetched_at < before)
            .where(~select(Evidence.id).where(Evidence.article_id == Article.id).exists())
            .order_by(Article.id)
        )
        if dry_run:
            with self.database.session(write=False) as session:
                count = session.scalar(select(func.count()).select_from(stale.subquery()))
            return Pruned(before, int(count or 0), 0)
        dropped = batches = 0
        while True:
            with self.database.session() as session:
                ids = list(session.scalars(stale.limit(batch)))
                if not ids:
                    break
                # An article that became evidence since the select is kept.
                result = session.execute(
                    delete(Article)
                    .where(Article.id.in_(ids))
                    .where(~select(Evidence.id).where(Evidence.article_id == Article.id).exists())
                    .execution_options(synchronize_session=False)
                )
            dropped += int(getattr(result, "rowcount", 0) or 0)
            batches += 1
        return Pruned(before, dropped, batches)

    # -- public pages --------------------------------------------------------------------

    def public_pledge(self, pledge_id: int, *, url: str | None = None) -> PublicPledge:
        """A pledge as its published page shows it (archived pledges are not shown):
        the rulings without the editors' working notes or names of who logged it."""
        from pledgewatch.report.claimreview import Verdict, claim_review, to_json_ld

        with self.database.session(write=False) as session:
            pledge = registry.get_pledge(session, pledge_id)
            if pledge.archived_at is not None:
                raise NotFoundError("pledge", f"#{pledge_id}")
            changes, _ = registry.history(session, pledge_id)
            cited = reviews.cited_evidence(session, [c.id for c in changes])
            verdicts = tuple(verdict_view(c, cited[c.id]) for c in changes if c.from_status)
            ids = sorted({i for v in verdicts for i in v.evidence})
            articles = (
                session.execute(
                    select(Evidence.id, Article.title, Article.url)
                    .join(Article, Article.id == Evidence.article_id)
                    .where(Evidence.id.in_(ids))
                ).all()
                if ids
                else []
            )
            view = pledge_view(pledge)
        review = None
        if verdicts and view.status in ("kept", "compromise", "broken"):
            last = verdicts[-1]
            record = Verdict(
                pledge_id=view.id,
                text=view.text,
                actor=view.actor,
                made_on=view.made_on,
                source_url=view.source_url,
                source_name=view.source_name,
                status=view.status,
                note=last.note,
                at=last.at,
                url=url,
            )
            review = to_json_ld([claim_review(record, publisher=self.config.public.publisher)])
        return PublicPledge(
            view,
            verdicts,
            tuple(CitedArticle(i, t, u) for i, t, u in articles),
            review,
        )

    def status_changes(self, *, limit: int = 50) -> tuple[ChangeView, ...]:
        """The latest status changes of pledges not archived, newest first (a pledge
        being logged is not a change)."""
        check_page(limit, 0)
        with self.database.session(write=False) as session:
            rows = session.execute(
                select(StatusChange, Pledge.text, Pledge.actor)
                .join(Pledge, Pledge.id == StatusChange.pledge_id)
                .where(StatusChange.from_status.is_not(None), Pledge.archived_at.is_(None))
                .order_by(StatusChange.at.desc(), StatusChange.id.desc())
                .limit(limit)
            ).all()
            cited = reviews.cited_evidence(session, [row[0].id for row in rows])
            return tuple(
                ChangeView(verdict_view(change, cited[change.id]), text, actor)
                for change, text, actor in rows
            )

    # -- reading rows into views -------------------------------------------------------------

    def _evidence_views(
        self, session: Session, items: Sequence[Evidence], *, with_reviews: bool = False
    ) -> tuple[EvidenceView, ...]:
        ids = [item.id for item in items]
        feeds = evidence_store.feeds_of(session, [item.article_id for item in items])
        history: dict[int, list[ReviewView]] = {}
        citing: dict[int, list[int]] = {}
        if ids:
            if with_reviews:
                for r in session.scalars(
                    select(EvidenceReview)
                    .where(EvidenceReview.evidence_id.in_(ids))
                    .order_by(EvidenceReview.id)
                ):
                    history.setdefault(r.evidence_id, []).append(
                        ReviewView(r.at, r.by, r.review, r.stance, r.note)
                    )
            for change_id, evidence_id in session.execute(
                select(StatusChangeEvidence.status_change_id, StatusChangeEvidence.evidence_id)
                .where(StatusChangeEvidence.evidence_id.in_(ids))
                .order_by(StatusChangeEvidence.status_change_id)
            ):
                citing.setdefault(evidence_id, []).append(change_id)
        texts = dict(
            session.execute(
                select(Pledge.id, Pledge.text).where(
                    Pledge.id.in_({item.pledge_id for item in items})
                )
            ).all()
        )
        return tuple(
            evidence_view(
                item,
                feeds[item.article_id],
                pledge_text=texts.get(item.pledge_id, ""),
                reviews=history.get(item.id, ()),
                cited_by=citing.get(item.id, ()),
            )
            for item in items
        )


def _tagged(tag: str) -> Any:
    """The ids of the pledges with ``tag``, as a subquery."""
    return select(PledgeTag.pledge_id).where(PledgeTag.tag == tag.strip().lower())


def check_page(limit: int | None, offset: int) -> None:
    if limit is not None and not 0 <= limit <= MAX_LIMIT:
        raise ValidationError("limit", f"give a number from 0 to {MAX_LIMIT:,}")
    if offset < 0:
        raise ValidationError("offset", "give 0 or more")


def pledge_view(pledge: Pledge) -> PledgeView:
    """A stored pledge: the fields a journalist gives (``data_of``) and its record."""
    return PledgeView(
        id=pledge.id,
        **dataclasses.asdict(registry.data_of(pledge)),
        status=pledge.status,
        created_at=pledge.created_at,
        created_by=pledge.created_by,
        updated_at=pledge.updated_at,
        updated_by=pledge.updated_by,
        archived_at=pledge.archived_at,
        archived_by=pledge.archived_by,
        archive_reason=pledge.archive_reason,
    )


def evidence_view(
    item: Evidence,
    feeds: Sequence[str],
    *,
    pledge_text: str = "",
    reviews: Sequence[ReviewView] = (),
    cited_by: Sequence[int] = (),
) -> EvidenceView:
    article = item.article
    return EvidenceView(
        id=item.id,
        pledge_id=item.pledge_id,
        article=ArticleView(article.url, article.title, article.published_at, tuple(feeds)),
        score=item.score,
        stance=item.stance,
        stance_reason=item.stance_reason,
        snippet=item.snippet,
        review=item.review,
        found_at=item.found_at,
        reviewed_by=item.reviewed_by,
        reviewed_at=item.reviewed_at,
        review_note=item.review_note,
        query=item.query,
        pledge_text=pledge_text,
        cited_by=tuple(cited_by),
        reviews=tuple(reviews),
    )


def user_view(user: User) -> UserView:
    return UserView(
        name=user.name,
        role=user.role,
        disabled=user.disabled,
        created_at=user.created_at,
        created_by=user.created_by,
        last_login_at=user.last_login_at,
        password_changed_at=user.password_changed_at,
        sessions_valid_after=user.sessions_valid_after,
    )


def verdict_view(change: StatusChange, cited: Sequence[int]) -> VerdictView:
    return VerdictView(
        id=change.id,
        pledge_id=change.pledge_id,
        from_status=change.from_status,
        to_status=change.to_status,
        at=change.at,
        by=change.by,
        note=change.note,
        evidence=tuple(cited),
        source_url=change.source_url,
    )


def timeline(
    pledge: PledgeView,
    evidence: Sequence[EvidenceView],
    verdicts: Sequence[VerdictView],
    revisions: Sequence[RevisionView],
) -> tuple[TimelineEntry, ...]:
    """A pledge's story in time order: logged (with its source), edits, evidence
    found, reviews, verdicts (with the evidence and source each cites) and the
    archive. Events at the same moment keep that order."""
    entries: list[tuple[datetime, int, int, TimelineEntry]] = [
        (
            pledge.created_at,
            0,
            0,
            TimelineEntry(
                pledge.created_at,
                "logged",
                pledge.created_by,
                f"logged: {pledge.text}",
                source_url=pledge.source_url,
            ),
        )
    ]
    for n, r in enumerate(revisions):
        if r.field == "archived":
            entry = TimelineEntry(r.at, "archived", r.by, "archived", note=r.new)
        else:
            entry = TimelineEntry(
                r.at,
                "edit",
                r.by,
                f"edited {r.field}: {r.old or '(empty)'} -> {r.new or '(empty)'}",
            )
        entries.append((r.at, 1, n, entry))
    for item in evidence:
        entries.append(
            (
                item.found_at,
                2,
                item.id,
                TimelineEntry(
                    item.found_at,
                    "evidence",
                    "pledgewatch" if item.query else "",
                    f"evidence #{item.id} found: {item.article.title}",
                    evidence_id=item.id,
                    source_url=item.article.url,
                ),
            )
        )
        for m, rv in enumerate(item.reviews):
            entries.append(
                (
                    rv.at,
                    3,
                    item.id * 1000 + m,
                    TimelineEntry(
                        rv.at,
                        "review",
                        rv.by,
                        f"evidence #{item.id} {rv.review} as {rv.stance}",
                        note=rv.note,
                        evidence_id=item.id,
                    ),
                )
            )
    for v in verdicts:
        if v.from_status is None:
            continue  # the status a pledge is logged with: the "logged" entry
        moved = f"{v.from_status} -> {v.to_status}" if v.from_status else v.to_status
        entries.append(
            (
                v.at,
                4,
                v.id,
                TimelineEntry(
                    v.at,
                    "verdict",
                    v.by,
                    f"verdict: {moved}",
                    note=v.note,
                    cites=v.evidence,
                    source_url=v.source_url,
                ),
            )
        )
    entries.sort(key=lambda e: (e[0], e[1], e[2]))
    return tuple(entry for *_, entry in entries)


# -- feed check --------------------------------------------------------------------------------


def check_feed(config: Config | None, target: str, *, base: Path | None = None) -> FeedCheck:
    """Fetch and parse one feed once; nothing is stored (no database is needed)."""
    from pledgewatch.feeds.fetch import FeedRequest, Fetcher, FetchSettings
    from pledgewatch.feeds.parse import parse_feed
    from pledgewatch.sweep import fetch_settings

    settings = FetchSettings() if config is None else fetch_settings(config.sweep, one=True)
    url = target
    named: FeedConfig | None = config.feed(target) if config is not None else None
    if named is not None:
        url = named.url
    else:
        try:
            url = normalise_feed_url(target, base or Path.cwd(), "url", "the request")
        except ConfigError:
            raise ValidationError(
                "url", f'"{target}" is not an http(s) URL, a file: URL or a path'
            ) from None
        if url.startswith("file:"):
            from urllib.parse import unquote, urlsplit

            local = Path(unquote(urlsplit(url).path))
            if not local.is_file():
                raise ValidationError("url", f"there is no file {local}")

    async def fetch() -> Any:
        async with Fetcher(settings) as fetcher:
            return await fetcher.fetch(FeedRequest(name="check", url=url))

    import asyncio

    result = asyncio.run(fetch())
    if result.outcome != "ok":
        raise FeedError(url, f"{url}: {result.error or result.outcome}")
    assert result.body is not None
    parsed = parse_feed(
        result.body, url=url, fetched_at=datetime.now(UTC), content_type=result.content_type
    )
    return FeedCheck(
        url=url,
        http_status=result.http_status,
        content_type=result.content_type,
        bytes=len(result.body),
        seconds=round(result.elapsed, 3),
        title=parsed.title,
        entries=tuple(
            FeedEntryView(e.url, e.title, e.published_at, e.summary) for e in parsed.entries
        ),
        warnings=tuple(parsed.warnings),
        permanent_redirect=result.permanent_redirect,
    )


def check_user(field: str, name: str) -> str:
    """A name of who acts: one line, at most 100 characters."""
    return registry.check_person(field, name)
