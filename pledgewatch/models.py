"""SQLAlchemy 2.0 typed models: the tables pledgewatch stores.

Datetimes are timezone-aware UTC in Python whatever the database stores
(SQLite keeps naive UTC; PostgreSQL keeps timestamptz). Dates people type
(made_on, deadline) are plain dates.

May import: pledgewatch.errors, pledgewatch.states.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    Date,
    DateTime,
    Dialect,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    TypeDecorator,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship
from sqlalchemy.sql.expression import false

from pledgewatch import states

# The record's words, defined without SQLAlchemy; the models' users find them here too.
FINAL_STATUSES = states.FINAL_STATUSES
REVIEW_VALUES = states.REVIEW_VALUES
STANCE_VALUES = states.STANCE_VALUES
STATUS_VALUES = states.STATUS_VALUES
Review = states.Review
Stance = states.Stance
Status = states.Status


# Ids are INTEGER columns: 32 bits on PostgreSQL (64 on SQLite). An id beyond
# this is no row on either, and is answered as such instead of sent to the
# database, which would refuse it with an error.
MAX_ID = 2**31 - 1


class UTCDateTime(TypeDecorator[datetime]):
    """A datetime that is always timezone-aware UTC on the Python side."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        value = value.astimezone(UTC)
        if dialect.name == "sqlite":
            return value.replace(tzinfo=None)
        return value

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)  # type: ignore[no-any-return]
        return value.astimezone(UTC)  # type: ignore[no-any-return]


NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


_STATUS_CHECK = "status IN ({})".format(", ".join(f"'{s}'" for s in STATUS_VALUES))


class Pledge(Base):
    __tablename__ = "pledges"
    __table_args__ = (
        CheckConstraint(_STATUS_CHECK, name="status"),
        Index("ix_pledges_dedupe_key", "dedupe_key"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    text: Mapped[str] = mapped_column(Text)
    actor: Mapped[str] = mapped_column(String(200))
    reported_by: Mapped[str | None] = mapped_column(String(200))
    made_on: Mapped[date] = mapped_column(Date, index=True)
    source_url: Mapped[str] = mapped_column(String(2000))
    source_name: Mapped[str | None] = mapped_column(String(200))
    quote: Mapped[str | None] = mapped_column(Text)
    deadline: Mapped[date | None] = mapped_column(Date)
    query: Mapped[str | None] = mapped_column(Text)
    # The query was derived from the text and actor (and recorded), not written.
    query_derived: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    notes: Mapped[str | None] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(20), default=Status.NOT_YET_RATED.value, index=True)
    # Normalised actor and text, for refusing the same pledge twice, and a
    # fixed-size hash of both to index (the keys can outgrow any index entry).
    actor_key: Mapped[str] = mapped_column(Text)
    text_key: Mapped[str] = mapped_column(Text)
    dedupe_key: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    created_by: Mapped[str] = mapped_column(String(100))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())
    updated_by: Mapped[str] = mapped_column(String(100))
    # Archived: off the board and out of the sweep, its history kept.
    archived_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    archived_by: Mapped[str | None] = mapped_column(String(100))
    archive_reason: Mapped[str | None] = mapped_column(Text)

    tag_rows: Mapped[list[PledgeTag]] = relationship(
        back_populates="pledge",
        cascade="all, delete-orphan",
        order_by="PledgeTag.tag",
        lazy="selectin",
    )
    status_changes: Mapped[list[StatusChange]] = relationship(
        back_populates="pledge", order_by="StatusChange.id", lazy="raise_on_sql"
    )
    revisions: Mapped[list[PledgeRevision]] = relationship(
        back_populates="pledge", order_by="PledgeRevision.id", lazy="raise_on_sql"
    )

    @property
    def tags(self) -> list[str]:
        return [row.tag for row in self.tag_rows]


class PledgeTag(Base):
    __tablename__ = "pledge_tags"

    pledge_id: Mapped[int] = mapped_column(
        ForeignKey("pledges.id", ondelete="CASCADE"), primary_key=True
    )
    tag: Mapped[str] = mapped_column(String(40), primary_key=True, index=True)

    pledge: Mapped[Pledge] = relationship(back_populates="tag_rows")


class PledgeRevision(Base):
    """One changed field of one edit: nothing a journalist wrote is lost."""

    __tablename__ = "pledge_revisions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    pledge_id: Mapped[int] = mapped_column(ForeignKey("pledges.id", ondelete="CASCADE"), index=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime())
    by: Mapped[str] = mapped_column(String(100))
    field: Mapped[str] = mapped_column(String(40))
    old_value: Mapped[str | None] = mapped_column(Text)
    new_value: Mapped[str | None] = mapped_column(Text)

    pledge: Mapped[Pledge] = relationship(back_populates="revisions")


class StatusChange(Base):
    """Append-only history of a pledge's status: who, when, why."""

    __tablename__ = "status_changes"
    __table_args__ = (
        CheckConstraint(
            "to_status IN ({})".format(", ".join(f"'{s}'" for s in STATUS_VALUES)),
            name="to_status",
        ),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    pledge_id: Mapped[int] = mapped_column(
        ForeignKey("pledges.id", ondelete="RESTRICT"), index=True
    )
    from_status: Mapped[str | None] = mapped_column(String(20))
    to_status: Mapped[str] = mapped_column(String(20))
    at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
    by: Mapped[str] = mapped_column(String(100))
    note: Mapped[str] = mapped_column(Text)
    # A source cited instead of (or beside) confirmed evidence.
    source_url: Mapped[str | None] = mapped_column(String(2000))

    pledge: Mapped[Pledge] = relationship(back_populates="status_changes")


class Feed(Base):
    """A feed from the config and the state of polling it."""

    __tablename__ = "feeds"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(64), unique=True)
    url: Mapped[str] = mapped_column(String(2000))
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    # Set when the feed left the config: it is no longer polled, its articles stay.
    removed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    etag: Mapped[str | None] = mapped_column(String(1000))
    last_modified: Mapped[str | None] = mapped_column(String(200))
    last_polled_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # Indexed with the id (below): workers claim feeds in that order.
    next_poll_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # A publisher's Retry-After: not polled before it, even by `sweep --all`.
    retry_until: Mapped[datetime | None] = mapped_column(UTCDateTime())
    last_status: Mapped[int | None] = mapped_column(Integer)
    last_outcome: Mapped[str | None] = mapped_column(String(20))
    consecutive_errors: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str | None] = mapped_column(Text)
    last_error_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    last_warning: Mapped[str | None] = mapped_column(Text)
    # A 301/308 target, shown so the admin can update the config.
    redirect_url: Mapped[str | None] = mapped_column(String(2000))
    # Set on 410 Gone: polling stops until the feed's URL changes in the config.
    gone_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    # On PostgreSQL, the worker polling the feed now, until its lease runs out.
    claimed_by: Mapped[str | None] = mapped_column(String(200))
    lease_until: Mapped[datetime | None] = mapped_column(UTCDateTime())

    __table_args__ = (Index("ix_feeds_next_poll", "next_poll_at", "id"),)


class Article(Base):
    """One story, by canonical URL, however many feeds carry it."""

    __tablename__ = "articles"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    url: Mapped[str] = mapped_column(String(2000), unique=True)
    title: Mapped[str] = mapped_column(Text)
    summary: Mapped[str] = mapped_column(Text)
    content: Mapped[str] = mapped_column(Text)
    published_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
    fetched_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())
    content_hash: Mapped[str] = mapped_column(String(64))


class ArticleFeed(Base):
    """Which feeds carried an article, and what each last said about it."""

    __tablename__ = "article_feeds"

    article_id: Mapped[int] = mapped_column(
        ForeignKey("articles.id", ondelete="CASCADE"), primary_key=True
    )
    feed_id: Mapped[int] = mapped_column(
        ForeignKey("feeds.id", ondelete="CASCADE"), primary_key=True, index=True
    )
    first_seen_at: Mapped[datetime] = mapped_column(UTCDateTime())
    # The entry's hash as this feed last sent it: an article is "updated" when a
    # feed changes what it says, not when two feeds word it differently.
    content_hash: Mapped[str] = mapped_column(String(64))


class SweepRun(Base):
    """One sweep: when, what it polled and stored, and what went wrong."""

    __tablename__ = "sweep_runs"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    started_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # running, finished, interrupted (stopped by a signal), abandoned (process died)
    state: Mapped[str] = mapped_column(String(20))
    feeds_due: Mapped[int] = mapped_column(Integer, default=0)
    feeds_polled: Mapped[int] = mapped_column(Integer, default=0)
    feeds_not_modified: Mapped[int] = mapped_column(Integer, default=0)
    feeds_failed: Mapped[int] = mapped_column(Integer, default=0)
    articles_new: Mapped[int] = mapped_column(Integer, default=0)
    articles_updated: Mapped[int] = mapped_column(Integer, default=0)
    evidence_new: Mapped[int] = mapped_column(Integer, default=0)
    errors: Mapped[str] = mapped_column(Text, default="[]")  # JSON [{feed, error}]
    # Who ran it and when it last showed it was alive: a run that stops
    # beating was left by a worker that died.
    worker: Mapped[str | None] = mapped_column(String(200))
    heartbeat_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class RematchJob(Base):
    """Stored articles a new or edited pledge is still to be matched against: the
    newest were matched when it was logged, the rest go in the background."""

    __tablename__ = "rematch_jobs"

    pledge_id: Mapped[int] = mapped_column(
        ForeignKey("pledges.id", ondelete="CASCADE"), primary_key=True
    )
    before_id: Mapped[int] = mapped_column(Integer)  # articles below this id are still to do
    since: Mapped[datetime | None] = mapped_column(UTCDateTime())  # published since, or all
    total: Mapped[int] = mapped_column(Integer)
    done: Mapped[int] = mapped_column(Integer, default=0)
    queued_at: Mapped[datetime] = mapped_column(UTCDateTime())


class ReportWritten(Base):
    """A weekly report's period, recorded by the one worker that writes it."""

    __tablename__ = "reports_written"

    period: Mapped[str] = mapped_column(String(40), primary_key=True)
    written_at: Mapped[datetime] = mapped_column(UTCDateTime())
    worker: Mapped[str] = mapped_column(String(200))


class SweepLock(Base):
    """The single row that lets one sweep at a time run on a database."""

    __tablename__ = "sweep_lock"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    holder: Mapped[str | None] = mapped_column(String(200))
    acquired_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    heartbeat_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class Evidence(Base):
    """An article found to be about a pledge, with the suggested stance and its review."""

    __tablename__ = "evidence"
    __table_args__ = (
        UniqueConstraint("pledge_id", "article_id", name="uq_evidence_pledge_article"),
        CheckConstraint(
            "stance IN ({})".format(", ".join(f"'{s}'" for s in STANCE_VALUES)), name="stance"
        ),
        CheckConstraint(
            "review IN ({})".format(", ".join(f"'{r}'" for r in REVIEW_VALUES)), name="review"
        ),
        Index("ix_evidence_review_found", "review", "found_at"),
        Index("ix_evidence_review_published", "review", "published_at", "id"),
        Index("ix_evidence_published", "published_at", "id"),
        Index("ix_evidence_pledge_published", "pledge_id", "published_at", "id"),
        Index("ix_evidence_board", "pledge_id", "review", "stance", "found_at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    pledge_id: Mapped[int] = mapped_column(
        ForeignKey("pledges.id", ondelete="RESTRICT"), index=True
    )
    article_id: Mapped[int] = mapped_column(
        ForeignKey("articles.id", ondelete="RESTRICT"), index=True
    )
    score: Mapped[float] = mapped_column(Float)
    stance: Mapped[str] = mapped_column(String(10))
    # Why the stance was suggested, for the editor: the cue words found.
    stance_reason: Mapped[str] = mapped_column(String(300))
    snippet: Mapped[str] = mapped_column(Text)
    # The query that matched (the pledge's own or the derived one), as it was then.
    query: Mapped[str] = mapped_column(Text)
    found_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
    # The article's publication time (which never changes once stored), kept here so
    # that lists ordered newest first, pending first, are read off an index.
    published_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    review: Mapped[str] = mapped_column(String(10), default=Review.PENDING.value)
    reviewed_by: Mapped[str | None] = mapped_column(String(100))
    reviewed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    review_note: Mapped[str | None] = mapped_column(Text)

    article: Mapped[Article] = relationship(lazy="joined")


class EvidenceCount(Base):
    """Per pledge, its evidence counted by review and stance and its latest find,
    for the status board. Kept by triggers on ``evidence`` (migration b8c9d0e1f2a3)
    in the transaction that changes it: no code writes these rows."""

    __tablename__ = "evidence_counts"

    pledge_id: Mapped[int] = mapped_column(ForeignKey("pledges.id"), primary_key=True)
    pending: Mapped[int] = mapped_column(Integer)
    kept: Mapped[int] = mapped_column(Integer)
    broken: Mapped[int] = mapped_column(Integer)
    neutral: Mapped[int] = mapped_column(Integer)
    last_found_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class EvidenceReview(Base):
    """Append-only history of every review of an evidence item."""

    __tablename__ = "evidence_reviews"
    __table_args__ = (CheckConstraint("review IN ('confirmed', 'rejected')", name="review"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    evidence_id: Mapped[int] = mapped_column(
        ForeignKey("evidence.id", ondelete="RESTRICT"), index=True
    )
    at: Mapped[datetime] = mapped_column(UTCDateTime())
    by: Mapped[str] = mapped_column(String(100))
    review: Mapped[str] = mapped_column(String(10))
    # The stance the reviewer settled on (the suggestion, or their correction).
    stance: Mapped[str] = mapped_column(String(10))
    note: Mapped[str | None] = mapped_column(Text)


class StatusChangeEvidence(Base):
    """The evidence a verdict cites."""

    __tablename__ = "status_change_evidence"

    status_change_id: Mapped[int] = mapped_column(
        ForeignKey("status_changes.id", ondelete="RESTRICT"), primary_key=True
    )
    evidence_id: Mapped[int] = mapped_column(
        ForeignKey("evidence.id", ondelete="RESTRICT"), primary_key=True, index=True
    )


class Role(StrEnum):
    """What a person may do on the web desk: each role can do what the one before can."""

    REPORTER = "reporter"  # logs and edits pledges
    EDITOR = "editor"  # also reviews evidence and records verdicts
    ADMIN = "admin"  # also manages people and feeds


ROLE_VALUES = tuple(r.value for r in Role)  # the same as roles.ROLES, checked by a test
_ROLE_CHECK = "role IN ({})".format(", ".join(f"'{r}'" for r in ROLE_VALUES))


class User(Base):
    """A person who logs in to the web desk. The password is kept only as an argon2
    hash; the name is what every action they take records as its author."""

    __tablename__ = "users"
    __table_args__ = (CheckConstraint(_ROLE_CHECK, name="role"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    role: Mapped[str] = mapped_column(String(20))
    password_hash: Mapped[str] = mapped_column(String(200))
    disabled: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    created_by: Mapped[str] = mapped_column(String(100))
    password_changed_at: Mapped[datetime] = mapped_column(UTCDateTime())
    # Sessions begun before this are over: set by log-out, disabling and a reset.
    sessions_valid_after: Mapped[datetime] = mapped_column(UTCDateTime())
    failed_logins: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    locked_until: Mapped[datetime | None] = mapped_column(UTCDateTime())
    last_login_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class AlertMessage(Base):
    """One message of one alert, queued in the transaction that caused it and sent
    later, with retries: a slow or dead service never holds up a sweep or an edit.

    ``key`` names what the message is about (a sweep's digest, a pledge's deadline,
    a feed's failing streak, a verdict), so the same thing is queued once."""

    __tablename__ = "alert_messages"
    __table_args__ = (
        UniqueConstraint("alert", "key", name="uq_alert_messages_alert_key"),
        Index("ix_alert_messages_due", "sent_at", "next_attempt_at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    alert: Mapped[str] = mapped_column(String(64))
    event: Mapped[str] = mapped_column(String(20))
    key: Mapped[str] = mapped_column(String(200))
    payload: Mapped[str] = mapped_column(Text)  # the JSON document sent
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    attempts: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime())
    # A sender holds the message until then; one that dies lets it go at that time.
    claimed_until: Mapped[datetime | None] = mapped_column(UTCDateTime())
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    given_up_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    last_error: Mapped[str | None] = mapped_column(Text)


class AlertMark(Base):
    """How far an alert's evidence digests have read: evidence ids up to ``evidence_upto``
    have been considered, so each item is in one digest and none is skipped."""

    __tablename__ = "alert_marks"

    alert: Mapped[str] = mapped_column(String(64), primary_key=True)
    evidence_upto: Mapped[int] = mapped_column(Integer, default=0)
