"""The matcher a cron sweep keeps on disk: whatever changed since it was saved, a
matcher loaded from the file finds exactly what one built afresh finds, and a
file that cannot be trusted is never used (each backend)."""

from __future__ import annotations

import os
import pickle
import stat
import time
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import delete, insert, update

from pledgewatch import matcher_file
from pledgewatch.db import Database
from pledgewatch.evidence import PledgeMatcher
from pledgewatch.matcher_file import file_for, load_matcher
from pledgewatch.matching.analysis import Document
from pledgewatch.models import Pledge

NOW = datetime(2026, 12, 1, tzinfo=UTC)
DOCS = [
    Document.from_fields(title=title, summary=summary)
    for title, summary in [
        ("China sells weapons to Russia, report says", "Beijing denies the arms sales."),
        ("Ministry opens 40 clinics in the north", "The minister said more would follow."),
        ("Council delays the new bridge again", "Work on the bridge stops for a year."),
        ("Glaciers retreat faster, survey finds", "Scientists measured the ice in spring."),
        ("Russia and China sign a trade deal", "No weapons were part of it."),
    ]
]
PLEDGES = [
    ("China will not sell weapons to Russia", "Xi Jinping", "china AND weapons AND russia"),
    ("We will open 40 new clinics", "Health ministry", "clinics AND (open* OR opened)"),
    ("The bridge will open in 2026", "City council", '"bridge" AND (delay* OR open*)'),
    ("We will protect the glaciers", "Environment ministry", None),  # a derived query
]


@pytest.fixture
def folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    where = tmp_path / "matchers"
    monkeypatch.setenv("PLEDGEWATCH_CACHE_DIR", str(where))
    return where


def add(database: Database, text: str, actor: str, query: str | None) -> int:
    from pledgewatch.matching.derive import derive_query

    with database.session() as session:
        pledge_id = session.execute(
            insert(Pledge)
            .values(
                text=text,
                actor=actor,
                made_on=date(2024, 1, 1),
                source_url="https://news.example.org/p",
                query=query or derive_query(text, actor),
                query_derived=query is None,
                status="not_yet_rated",
                actor_key=actor.lower(),
                text_key=text.lower(),
                dedupe_key=f"{text}|{actor}",
                created_at=NOW,
                created_by="test",
                updated_at=NOW,
                updated_by="test",
            )
            .returning(Pledge.id)
        ).scalar_one()
    return int(pledge_id)


def found(matcher: PledgeMatcher) -> list[list[tuple[int, Any]]]:
    """What the matcher finds in each document: pledge ids with their findings."""
    return [
        sorted(
            (pid, (f.score, f.stance, f.stance_reason, f.snippet, f.terms))
            for pid, f in matcher.findings(doc, NOW)
        )
        for doc in DOCS
    ]


def fresh(database: Database) -> PledgeMatcher:
    with database.session(write=False) as session:
        return PledgeMatcher.load(session)


def cached(database: Database) -> PledgeMatcher:
    with database.session(write=False) as session:
        return load_matcher(session, database.url)


def builds(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Count the matchers built from the pledges (not read from a file)."""
    made: list[int] = []
    real = PledgeMatcher.load.__func__  # type: ignore[attr-defined]

    def counted(cls: type[PledgeMatcher], session: Any) -> PledgeMatcher:
        made.append(1)
        return real(cls, session)  # type: ignore[no-any-return]

    monkeypatch.setattr(PledgeMatcher, "load", classmethod(counted))
    return made


@pytest.mark.parametrize("rewrite_after", [1, 50])
def test_a_saved_matcher_finds_what_a_fresh_one_finds_after_every_kind_of_change(
    database: Database, folder: Path, monkeypatch: pytest.MonkeyPatch, rewrite_after: int
) -> None:
    # Saved again after every change, or brought up to date from the first file each time.
    monkeypatch.setattr(matcher_file, "REWRITE_AFTER", rewrite_after)
    ids = [add(database, *pledge) for pledge in PLEDGES]
    made = builds(monkeypatch)
    first = cached(database)
    assert len(made) == 1 and file_for(database.url, folder).exists()
    assert found(first) == found(fresh(database)) and any(found(first))

    changes = [
        # a pledge logged
        lambda: add(database, "No new arms for Moscow", "Beijing", "weapons AND russia"),
        # a query edited
        lambda: database_update(database, ids[0], query="china AND trade AND deal"),
        # a text edited (the stance reads it), then a derived query derived again
        lambda: database_update(database, ids[1], text="We will close 40 clinics"),
        lambda: database_update(database, ids[3], query=None, actor="Survey office"),
        # archived, then deleted
        lambda: database_update(database, ids[2], archived_at=NOW),
        lambda: database_delete(database, ids[1]),
    ]
    for change in changes:
        change()
        before = len(made)
        from_file = cached(database)
        assert len(made) == before, "brought up to date from the file, not built"
        again = fresh(database)
        assert found(from_file) == found(again)
        assert sorted(from_file.targets) == sorted(again.targets)


def database_update(database: Database, pledge_id: int, **values: Any) -> None:
    from pledgewatch.matching.derive import derive_query

    with database.session() as session:
        if "query" in values and values["query"] is None:
            values["query"] = derive_query("We will protect the glaciers", values["actor"])
            values["query_derived"] = True
        session.execute(update(Pledge).where(Pledge.id == pledge_id).values(**values))


def database_delete(database: Database, pledge_id: int) -> None:
    from pledgewatch.models import PledgeRevision, PledgeTag

    with database.session() as session:
        for model in (PledgeRevision, PledgeTag):
            session.execute(delete(model).where(model.pledge_id == pledge_id))
        session.execute(delete(Pledge).where(Pledge.id == pledge_id))


def test_a_file_left_by_another_database_at_the_same_place_is_corrected_pledge_by_pledge(
    database: Database, folder: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for pledge in PLEDGES[:2]:
        add(database, *pledge)
    cached(database)
    # Every pledge replaced under the same ids, as a database made again would have them.
    with database.session() as session:
        session.execute(delete(Pledge))
    for text, actor, query in reversed(PLEDGES[2:]):
        add(database, text, actor, query)
    assert found(cached(database)) == found(fresh(database))


def test_a_file_of_other_code_too_old_damaged_or_unreadable_is_never_used(
    database: Database, folder: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    add(database, *PLEDGES[0])
    expected = found(fresh(database))
    made = builds(monkeypatch)
    cached(database)
    path = file_for(database.url, folder)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600, "readable by its owner only"
    cached(database)
    assert len(made) == 1

    # Other code: the fingerprint differs.
    monkeypatch.setattr(matcher_file, "fingerprint", lambda: "other code")
    cached(database)
    assert len(made) == 2
    monkeypatch.undo()
    made = builds(monkeypatch)
    monkeypatch.setenv("PLEDGEWATCH_CACHE_DIR", str(folder))

    # Too old: built more than a day ago.
    with path.open("rb") as stream:
        header = pickle.load(stream)
        rest = stream.read()
    header["built"] = time.time() - matcher_file.MAX_AGE - 60
    path.write_bytes(pickle.dumps(header) + rest)
    cached(database)
    assert len(made) == 1

    # Writable by others (a shared folder): not read, whatever it holds.
    path.chmod(0o666)
    cached(database)
    assert len(made) == 2 and stat.S_IMODE(path.stat().st_mode) == 0o600

    # Damaged: cut short, or other bytes altogether.
    whole = path.read_bytes()
    for damaged in (whole[: len(whole) // 2], b"\x80\x05not a pickle", os.urandom(512), b""):
        path.write_bytes(damaged)
        assert found(cached(database)) == expected
    assert len(made) == 6

    # A folder that cannot be written: the matcher is built, the sweep goes on.
    blocked = folder.parent / "blocked"
    blocked.write_text("a file where the folder would be", encoding="utf-8")
    monkeypatch.setenv("PLEDGEWATCH_CACHE_DIR", str(blocked / "matchers"))
    assert found(cached(database)) == expected

    # Turned off: no file at all.
    monkeypatch.setenv("PLEDGEWATCH_CACHE_DIR", "off")
    path.unlink()
    cached(database)
    assert not path.exists()


def test_a_query_that_no_longer_parses_is_reported_by_every_sweep_from_the_file(
    database: Database, folder: Path
) -> None:
    add(database, *PLEDGES[0])
    broken = add(database, "We will build it", "Someone", "bridge AND")
    for _ in range(3):
        matcher = cached(database)
        assert broken not in matcher.targets
        assert len(matcher.skipped) == 1 and f"#{broken}" in matcher.skipped[0]
