"""The matcher a cron sweep keeps on disk: whatever changed since it was saved, a
matcher loaded from the file finds exactly what one built afresh finds, and a
file that cannot be trusted is never used (each backend)."""

from __future__ import annotations

import os
import pickle
import stat
import tempfile
import threading
import time
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
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
        ("Transport ministry says the trains will run", "Strikes are over, it said."),
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


def add(
    database: Database, text: str, actor: str, query: str | None, *, legacy: bool = False
) -> int:
    """A pledge as logged (a derived query stored on it); ``legacy``: stored with no
    query at all, as rows from before queries were stored, derived when matched."""
    from pledgewatch.matching.derive import derive_query

    with database.session() as session:
        pledge_id = session.execute(
            insert(Pledge)
            .values(
                text=text,
                actor=actor,
                made_on=date(2024, 1, 1),
                source_url="https://news.example.org/p",
                query=None if legacy else query or derive_query(text, actor),
                query_derived=query is None and not legacy,
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
    """Count the matchers built from the pledges: each time no saved one was read."""
    made: list[int] = []
    real = matcher_file._read

    def counted(path: Path) -> Any:
        saved = real(path)
        if saved is None:
            made.append(1)
        return saved

    monkeypatch.setattr(matcher_file, "_read", counted)
    return made


@pytest.mark.parametrize("rewrite_after", [1, 50])
def test_a_saved_matcher_finds_what_a_fresh_one_finds_after_every_kind_of_change(
    database: Database, folder: Path, monkeypatch: pytest.MonkeyPatch, rewrite_after: int
) -> None:
    # Saved again after every change, or brought up to date from the first file each time.
    monkeypatch.setattr(matcher_file, "REWRITE_AFTER", rewrite_after)
    ids = [add(database, *pledge) for pledge in PLEDGES]
    legacy = add(database, "We will keep the trains running", "Rail office", None, legacy=True)
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
        # the date moved past the articles' (none is evidence for it any more)
        lambda: database_update(database, ids[0], made_on=date(2027, 1, 1)),
        # the actor of a pledge whose query is derived when it is matched
        lambda: database_update(database, legacy, actor="Transport ministry"),
        # archived, then deleted
        lambda: database_update(database, ids[2], archived_at=NOW),
        lambda: database_delete(database, ids[1]),
    ]
    for number, change in enumerate(changes):
        before = found(fresh(database))
        change()
        from_file = cached(database)
        assert len(made) == 1, "brought up to date from the file, not built"
        again = fresh(database)
        assert found(from_file) == found(again) != before, f"change {number} shows in what is found"
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
    made = builds(monkeypatch)
    cached(database)
    # Every pledge replaced, as in a database made again at the same place (SQLite
    # gives the same ids again; PostgreSQL new ones).
    with database.session() as session:
        session.execute(delete(Pledge))
    for text, actor, query in reversed(PLEDGES[2:]):
        add(database, text, actor, query)
    assert found(cached(database)) == found(fresh(database))
    assert len(made) == 1, "the second matcher came from the file"


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
    cached(database)  # the file of this code again
    cached(database)
    assert len(made) == 1
    made.clear()

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

    # A link to a good file, or a pipe where the file was: not read, and no wait.
    good = folder / "elsewhere.pickle"
    path.rename(good)
    path.symlink_to(good)
    cached(database)
    assert len(made) == 3
    path.unlink()
    os.mkfifo(path)
    reader = threading.Thread(target=cached, args=(database,), daemon=True)
    reader.start()
    reader.join(20)
    assert not reader.is_alive(), "a pipe in the file's place held the sweep up"
    assert len(made) == 4
    path.unlink()
    good.rename(path)

    # Damaged: cut short, or other bytes altogether.
    whole = path.read_bytes()
    for damaged in (whole[: len(whole) // 2], b"\x80\x05not a pickle", os.urandom(512), b""):
        path.write_bytes(damaged)
        assert found(cached(database)) == expected
    assert len(made) == 8

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
    database: Database, folder: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    add(database, *PLEDGES[0])
    broken = add(database, "We will build it", "Someone", "bridge AND")
    made = builds(monkeypatch)
    for _ in range(3):
        matcher = cached(database)
        assert broken not in matcher.targets
        assert len(matcher.skipped) == 1 and f"#{broken}" in matcher.skipped[0]
    assert len(made) == 1, "the second and third came from the file"


def test_edits_that_commit_while_the_matcher_is_read_never_leave_it_out_of_step(
    database: Database, folder: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # On PostgreSQL each statement of a sweep's read sees what committed before it:
    # an edit committed between two of them must not leave the saved digests
    # describing one edit and the saved matcher another (SQLite reads one snapshot).
    monkeypatch.setattr(matcher_file, "REWRITE_AFTER", 1)
    first = add(database, *PLEDGES[0])
    add(database, *PLEDGES[1])
    real_pledges, real_digests = matcher_file.active_pledges, matcher_file.pledge_digests
    meanwhile: list[Any] = []

    def pledges_read(session: Any, ids: Any = None) -> Any:
        while meanwhile:
            meanwhile.pop(0)()
        return real_pledges(session, ids)

    def digests_read(session: Any) -> Any:
        read = real_digests(session)
        while meanwhile:
            meanwhile.pop(0)()
        return read

    monkeypatch.setattr(matcher_file, "active_pledges", pledges_read)
    monkeypatch.setattr(matcher_file, "pledge_digests", digests_read)

    # Built while an edit commits, and a pledge is logged; then the edit is undone,
    # and the new pledge archived.
    late: list[int] = []
    meanwhile += [
        lambda: database_update(database, first, query="china AND trade AND deal"),
        lambda: late.append(add(database, "No arms for Moscow", "Beijing", "weapons")),
    ]
    cached(database)
    database_update(database, first, query="china AND weapons AND russia")
    database_update(database, late[0], archived_at=NOW)
    assert found(cached(database)) == found(fresh(database))
    assert sorted(cached(database).targets) == sorted(fresh(database).targets)

    # Brought up to date while the same pledge is edited back and forth.
    database_update(database, first, query="china AND trade AND deal")
    meanwhile.append(lambda: database_update(database, first, query="china AND weapons AND russia"))
    cached(database)
    # Back to the edit read first: the file must hold the row it matched, not that read.
    database_update(database, first, query="china AND trade AND deal")
    assert found(cached(database)) == found(fresh(database))


def test_a_pledge_is_matched_afresh_only_when_its_matching_fields_changed(
    database: Database, folder: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    ids = [add(database, *pledge) for pledge in PLEDGES]
    ids.append(add(database, "We will keep the trains running", "Rail", None, legacy=True))
    with database.session(write=False) as session:
        rows = matcher_file.pledge_digests(session)
        objects = {p.id: matcher_file.digest_of(p) for p in matcher_file.active_pledges(session)}
    assert rows == objects and sorted(rows) == ids, "one digest, read as rows or as pledges"

    cached(database)
    refreshed: list[list[int]] = []
    real = matcher_file.active_pledges

    def read(session: Any, wanted: Any = None) -> Any:
        refreshed.append(list(wanted or []))
        return real(session, wanted)

    monkeypatch.setattr(matcher_file, "active_pledges", read)
    cached(database)
    database_update(database, ids[1], updated_by="someone else")  # not a matching field
    cached(database)
    database_update(database, ids[1], actor="Health department")
    cached(database)
    assert refreshed == [[], [], [ids[1]]]


def _good_file() -> bytes:
    """A matcher file as a sweep writes it (two pledges, no database needed)."""
    from pledgewatch.matching.query import parse

    matcher = PledgeMatcher([])
    for key, query in ((1, "china AND weapons"), (2, '"bridge" AND delay*')):
        matcher.monitor.add(key, parse(query))
    with tempfile.TemporaryDirectory() as where:
        path = Path(where) / "m.pickle"
        matcher_file._write(path, time.time(), {1: b"a", 2: b"b"}, matcher)
        return path.read_bytes()


GOOD = _good_file()


@given(
    st.one_of(
        st.binary(max_size=4096),
        st.integers(0, len(GOOD)).map(lambda cut: GOOD[:cut]),
        st.tuples(st.integers(0, len(GOOD) - 1), st.integers(0, 255)).map(
            lambda flip: GOOD[: flip[0]] + bytes([flip[1]]) + GOOD[flip[0] + 1 :]
        ),
    )
)
def test_any_bytes_in_the_matcher_file_are_read_as_a_matcher_or_as_none(data: bytes) -> None:
    with tempfile.TemporaryDirectory() as where:
        path = Path(where) / "m.pickle"
        handle = os.open(path, os.O_WRONLY | os.O_CREAT, 0o600)
        with os.fdopen(handle, "wb") as stream:
            stream.write(data)
        saved = matcher_file._read(path)
    if saved is not None:
        built, digests, matcher = saved
        assert isinstance(built, float) and isinstance(digests, dict)
        assert isinstance(matcher, PledgeMatcher)


def test_the_good_file_reads_back_and_matches() -> None:
    # The property above is not vacuous: its uncut file is a matcher that works.
    with tempfile.TemporaryDirectory() as where:
        path = Path(where) / "m.pickle"
        path.write_bytes(GOOD)
        path.chmod(0o600)
        saved = matcher_file._read(path)
    assert saved is not None
    _, digests, matcher = saved
    assert digests == {1: b"a", 2: b"b"}
    doc = Document.from_fields(title="China ships weapons", summary="The bridge is delayed.")
    assert sorted(key for key, _ in matcher.monitor.match(doc)) == [1, 2]


def store_articles(database: Database, count: int, start: int = 0) -> None:
    from pledgewatch.models import Article

    with database.session() as session:
        session.execute(
            insert(Article),
            [
                {
                    "url": f"https://news.example.org/a/{n}",
                    "title": f"Ministry opens clinics, report {n}",
                    "summary": "The minister said more would follow.",
                    "content": "",
                    "published_at": NOW,
                    "fetched_at": NOW,
                    "updated_at": NOW,
                    "content_hash": f"{n:064d}",
                }
                for n in range(start, start + count)
            ],
        )


def test_a_matcher_built_on_an_empty_store_learns_from_it_once_it_holds_articles(
    database: Database, folder: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A new newsroom's first sweep has nothing to learn which words are common from;
    the file it leaves, and a watch's kept matcher, are built again as the store
    fills (twice the sample each time, up to SAMPLE), then kept."""
    from pledgewatch import evidence

    monkeypatch.setattr(evidence, "SAMPLE", 8)
    made: list[int] = []  # each build is saved; nothing else writes the file here
    real_write = matcher_file._write
    monkeypatch.setattr(
        matcher_file, "_write", lambda *args: (made.append(1), real_write(*args))[1]
    )
    for text, actor, query in PLEDGES:
        add(database, text, actor, query)
    assert cached(database).monitor.sampled == 0 and len(made) == 1
    assert cached(database).monitor.sampled == 0 and len(made) == 1  # nothing new to learn
    store_articles(database, 1)
    assert cached(database).monitor.sampled == 1 and len(made) == 2
    store_articles(database, 2, start=1)
    assert cached(database).monitor.sampled == 3 and len(made) == 3
    store_articles(database, 20, start=3)
    assert cached(database).monitor.sampled == 8 and len(made) == 4
    store_articles(database, 20, start=23)
    assert cached(database).monitor.sampled == 8 and len(made) == 4  # the sample is whole
    assert found(cached(database)) == found(fresh(database))

    watch = evidence.MatcherCache()
    with database.session() as session:
        session.execute(delete(evidence.Article))
    with database.session(write=False) as session:
        assert watch.get(session).monitor.sampled == 0 and watch.loads == 1
        assert watch.get(session) is watch.get(session) and watch.loads == 1
    store_articles(database, 5, start=100)
    with database.session(write=False) as session:
        assert watch.get(session).monitor.sampled == 5 and watch.loads == 2


def test_without_a_sample_a_query_is_indexed_by_its_word_with_figures() -> None:
    """With no article to learn from, a word with digits in it (a code, a year, a
    name like "g7") is taken as rarer than a plain word of any length."""
    from pledgewatch.matching.monitor import Monitor
    from pledgewatch.matching.query import parse

    monitor: Monitor[int] = Monitor()
    for key, query in enumerate(["clinics AND minister AND n42", "g7 AND summit", "budget 2030"]):
        monitor.add(key, parse(query))
    for key in range(3):
        group = monitor.indexed_by(key)
        assert group and all(any(ch.isdigit() for ch in k) for k in group), group


def _load_and_report(url: str, cache: str, rounds: int, queue: Any) -> None:
    """One cron sweep's process: read (or build and save) the matcher, round after round."""
    os.environ["PLEDGEWATCH_CACHE_DIR"] = cache
    matcher_file.REWRITE_AFTER = 1  # every change saved: as many writers as there can be
    database = Database(url)
    try:
        for _ in range(rounds):
            queue.put(sorted(found(cached(database))[0]))
    finally:
        database.dispose()


def test_processes_reading_and_saving_the_file_at_once_each_get_a_whole_matcher(
    database: Database, folder: Path
) -> None:
    """Cron sweeps overlap (a slow one and the next): processes that read, build and
    save the same file at once, while pledges change, each get a matcher that finds
    what a fresh one finds at some moment, and leave a file that reads back whole."""
    import multiprocessing

    ids = [add(database, text, actor, query) for text, actor, query in PLEDGES]
    first_id = ids[0]
    context = multiprocessing.get_context("spawn")
    queue = context.Queue()
    rounds = 15
    workers = [
        context.Process(target=_load_and_report, args=(database.url, str(folder), rounds, queue))
        for _ in range(3)
    ]
    for worker in workers:
        worker.start()
    # Meanwhile the first pledge's query moves between two and back.
    queries = ["china AND weapons AND russia", "china AND trade AND deal"]
    possible = []
    for n in range(10):
        database_update(database, first_id, query=queries[n % 2])
        possible.append(sorted(found(fresh(database))[0]))
        time.sleep(0.05)
    results = [queue.get(timeout=120) for _ in range(rounds * len(workers))]
    for worker in workers:
        worker.join(60)
        assert worker.exitcode == 0
    assert all(result in possible for result in results), results
    assert matcher_file._read(file_for(database.url, folder)) is not None
    assert found(cached(database)) == found(fresh(database))
    assert [p.name for p in folder.iterdir() if p.name.startswith(".matcher-")] == []
