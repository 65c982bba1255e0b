"""A sweep and the newsroom at work at once, as real processes on each database.

Every test runs `pledgewatch` in processes of its own against feeds on a real
loopback HTTP server and a real database (SQLite, and PostgreSQL when
configured), and checks what a newsroom would see: exit codes, error lines,
JSON output and stored rows. Feeds that must answer late wait on events the
test sets, so each interleaving a test needs is arranged, not hoped for.
Processes that must race import pledgewatch first and start together on a
signal; every process and every held feed has a timeout, so a hang fails.
"""

from __future__ import annotations

import csv
import json
import os
import re
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime
from itertools import pairwise
from pathlib import Path
from typing import Any

import pytest
from pytest_httpserver import HTTPServer
from sqlalchemy import func, select, update
from werkzeug import Request, Response

from pledgewatch.config import load_config
from pledgewatch.db import Database
from pledgewatch.errors import SweepLockLost
from pledgewatch.models import Article, ArticleFeed, Evidence, Feed, Pledge, SweepLock, SweepRun
from pledgewatch.sweep import Sweep
from tests.test_sweep import rss, write_config

ROOT = Path(__file__).parent.parent
EXAMPLE_FEED = ROOT / "examples" / "feed.xml"
EXAMPLE_PLEDGES = ROOT / "examples" / "pledges.csv"
RUN_TIMEOUT = 120.0  # seconds any one process may take before the test fails
HOLD_TIMEOUT = 60.0  # seconds a held feed waits for its signal before answering anyway
STOLEN_BY = "elsewhere:1:x:y"  # a holder on another machine, alive as far as anyone knows


@pytest.fixture
def server() -> Iterator[HTTPServer]:
    srv = HTTPServer(host="127.0.0.1", port=0, threaded=True)
    srv.start()
    yield srv
    srv.clear()
    if srv.is_running():
        srv.stop()


# -- running pledgewatch -----------------------------------------------------------------------


def environment() -> dict[str, str]:
    env = {
        key: value
        for key, value in os.environ.items()
        if key not in ("PLEDGEWATCH_DATABASE_URL", "PLEDGEWATCH_CONFIG")
    }
    env["PLEDGEWATCH_USER"] = "test-editor"
    return env


@dataclass
class Ran:
    args: tuple[str, ...]
    code: int
    out: str
    err: str

    def __str__(self) -> str:
        shown = " ".join(arg if len(arg) <= 40 else arg[:39] + "…" for arg in self.args)
        return f"pledgewatch {shown} exited {self.code}; stderr:\n{self.err}"

    def json(self) -> Any:
        return json.loads(self.out)


def start(config: Path, *args: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "pledgewatch", "--config", str(config), *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=environment(),
    )


def finish(proc: subprocess.Popen[str], args: Sequence[str], timeout: float = RUN_TIMEOUT) -> Ran:
    try:
        out, err = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        out, err = proc.communicate()
        pytest.fail(f"pledgewatch {' '.join(args)} did not finish in {timeout:g}s; stderr:\n{err}")
    return Ran(tuple(args), proc.returncode, out, err)


def run(config: Path, *args: str) -> Ran:
    return finish(start(config, *args), args)


# Imports the command line's entry point (what the `pledgewatch` script runs),
# says it is ready, and calls it once the start signal exists: processes that
# must race then start within milliseconds, not within the second it takes
# Python to import pledgewatch.
_ON_SIGNAL = """\
import os, sys, time
from pledgewatch.cli import main
ready, go = sys.argv[1], sys.argv[2]
open(ready, "w").close()
deadline = time.monotonic() + 60
while not os.path.exists(go) and time.monotonic() < deadline:
    time.sleep(0.001)
sys.exit(main(sys.argv[3:]))
"""


def start_together(
    tmp_path: Path, config: Path, commands: Sequence[Sequence[str]]
) -> list[subprocess.Popen[str]]:
    """Start one process a command, all released by one signal file."""
    signals = tmp_path / f"signals-{uuid.uuid4().hex[:8]}"
    signals.mkdir()
    go = signals / "go"
    procs = [
        subprocess.Popen(
            [
                sys.executable,
                "-c",
                _ON_SIGNAL,
                str(signals / f"ready-{i}"),
                str(go),
                "--config",
                str(config),
                *args,
            ],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=environment(),
        )
        for i, args in enumerate(commands)
    ]
    wait_until(
        lambda: all((signals / f"ready-{i}").exists() for i in range(len(commands))),
        "every racing process imported pledgewatch",
    )
    go.touch()
    return procs


def eventually(condition: Callable[[], bool], timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.02)
    return True


def wait_until(condition: Callable[[], bool], what: str, timeout: float = 60.0) -> None:
    if not eventually(condition, timeout):
        pytest.fail(f"timed out after {timeout:g}s waiting until {what}")


# -- reading what is stored --------------------------------------------------------------------


def count(database: Database, model: Any) -> int:
    with database.session(write=False) as session:
        return int(session.scalar(select(func.count()).select_from(model)) or 0)


def article_urls(database: Database) -> set[str]:
    with database.session(write=False) as session:
        return set(session.scalars(select(Article.url)))


def evidence_pairs(database: Database) -> set[tuple[int, str]]:
    """(pledge id, article URL) of every evidence item."""
    with database.session(write=False) as session:
        rows = session.execute(
            select(Evidence.pledge_id, Article.url).join(Article, Evidence.article_id == Article.id)
        )
        return {(pledge_id, url) for pledge_id, url in rows}


def sweep_runs(database: Database) -> list[SweepRun]:
    with database.session(write=False) as session:
        return list(session.scalars(select(SweepRun).order_by(SweepRun.id)))


class Counter:
    """A count that the server's handlers can wait on."""

    def __init__(self) -> None:
        self.value = 0
        self._changed = threading.Condition()

    def add(self) -> None:
        with self._changed:
            self.value += 1
            self._changed.notify_all()

    def wait_for(self, at_least: int) -> None:
        with self._changed:
            self._changed.wait_for(lambda: self.value >= at_least, HOLD_TIMEOUT)


def feed_xml(body: str) -> Response:
    return Response(body, content_type="application/rss+xml")


def example_copy(prefix: str) -> str:
    """The bundled example feed with its articles under /<prefix>/: a copy of the
    same stories at other URLs, so every copy is evidence for the same pledges."""
    text = EXAMPLE_FEED.read_text(encoding="utf-8")
    return text.replace("https://news.example.org/", f"https://news.example.org/{prefix}/")


def example_pledges() -> list[dict[str, str]]:
    with EXAMPLE_PLEDGES.open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


def add_args(row: dict[str, str]) -> list[str]:
    """`pledge add` for one row of the example pledges file."""
    args = ["pledge", "add", row["text"], "--by", row["actor"], "--made-on", row["made_on"]]
    args += ["--source-url", row["source_url"], "--json"]
    for column, option in (
        ("source_name", "--source-name"),
        ("quote", "--quote"),
        ("reported_by", "--reported-by"),
        ("deadline", "--deadline"),
        ("notes", "--note"),
    ):
        if row[column]:
            args += [option, row[column]]
    for tag in filter(None, row["tags"].split(";")):
        args += ["--tag", tag]
    return args


def source_url(n: int) -> str:
    """Where a verdict's source was published."""
    return f"https://news.example.org/verdicts/{n}"


# -- a long sweep and fifty editor commands ------------------------------------------------------

LONG_FEEDS = 150
LONG_ITEMS = 20
SHARED_STORIES = 10  # wire stories carried by many feeds: one article each
FREE_FEEDS = 30  # feeds that answer at once; the others wait for the editors' progress
EDITOR_COMMANDS = 50


def long_feed(index: int) -> str:
    items = [
        (f"f{index:03d}-{j}", f"Council notice {j} from district {index}")
        for j in range(LONG_ITEMS)
    ]
    items.append((f"shared-{index % SHARED_STORIES}", "Wire story carried by many feeds"))
    return rss(items)


def released_after(index: int) -> int:
    """How many editor commands must have finished before feed ``index`` answers:
    the feeds are spread over the editors' work, and the last answers only when
    every command is done, so the sweep writes all the while and outlasts them."""
    if index < FREE_FEEDS:
        return 0
    return (index - FREE_FEEDS + 1) * EDITOR_COMMANDS // (LONG_FEEDS - FREE_FEEDS)


def editor_commands(evidence_ids: list[int]) -> tuple[list[list[str]], list[list[list[str]]]]:
    """Fifty ordinary commands: ten to run one after another, then four batches of ten."""

    def add(n: int) -> list[str]:
        return [
            "pledge",
            "add",
            f"The borough will reopen library number {n} before the winter recess",
            "--by",
            f"Borough council {n}",
            "--made-on",
            "2024-06-13",
            "--source-url",
            f"https://news.example.org/council/{n}",
            "--tag",
            "libraries",
            "--json",
        ]

    reads = [["pledge", "list", "--json"], ["status", "--json"], ["evidence", "list", "--json"]]
    sequential = [
        add(1),
        reads[0],
        add(2),
        reads[1],
        ["pledge", "edit", "1", "--note", "checked against the G7 communique"],
        reads[2],
        ["verdict", "1", "in_the_works", "--note", "talks under way"],
        ["evidence", "confirm", str(evidence_ids[0]), "--note", "on the pledge"],
        add(3),
        ["pledge", "show", "1", "--json"],
    ]
    batches = []
    for b in range(4):
        n = 10 + 10 * b
        pledge = str(2 + b)
        batches.append(
            [
                add(n),
                add(n + 1),
                add(n + 2),
                add(n + 3),
                reads[b % 3],
                reads[(b + 1) % 3],
                # A new query is rematched over every stored article in the edit's transaction.
                ["pledge", "edit", pledge, "--deadline", "2031-12-31"]
                if b % 2
                else ["pledge", "edit", pledge, "--query", f"@nato AND spending AND notice{b}"],
                ["verdict", pledge, "in_the_works", "--note", f"batch {b}"],
                [
                    "verdict",
                    str(6 + b),
                    "kept",
                    "--note",
                    "reported",
                    "--source-url",
                    source_url(b),
                ],
                [
                    "evidence",
                    "reject" if b % 2 else "confirm",
                    str(evidence_ids[1 + b]),
                    "--note",
                    "x",
                ],
            ]
        )
    return sequential, batches


def test_fifty_editor_commands_during_a_long_sweep_all_succeed_and_the_sweep_stores_every_feed(
    server: HTTPServer, tmp_path: Path, database_url: str, database: Database, cli_for: Any
) -> None:
    finished = Counter()

    def handler(request: Request) -> Response:
        index = int(request.path.rsplit("/", 1)[-1].removesuffix(".xml"))
        finished.wait_for(released_after(index))
        time.sleep((index % 5) * 0.01)  # some servers are slower than others
        return feed_xml(long_feed(index))

    server.expect_request(re.compile(r"^/long/\d+\.xml$")).respond_with_handler(handler)
    feeds = {"example": str(EXAMPLE_FEED)}
    feeds.update({f"f{i:03d}": server.url_for(f"/long/{i}.xml") for i in range(LONG_FEEDS)})
    config = write_config(
        tmp_path / "config.toml", database_url, feeds, timeout=HOLD_TIMEOUT + 30, concurrency=8
    )
    # The newsroom's pledges, and evidence from the example feed to review.
    cli = cli_for(config)
    assert cli("pledge", "import", str(EXAMPLE_PLEDGES)).code == 0
    assert cli("sweep", "--feed", "example").code == 0
    evidence_ids = [item["id"] for item in json.loads(cli("evidence", "list", "--json").out)]
    assert len(evidence_ids) >= 5
    sequential, batches = editor_commands(evidence_ids)
    assert len(sequential) + sum(len(b) for b in batches) == EDITOR_COMMANDS
    seeded = count(database, Article)

    sweep = start(config, "sweep", "--json")
    ran: list[Ran] = []

    def editor(args: list[str]) -> Ran:
        result = run(config, *args)
        finished.add()
        return result

    try:
        # The sweep is mid-way: it has stored its first feeds, the others are to come.
        wait_until(lambda: count(database, Article) > seeded, "the sweep stored its first feeds")
        for args in sequential:
            ran.append(editor(args))
        for batch in batches:
            with ThreadPoolExecutor(len(batch)) as pool:
                ran.extend(pool.map(editor, batch))
        still_sweeping = sweep.poll() is None
    finally:
        # Whatever failed above, release every held feed so the sweep can end.
        for _ in range(EDITOR_COMMANDS):
            finished.add()
        swept = finish(sweep, ["sweep", "--json"])

    failures = [str(r) for r in ran if r.code != 0]
    assert not failures, "\n".join(failures)
    assert still_sweeping, "the editor commands all ran while the sweep was running"
    assert swept.code == 0, str(swept)
    summary = swept.json()
    assert summary["feeds_due"] == LONG_FEEDS
    assert summary["feeds_polled"] == LONG_FEEDS
    assert summary["feeds_failed"] == 0 and summary["errors"] == []
    assert summary["articles_new"] == LONG_FEEDS * LONG_ITEMS + SHARED_STORIES

    served = {
        f"https://news.example.org/f{i:03d}-{j}"
        for i in range(LONG_FEEDS)
        for j in range(LONG_ITEMS)
    } | {f"https://news.example.org/shared-{k}" for k in range(SHARED_STORIES)}
    stored = article_urls(database)
    assert len(stored) == seeded + len(served)
    assert served <= stored
    assert count(database, ArticleFeed) == seeded + LONG_FEEDS * (LONG_ITEMS + 1)

    added = [r.json() for r in ran if r.args[:2] == ("pledge", "add")]
    listed = {p["id"]: p for p in json.loads(cli("pledge", "list", "--json").out)}
    assert len(added) == 19
    assert len(listed) == 9 + len(added)
    assert all(listed[p["id"]]["text"] == p["text"] for p in added)
    # Every verdict and edit made during the sweep is kept.
    assert [listed[i]["status"] for i in range(1, 10)] == ["in_the_works"] * 5 + ["kept"] * 4
    assert [listed[i]["query"] for i in (2, 4)] == [
        "@nato AND spending AND notice0",
        "@nato AND spending AND notice2",
    ]
    assert [listed[i]["deadline"] for i in (3, 5)] == ["2031-12-31"] * 2
    reviews = {e["id"]: e["review"] for e in json.loads(cli("evidence", "list", "--json").out)}
    assert [reviews[i] for i in evidence_ids[:5]] == [
        "confirmed",
        "confirmed",
        "rejected",
        "confirmed",
        "rejected",
    ]

    runs = [r for r in sweep_runs(database) if r.id == summary["run_id"]]
    assert [(r.state, r.feeds_polled) for r in runs] == [("finished", LONG_FEEDS)]
    assert runs[0].finished_at is not None


# -- pledges logged during a sweep ----------------------------------------------------------------

EARLY, MIDDLE, FINAL = 10, 30, 10  # feeds of twelve stories each
STORIES = 12


def test_pledges_added_during_a_sweep_get_all_the_evidence_a_rematch_would_find(
    server: HTTPServer, tmp_path: Path, database_url: str, database: Database, cli_for: Any
) -> None:
    # Early feeds are stored before any pledge is added; middle feeds answer
    # while the pledges are being added, one after another over a few seconds;
    # final feeds answer only once every pledge is in.
    adding = threading.Event()
    added_all = threading.Event()
    adding_since = [0.0]

    def handler(request: Request) -> Response:
        name = request.path.strip("/").removesuffix(".xml")
        group, index = name[0], int(name[1:])
        if group == "m":
            adding.wait(HOLD_TIMEOUT)
            time.sleep(max(0.0, adding_since[0] + 0.15 * index - time.monotonic()))
        elif group == "z":
            added_all.wait(HOLD_TIMEOUT)
        return feed_xml(example_copy(name))

    server.expect_request(re.compile(r"^/[emz]\d+\.xml$")).respond_with_handler(handler)
    names = [f"e{i:02d}" for i in range(EARLY)] + [f"m{i:02d}" for i in range(MIDDLE)]
    names += [f"z{i:02d}" for i in range(FINAL)]
    config = write_config(
        tmp_path / "config.toml",
        database_url,
        {name: server.url_for(f"/{name}.xml") for name in names},
        timeout=HOLD_TIMEOUT + 30,
        concurrency=8,
    )
    cli = cli_for(config)
    rows = example_pledges()
    before, during = rows[:3], rows[3:]
    for row in before:
        assert cli(*add_args(row)).code == 0

    sweep = start(config, "sweep", "--json")
    try:
        early = EARLY * STORIES
        wait_until(lambda: count(database, Article) >= early, "the early feeds were stored")
        assert count(database, Article) == early
        adding_since[0] = time.monotonic()
        adding.set()
        adds = []
        for row in during:
            adds.append((start(config, *add_args(row)), add_args(row)))
            time.sleep(0.4)
        results = [finish(proc, args) for proc, args in adds]
        stored_when_added = count(database, Article)
    finally:
        adding.set()
        added_all.set()
        swept = finish(sweep, ["sweep", "--json"])

    failures = [str(r) for r in results if r.code != 0]
    assert not failures, "\n".join(failures)
    assert swept.code == 0, str(swept)
    summary = swept.json()
    assert (summary["feeds_polled"], summary["feeds_failed"]) == (len(names), 0)
    assert stored_when_added < len(names) * STORIES, "the sweep was not over when all were added"
    assert all(r.json()["evidence_new"] > 0 for r in results), "each found the early feeds' copies"

    # Every copy of the example feed is evidence for the same pledges, wherever
    # the copy came in: before a pledge was added, while it was, or after.
    pairs = evidence_pairs(database)
    pledge_ids = {p["id"] for p in json.loads(cli("pledge", "list", "--json").out)}
    assert len(pledge_ids) == len(rows)
    for pledge_id in pledge_ids:
        copies = {url.split("/")[3] for p, url in pairs if p == pledge_id}
        assert copies == set(names), (
            f"pledge #{pledge_id} has no evidence from {sorted(set(names) - copies)}"
        )
    rematched = run(config, "rematch", "--json")
    assert rematched.code == 0, str(rematched)
    assert rematched.json() == {"evidence_new": 0}, "evidence the sweep and the adds both missed"
    assert evidence_pairs(database) == pairs


# -- sweeps started at the same instant -----------------------------------------------------------

DISABLED_FEEDS = 1500


# SQLite's one sweep lock; PostgreSQL workers share feeds instead (tests/test_workers.py).
@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_three_sweeps_started_at_once_on_a_fresh_database_run_one_and_turn_two_away(
    server: HTTPServer, tmp_path: Path, database_url: str, database: Database
) -> None:
    turned_away = threading.Event()

    def handler(request: Request) -> Response:
        # Held until two sweeps have exited: the three certainly overlapped.
        turned_away.wait(HOLD_TIMEOUT)
        index = int(request.path.strip("/").removesuffix(".xml"))
        return feed_xml(rss([(f"s{index}-{j}", f"Story {j} of feed {index}") for j in range(10)]))

    server.expect_request(re.compile(r"^/\d+\.xml$")).respond_with_handler(handler)
    feeds = {f"feed{i:02d}": server.url_for(f"/{i}.xml") for i in range(20)}
    config = write_config(tmp_path / "config.toml", database_url, feeds, timeout=HOLD_TIMEOUT + 30)
    # Feeds kept in the config but switched off are synced, never polled: many
    # of them make each sweep's first write long enough for the three to meet there.
    with config.open("a", encoding="utf-8") as handle:
        for i in range(DISABLED_FEEDS):
            handle.write(
                f'[[feeds]]\nname = "off{i:04d}"\nurl = "https://off.example.org/{i}.xml"\n'
                "enabled = false\n"
            )
    assert count(database, Feed) == 0

    procs = start_together(tmp_path, config, [["sweep", "--json"]] * 3)
    try:
        # If the lock let more than one through, nobody exits: the codes below say so.
        eventually(lambda: sum(p.poll() is not None for p in procs) >= 2, timeout=30)
    finally:
        turned_away.set()
        results = [finish(p, ["sweep", "--json"]) for p in procs]

    described = "\n".join(str(r) for r in results)
    assert sorted(r.code for r in results) == [0, 75, 75], described
    assert not any("Traceback" in r.err for r in results), described
    for loser in (r for r in results if r.code == 75):
        assert loser.err.startswith("error: another sweep is running on this database"), described
        assert len(loser.err.strip().splitlines()) == 1, described
        assert loser.out == ""
    winner = next(r for r in results if r.code == 0).json()
    assert (winner["feeds_polled"], winner["feeds_failed"], winner["articles_new"]) == (20, 0, 200)
    assert count(database, Feed) == 20 + DISABLED_FEEDS
    assert count(database, Article) == 200
    assert count(database, ArticleFeed) == 200
    assert sorted(request.path for request, _ in server.log) == sorted(
        f"/{i}.xml" for i in range(20)
    ), "only the sweep that holds the lock fetches"
    assert [(r.state, r.feeds_polled) for r in sweep_runs(database)] == [("finished", 20)]


# -- editors racing each other -------------------------------------------------------------------


def test_eight_identical_pledges_added_at_once_are_logged_once(
    tmp_path: Path, database_url: str, database: Database
) -> None:
    config = write_config(tmp_path / "config.toml", database_url, {})
    row = example_pledges()[0]
    procs = start_together(tmp_path, config, [add_args(row)] * 8)
    results = [finish(p, add_args(row)) for p in procs]

    described = "\n".join(str(r) for r in results)
    assert sorted(r.code for r in results) == [0] + [2] * 7, described
    logged = next(r for r in results if r.code == 0).json()
    for refused in (r for r in results if r.code == 2):
        assert refused.err.startswith(
            f"error: pledge #{logged['id']} already records this pledge"
        ), described
    with database.session(write=False) as session:
        texts = session.scalars(select(Pledge.text)).all()
    assert texts == [row["text"]]


def test_eight_verdicts_at_once_on_one_pledge_form_one_unbroken_history(
    tmp_path: Path, database_url: str, database: Database, cli_for: Any
) -> None:
    config = write_config(tmp_path / "config.toml", database_url, {})
    cli = cli_for(config)
    assert cli(*add_args(example_pledges()[0])).code == 0
    statuses = ["in_the_works", "stalled", "kept", "broken"] * 2
    commands = [
        # --same: two of the eight may name the status the other left.
        [
            *("verdict", "1", status, "--note", f"n{i}"),
            *("--source-url", source_url(i), "--same", "--json"),
        ]
        for i, status in enumerate(statuses, start=1)
    ]
    procs = start_together(tmp_path, config, commands)
    results = [finish(p, args) for p, args in zip(procs, commands, strict=True)]

    failures = [str(r) for r in results if r.code != 0]
    assert not failures, "\n".join(failures)
    shown = json.loads(cli("pledge", "show", "1", "--json").out)
    history = shown["history"]
    assert (history[0]["from"], history[0]["to"]) == (None, "not_yet_rated")
    assert sorted(change["note"] for change in history[1:]) == [f"n{i}" for i in range(1, 9)]
    chain = [(change["from"], change["to"]) for change in history]
    for earlier, later in pairwise(chain):
        assert later[0] == earlier[1], f"the history is broken: {chain}"
    assert shown["status"] == chain[-1][1]
    # What each editor was told is what the history keeps.
    told = sorted((r.json()["from"], r.json()["to"]) for r in results)
    assert told == sorted(chain[1:])


# -- a sweep that lost its lock -------------------------------------------------------------------


def steal_lock(database: Database) -> None:
    """What a sweep elsewhere does when it takes over a lock it presumed dead."""
    now = datetime.now(UTC)
    with database.session() as session:
        session.execute(
            update(SweepLock).values(holder=STOLEN_BY, acquired_at=now, heartbeat_at=now)
        )


def lock_holder(database: Database) -> str | None:
    with database.session(write=False) as session:
        return session.scalar(select(SweepLock.holder))


# SQLite's one sweep lock; PostgreSQL workers share feeds instead (tests/test_workers.py).
@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_a_sweep_whose_lock_was_taken_over_stops_without_writing_and_exits_75(
    server: HTTPServer, tmp_path: Path, database_url: str, database: Database
) -> None:
    stolen = threading.Event()

    def handler(request: Request) -> Response:
        name = request.path.strip("/").removesuffix(".xml")
        if not name.startswith("a"):
            stolen.wait(HOLD_TIMEOUT)  # the slow feeds answer only after the lock changed hands
        return feed_xml(rss([(f"{name}-{j}", f"Story {j} of {name}") for j in range(5)]))

    server.expect_request(re.compile(r"^/[\w-]+\.xml$")).respond_with_handler(handler)
    names = [f"a{i}" for i in range(5)] + ["m-slow"] + [f"z{i}" for i in range(5)]
    config = write_config(
        tmp_path / "config.toml",
        database_url,
        {name: server.url_for(f"/{name}.xml") for name in names},
        timeout=HOLD_TIMEOUT + 30,
        concurrency=16,
        per_host=16,
    )
    sweep = start(config, "sweep", "--json")
    try:
        wait_until(lambda: count(database, Article) >= 25, "the fast feeds were stored")
        steal_lock(database)
    finally:
        stolen.set()
        swept = finish(sweep, ["sweep", "--json"])

    assert swept.code == 75, str(swept)
    lines = swept.err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(
        "error: another sweep took this database's sweep lock over"
    ), str(swept)
    assert swept.out == ""
    assert article_urls(database) == {
        f"https://news.example.org/a{i}-{j}" for i in range(5) for j in range(5)
    }, "nothing answered after the takeover is stored"
    with database.session(write=False) as session:
        polled = set(session.scalars(select(Feed.name).where(Feed.last_polled_at.is_not(None))))
    assert polled == {f"a{i}" for i in range(5)}
    assert [(r.state, r.finished_at) for r in sweep_runs(database)] == [("running", None)]
    assert lock_holder(database) == STOLEN_BY, "the new holder keeps the lock"


# SQLite's one sweep lock; PostgreSQL workers share feeds instead (tests/test_workers.py).
@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_a_sweep_whose_heartbeat_finds_the_lock_taken_over_fetches_no_more_feeds(
    server: HTTPServer, tmp_path: Path, database_url: str, database: Database
) -> None:
    in_hand = threading.Event()
    release = threading.Event()

    def slow(_request: Request) -> Response:
        in_hand.set()
        release.wait(HOLD_TIMEOUT)
        return feed_xml(rss([("a-1", "The feed in hand")]))

    server.expect_request("/a.xml").respond_with_handler(slow)
    for name in ("b", "c"):
        server.expect_request(f"/{name}.xml").respond_with_data(rss([(name, name.upper())]))
    config_path = write_config(
        tmp_path / "config.toml",
        database_url,
        {name: server.url_for(f"/{name}.xml") for name in ("a", "b", "c")},
        timeout=HOLD_TIMEOUT + 30,
        concurrency=1,
    )
    stop = threading.Event()
    sweep = Sweep(database, load_config(config_path, env={}), stop=stop, heartbeat_every=0.2)
    raised: list[BaseException] = []

    def sweeping() -> None:
        try:
            sweep.run()
        except BaseException as exc:
            raised.append(exc)

    worker = threading.Thread(target=sweeping)
    worker.start()
    try:
        assert in_hand.wait(30), "the sweep fetches its first feed"
        steal_lock(database)
        # The next beat finds the lock gone and stops the sweep, while a feed is still in hand.
        assert sweep._halt.wait(10), "the heartbeat noticed the takeover"
    finally:
        release.set()
        worker.join(60)
    assert not worker.is_alive()
    assert len(raised) == 1 and isinstance(raised[0], SweepLockLost), raised
    # The caller's stop is the caller's: a `watch` goes on to its next sweep.
    assert not stop.is_set()
    assert [request.path for request, _ in server.log] == ["/a.xml"], "b and c were not fetched"
    assert count(database, Article) == 0, "the feed in hand was not stored"
    assert [(r.state, r.finished_at) for r in sweep_runs(database)] == [("running", None)]
    assert lock_holder(database) == STOLEN_BY


def test_a_pledge_archived_during_a_sweep_gets_no_evidence_after_it(
    server: HTTPServer, tmp_path: Path, database_url: str, database: Database, cli_for: Any
) -> None:
    """`pledge archive` beside a running sweep, as real processes: both succeed, and
    the feeds stored after the archive bring the archived pledge nothing."""
    archived = threading.Event()

    def handler(request: Request) -> Response:
        name = request.path.strip("/").removesuffix(".xml")
        if name.startswith("z"):
            archived.wait(HOLD_TIMEOUT)
        return feed_xml(example_copy(name))

    server.expect_request(re.compile(r"^/[ez]\d+\.xml$")).respond_with_handler(handler)
    names = [f"e{i:02d}" for i in range(4)] + [f"z{i:02d}" for i in range(4)]
    config = write_config(
        tmp_path / "config.toml",
        database_url,
        {name: server.url_for(f"/{name}.xml") for name in names},
        timeout=HOLD_TIMEOUT + 30,
        concurrency=8,
    )
    cli = cli_for(config)
    for row in example_pledges():
        assert cli(*add_args(row)).code == 0
    sweep = start(config, "sweep", "--json")
    try:
        wait_until(lambda: count(database, Article) >= 4 * STORIES, "the early feeds were stored")
        done = run(config, "pledge", "archive", "1", "--reason", "logged twice")
    finally:
        archived.set()
        swept = finish(sweep, ["sweep", "--json"])
    assert done.code == 0, str(done)
    assert swept.code == 0, str(swept)
    assert swept.json()["feeds_polled"] == len(names)
    copies = {url.split("/")[3] for p, url in evidence_pairs(database) if p == 1}
    assert copies and all(c.startswith("e") for c in copies), sorted(copies)
    others = {url.split("/")[3] for p, url in evidence_pairs(database) if p != 1}
    assert any(c.startswith("z") for c in others), "the sweep went on for the other pledges"
