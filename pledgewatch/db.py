"""Engine, session factory and schema revisions.

``Database`` wraps one SQLAlchemy engine and its session factory. SQLite runs
with foreign keys on, WAL and a busy timeout, so a sweep and a journalist can
use one file at once, and with real transactions (BEGIN emitted by us, not by
the driver's guesswork). A session is a write transaction unless asked for a
read: on SQLite a write transaction takes the write lock up front (``BEGIN
IMMEDIATE``), so it waits for another writer instead of failing with
"database is locked" when it first writes after another connection committed
(a deferred transaction cannot wait then: its snapshot is already stale).
Taking the lock is retried while SQLite says busy; nothing has run yet, so
retrying is safe.

``migrate`` creates or upgrades the schema with alembic (after an integrity
check on SQLite); ``ensure_ready`` stops every other command on a database
that is missing, unreachable, damaged, or at another revision than the code.
A damaged SQLite file is one line naming the file, whatever command met it.

May import: pledgewatch.config, pledgewatch.errors, pledgewatch.models, pledgewatch.schema.
"""

from __future__ import annotations

import importlib.resources
import sqlite3
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import Connection, Engine, create_engine, event, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DatabaseError as SQLAlchemyDatabaseError
from sqlalchemy.exc import DBAPIError, OperationalError
from sqlalchemy.orm import Session, sessionmaker

from pledgewatch.errors import DatabaseBusy, DatabaseError, DatabaseNotReady
from pledgewatch.schema import SCHEMA_HEAD

if TYPE_CHECKING:
    from alembic.config import Config as AlembicConfig


SQLITE_BUSY_TIMEOUT_MS = 15_000
# How long a write transaction waits in all for another writer (a sweep's
# batch, a pledge being matched) before giving up with a one-line error.
SQLITE_WRITE_WAIT = 180.0  # seconds
_READ = "pledgewatch_read"
INIT_HINT = 'run "pledgewatch init"'
_MIGRATION_LOCK_ID = 0x706C6467  # "pldg": serialises concurrent `init` on PostgreSQL
_PLEDGES_LOCK_ID = 0x706C6470  # "pldp": changes of pledges against sweeps' writes
_STORE_LOCK_ID = 0x706C6473  # "plds": workers sharing a database store one at a time


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
    from alembic.config import Config as AlembicConfig

    cfg = AlembicConfig()
    cfg.set_main_option("script_location", migrations_path())
    if connection is not None:
        cfg.attributes["connection"] = connection
    return cfg


def head_revision() -> str | None:
    """The head of the migration scripts, as alembic reads them."""
    from alembic.script import ScriptDirectory

    return ScriptDirectory.from_config(alembic_config()).get_current_head()


def _revision_of(conn: Connection) -> str | None:
    from alembic.runtime.migration import MigrationContext

    return MigrationContext.configure(conn).get_current_revision()


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
    if conn.get_execution_options().get(_READ):
        conn.exec_driver_sql("BEGIN")
        return
    # The busy timeout applies while BEGIN IMMEDIATE waits for the write lock;
    # past it SQLite says busy, and since nothing has run yet we ask again.
    give_up = time.monotonic() + SQLITE_WRITE_WAIT
    raw = conn.connection.dbapi_connection
    assert raw is not None
    while True:
        try:
            raw.execute("BEGIN IMMEDIATE")
            return
        except sqlite3.OperationalError as exc:
            if not _is_busy(exc) or time.monotonic() >= give_up:
                raise
            time.sleep(0.05)


def _is_busy(exc: BaseException) -> bool:
    message = str(exc).lower()
    return "locked" in message or "busy" in message


def lock_pledges(session: Session, *, exclusive: bool) -> None:
    """Hold the pledges lock until the transaction ends (PostgreSQL only).

    A change of pledges (log, edit, import) takes it exclusive, a sweep's write
    shared: a pledge's rematch and a sweep's matching then never miss each
    other's rows, and two identical pledges logged at once cannot both pass the
    duplicate check. It must be the first lock a transaction takes. On SQLite
    a write transaction already holds the database's one write lock.
    """
    if session.get_bind().dialect.name != "postgresql":
        return
    function = "pg_advisory_xact_lock" if exclusive else "pg_advisory_xact_lock_shared"
    session.execute(text(f"SELECT {function}(:k)"), {"k": _PLEDGES_LOCK_ID})


def lock_store(session: Session) -> None:
    """Hold the store lock until the transaction ends (PostgreSQL only).

    Workers sharing a database fetch at once but store one batch at a time;
    after the pledges lock, when a transaction takes both. On SQLite a write
    transaction already holds the database's one write lock.
    """
    if session.get_bind().dialect.name != "postgresql":
        return
    session.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": _STORE_LOCK_ID})


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
        reader = self.engine.execution_options(**{_READ: True})
        self.read_sessionmaker = sessionmaker(reader, expire_on_commit=False)

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    @contextmanager
    def session(self, *, write: bool = True) -> Iterator[Session]:
        """A session in one transaction: committed on success, rolled back on error.

        A write session on SQLite holds the write lock from its first statement
        to its end, so keep it short; ``write=False`` reads a snapshot and
        blocks no one.
        """
        factory = self.sessionmaker if write else self.read_sessionmaker
        with factory() as session, self._wrap_errors(), session.begin():
            yield session

    @contextmanager
    def connect(self, *, write: bool = False) -> Iterator[Connection]:
        engine = self.engine if write else self.engine.execution_options(**{_READ: True})
        with self._wrap_errors(), engine.connect() as conn:
            yield conn

    @contextmanager
    def _wrap_errors(self) -> Iterator[None]:
        try:
            yield
        except sqlite3.Error as exc:
            # Raised by our own BEGIN IMMEDIATE, outside SQLAlchemy's wrapping.
            translated = self._sqlite_error(exc)
            if translated is None:
                raise
            raise translated from exc
        except SQLAlchemyDatabaseError as exc:
            if self.dialect == "sqlite" and isinstance(exc.orig, sqlite3.Error):
                translated = self._sqlite_error(exc.orig)
                if translated is not None:
                    raise translated from exc
            if isinstance(exc, OperationalError) and (
                exc.connection_invalidated or _looks_unreachable(exc)
            ):
                raise DatabaseError(
                    f"cannot use the database at {describe_url(self.url)}: {_first_line(exc)}"
                ) from exc
            raise

    def _sqlite_error(self, exc: sqlite3.Error) -> DatabaseError | None:
        """The one-line error for what SQLite said, or None for a bug to show."""
        first = _first_line(exc)
        message = first.lower()
        where = describe_url(self.url)
        if any(sign in message for sign in _DAMAGED):
            return DatabaseError(
                f"{where} is not a usable pledgewatch database ({first}): restore it from a "
                'backup, or move it aside and run "pledgewatch init" to start a new one'
            )
        if _is_busy(exc):
            return DatabaseBusy(
                f"the database {where} is busy: another pledgewatch process kept it locked; "
                "this command was rolled back, so try it again"
            )
        if any(phrase in message for phrase in _UNREACHABLE):
            return DatabaseError(f"cannot use the database at {where}: {first}")
        return None

    def check_integrity(self) -> None:
        """On SQLite, ``PRAGMA quick_check``: a damaged page is an error naming the file."""
        if self.dialect != "sqlite":
            return
        with self.connect() as conn:
            rows = [row[0] for row in conn.exec_driver_sql("PRAGMA quick_check").all()]
        if rows != ["ok"]:
            detail = str(rows[0]) if rows else "no answer"
            raise DatabaseError(
                f"{describe_url(self.url)} is not a usable pledgewatch database (integrity "
                f"check: {' '.join(detail.split())[:200]}): restore it from a backup, or move "
                'it aside and run "pledgewatch init" to start a new one'
            )

    def current_revision(self) -> str | None:
        """The schema revision the database is at (alembic's version table), None if
        it has none; read with a query of its own, so a command needs no alembic."""
        from sqlalchemy import inspect

        with self.connect() as conn:
            if not inspect(conn).has_table("alembic_version"):
                return None
            found = conn.execute(text("SELECT version_num FROM alembic_version")).scalars()
            return next(iter(found), None)

    def ensure_ready(self) -> None:
        """Raise DatabaseNotReady unless the schema is exactly at the code's head."""
        path = sqlite_path(self.url)
        if path is not None and not path.exists():
            raise DatabaseNotReady(f"no database at {path}: {INIT_HINT} to create it")
        current = self.current_revision()
        head = SCHEMA_HEAD
        if current == head:
            return
        if current is None:
            raise DatabaseNotReady(
                f"the database at {describe_url(self.url)} is not initialised: {INIT_HINT}"
            )
        if current in _known_revisions():
            raise DatabaseNotReady(
                f"the database at {describe_url(self.url)} is at revision {current}, "
                f"behind this pledgewatch ({head}): {INIT_HINT} to upgrade it"
            )
        raise self._newer(current)

    def _newer(self, current: str) -> DatabaseNotReady:
        return DatabaseNotReady(
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
        if path is not None and path.exists():
            self.check_integrity()
        with self.connect(write=True) as conn, self._schema_change(conn):
            if self.dialect == "postgresql":
                conn.execute(text("SELECT pg_advisory_lock(:k)"), {"k": _MIGRATION_LOCK_ID})
                conn.commit()
            try:
                before = _revision_of(conn)
                if before is not None and before not in _known_revisions():
                    raise self._newer(before)
                from alembic import command

                command.upgrade(alembic_config(conn), revision)
                conn.commit()
                after = _revision_of(conn)
            finally:
                if self.dialect == "postgresql":
                    conn.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": _MIGRATION_LOCK_ID})
                    conn.commit()
        return before, after

    def downgrade(self, revision: str = "base") -> None:
        with self.connect(write=True) as conn, self._schema_change(conn):
            from alembic import command

            command.downgrade(alembic_config(conn), revision)
            conn.commit()

    @contextmanager
    def _schema_change(self, conn: Connection) -> Iterator[None]:
        """On SQLite, foreign keys off while the schema changes, checked after.

        A migration rebuilds a table to alter it (copy, DROP, rename); with
        foreign keys on, SQLite treats that DROP as deleting every row, which
        RESTRICT refuses and CASCADE obeys: tags and revisions would go. The
        pragma only acts outside a transaction, so it is set on the connection
        before the migration's transaction begins.
        """
        if self.dialect != "sqlite":
            yield
            return
        raw = conn.connection.dbapi_connection
        assert raw is not None
        raw.execute("PRAGMA foreign_keys = OFF")
        try:
            yield
            broken = raw.execute("PRAGMA foreign_key_check").fetchall()
            if broken:
                raise DatabaseError(
                    f"the database at {describe_url(self.url)} holds {len(broken)} rows whose "
                    f"references are broken (first in table {broken[0][0]}) after the upgrade"
                )
        finally:
            # Outside any transaction again, or the pragma would do nothing and
            # the pooled connection would go on without foreign keys.
            conn.rollback()
            raw.execute("PRAGMA foreign_keys = ON")

    def dispose(self) -> None:
        self.engine.dispose()


def _known_revisions() -> set[str]:
    from alembic.script import ScriptDirectory

    script = ScriptDirectory.from_config(alembic_config())
    return {rev.revision for rev in script.walk_revisions()}


# What SQLite says of a file that is not (or no longer) a database.
_DAMAGED = ("not a database", "malformed", "corrupt")
_UNREACHABLE = (
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
    "locked",
    "disk is full",
    "no space",
)


def _looks_unreachable(exc: DBAPIError) -> bool:
    message = str(exc.orig).lower()
    return any(phrase in message for phrase in (*_UNREACHABLE, *_DAMAGED))
