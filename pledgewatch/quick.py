"""Answers that come before the database library loads.

``pledgewatch status`` is what an editor types most, and SQLAlchemy alone takes
longer to import than the whole command should. On a SQLite file, the board is
read here with the standard library's sqlite3: the same two statements the Desk
runs (``pledgewatch.board``), in one read transaction, after checking that the
file is at this code's schema revision. Anything else (PostgreSQL, a URL with
options, a missing or damaged file, another revision, a busy database, any
error at all) goes to the Desk, which gives the board or the one-line error
that every other command gives: this path only ever answers when the answer is
the Desk's.

May import: pledgewatch.board, pledgewatch.clock, pledgewatch.config,
pledgewatch.schema, pledgewatch.desk (only when it cannot answer itself).
"""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import TYPE_CHECKING

from pledgewatch import board
from pledgewatch.clock import Clock, SystemClock
from pledgewatch.schema import SCHEMA_HEAD

if TYPE_CHECKING:
    from pledgewatch.config import Config

_SQLITE_FILE = "sqlite:///"
# How long a read waits on a write lock SQLite holds briefly (a WAL checkpoint).
_BUSY_TIMEOUT = 2.0  # seconds


def status_board(config: Config, *, clock: Clock | None = None) -> list[board.BoardRow]:
    """The status board, as ``Desk.status_board()`` gives it with no filter."""
    clock = clock or SystemClock()
    rows = read_sqlite_board(config, clock)
    if rows is not None:
        return rows
    from pledgewatch.desk import open_desk

    with open_desk(config, clock=clock) as desk:
        return desk.status_board()


def sqlite_file(url: str) -> Path | None:
    """The file of a plain ``sqlite:////path`` URL (as the config writes one), else None."""
    if not url.startswith(_SQLITE_FILE):
        return None
    rest = url[len(_SQLITE_FILE) :]
    if not rest.startswith("/") or any(sign in rest for sign in "?%#"):
        return None
    return Path(rest)


def read_sqlite_board(config: Config, clock: Clock) -> list[board.BoardRow] | None:
    """The board read with sqlite3, or None whenever the Desk should answer instead."""
    path = sqlite_file(config.database.url)
    if path is None or not path.is_file():
        return None
    try:
        # mode=rw: never create a file; the Desk says "run init" for a missing one.
        conn = sqlite3.connect(
            f"{path.as_uri()}?mode=rw", uri=True, timeout=_BUSY_TIMEOUT, isolation_level=None
        )
    except sqlite3.Error:
        return None
    try:
        conn.execute("PRAGMA query_only = ON")
        conn.execute("BEGIN")
        revision = conn.execute("SELECT version_num FROM alembic_version").fetchall()
        if revision != [(SCHEMA_HEAD,)]:
            return None
        counts = conn.execute(board.COUNTS_SQL).fetchall()
        pledges = conn.execute(board.PLEDGES_SQL).fetchall()
        conn.execute("COMMIT")
    except sqlite3.Error:
        return None
    finally:
        conn.close()
    settings = config.review
    return board.assemble(
        counts,
        pledges,
        today=clock.today(),
        stale_after=settings.stale_after,
        due_soon=settings.due_soon,
    )
