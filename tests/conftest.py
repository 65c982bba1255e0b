"""Shared fixtures: real databases (SQLite files, PostgreSQL when configured) and the CLI."""

from __future__ import annotations

import os
import shutil
import tempfile
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
from hypothesis import HealthCheck, settings
from sqlalchemy import create_engine, event, text
from sqlalchemy.engine import make_url

from pledgewatch.cli import main
from pledgewatch.db import Database, sqlite_path

if TYPE_CHECKING:
    from pledgewatch.desk import Desk

# Property-based tests: 150 examples each in CI; HYPOTHESIS_PROFILE=thorough
# runs many thousands. Tests that cost a sweep per example set their own, lower count.
settings.register_profile(
    "ci", max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
settings.register_profile(
    "thorough", max_examples=5000, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))

# The matcher files sweeps keep between runs (pledgewatch/matcher_file.py): in a
# folder of the test run's own, for every test and every process a test starts.
os.environ.setdefault("PLEDGEWATCH_CACHE_DIR", tempfile.mkdtemp(prefix="pw-test-matchers-"))

PG_ENV = "PLEDGEWATCH_TEST_DATABASE_URL"
PG_URL = os.environ.get(PG_ENV)

BACKENDS = [
    "sqlite",
    pytest.param(
        "postgresql",
        marks=pytest.mark.skipif(
            not PG_URL, reason=f"${PG_ENV} is not set: no PostgreSQL to test against"
        ),
    ),
]

pytest_plugins = ["tests.browser", "tests.web_support"]


# -- a migrated schema, made once ---------------------------------------------------------------
#
# Most tests begin on a fresh database, and running the migrations takes a fifth
# of a second; a thousand tests start that way. So the first fresh database of
# each backend in the session is migrated for real and kept as a template:
# SQLite's file is copied, and the statements PostgreSQL's migration ran are
# recorded. Every later fresh database begins as a copy of the file, or a replay
# of those statements, then migrates as usual (to head: a check). What a caller
# sees is unchanged: the schema came from the migrations, and the first migrate
# of a fresh database reports it as created. Migrations to a named revision,
# and databases that are not fresh, take the real path every time.

_real_migrate = Database.migrate
_sqlite_template: list[Path] = []
_pg_statements: list[tuple[str, Any]] = []


def _fresh_postgresql(database: Database) -> bool:
    with database.engine.connect() as conn:
        tables = conn.scalar(
            text(
                "SELECT count(*) FROM information_schema.tables "
                "WHERE table_schema = current_schema()"
            )
        )
    return tables == 0


def _migrate_from_template(self: Database, revision: str = "head") -> tuple[str | None, str | None]:
    if revision != "head":
        return _real_migrate(self, revision)
    path = sqlite_path(self.url)
    if path is not None and path.parent.is_dir() and not path.exists():
        if not _sqlite_template:
            made = _real_migrate(self, revision)
            self.dispose()
            template = Path(tempfile.mkdtemp(prefix="pledgewatch-template-")) / "template.db"
            shutil.copyfile(path, template)
            _sqlite_template.append(template)
            return made
        shutil.copyfile(_sqlite_template[0], path)
    elif self.dialect == "postgresql" and _fresh_postgresql(self):
        if not _pg_statements:
            ran: list[tuple[str, Any]] = []

            def record(_conn, _cursor, statement, parameters, _context, _many) -> None:  # type: ignore[no-untyped-def]
                ran.append((statement, parameters))

            event.listen(self.engine, "before_cursor_execute", record)
            try:
                made = _real_migrate(self, revision)
            finally:
                event.remove(self.engine, "before_cursor_execute", record)
            _pg_statements.extend(ran)
            return made
        with self.engine.begin() as conn:
            for statement, parameters in _pg_statements:
                conn.exec_driver_sql(statement, parameters)
    else:
        return _real_migrate(self, revision)
    _before, after = _real_migrate(self, revision)
    return None, after


Database.migrate = _migrate_from_template  # type: ignore[method-assign]


def _pg_schema_url(schema: str) -> str:
    assert PG_URL is not None
    url = make_url(PG_URL)
    if url.drivername in ("postgresql", "postgresql+psycopg2"):
        url = url.set(drivername="postgresql+psycopg")
    url = url.update_query_dict({"options": f"-csearch_path={schema}"})
    return url.render_as_string(hide_password=False)


@pytest.fixture
def pg_schema() -> Iterator[str]:
    """A fresh PostgreSQL schema, dropped afterwards; its URL sets the search_path."""
    if not PG_URL:
        pytest.skip(f"${PG_ENV} is not set: no PostgreSQL to test against")
    schema = f"pw_test_{uuid.uuid4().hex[:12]}"
    admin = create_engine(_pg_schema_url("public"))
    with admin.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    try:
        yield _pg_schema_url(schema)
    finally:
        with admin.begin() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


@pytest.fixture(params=BACKENDS)
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'pledgewatch.db'}"
    return str(request.getfixturevalue("pg_schema"))


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'pledgewatch.db'}"


@pytest.fixture
def database(database_url: str) -> Iterator[Database]:
    """An initialised database on each backend."""
    db = Database(database_url)
    db.migrate()
    yield db
    db.dispose()


@dataclass
class Result:
    code: int
    out: str
    err: str


class Cli:
    """Runs `pledgewatch` in-process against one config file, capturing its output."""

    def __init__(self, capsys: pytest.CaptureFixture[str], config_path: Path) -> None:
        self.capsys = capsys
        self.config_path = config_path

    def __call__(self, *args: str) -> Result:
        self.capsys.readouterr()
        code = main(["--config", str(self.config_path), *args])
        captured = self.capsys.readouterr()
        return Result(code, captured.out, captured.err)


@pytest.fixture
def config_path(tmp_path: Path, database_url: str) -> Path:
    path = tmp_path / "config.toml"
    path.write_text(f'[database]\nurl = "{database_url}"\n', encoding="utf-8")
    return path


@pytest.fixture
def cli(
    capsys: pytest.CaptureFixture[str], config_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Cli:
    """The CLI on an initialised database (each backend)."""
    monkeypatch.delenv("PLEDGEWATCH_DATABASE_URL", raising=False)
    monkeypatch.delenv("PLEDGEWATCH_CONFIG", raising=False)
    monkeypatch.setenv("PLEDGEWATCH_USER", "test-editor")
    runner = Cli(capsys, config_path)
    result = runner("init")
    assert result.code == 0, result.err
    return runner


@pytest.fixture
def cli_for(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch):  # type: ignore[no-untyped-def]
    """A CLI runner for a given config file, after running init on it."""
    monkeypatch.delenv("PLEDGEWATCH_DATABASE_URL", raising=False)
    monkeypatch.delenv("PLEDGEWATCH_CONFIG", raising=False)
    monkeypatch.setenv("PLEDGEWATCH_USER", "test-editor")

    def make(path: Path) -> Cli:
        runner = Cli(capsys, path)
        result = runner("init")
        assert result.code == 0, result.err
        return runner

    return make


ROOT = Path(__file__).parent.parent


@pytest.fixture
def newsroom(tmp_path: Path, database_url: str, cli_for) -> Cli:  # type: ignore[no-untyped-def]
    """The example pledges and the example feed, initialised, not yet swept."""
    config = tmp_path / "config.toml"
    config.write_text(
        f'[database]\nurl = "{database_url}"\n'
        f'[[feeds]]\nname = "example"\nurl = "{ROOT / "examples" / "feed.xml"}"\n'
    )
    cli: Cli = cli_for(config)
    assert cli("pledge", "import", str(ROOT / "examples" / "pledges.csv")).code == 0
    return cli


@pytest.fixture
def desk(newsroom: Cli) -> Cli:
    """The newsroom after a sweep: evidence waiting for review."""
    assert newsroom("sweep").code == 0
    return newsroom


EXAMPLES = ROOT / "examples"


@pytest.fixture
def library(tmp_path: Path, database_url: str) -> Iterator[Desk]:
    """A Desk over an initialised database with the example pledges, swept once."""
    config = tmp_path / "config.toml"
    config.write_text(
        f'[database]\nurl = "{database_url}"\n'
        f'[[feeds]]\nname = "example"\nurl = "{EXAMPLES / "feed.xml"}"\n',
        encoding="utf-8",
    )
    from pledgewatch import open_desk
    from pledgewatch.config import load_config
    from pledgewatch.desk import Desk

    setup = Desk(load_config(str(config)), user="setup")
    setup.init()
    setup.close()
    with open_desk(load_config(str(config)), user="ana") as desk:
        desk.import_pledges(EXAMPLES / "pledges.csv")
        desk.sweep()
        yield desk
