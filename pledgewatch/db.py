"""Engine, session factory and schema revisions.

``Database`` wraps one SQLAlchemy engine and its session factory. SQLite runs
with foreign keys on, WAL and a busy timeout, so a sweep and a journalist can
use one file at once, and with real transactions (BEGIN emitted by us, not by
the driver's guesswork). ``migrate`` creates or upgrades the schema with
alembic; ``ensure_ready`` stops every other command on a database that is
missing, unreachable, or at another revision than the code.

May import: pledgewatch.config, pledgewatch.errors, pledgewatch.models.
"""

from __future__ import annotations

import importlib.resources
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config as AlembicConfig
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, Engine, create_engine, event, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError, OperationalError
from sqlalchemy.orm import Session, sessionmaker

from pledgewatch.errors import DatabaseError, DatabaseNotReady

SQLITE_BUSY_TIMEOUT_MS = 15_000
INIT_HINT = 'run "pledgewatch init"'
_MIGRATION_LOCK_ID = 0x706C6467  # "pldg": serialises concurrent `init` on PostgreSQL


def migrations_path() -> str:
    """Folder of the alembic scripts, wherever the package is installed.

    An installed pledgewatch carries them as the package pledgewatch.migrations;
    a source checkout imported from its own folder has them in migrations/ beside it.
    """
    try:
        return str(importlib.resources.files("pledgewatch.migrations"))
    except ModuleNotFoundError:
        return str(Path(__file__).resolve().parent.parent / "migrations")


def alembic_config(connection: Connection | None = None) -> AlembicConfig:
    cfg = AlembicConfig()
    cfg.set_main_option("script_location", migrations_path())
    if connection is not None:
        cfg.attributes["connection"] = connection
    return cfg


def head_revision() -> str | None:
    return ScriptDirectory.from_config(alembic_config()).get_current_head()


def make_engine(url: str, **kwargs: Any) -> Engine:
    """An engine with pledgewatch's connection settings for ``url``."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        # Pooled connections: closing the last connection to a WAL database
        # checkpoints and deletes the WAL, which costs a millisecond or more per
        # transaction if every session opened and closed its own connection.
        engine = create_engine(
            url,
            connect_args={"timeout": SQLITE_BUSY_TIMEOUT_MS / 1000, "check_same_thread": False},
            **kwargs,
        )
        event.listen(engine, "connect", _sqlite_on_connect)
        event.listen(engine, "begin", _sqlite_on_begin)
        return engine
    return create_engine(url, pool_pre_ping=True, **kwargs)


def _sqlite_on_connect(dbapi_connection: Any, _record: Any) -> None:
    # Take transaction control away from the driver so BEGIN covers DDL too.
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys = ON")
    cursor.execute(f"PRAGMA busy_timeout = {SQLITE_BUSY_TIMEOUT_MS}")
    cursor.execute("PRAGMA journal_mode = WAL")
    cursor.execute("PRAGMA synchronous = NORMAL")
    cursor.close()


def _sqlite_on_begin(conn: Connection) -> None:
    conn.exec_driver_sql("BEGIN")


def describe_url(url: str) -> str:
    """The URL without its password, for messages."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        return parsed.database or ":memory:"
    return parsed.render_as_string(hide_password=True)


def sqlite_path(url: str) -> Path | None:
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite":
        return None
    database = parsed.database or ""
    if not database or database == ":memory:" or database.startswith("file:"):
        return None
    return Path(database)


def _first_line(exc: BaseException) -> str:
    orig = getattr(exc, "orig", None) or exc
    return str(orig).strip().splitlines()[0] if str(orig).strip() else type(orig).__name__


class Database:
    """One database: its engine, session factory and schema checks."""

    def __init__(self, url: str, engine: Engine | None = None) -> None:
        self.url = url
        self.engine = engine or make_engine(url)
        self.sessionmaker = sessionmaker(self.engine, expire_on_commit=False)

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    @contextmanager
    def session(self) -> Iterator[Session]:
        """A session in one transaction: committed on success, rolled back on error."""
        with self.sessionmaker() as session, self._wrap_errors(), session.begin():
            yield session

    @contextmanager
    def connect(self) -> Iterator[Connection]:
        with self._wrap_errors(), self.engine.connect() as conn:
            yield conn

    @contextmanager
    def _wrap_errors(self) -> Iterator[None]:
        try:
            yield
        except OperationalError as exc:
            if exc.connection_invalidated or _looks_unreachable(exc):
                raise DatabaseError(
                    f"cannot use the database at {describe_url(self.url)}: {_first_line(exc)}"
                ) from exc
            raise

    def current_revision(self) -> str | None:
        with self.connect() as conn:
            return MigrationContext.configure(conn).get_current_revision()

    def ensure_ready(self) -> None:
        """Raise DatabaseNotReady unless the schema is exactly at the code's head."""
        path = sqlite_path(self.url)
        if path is not None and not path.exists():
            raise DatabaseNotReady(f"no database at {path}: {INIT_HINT} to create it")
        current = self.current_revision()
        head = head_revision()
        if current == head:
            return
        if current is None:
            raise DatabaseNotReady(
                f"the database at {describe_url(self.url)} is not initialised: {INIT_HINT}"
            )
        script = ScriptDirectory.from_config(alembic_config())
        known = {rev.revision for rev in script.walk_revisions()}
        if current in known:
            raise DatabaseNotReady(
                f"the database at {describe_url(self.url)} is at revision {current}, "
                f"behind this pledgewatch ({head}): {INIT_HINT} to upgrade it"
            )
        raise DatabaseNotReady(
            f"the database at {describe_url(self.url)} is at revision {current}, which this "
            "pledgewatch does not know: it was upgraded by a newer version; upgrade pledgewatch"
        )

    def migrate(self, revision: str = "head") -> tuple[str | None, str | None]:
        """Create or upgrade the schema to ``revision``; returns (before, after)."""
        path = sqlite_path(self.url)
        if path is not None and not path.parent.is_dir():
            raise DatabaseError(
                f"cannot create the database at {path}: folder {path.parent} does not exist"
            )
        with self.connect() as conn:
            if self.dialect == "postgresql":
                conn.execute(text("SELECT pg_advisory_lock(:k)"), {"k": _MIGRATION_LOCK_ID})
                conn.commit()
            try:
                before = MigrationContext.configure(conn).get_current_revision()
                command.upgrade(alembic_config(conn), revision)
                conn.commit()
                after = MigrationContext.configure(conn).get_current_revision()
            finally:
                if self.dialect == "postgresql":
                    conn.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": _MIGRATION_LOCK_ID})
                    conn.commit()
        return before, after

    def downgrade(self, revision: str = "base") -> None:
        with self.connect() as conn:
            command.downgrade(alembic_config(conn), revision)
            conn.commit()

    def dispose(self) -> None:
        self.engine.dispose()


def _looks_unreachable(exc: DBAPIError) -> bool:
    message = str(exc.orig).lower()
    return any(
        phrase in message
        for phrase in (
            "connection",
            "could not connect",
            "unable to open database",
            "does not exist",
            "authentication",
            "password",
            "timeout",
            "disk i/o",
            "readonly",
            "read-only",
            "not a database",
            "locked",
            "disk is full",
            "no space",
        )
    )
