"""Several workers on one PostgreSQL database, as real processes over loopback feeds.

On PostgreSQL any number of `sweep` and `watch` processes share the feeds:
each claims a few due feeds at a time and holds them with a lease (see
pledgewatch/sweep/claims.py). These tests run the workers as processes against
feeds on a threaded loopback server that answers after a latency and logs
every request, and check what a newsroom relies on: every feed polled once,
every story and evidence row stored once, more workers doing more, and a
worker killed with SIGKILL losing nothing.
"""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Iterator
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from itertools import pairwise
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select, update

from pledgewatch.config import load_config
from pledgewatch.db import Database
from pledgewatch.models import Article, ArticleFeed, Evidence, Feed, SweepRun
from pledgewatch.sweep import Sweep
from tests.test_concurrency import environment, finish, run, start_together, wait_until

PLEDGE = [
    "pledge",
    "add",
    "China will not sell weapons to Russia",
    "--by",
    "Xi Jinping",
    "--made-on",
    "2024-06-13",
    "--source-url",
    "https://www.reuters.com/world/china-russia-weapons/",
    "--query",
    "china AND weapons AND russia",
]


class LoopbackFeeds:
    """RSS feeds at /f<i>.xml that answer after ``latency`` seconds.

    Each feed carries a story of its own, one about the pledge on even feeds,
    and a story every feed carries (the same URL from all of them, so workers
    race to store it). ``phase`` names the stories, so a second round of polls
    brings new ones. Every request is logged with when it arrived.
    """

    def __init__(self, latency: float) -> None:
        self.latency = latency
        self.phase = "a"
        self.slow: dict[str, float] = {}  # path -> latency of its own
        self.log: list[tuple[str, float]] = []
        self._lock = threading.Lock()
        feeds = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                with feeds._lock:
                    feeds.log.append((self.path, time.monotonic()))
                time.sleep(feeds.slow.get(self.path, feeds.latency))
                body = feeds.body(self.path).encode("utf-8")
                try:
                    self.send_response(200)
                    self.send_header("Content-Type", "application/rss+xml")
                    self.send_header("Content-Length", str(len(body)))
                    self.end_headers()
                    self.wfile.write(body)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # a worker stopped or killed while this feed was in its hand

            def log_message(self, *_args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def url(self, i: int) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/f{i}.xml"

    def body(self, path: str) -> str:
        i = int(path.strip("/").removeprefix("f").removesuffix(".xml"))
        p = self.phase
        items = [(f"{p}-own-{i}", f"Council {p} budget note {i}")]
        if i % 2 == 0:
            items.append((f"{p}-arms-{i}", f"China sells weapons to Russia, report {p}{i} says"))
        items.append((f"{p}-shared", f"China weapons reach Russia, every desk reports ({p})"))
        entries = "".join(
            f"<item><title>{title}</title><link>https://news.example.org/{slug}</link>"
            f"<guid>https://news.example.org/{slug}</guid>"
            "<pubDate>Mon, 02 Dec 2024 10:00:00 GMT</pubDate></item>"
            for slug, title in items
        )
        return (
            '<?xml version="1.0" encoding="UTF-8"?><rss version="2.0"><channel>'
            f"<title>Feed {i}</title><link>https://news.example.org/</link>"
            f"<description>Loopback feed</description>{entries}</channel></rss>"
        )

    def requests(self, since: float = 0.0) -> list[tuple[str, float]]:
        with self._lock:
            return [(path, at) for path, at in self.log if at >= since]

    def expected_articles(self, feeds: int) -> int:
        return feeds + (feeds + 1) // 2 + 1

    def expected_evidence(self, feeds: int) -> int:
        return (feeds + 1) // 2 + 1


@pytest.fixture
def loopback() -> Iterator[LoopbackFeeds]:
    feeds = LoopbackFeeds(latency=0.15)
    feeds.thread.start()
    yield feeds
    feeds.server.shutdown()
    feeds.server.server_close()


def configure(
    tmp_path: Path,
    url: str,
    loopback: LoopbackFeeds,
    n: int,
    *,
    feed_interval: str | None = None,
    **sweep: object,
) -> Path:
    settings = {"concurrency": 4, "per_host": 4, "timeout": 20, "lease": "1s", **sweep}
    lines = [f'[database]\nurl = "{url}"\n[sweep]\n']
    lines += [f"{key} = {json.dumps(value)}\n" for key, value in settings.items()]
    for i in range(n):
        lines.append(f'[[feeds]]\nname = "f{i:03d}"\nurl = "{loopback.url(i)}"\n')
        if feed_interval:
            lines.append(f'interval = "{feed_interval}"\n')
    config = tmp_path / "config.toml"
    config.write_text("".join(lines), encoding="utf-8")
    return config


def watch(config: Path, log: Path) -> subprocess.Popen[bytes]:
    """`pledgewatch watch` with its log in a file (a pipe nobody reads would fill)."""
    with log.open("wb") as out:
        return subprocess.Popen(
            [sys.executable, "-m", "pledgewatch", "--config", str(config), "watch"],
            stdout=out,
            stderr=subprocess.STDOUT,
            env=environment(),
        )


def stop_all(procs: list[subprocess.Popen[bytes]]) -> list[int]:
    for proc in procs:
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
    codes = []
    for proc in procs:
        try:
            codes.append(proc.wait(60))
        except subprocess.TimeoutExpired:
            proc.kill()
            codes.append(proc.wait())
    return codes


def stored(database: Database, model: Any, *where: Any) -> int:
    with database.session(write=False) as session:
        return int(session.scalar(select(func.count()).select_from(model).where(*where)) or 0)


def ready(database: Database, config: Path) -> None:
    """The schema, and the one pledge the feeds' stories are evidence for."""
    database.migrate()
    added = run(config, *PLEDGE)
    assert added.code == 0, str(added)


def span(requests: list[tuple[str, float]]) -> float:
    times = [at for _, at in requests]
    return max(times) - min(times)


def test_three_sweeps_share_300_feeds_each_polled_once_and_go_faster_than_one(
    pg_schema: str, tmp_path: Path, loopback: LoopbackFeeds
) -> None:
    n = 300
    # Latency large enough that fetching, not each process's start, is the work.
    loopback.latency = 0.2
    config = configure(tmp_path, pg_schema, loopback, n)
    database = Database(pg_schema)
    ready(database, config)

    # One worker polls every feed.
    alone = run(config, "sweep", "--json")
    assert alone.code == 0, str(alone)
    assert alone.json()["feeds_polled"] == n
    one_worker = loopback.requests()
    twice = [p for p, c in Counter(p for p, _ in one_worker).items() if c > 1]
    assert len({p for p, _ in one_worker}) == n and not twice, f"fetched twice: {twice}"

    # New stories, every feed due again, and three workers at once.
    loopback.phase = "b"
    with database.session() as session:
        session.execute(update(Feed).values(next_poll_at=None))
    began = time.monotonic()
    procs = start_together(tmp_path, config, [["sweep", "--json"]] * 3)
    results = [finish(p, ["sweep", "--json"]) for p in procs]
    shown = "\n".join(str(r) for r in results)
    assert [r.code for r in results] == [0, 0, 0], shown
    three_workers = loopback.requests(since=began)

    polled = [r.json()["feeds_polled"] for r in results]
    assert sum(polled) == n and all(p > 0 for p in polled), polled
    assert sum(r.json()["feeds_failed"] for r in results) == 0, shown
    assert sorted(Counter(p for p, _ in three_workers).values()) == [1] * n, (
        "every feed was fetched once, by one worker"
    )
    # Every story once, linked once to each feed that carries it, and its evidence once.
    assert stored(database, Article, Article.url.like("%/b-%")) == loopback.expected_articles(n)
    assert stored(database, ArticleFeed) == 2 * (n + (n + 1) // 2 + n)
    assert stored(database, Evidence) == 2 * loopback.expected_evidence(n)
    assert stored(database, Feed, Feed.claimed_by.is_not(None)) == 0, "every claim given back"
    with database.session(write=False) as session:
        runs = session.execute(select(SweepRun.state, SweepRun.feeds_polled)).all()
    assert sorted(state for state, _ in runs) == ["finished"] * 4

    ratio = span(one_worker) / span(three_workers)
    print(f"300 feeds: one worker {span(one_worker):.2f}s, three {span(three_workers):.2f}s")
    assert ratio >= 2.5, f"three workers polled only {ratio:.2f}x as fast as one"


def test_a_worker_killed_with_sigkill_leaves_its_feeds_to_the_others_after_its_lease(
    pg_schema: str, tmp_path: Path, loopback: LoopbackFeeds
) -> None:
    n = 120
    # Each feed is due once in this test: a second fetch is a claim taken over.
    config = configure(
        tmp_path,
        pg_schema,
        loopback,
        n,
        feed_interval="7d",
        interval="1s",
        concurrency=2,
        per_host=2,
    )
    database = Database(pg_schema)
    ready(database, config)

    watchers = [watch(config, tmp_path / f"watch{i}.log") for i in range(3)]
    victim = watchers[0]
    try:
        wait_until(
            lambda: (
                stored(database, Feed, Feed.last_polled_at.is_not(None)) >= 20
                and stored(database, Feed, Feed.claimed_by.like(f"%:{victim.pid}:%")) > 0
            ),
            "the first worker has stored feeds and holds claims",
        )
        held = stored(database, Feed, Feed.claimed_by.like(f"%:{victim.pid}:%"))
        victim.send_signal(signal.SIGKILL)
        victim.wait(10)
        wait_until(
            lambda: (
                stored(database, Feed, Feed.last_polled_at.is_not(None)) == n
                and stored(database, Feed, Feed.claimed_by.is_not(None)) == 0
            ),
            "the others polled every feed, the killed worker's too",
            timeout=60,
        )
        # The killed worker's run is marked abandoned once it has not beaten for three leases.
        time.sleep(3.5)
        wait_until(
            lambda: stored(database, SweepRun, SweepRun.state == "abandoned") >= 1,
            "the killed worker's run is marked abandoned",
            timeout=20,
        )
    finally:
        codes = stop_all(watchers)
    assert codes[1:] == [0, 0], [(tmp_path / f"watch{i}.log").read_text() for i in (1, 2)]

    fetched = Counter(p for p, _ in loopback.requests())
    assert set(fetched) == {f"/f{i}.xml" for i in range(n)}, "no feed was lost"
    # Only what the killed worker had in hand was fetched twice, and stored once.
    assert sum(c - 1 for c in fetched.values()) <= held, (fetched, held)
    assert stored(database, Article) == loopback.expected_articles(n)
    assert stored(database, ArticleFeed) == n + (n + 1) // 2 + n
    assert stored(database, Evidence) == loopback.expected_evidence(n)
    with database.session(write=False) as session:
        states = session.scalars(select(SweepRun.state)).all()
    assert "running" not in states, states


def test_three_watch_workers_poll_every_due_feed_once_per_interval(
    pg_schema: str, tmp_path: Path, loopback: LoopbackFeeds
) -> None:
    n = 60
    loopback.latency = 0.05
    config = configure(tmp_path, pg_schema, loopback, n, feed_interval="3s", interval="1s")
    database = Database(pg_schema)
    ready(database, config)

    def polls() -> dict[str, list[float]]:
        by_feed: dict[str, list[float]] = {}
        for path, at in loopback.requests():
            by_feed.setdefault(path, []).append(at)
        return by_feed

    # Until every feed has come due again twice and been polled three times: how long
    # three processes take to start on a busy machine is not what is tested.
    watchers = [watch(config, tmp_path / f"watch{i}.log") for i in range(3)]
    try:
        wait_until(
            lambda: len(found := polls()) == n and all(len(t) >= 3 for t in found.values()),
            "every feed was polled three times",
            timeout=90,
        )
    finally:
        codes = stop_all(watchers)
    logs = [(tmp_path / f"watch{i}.log").read_text(encoding="utf-8") for i in range(3)]
    assert codes == [0, 0, 0], logs

    for path, times in polls().items():
        gaps = [b - a for a, b in pairwise(times)]
        assert all(gap >= 3.0 for gap in gaps), f"{path} was polled twice within 3s: {gaps}"
    with database.session(write=False) as session:
        workers = session.scalars(select(SweepRun.worker).where(SweepRun.feeds_polled > 0)).all()
    # A worker's runs are its process's: host:pid:namespace:token, a token per sweep.
    assert len({worker.split(":")[1] for worker in workers}) == 3, "every worker did its share"


def test_a_worker_whose_claim_was_taken_stores_nothing_for_that_feed(
    pg_schema: str, tmp_path: Path, loopback: LoopbackFeeds
) -> None:
    loopback.slow["/f0.xml"] = 3.0
    config_path = configure(tmp_path, pg_schema, loopback, 2, lease="1m")
    database = Database(pg_schema)
    database.migrate()
    sweep = Sweep(database, load_config(config_path, env={}))
    outcome: list[Any] = []
    worker = threading.Thread(target=lambda: outcome.append(sweep.run()))
    worker.start()
    try:
        wait_until(lambda: any(p == "/f0.xml" for p, _ in loopback.requests()), "f0 is fetched")
        with database.session() as session:
            # Another worker took the feed over, as after a lease that ran out.
            session.execute(
                update(Feed)
                .where(Feed.name == "f000")
                .values(claimed_by="elsewhere:1:x:y", lease_until=func.now() + timedelta(hours=1))
            )
    finally:
        worker.join(60)
    assert not worker.is_alive()
    summary = outcome[0]
    assert (summary.feeds_polled, summary.feeds_failed) == (1, 0), summary
    with database.session(write=False) as session:
        f0 = session.scalars(select(Feed).where(Feed.name == "f000")).one()
        urls = set(session.scalars(select(Article.url)))
    assert f0.last_polled_at is None and f0.claimed_by == "elsewhere:1:x:y"
    assert "https://news.example.org/a-own-0" not in urls
    assert "https://news.example.org/a-own-1" in urls


def test_claims_take_feeds_never_polled_then_the_longest_due_and_never_one_held(
    pg_schema: str,
) -> None:
    from datetime import UTC, datetime

    from sqlalchemy import insert

    from pledgewatch.sweep import FeedClaims

    database = Database(pg_schema)
    database.migrate()
    now = datetime.now(UTC)
    # Due times shuffled against the ids, ties broken by id; two never polled; two not due.
    due = {1: None, 2: 30, 3: 10, 4: None, 5: 20, 6: 10, 7: -5, 8: -60, 9: 40}
    with database.session() as session:
        session.execute(
            insert(Feed),
            [
                {
                    "id": i,
                    "name": f"f{i}",
                    "url": f"http://127.0.0.1/f{i}.xml",
                    "enabled": True,
                    "consecutive_errors": 0,
                    "created_at": now,
                    "next_poll_at": None if ago is None else now - timedelta(minutes=ago),
                }
                for i, ago in due.items()
            ],
        )
    since = now + timedelta(seconds=1)
    first, second = (FeedClaims(database, timedelta(minutes=5)) for _ in range(2))
    # A claim that spans the never-polled feeds and the due ones.
    assert [f.id for f in first.claim(3, since=since)] == [1, 4, 9]
    # Another worker never gets a feed the first one holds.
    assert [f.id for f in second.claim(2, since=since)] == [2, 5]
    assert [f.id for f in first.claim(10, since=since)] == [3, 6]
    assert second.claim(10, since=since) == []
    with database.session(write=False) as session:
        held = {row.id: row.claimed_by for row in session.execute(select(Feed.id, Feed.claimed_by))}
    assert held == {
        1: first.holder, 4: first.holder, 9: first.holder, 3: first.holder, 6: first.holder,
        2: second.holder, 5: second.holder, 7: None, 8: None,
    }  # fmt: skip
    database.dispose()
