"""Databases that cannot be used: every command says so in one line, with exit code 1.

A damaged SQLite file (random bytes, a file cut short, a page overwritten in the
middle) is not the input's fault, so the exit code is 1, not 2, and the message
names the file and says it is not a usable pledgewatch database, whatever
command met the damage. A zero-byte file is simply not initialised. A database
upgraded by a newer pledgewatch (a revision this code does not know) is
refused by every command, `init` included, on both backends.
"""

from __future__ import annotations

import random
import shutil
import sqlite3
from collections.abc import Iterator
from contextlib import closing
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from pledgewatch.cli import main
from tests.conftest import ROOT, Cli
from tests.test_edges import snapshot

PAGE = 4096
ADD = [
    "pledge",
    "add",
    "Ethiopia will finish the Tana dam by 2030",
    "--by",
    "Abiy Ahmed",
    "--made-on",
    "2024-06-13",
    "--source-url",
    "https://example.org/source",
]
# Every command that opens the database.
COMMANDS = [
    ["init"],
    ["pledge", "list"],
    ["pledge", "show", "1"],
    ADD,
    ["status"],
    ["evidence", "list"],
    ["sweep"],
    ["rematch"],
    ["report"],
    ["feed", "list"],
    ["export", "claimreview"],
]


def write_config(folder: Path) -> Path:
    config = folder / "config.toml"
    config.write_text(
        f'[database]\nurl = "sqlite:///{folder / "pledgewatch.db"}"\n'
        f'[[feeds]]\nname = "example"\nurl = "{ROOT / "examples" / "feed.xml"}"\n',
        encoding="utf-8",
    )
    return config


@pytest.fixture(scope="module")
def swept_database(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """A real database holding the example pledges and the example feed's articles."""
    folder = tmp_path_factory.mktemp("swept")
    config = write_config(folder)
    with pytest.MonkeyPatch.context() as env:
        env.delenv("PLEDGEWATCH_DATABASE_URL", raising=False)
        env.setenv("PLEDGEWATCH_USER", "test-editor")
        for args in (["init"], ["pledge", "import", str(ROOT / "examples" / "pledges.csv")]):
            assert main(["--config", str(config), *args]) == 0
        assert main(["--config", str(config), "sweep"]) == 0
    path = folder / "pledgewatch.db"
    with closing(sqlite3.connect(path)) as conn:
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        assert conn.execute("SELECT count(*) FROM articles").fetchone()[0] > 0
    assert not Path(f"{path}-wal").exists() or Path(f"{path}-wal").stat().st_size == 0
    yield path


@pytest.fixture
def damaged(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> tuple[Cli, Path]:
    """A CLI whose configured database file does not yet exist: each test makes it."""
    monkeypatch.delenv("PLEDGEWATCH_DATABASE_URL", raising=False)
    monkeypatch.delenv("PLEDGEWATCH_CONFIG", raising=False)
    monkeypatch.setenv("PLEDGEWATCH_USER", "test-editor")
    config = write_config(tmp_path)
    return Cli(capsys, config), tmp_path / "pledgewatch.db"


def quick_check_passes(path: Path) -> bool:
    try:
        with closing(sqlite3.connect(path)) as conn:
            return conn.execute("PRAGMA quick_check").fetchall() == [("ok",)]
    except sqlite3.DatabaseError:
        return False


def articles_pages(path: Path) -> list[int]:
    """The pages of the articles table, leaves first; the middle pages of the file
    when SQLite was built without the dbstat table."""
    with closing(sqlite3.connect(path)) as conn:
        try:
            rows = conn.execute(
                "SELECT pageno FROM dbstat WHERE name = 'articles' "
                "ORDER BY pagetype = 'leaf' DESC, pageno"
            ).fetchall()
            return [row[0] for row in rows]
        except sqlite3.OperationalError:
            count = conn.execute("PRAGMA page_count").fetchone()[0]
            return list(range(count // 2, count))


def overwrite_page(path: Path, page: int, rng: random.Random) -> None:
    with path.open("r+b") as handle:
        handle.seek((page - 1) * PAGE)
        handle.write(rng.randbytes(PAGE))


def damage(kind: str, path: Path, swept: Path) -> None:
    rng = random.Random(kind)
    if kind == "random-bytes":
        path.write_bytes(rng.randbytes(20 * PAGE))
    elif kind == "truncated":
        shutil.copyfile(swept, path)
        with path.open("r+b") as handle:
            handle.truncate(3 * PAGE)
    elif kind == "page-overwritten":
        # By trial: the first page of the articles table whose loss the
        # integrity check notices.
        for page in articles_pages(swept):
            shutil.copyfile(swept, path)
            overwrite_page(path, page, rng)
            if not quick_check_passes(path):
                return
        pytest.fail("no page of the articles table could be damaged")
    else:
        raise AssertionError(kind)


def unusable(path: Path) -> tuple[str, str]:
    """The start and end of the one line that says a file is not a usable database."""
    return (
        f"error: {path} is not a usable pledgewatch database (",
        'restore it from a backup, or move it aside and run "pledgewatch init" to start a new one',
    )


@pytest.mark.parametrize("kind", ["random-bytes", "truncated", "page-overwritten"])
def test_every_command_on_a_damaged_file_says_it_is_unusable_in_one_line(
    damaged: tuple[Cli, Path], swept_database: Path, kind: str
) -> None:
    cli, path = damaged
    damage(kind, path, swept_database)
    start, end = unusable(path)
    # Only a page in the middle can be missed by a command that never reads it.
    must_fail = {"init", "rematch"} if kind == "page-overwritten" else None
    wrong = []
    for args in COMMANDS:
        before = path.read_bytes()
        result = cli(*args)
        name = " ".join(args[:2])
        if result.code == 0 and must_fail is not None and args[0] not in must_fail:
            continue
        lines = result.err.splitlines()
        if result.code != 1 or len(lines) != 1 or not lines[0].startswith(start):
            wrong.append((name, result.code, result.err[-600:]))
        elif not lines[0].endswith(end):
            wrong.append((name, result.code, result.err))
        elif path.read_bytes() != before:
            wrong.append((name, "wrote to the damaged file", result.err))
    assert not wrong, "\n".join(map(repr, wrong))


def test_init_on_a_damaged_page_fails_rather_than_saying_up_to_date(
    damaged: tuple[Cli, Path], swept_database: Path
) -> None:
    cli, path = damaged
    damage("page-overwritten", path, swept_database)
    # The schema's own pages are intact: only an integrity check sees the damage.
    result = cli("init")
    start, end = unusable(path)
    assert result.code == 1, result.out
    assert "up to date" not in result.out
    assert result.err.splitlines() == [result.err.strip()]
    assert result.err.startswith(start)
    assert result.err.strip().endswith(end)


def test_a_zero_byte_file_is_not_initialised_until_init(damaged: tuple[Cli, Path]) -> None:
    cli, path = damaged
    path.touch()
    wrong = []
    for args in COMMANDS[1:]:
        result = cli(*args)
        expected = f'error: the database at {path} is not initialised: run "pledgewatch init"'
        if (result.code, result.err.splitlines()) != (1, [expected]):
            wrong.append((" ".join(args[:2]), result.code, result.err))
    assert not wrong, "\n".join(map(repr, wrong))
    created = cli("init")
    assert created.code == 0, created.err
    assert created.out.startswith(f"created database {path} (revision ")
    assert cli("pledge", "list").code == 0


NEWER = "ffffffffffff"


def test_a_database_upgraded_by_a_newer_pledgewatch_is_refused_by_every_command(
    cli: Cli, database_url: str
) -> None:
    assert cli(*ADD).code == 0
    engine = create_engine(database_url)
    with engine.begin() as conn:
        conn.execute(text(f"UPDATE alembic_version SET version_num = '{NEWER}'"))
    engine.dispose()
    before = snapshot(database_url)
    tail = (
        f"is at revision {NEWER}, which this pledgewatch does not know: "
        "it was upgraded by a newer version; upgrade pledgewatch"
    )
    commands = [
        *COMMANDS,
        ["pledge", "edit", "1", "--note", "why"],
        ["pledge", "import", str(ROOT / "examples" / "pledges.csv")],
        ["pledge", "export"],
        ["evidence", "confirm", "1"],
        ["verdict", "1", "stalled", "--note", "why"],
    ]
    wrong = []
    for args in commands:
        result = cli(*args)
        lines = result.err.splitlines()
        if (
            result.code != 1
            or len(lines) != 1
            or not lines[0].startswith("error: the database at ")
            or not lines[0].endswith(tail)
        ):
            wrong.append((" ".join(args[:2]), result.code, result.out[-200:], result.err))
    assert not wrong, "\n".join(map(repr, wrong))
    assert snapshot(database_url) == before
    engine = create_engine(database_url)
    with engine.connect() as conn:
        assert conn.execute(text("SELECT version_num FROM alembic_version")).all() == [(NEWER,)]
    engine.dispose()
