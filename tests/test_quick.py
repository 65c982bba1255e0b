"""``pledgewatch status`` without SQLAlchemy: the same board as the Desk's, or the Desk.

The board read through sqlite3 (``pledgewatch.quick``) must be the Desk's board
for any store, and must step aside, to the Desk and its errors, whenever it
cannot be sure: PostgreSQL, a missing, damaged or older file.
"""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from unittest import mock

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import delete
from sqlalchemy.engine import make_url

from pledgewatch import config as config_module
from pledgewatch import quick
from pledgewatch.clock import FixedClock
from pledgewatch.config import Config, load_config
from pledgewatch.db import Database
from pledgewatch.desk import Desk
from pledgewatch.errors import DatabaseError, DatabaseNotReady
from pledgewatch.models import Article, Evidence, Pledge
from pledgewatch.states import REVIEW_VALUES, STANCE_VALUES, STATUS_VALUES

NOW = datetime(2026, 12, 1, 9, 30, tzinfo=UTC)
CLOCK = FixedClock(NOW)


def write_config(tmp_path: Path, url: str) -> Path:
    path = tmp_path / "config.toml"
    path.write_text(f'[database]\nurl = "{url}"\n', encoding="utf-8")
    return path


@pytest.fixture
def sqlite_store(tmp_path: Path) -> tuple[Config, Database]:
    path = write_config(tmp_path, "sqlite:///pledgewatch.db")
    config = load_config(path)
    database = Database(config.database.url)
    database.migrate()
    return config, database


# Times and deadlines near the flags' edges (due soon, overdue, stale), to the microsecond.
moments = st.builds(
    lambda days, micros: NOW - timedelta(days=days, microseconds=micros),
    st.integers(min_value=-2, max_value=200),
    st.integers(min_value=0, max_value=86_400 * 10**6),
)
deadlines = st.builds(
    lambda days: NOW.date() + timedelta(days=days), st.integers(min_value=-3, max_value=40)
)
evidence_rows = st.lists(
    st.tuples(st.sampled_from(REVIEW_VALUES), st.sampled_from(STANCE_VALUES), moments),
    max_size=4,
)
pledge_rows = st.lists(
    st.tuples(
        st.sampled_from(STATUS_VALUES),
        st.none() | deadlines,
        moments,
        st.booleans(),  # archived
        evidence_rows,
    ),
    max_size=8,
)


def store(database: Database, pledges: list) -> None:  # type: ignore[type-arg]
    with database.session() as session:
        session.execute(delete(Evidence))
        session.execute(delete(Article))
        session.execute(delete(Pledge))
        articles = 0
        for n, (status, deadline, created, archived, evidence) in enumerate(pledges):
            pledge = Pledge(
                text=f"pledge {n}",
                actor=f"actor {n}",
                made_on=date(2024, 1, 1),
                source_url="https://example.org/",
                deadline=deadline,
                status=status,
                actor_key=f"actor {n}",
                text_key=f"pledge {n}",
                dedupe_key=f"{n:064d}",
                created_at=created,
                created_by="t",
                updated_at=created,
                updated_by="t",
                archived_at=NOW if archived else None,
            )
            session.add(pledge)
            session.flush()
            for review, stance, found in evidence:
                articles += 1
                article = Article(
                    url=f"https://example.org/{articles}",
                    title="t",
                    summary="s",
                    content="c",
                    published_at=found,
                    fetched_at=found,
                    updated_at=found,
                    content_hash="h",
                )
                session.add(article)
                session.flush()
                session.add(
                    Evidence(
                        pledge_id=pledge.id,
                        article_id=article.id,
                        score=1.0,
                        stance=stance,
                        stance_reason="",
                        snippet="",
                        query="q",
                        found_at=found,
                        review=review,
                    )
                )


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(pledges=pledge_rows)
def test_the_board_read_with_sqlite3_is_the_desks_board(
    sqlite_store: tuple[Config, Database],
    pledges: list,  # type: ignore[type-arg]
) -> None:
    config, database = sqlite_store
    store(database, pledges)
    fast = quick.read_sqlite_board(config, CLOCK)
    assert fast is not None, "a current SQLite file is read without the Desk"
    assert fast == Desk(config, clock=CLOCK, database=database).status_board()
    assert len(fast) == sum(1 for p in pledges if not p[3])


def test_the_quick_board_is_the_desks_on_either_backend(library: Desk) -> None:
    rows = quick.status_board(library.config, clock=library.clock)
    assert rows and rows == library.status_board()


def test_a_missing_file_is_the_desks_error_and_no_file_is_made(tmp_path: Path) -> None:
    config = load_config(write_config(tmp_path, "sqlite:///missing.db"))
    assert quick.read_sqlite_board(config, CLOCK) is None
    with pytest.raises(DatabaseNotReady, match=r"no database at .*missing\.db: run"):
        quick.status_board(config, clock=CLOCK)
    assert not (tmp_path / "missing.db").exists()


def test_another_revision_or_no_schema_is_left_to_the_desk(
    sqlite_store: tuple[Config, Database], tmp_path: Path
) -> None:
    config, _ = sqlite_store
    path = tmp_path / "pledgewatch.db"
    with sqlite3.connect(path) as conn:
        conn.execute("UPDATE alembic_version SET version_num = 'f00dfeedbeef'")
    assert quick.read_sqlite_board(config, CLOCK) is None
    with pytest.raises(DatabaseNotReady, match="f00dfeedbeef, which this pledgewatch does not"):
        quick.status_board(config, clock=CLOCK)
    with sqlite3.connect(path) as conn:
        conn.execute("DROP TABLE alembic_version")
    assert quick.read_sqlite_board(config, CLOCK) is None
    with pytest.raises(DatabaseNotReady, match="not initialised"):
        quick.status_board(config, clock=CLOCK)


def test_a_file_that_is_not_a_database_is_the_desks_one_line_error(tmp_path: Path) -> None:
    (tmp_path / "pledgewatch.db").write_bytes(b"this is not SQLite " * 100)
    config = load_config(write_config(tmp_path, "sqlite:///pledgewatch.db"))
    assert quick.read_sqlite_board(config, CLOCK) is None
    with pytest.raises(DatabaseError, match="not a usable pledgewatch database"):
        quick.status_board(config, clock=CLOCK)


def test_a_write_in_progress_does_not_block_the_board(
    sqlite_store: tuple[Config, Database], tmp_path: Path
) -> None:
    config, database = sqlite_store
    store(database, [("kept", None, NOW, False, [("pending", "kept", NOW)])])
    writer = sqlite3.connect(tmp_path / "pledgewatch.db", isolation_level=None)
    try:
        writer.execute("BEGIN IMMEDIATE")
        writer.execute("UPDATE pledges SET status = 'broken'")
        rows = quick.read_sqlite_board(config, CLOCK)
        assert rows is not None and [r.status for r in rows] == ["kept"]  # the last commit
    finally:
        writer.execute("ROLLBACK")
        writer.close()


@pytest.mark.parametrize(
    ("url", "path"),
    [
        ("sqlite:////srv/news room/pledgewatch.db", Path("/srv/news room/pledgewatch.db")),
        ("sqlite:///relative/pledgewatch.db", None),  # the config makes every path absolute
        ("sqlite:////srv/pledgewatch.db?timeout=5", None),
        ("sqlite:////srv/caf%C3%A9.db", None),
        ("sqlite:///:memory:", None),
        ("postgresql+psycopg://postgres@127.0.0.1:5432/test", None),
    ],
)
def test_only_a_plain_absolute_sqlite_file_is_read_directly(url: str, path: Path | None) -> None:
    assert quick.sqlite_file(url) == path


PLAIN = "abcXYZ019_.~ +-/"


@settings(max_examples=300, deadline=None)
@given(rest=st.text(alphabet=PLAIN + "%?#:@é[]", min_size=0, max_size=30))
def test_the_config_reads_a_sqlite_url_as_sqlalchemy_does(rest: str) -> None:
    """The config's own reading of a plain sqlite URL (no SQLAlchemy import) gives
    exactly what SQLAlchemy's reading gives, or leaves the URL to it."""
    base = Path("/srv/news room")
    text = "sqlite:///" + rest

    def read(plain: bool) -> str | tuple[str, str]:
        try:
            if plain:
                return config_module.normalise_database_url(text, base, "url", "c.toml")
            with mock.patch.object(config_module, "_plain_sqlite_url", return_value=None):
                return config_module.normalise_database_url(text, base, "url", "c.toml")
        except Exception as exc:
            return (type(exc).__name__, str(exc))

    assert read(True) == read(False)


def test_a_plain_sqlite_url_is_read_without_sqlalchemy() -> None:
    base = Path("/srv/news room")
    read = config_module._plain_sqlite_url
    assert read("sqlite:///pw.db", base, "url", "c.toml") == "sqlite:////srv/news room/pw.db"
    assert read("sqlite:////var/pw.db", base, "url", "c.toml") == "sqlite:////var/pw.db"
    assert make_url("sqlite:////srv/news room/pw.db").database == "/srv/news room/pw.db"
    assert read("sqlite:///caf%C3%A9.db", base, "url", "c.toml") is None
    assert read("sqlite:///", base, "url", "c.toml") is None


def test_status_starts_without_sqlalchemy_and_shows_the_board(tmp_path: Path) -> None:
    """A real process: ``status`` on a current SQLite file never imports SQLAlchemy,
    and a file at another revision still gets the Desk's error from the command."""
    config = load_config(write_config(tmp_path, "sqlite:///pledgewatch.db"))
    database = Database(config.database.url)
    database.migrate()
    store(database, [("stalled", date(2026, 11, 1), NOW - timedelta(days=3), False, [])])
    database.dispose()
    env = {**os.environ, "PLEDGEWATCH_CONFIG": str(tmp_path / "config.toml"), "COLUMNS": "80"}
    script = (
        "import sys, runpy\n"
        "sys.argv = ['pledgewatch', 'status']\n"
        "try:\n"
        "    runpy.run_module('pledgewatch', run_name='__main__')\n"
        "finally:\n"
        "    print('LOADED', sorted(m for m in sys.modules if m.split('.')[0] == 'sqlalchemy'))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script], env=env, capture_output=True, text=True, timeout=60
    )
    assert "overdue" in done.stdout and "actor 0: pledge 0" in done.stdout, done.stderr
    assert "LOADED []" in done.stdout
    with sqlite3.connect(tmp_path / "pledgewatch.db") as conn:
        conn.execute("UPDATE alembic_version SET version_num = 'f00dfeedbeef'")
    done = subprocess.run(
        [sys.executable, "-m", "pledgewatch", "status"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode != 0 and "f00dfeedbeef" in done.stderr
    assert done.stderr.count("\n") == 1, done.stderr
