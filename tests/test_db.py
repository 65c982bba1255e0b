"""Database set-up: migrations, revision checks, SQLite settings, unreachable servers."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect, text

from pledgewatch.db import Database, head_revision
from pledgewatch.errors import DatabaseError, DatabaseNotReady
from pledgewatch.models import Base
from tests.conftest import Cli


def test_upgrade_downgrade_upgrade(database_url: str) -> None:
    db = Database(database_url)
    try:
        assert db.migrate() == (None, head_revision())
        tables = set(inspect(db.engine).get_table_names())
        assert {"pledges", "status_changes", "pledge_tags", "pledge_revisions"} <= tables
        db.downgrade("base")
        assert db.current_revision() is None
        assert set(inspect(db.engine).get_table_names()) <= {"alembic_version"}
        db.migrate()
        assert db.current_revision() == head_revision()
        db.ensure_ready()
    finally:
        db.dispose()


def test_models_and_migrations_do_not_drift(database: Database) -> None:
    with database.engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": True})
        diff = compare_metadata(context, Base.metadata)
    assert diff == [], f"models and migrations differ; add a revision: {diff}"


def test_init_is_idempotent(cli: Cli) -> None:
    again = cli("init")
    assert again.code == 0
    assert "is up to date" in again.out


def test_command_on_a_missing_sqlite_file_says_run_init(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = tmp_path / "config.toml"
    config.write_text('[database]\nurl = "sqlite:///pw.db"\n')
    result = Cli(capsys, config)("pledge", "list")
    assert result.code == 1
    assert result.err.strip() == (
        f'error: no database at {tmp_path.resolve() / "pw.db"}: run "pledgewatch init" to create it'
    )
    assert not (tmp_path / "pw.db").exists(), "a read command must not create the database"


def test_command_on_an_uninitialised_database_says_run_init(
    config_path: Path, database_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    if database_url.startswith("sqlite"):
        Path(database_url.removeprefix("sqlite:///")).touch()
    result = Cli(capsys, config_path)("pledge", "list")
    assert result.code == 1
    assert 'is not initialised: run "pledgewatch init"' in result.err


def test_database_ahead_of_the_code_says_upgrade_pledgewatch(
    database_url: str, config_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    db = Database(database_url)
    db.migrate()
    with db.engine.begin() as conn:
        conn.execute(text("UPDATE alembic_version SET version_num = 'feedfacecafe'"))
    with pytest.raises(DatabaseNotReady, match="does not know: it was upgraded by a newer"):
        db.ensure_ready()
    db.dispose()


def test_behind_revision_is_detected(tmp_path: Path) -> None:
    # Simulate a database left at an older revision by pointing the version at a
    # known revision that is not the head (only possible once there are two).
    db = Database(f"sqlite:///{tmp_path / 'pw.db'}")
    db.migrate()
    from alembic.script import ScriptDirectory

    from pledgewatch.db import alembic_config

    revisions = [r.revision for r in ScriptDirectory.from_config(alembic_config()).walk_revisions()]
    if len(revisions) < 2:
        db.downgrade("base")
        with pytest.raises(DatabaseNotReady, match="not initialised"):
            db.ensure_ready()
    else:
        db.downgrade("-1")
        with pytest.raises(
            DatabaseNotReady, match=r'behind this pledgewatch .*run "pledgewatch init"'
        ):
            db.ensure_ready()
    db.dispose()


def test_sqlite_runs_with_foreign_keys_wal_and_busy_timeout(sqlite_url: str) -> None:
    db = Database(sqlite_url)
    db.migrate()
    with db.engine.connect() as conn:
        assert conn.execute(text("PRAGMA foreign_keys")).scalar() == 1
        assert conn.execute(text("PRAGMA journal_mode")).scalar() == "wal"
        assert conn.execute(text("PRAGMA busy_timeout")).scalar() >= 5000
    db.dispose()


def test_a_failed_transaction_leaves_the_database_as_it_was(database: Database) -> None:
    from datetime import UTC, date, datetime

    from pledgewatch.pledges import PledgeData, add_pledge, all_pledges

    data = PledgeData(text="t", actor="a", made_on=date(2024, 1, 1), source_url="https://x.org")
    with pytest.raises(RuntimeError), database.session() as session:
        add_pledge(session, data, by="me", now=datetime.now(UTC))
        raise RuntimeError("crash after the insert")
    with database.session() as session:
        assert all_pledges(session) == []


def test_unreachable_postgresql_is_one_clear_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = tmp_path / "config.toml"
    config.write_text(
        '[database]\nurl = "postgresql+psycopg://nobody@127.0.0.1:1/none?connect_timeout=2"\n'
    )
    result = Cli(capsys, config)("pledge", "list")
    assert result.code == 1
    assert result.err.startswith("error: cannot use the database at postgresql+psycopg://nobody@")
    assert len(result.err.strip().splitlines()) == 1
    with pytest.raises(DatabaseError):
        Database("postgresql+psycopg://nobody@127.0.0.1:1/none?connect_timeout=2").ensure_ready()


def test_sqlite_in_a_missing_folder_is_a_clear_init_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = tmp_path / "config.toml"
    config.write_text('[database]\nurl = "sqlite:///no/such/folder/pw.db"\n')
    result = Cli(capsys, config)("init")
    assert result.code == 1
    assert "folder" in result.err and "does not exist" in result.err


def test_init_writes_a_commented_default_config_when_there_is_none(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = tmp_path / "config.toml"
    cli = Cli(capsys, config)
    result = cli("init")
    assert result.code == 0, result.err
    assert f"wrote a commented default configuration to {config}" in result.out
    assert config.read_text().startswith("# pledgewatch configuration")
    assert (tmp_path / "pledgewatch.db").exists()
    assert json.loads(cli("pledge", "list", "--json").out) == []


def test_verbose_shows_a_traceback(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from pledgewatch.cli import main

    config = tmp_path / "config.toml"
    config.write_text('[database]\nurl = "sqlite:///pw.db"\n')
    assert main(["--config", str(config), "pledge", "list"]) == 1
    assert "Traceback" not in capsys.readouterr().err
    assert main(["--config", str(config), "-v", "pledge", "list"]) == 1
    assert "Traceback" in capsys.readouterr().err


DUPLICATE_OF_THE_FIRST_EXAMPLE = (
    "china will NOT sell weapons to Russia.",
    "--by",
    "Xi Jinping",
    "--made-on",
    "2024-06-13",
    "--source-url",
    "https://example.org/again",
)


def _row_counts(database: Database) -> dict[str, int]:
    with database.session(write=False) as session:
        return {
            table.name: int(session.scalar(text(f"SELECT count(*) FROM {table.name}")) or 0)
            for table in Base.metadata.sorted_tables
        }


def test_migrations_down_and_up_keep_every_row_of_a_used_database(
    desk: Cli, database_url: str
) -> None:
    # A database in use: pledges with tags, edits, status changes, evidence and
    # its reviews. SQLite rebuilds a table to alter it; with foreign keys on,
    # dropping the old copy deleted every tag and revision, or failed outright.
    assert desk("pledge", "edit", "1", "--note", "checked with the desk").code == 0
    assert desk("evidence", "confirm", "1", "--note", "seen").code == 0
    database = Database(database_url)
    try:
        before = _row_counts(database)
        assert before["pledge_tags"] and before["pledge_revisions"] and before["evidence"]
        database.downgrade("0cdb60d8a9e9")
        assert database.migrate() == ("0cdb60d8a9e9", head_revision())
        assert _row_counts(database) == before
        assert desk("pledge", "add", *DUPLICATE_OF_THE_FIRST_EXAMPLE).code == 2
    finally:
        database.dispose()


def test_the_schema_head_the_code_checks_is_alembics_head() -> None:
    """Commands check the database against db.SCHEMA_HEAD without importing alembic;
    a new migration must move it (this fails until it does)."""
    from pledgewatch.db import SCHEMA_HEAD, head_revision

    assert head_revision() == SCHEMA_HEAD


def test_every_package_is_in_the_distribution() -> None:
    """`pip install .` installs what pyproject lists: a package split out of a module
    (sweep/, pledges/) must be listed, or the quick start breaks outside a checkout."""
    import tomllib

    root = Path(__file__).parent.parent
    listed = set(
        tomllib.loads((root / "pyproject.toml").read_text())["tool"]["setuptools"]["packages"]
    )
    found = {
        ".".join(init.parent.relative_to(root).parts)
        for init in (root / "pledgewatch").rglob("__init__.py")
    }
    assert found <= listed, sorted(found - listed)
