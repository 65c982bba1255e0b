"""A newsroom's scale: workers sharing PostgreSQL, the matcher at 10,000 pledges, a
sweep's cost against the pledge count.

    python bench/scale_bench.py [workers] [matcher] [match]   (all by default)

workers  Throughput of 1, 2 and 4 `pledgewatch sweep` processes started together on
         one PostgreSQL database ($PLEDGEWATCH_TEST_DATABASE_URL, else the local
         server's `test` database) over 400 loopback feeds that answer after 100 ms,
         with concurrency = per_host = 4 for each worker: feeds a second from the
         first request to the last, as the ratio to one worker, and whether every
         feed was fetched once.
matcher  What a sweep pays to get its matcher at 10,000 pledges: a cron sweep's full
         load, a `watch` worker's cached matcher when nothing changed, and after one
         pledge was edited (SQLite).
match    A sweep of the same 3,000 new articles with 100 and with 5,000 pledges, the
         ratio measured in one run; once with pledges about the articles (the first
         100 pledges find 30 articles each: the same 3,000 evidence rows either way)
         and once with pledges about nothing in them (SQLite).
feeds    8,000 and 50,000 feeds on loopback (50 ports, answering in a process of their
         own): the first sweep, an all-304 re-poll (`sweep --all` with every ETag
         stored) per feed, and `pledgewatch feed list` from a shell (SQLite;
         `feeds-pg` for the same on PostgreSQL).
add      `pledge add` (the Desk call) on a store of 200,000 articles: matched against
         the newest 5,000 at once, the rest queued, against matching every stored
         article before returning (SQLite); then the sweeps' background work.
store    10,000 pledges with 1,000,000 articles and 200,000 evidence rows, against the
         same pledges with 10,000 articles and 2,000 evidence rows, on SQLite and on
         PostgreSQL: the Desk calls behind `status`, `evidence list --pledge`, the
         pending queue's first page, `pledge show`, the weekly report, `pledge add`,
         and a sweep of 1,000 new articles (best of 5, warm; the sweep the best of
         3, the add once), with the ratio large / small measured in one run. Options:
         `store --articles N --evidence N` for a smaller try.
feed-list  `pledgewatch feed list` from a shell on 50,000 stored feeds (SQLite), best
         and median of 5 after a first run (which keeps the config's parse).
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections import Counter
from datetime import UTC, date, datetime, timedelta
from email.utils import format_datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import sqlalchemy as sa

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "bench"))

from cli_bench import fill  # noqa: E402

from pledgewatch.config import load_config  # noqa: E402
from pledgewatch.db import Database  # noqa: E402
from pledgewatch.evidence import MatcherCache, PledgeMatcher  # noqa: E402
from pledgewatch.matcher_file import load_matcher  # noqa: E402
from pledgewatch.sweep import Sweep  # noqa: E402

PG = os.environ.get(
    "PLEDGEWATCH_TEST_DATABASE_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)


# -- workers ------------------------------------------------------------------------------------


class Feeds:
    """Loopback RSS feeds answering after a latency; logs when each was asked for."""

    def __init__(self, latency: float) -> None:
        self.latency = latency
        self.round = 0
        self.log: list[tuple[str, float]] = []
        lock = threading.Lock()
        feeds = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                with lock:
                    feeds.log.append((self.path, time.monotonic()))
                time.sleep(feeds.latency)
                i = self.path.strip("/").removesuffix(".xml")
                items = "".join(
                    f"<item><title>Council {feeds.round} note {j} of {i}</title>"
                    f"<link>https://news.example.org/{feeds.round}/{i}/{j}</link></item>"
                    for j in range(3)
                )
                body = (
                    f'<?xml version="1.0"?><rss version="2.0"><channel><title>{i}</title>'
                    f"<link>https://news.example.org/</link><description>d</description>"
                    f"{items}</channel></rss>"
                ).encode()
                try:
                    self.send_response(200)
                    self.send_header("Content-Type", "application/rss+xml")
                    self.send_header("Content-Length", str(len(body)))
                    self.end_headers()
                    self.wfile.write(body)
                except OSError:
                    pass

            def log_message(self, *_args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def url(self, i: int) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/f{i}.xml"


def pg_schema() -> str:
    schema = f"pw_bench_{uuid.uuid4().hex[:10]}"
    admin = sa.create_engine(PG)
    with admin.begin() as conn:
        conn.execute(sa.text(f'CREATE SCHEMA "{schema}"'))
    admin.dispose()
    url = sa.engine.make_url(PG).update_query_dict({"options": f"-csearch_path={schema}"})
    return url.render_as_string(hide_password=False)


def drop_schema(url: str) -> None:
    schema = sa.engine.make_url(url).query["options"].split("=", 1)[1]  # type: ignore[union-attr]
    admin = sa.create_engine(PG)
    with admin.begin() as conn:
        conn.execute(sa.text(f'DROP SCHEMA "{schema}" CASCADE'))
    admin.dispose()


def workers(feeds_n: int = 400, latency: float = 0.1) -> None:
    print(f"workers: {feeds_n} loopback feeds, {latency * 1000:.0f} ms latency, PostgreSQL")
    feeds = Feeds(latency)
    base = None
    for n in (1, 2, 4):
        url = pg_schema()
        folder = Path(tempfile.mkdtemp(prefix="pw-workers-"))
        config = folder / "config.toml"
        lines = [
            f'[database]\nurl = "{url}"\n[sweep]\nconcurrency = 4\nper_host = 4\n'
            'timeout = 20\nlease = "30s"\n'
        ]
        lines += [f'[[feeds]]\nname = "f{i:03d}"\nurl = "{feeds.url(i)}"\n' for i in range(feeds_n)]
        config.write_text("".join(lines), encoding="utf-8")
        Database(url).migrate()
        feeds.round += 1
        began = time.monotonic()
        procs = [
            subprocess.Popen(
                [sys.executable, "-m", "pledgewatch", "--config", str(config), "sweep", "--json"],
                stdout=subprocess.DEVNULL,
                stderr=subprocess.PIPE,
            )
            for _ in range(n)
        ]
        codes = [p.wait(600) for p in procs]
        if any(codes):
            raise SystemExit(f"a worker failed: {[p.stderr.read() for p in procs if p.stderr]}")
        asked = [(path, at) for path, at in feeds.log if at >= began]
        times = [at for _, at in asked]
        span = max(times) - min(times)
        once = set(Counter(path for path, _ in asked).values()) == {1}
        rate = feeds_n / span
        base = base or rate
        print(
            f"  {n} worker{'s' if n > 1 else ' '}: {span:6.2f} s, {rate:6.1f} feeds/s, "
            f"{rate / base:4.2f}x one worker; every feed fetched once: {once}"
        )
        drop_schema(url)
    feeds.server.shutdown()


# -- matcher ------------------------------------------------------------------------------------


def matcher(pledges: int = 10_000) -> None:
    folder = Path(tempfile.mkdtemp(prefix="pw-matcher-"))
    url = f"sqlite:///{folder / 'pledgewatch.db'}"
    database = Database(url)
    database.migrate()
    fill(url, pledges, 300)
    print(f"matcher: {pledges:,} pledges, SQLite")

    def timed(what: str, get: Any) -> PledgeMatcher:
        start = time.perf_counter()
        with database.session(write=False) as session:
            found: PledgeMatcher = get(session)
        print(f"  {what:<44} {time.perf_counter() - start:7.3f} s ({len(found):,} queries)")
        return found

    timed("a cron sweep loads every query", PledgeMatcher.load)
    timed("a cron sweep builds them and saves the file", lambda s: load_matcher(s, url))
    timed("the next cron sweep reads the file", lambda s: load_matcher(s, url))
    cache = MatcherCache()
    timed("a watch worker's first sweep loads them", cache.get)
    timed("its next sweep, nothing changed", cache.get)
    with database.session() as session:
        session.execute(sa.text("UPDATE pledges SET query = 'clinics AND opened' WHERE id = 7"))
        session.execute(
            sa.text(
                "INSERT INTO pledge_revisions (pledge_id, at, by, field, old_value, new_value) "
                "VALUES (7, :now, 'bench', 'query', NULL, 'clinics AND opened')"
            ),
            {"now": datetime.now(UTC)},
        )
    timed("its next sweep, after one pledge was edited", cache.get)
    database.dispose()


# -- match --------------------------------------------------------------------------------------


def feed_files(folder: Path, feeds_n: int, items: int, round_: int = 0) -> list[Path]:
    paths = []
    now = datetime.now(UTC)
    for f in range(feeds_n):
        entries = "".join(
            f"<item><title>Ministry opens clinics {f * items + j} in province {j % 97}</title>"
            f"<link>https://news.example.org/m/{round_}/{f}/{j}</link>"
            f"<description>Officials said the minister opened the clinics n{(f * items + j) % 100}"
            " on Monday, ahead of the budget vote.</description>"
            f"<pubDate>{format_datetime(now - timedelta(minutes=j))}</pubDate></item>"
            for j in range(items)
        )
        path = folder / f"feed{f}.xml"
        path.write_text(
            '<?xml version="1.0"?><rss version="2.0"><channel><title>m</title>'
            f"<link>https://news.example.org/</link><description>d</description>{entries}"
            "</channel></rss>",
            encoding="utf-8",
        )
        paths.append(path)
    return paths


def sweep_with(
    pledges: int, about_nothing: bool, watch: bool = False, again: bool = False
) -> tuple[float, int]:
    """Seconds and evidence of a sweep of 3,000 new articles; with ``watch``, the
    third sweep of a `watch` (its matcher kept from the one before); with ``again``, a
    third cron sweep (a new Sweep's, its matcher read from the file the one before saved)."""
    folder = Path(tempfile.mkdtemp(prefix="pw-match-"))
    url = f"sqlite:///{folder / 'pledgewatch.db'}"
    Database(url).migrate()
    fill(url, pledges, 0)
    if about_nothing:
        engine = sa.create_engine(url)
        with engine.begin() as conn:
            conn.execute(sa.text("UPDATE pledges SET query = 'glaciers AND n' || id"))
        engine.dispose()
    paths = feed_files(folder, 30, 100)
    config = folder / "config.toml"
    config.write_text(
        f'[database]\nurl = "{url}"\n'
        + "".join(f'[[feeds]]\nname = "feed{i}"\nurl = "{p}"\n' for i, p in enumerate(paths)),
        encoding="utf-8",
    )
    loaded = load_config(config, env={})
    database = Database(url)
    matchers = MatcherCache() if watch else None
    if watch or again:
        # Two sweeps before: the first builds its matcher on an empty store, the next
        # builds it again from the articles the first stored (``outgrew_sample``);
        # from then on a newsroom's sweeps keep it.
        Sweep(database, loaded, matchers=matchers).run()
        feed_files(folder, 30, 100, round_=1)
        Sweep(database, loaded, matchers=matchers, all_feeds=True).run()
        feed_files(folder, 30, 100, round_=2)
    start = time.perf_counter()
    summary = Sweep(database, loaded, matchers=matchers, all_feeds=watch or again).run()
    seconds = time.perf_counter() - start
    assert summary.articles_new == 3000, summary
    database.dispose()
    return seconds, summary.evidence_new


MATCH_RUNS = 3


def match() -> None:
    print(f"match: a sweep of 3,000 new articles (30 local feeds), SQLite, best of {MATCH_RUNS}")
    hows = {
        (False, False): "a cron sweep, new database",
        (False, True): "a cron sweep after one",
        (True, False): "a watch's next sweep",
    }
    # A sweep of half a second on two cores varies by a third from run to run: each
    # figure is the best of MATCH_RUNS, the two sizes alternated.
    for (watch, again), how in hows.items():
        for about_nothing in (False, True):
            runs = [
                (
                    sweep_with(100, about_nothing, watch, again),
                    sweep_with(5_000, about_nothing, watch, again),
                )
                for _ in range(MATCH_RUNS)
            ]
            few, few_found = min(r[0] for r in runs)
            many, many_found = min(r[1] for r in runs)
            kind = "about nothing in them" if about_nothing else "about the articles"
            print(
                f"  {how}, pledges {kind}: 100 pledges {few:5.2f} s ({few_found:,} evidence), "
                f"5,000 pledges {many:5.2f} s ({many_found:,} evidence): {many / few:4.2f}x"
            )


class NotModifiedServer:
    """Feeds on many loopback ports, in a process of their own: a first request gets
    a small feed with an ETag, a conditional one 304 Not Modified."""

    def __init__(self, ports: int) -> None:
        import multiprocessing

        self.count = ports
        self.ports: list[int] = []
        context = multiprocessing.get_context("fork")
        self._parent, child = context.Pipe()
        self._process = context.Process(target=self._run, args=(child,), daemon=True)

    def __enter__(self) -> NotModifiedServer:
        self._process.start()
        self.ports = self._parent.recv()
        return self

    def __exit__(self, *exc: object) -> None:
        self._process.terminate()
        self._process.join(5)

    def _run(self, pipe: Any) -> None:
        import asyncio

        async def serve(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            try:
                while True:
                    head = await reader.readuntil(b"\r\n\r\n")
                    path = head.split(b" ", 2)[1].decode()
                    if b"if-none-match" in head.lower():
                        writer.write(b'HTTP/1.1 304 Not Modified\r\nETag: "v1"\r\n\r\n')
                    else:
                        body = (
                            '<?xml version="1.0"?><rss version="2.0"><channel><title>f</title>'
                            "<link>https://news.example.org/</link><description>d</description>"
                            f"<item><title>Story of {path}</title>"
                            f"<link>https://news.example.org{path}/1</link></item>"
                            "</channel></rss>"
                        ).encode()
                        writer.write(
                            b"HTTP/1.1 200 OK\r\nContent-Type: application/rss+xml\r\n"
                            b'ETag: "v1"\r\nContent-Length: '
                            + str(len(body)).encode()
                            + b"\r\n\r\n"
                            + body
                        )
                    await writer.drain()
            except (asyncio.IncompleteReadError, ConnectionError):
                pass
            finally:
                writer.close()

        async def main() -> None:
            servers = [
                await asyncio.start_server(serve, "127.0.0.1", 0, backlog=512)
                for _ in range(self.count)
            ]
            pipe.send([srv.sockets[0].getsockname()[1] for srv in servers])
            await asyncio.Event().wait()

        asyncio.run(main())


def feeds(counts: tuple[int, ...] = (8_000, 50_000), backend: str = "sqlite") -> None:
    print(f"feeds: loopback feeds on 50 ports, concurrency 64, per_host 8, {backend}")
    per_feed: dict[int, float] = {}
    with NotModifiedServer(50) as server:
        for n in counts:
            folder = Path(tempfile.mkdtemp(prefix="pw-feeds-"))
            url = f"sqlite:///{folder / 'pledgewatch.db'}" if backend == "sqlite" else pg_schema()
            config = folder / "config.toml"
            config.write_text(
                f'[database]\nurl = "{url}"\n[sweep]\nconcurrency = 64\nper_host = 8\n'
                + "".join(
                    f'[[feeds]]\nname = "f{i:05d}"\n'
                    f'url = "http://127.0.0.1:{server.ports[i % 50]}/f{i}.xml"\n'
                    for i in range(n)
                ),
                encoding="utf-8",
            )
            database = Database(url)
            database.migrate()
            start = time.perf_counter()
            loaded = load_config(config, env={})
            load_seconds = time.perf_counter() - start
            start = time.perf_counter()
            first = Sweep(database, loaded).run()
            first_seconds = time.perf_counter() - start
            start = time.perf_counter()
            again = Sweep(database, loaded, all_feeds=True).run()
            again_seconds = time.perf_counter() - start
            if first.feeds_failed or again.feeds_not_modified != n:
                raise SystemExit(f"bench feeds failed: {first.errors[:3]} {again.errors[:3]}")
            start = time.perf_counter()
            subprocess.run(
                [sys.executable, "-m", "pledgewatch", "--config", str(config), "feed", "list"],
                check=True,
                stdout=subprocess.DEVNULL,
            )
            listed = time.perf_counter() - start
            per_feed[n] = again_seconds / n
            if backend != "sqlite":
                database.dispose()
                drop_schema(url)
            print(
                f"  {n:>6,} feeds: config {load_seconds:5.2f} s, "
                f"first sweep {first_seconds:6.1f} s, "
                f"all-304 re-poll {again_seconds:6.1f} s ({per_feed[n] * 1000:.2f} ms a feed), "
                f"feed list {listed:5.2f} s"
            )
            database.dispose()
    if len(counts) == 2:
        low, high = counts
        print(f"  per feed, {high:,} against {low:,}: {per_feed[high] / per_feed[low]:.2f}x")


def feed_list(feeds_n: int = 50_000, runs: int = 5) -> None:
    """`pledgewatch feed list` from a shell on a SQLite store of ``feeds_n`` feeds (stored
    as a sweep's sync leaves them, none polled): best and median of ``runs``."""
    from pledgewatch.models import Feed

    folder = Path(tempfile.mkdtemp(prefix="pw-feed-list-"))
    url = f"sqlite:///{folder / 'pledgewatch.db'}"
    config = folder / "config.toml"
    config.write_text(
        f'[database]\nurl = "{url}"\n'
        + "".join(
            f'[[feeds]]\nname = "f{i:05d}"\nurl = "https://news{i % 50}.example.org/f{i}.xml"\n'
            for i in range(feeds_n)
        ),
        encoding="utf-8",
    )
    database = Database(url)
    database.migrate()
    now = datetime.now(UTC)
    with database.session() as session:
        session.execute(
            sa.insert(Feed),
            [
                {
                    "name": f"f{i:05d}",
                    "url": f"https://news{i % 50}.example.org/f{i}.xml",
                    "created_at": now,
                }
                for i in range(feeds_n)
            ],
        )
    database.dispose()
    seconds = []
    for _ in range(runs + 1):  # the first run keeps the config's parse for the others
        start = time.perf_counter()
        subprocess.run(
            [sys.executable, "-m", "pledgewatch", "--config", str(config), "feed", "list"],
            check=True,
            stdout=subprocess.DEVNULL,
        )
        seconds.append(time.perf_counter() - start)
    first, rest = seconds[0], sorted(seconds[1:])
    print(
        f"feed list, {feeds_n:,} feeds (SQLite): first {first:.2f} s, then best {rest[0]:.2f} s, "
        f"median {rest[len(rest) // 2]:.2f} s of {runs}"
    )


def add(articles: int = 200_000) -> None:
    from pledgewatch import evidence as evidence_store
    from pledgewatch.desk import Desk

    folder = Path(tempfile.mkdtemp(prefix="pw-add-"))
    url = f"sqlite:///{folder / 'pledgewatch.db'}"
    Database(url).migrate()
    fill(url, 1_000, articles)
    config = folder / "config.toml"
    config.write_text(f'[database]\nurl = "{url}"\n', encoding="utf-8")
    print(f"add: `pledge add` on {articles:,} stored articles, SQLite")
    desk = Desk(load_config(config, env={}), user="bench")
    inline = evidence_store.INLINE_REMATCH
    for n, limit in ((1, inline), (2, None)):
        evidence_store.INLINE_REMATCH = limit if limit is not None else 10**9
        start = time.perf_counter()
        added = desk.add_pledge(
            {
                "text": f"The ministry will open clinics in every province, plan {n}",
                "actor": "Health ministry",
                "made_on": "2020-01-01",
                "source_url": f"https://news.example.org/plan/{n}",
                "query": "clinics AND province",
            }
        )
        seconds = time.perf_counter() - start
        shown = (
            f"matched {added.matching[0]:,} of {added.matching[1]:,}, the rest queued"
            if added.matching
            else "every stored article matched"
        )
        print(f"  {seconds:6.2f} s, {added.evidence_new:,} evidence: {shown}")
    evidence_store.INLINE_REMATCH = inline
    start = time.perf_counter()
    found = evidence_store.run_queued(desk.database, datetime.now(UTC), budget=3600.0)
    print(f"  the queued rest: {time.perf_counter() - start:6.2f} s, {found:,} evidence")
    desk.close()


# -- store --------------------------------------------------------------------------------------

TOPICS = (
    "clinics hospital nurses waiting lists",
    "housing homes planning rents",
    "tariffs exports trade deal",
    "troops defence spending missiles",
    "emissions coal solar carbon",
    "schools teachers exams",
    "migration border asylum",
    "rail bridge motorway airport",
    "taxes budget deficit",
    "election ballot turnout",
)
PLACES = ("Ruritania", "Freedonia", "Latveria", "Genovia", "Elbonia", "Sokovia", "Wakanda")


# Evidence rows of the pledge whose page is measured, in the small store and the large.
PROBE_EVIDENCE = 20
SWEEPS = 3  # sweeps of 1,000 new articles each, the best of which is the figure


def fill_store(url: str, pledges: int, articles: int, evidence: int) -> None:
    """Pledges with queries of their own, articles on ten topics in seven countries
    from 50 feeds, evidence spread over the pledges (a quarter reviewed), verdicts
    on one pledge in 20; by Core inserts in batches."""
    from pledgewatch.models import Article, ArticleFeed, Evidence, Feed, Pledge, StatusChange

    engine = sa.create_engine(url)
    now = datetime.now(UTC)
    with engine.begin() as conn:
        conn.execute(
            sa.insert(Feed),
            [
                {"name": f"wire{f}", "url": f"https://wire{f}.example.org/rss", "created_at": now}
                for f in range(1, 51)
            ],
        )
        conn.execute(
            sa.insert(Pledge),
            [
                {
                    "text": f"The government of {PLACES[i % 7]} will {TOPICS[i % 10].split()[0]} "
                    f"plan {i}",
                    "actor": f"Minister {i % 700}",
                    "made_on": date(2024, 1, 1) + timedelta(days=i % 600),
                    "source_url": f"https://news.example.org/pledge/{i}",
                    "query": f"{TOPICS[i % 10].split()[1]} AND {PLACES[i % 7]} AND p{i}",
                    "query_derived": False,
                    "status": ("not_yet_rated", "in_the_works", "stalled", "kept")[i % 4]
                    if i % 20 == 0
                    else "not_yet_rated",
                    "actor_key": f"minister {i % 700}",
                    "text_key": f"plan {i}",
                    "dedupe_key": f"{i:064d}",
                    "created_at": now - timedelta(days=30),
                    "created_by": "bench",
                    "updated_at": now - timedelta(days=30),
                    "updated_by": "bench",
                    "deadline": date(2025, 1, 1) + timedelta(days=i % 1500),
                }
                for i in range(1, pledges + 1)
            ],
        )
        conn.execute(
            sa.insert(StatusChange),
            [
                {
                    "pledge_id": i,
                    "from_status": "not_yet_rated",
                    "to_status": ("not_yet_rated", "in_the_works", "stalled", "kept")[i % 4],
                    "at": now - timedelta(days=i % 40),
                    "by": "editor",
                    "note": "reviewed the evidence",
                }
                for i in range(20, pledges + 1, 20)
            ],
        )
    step = 20_000
    for start in range(0, articles, step):
        ids = range(start + 1, min(articles, start + step) + 1)
        with engine.begin() as conn:
            conn.execute(
                sa.insert(Article),
                [
                    {
                        "url": f"https://news.example.org/story/{i}",
                        "title": f"{PLACES[i % 7]}: {TOPICS[i % 10].split()[i % 3]} "
                        f"story {i % 997}, officials say",
                        "summary": f"Officials in {PLACES[i % 7]} said on Monday that "
                        f"{TOPICS[i % 10]} were on the agenda of the week.",
                        "content": f"A body of text about {TOPICS[i % 10]} in {PLACES[i % 7]}. "
                        * 8,
                        "published_at": now - timedelta(minutes=i // 2),
                        "fetched_at": now - timedelta(minutes=i // 2),
                        "updated_at": now - timedelta(minutes=i // 2),
                        "content_hash": f"{i:064d}",
                    }
                    for i in ids
                ],
            )
            conn.execute(
                sa.insert(ArticleFeed),
                [
                    {
                        "article_id": i,
                        "feed_id": 1 + i % 50,
                        "first_seen_at": now - timedelta(minutes=i // 2),
                        "content_hash": f"{i:064d}",
                    }
                    for i in ids
                ],
            )
    # Evidence: every article id a multiple of articles // evidence, for pledge 1 + i % pledges.
    every = max(1, articles // evidence)
    chosen = list(range(1, articles + 1, every))[:evidence]
    probe = pledges // 2
    for start in range(0, len(chosen), step):
        with engine.begin() as conn:
            conn.execute(
                sa.insert(Evidence),
                [
                    {
                        "pledge_id": 1 + (n % pledges),
                        "article_id": i,
                        "score": 0.8,
                        "stance": ("kept", "broken", "neutral")[i % 3],
                        "stance_reason": "reports the act done",
                        "snippet": "Officials said the plan went ahead on Monday.",
                        "query": "plan",
                        "found_at": now - timedelta(minutes=i // 2),
                        "review": "pending" if n % 4 else "confirmed",
                    }
                    for n, i in enumerate(chosen[start : start + step], start)
                    if 1 + (n % pledges) != probe
                ],
            )
    # The pledge `pledge show` and `evidence list --pledge` read has PROBE_EVIDENCE rows
    # in either store, spread over it: what they cost should not grow with the store.
    spread = articles // PROBE_EVIDENCE
    with engine.begin() as conn:
        conn.execute(
            sa.insert(Evidence),
            [
                {
                    "pledge_id": probe,
                    "article_id": 3 + k * spread,
                    "score": 0.8,
                    "stance": ("kept", "broken", "neutral")[k % 3],
                    "stance_reason": "reports the act done",
                    "snippet": "Officials said the plan went ahead on Monday.",
                    "query": "plan",
                    "found_at": now - timedelta(minutes=(3 + k * spread) // 2),
                    "review": "pending" if k % 4 else "confirmed",
                }
                for k in range(PROBE_EVIDENCE)
            ],
        )
    # What autovacuum does on a live PostgreSQL database soon after a load like this.
    if engine.dialect.name == "postgresql":
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.execute(sa.text("VACUUM ANALYZE"))
    engine.dispose()


def new_articles_feed(folder: Path, items: int, pledges: int, tag: str) -> Path:
    """One local feed of ``items`` new stories; one in ten names a pledge's words."""
    now = datetime.now(UTC)
    entries = "".join(
        f"<item><title>{PLACES[j % 7]} {TOPICS[j % 10].split()[1]} news {tag} {j}"
        + (f" p{1 + j * 7 % pledges}" if j % 10 == 0 else "")
        + f"</title><link>https://news.example.org/new/{tag}/{j}</link>"
        f"<description>Officials spoke about {TOPICS[j % 10]} on Tuesday.</description>"
        f"<pubDate>{format_datetime(now - timedelta(seconds=j))}</pubDate></item>"
        for j in range(items)
    )
    path = folder / f"new-{tag}.xml"
    path.write_text(
        '<?xml version="1.0"?><rss version="2.0"><channel><title>n</title>'
        f"<link>https://news.example.org/</link><description>d</description>{entries}"
        "</channel></rss>",
        encoding="utf-8",
    )
    return path


def store_figures(url: str, folder: Path, pledges: int) -> dict[str, float]:
    """Seconds of each Desk call on the database at ``url``."""
    from pledgewatch.desk import Desk

    config_path = folder / "config.toml"
    feed = folder / "new.xml"
    config_path.write_text(
        f'[database]\nurl = "{url}"\n[[feeds]]\nname = "new"\nurl = "{feed}"\n', encoding="utf-8"
    )
    config = load_config(config_path, env={})
    desk = Desk(config, user="bench")
    desk.database.ensure_ready()
    figures: dict[str, float] = {}

    def best(name: str, call: Any, repeat: int = 5) -> None:
        seconds = []
        for _ in range(repeat):
            start = time.perf_counter()
            call()
            seconds.append(time.perf_counter() - start)
        figures[name] = min(seconds)

    pledge_id = pledges // 2  # it has PROBE_EVIDENCE evidence rows in either store
    now = datetime.now(UTC)
    best("status (the board)", desk.status_board)
    best("evidence list --pledge", lambda: desk.evidence(pledge_id=pledge_id, limit=50))
    best("pending queue, first page", lambda: desk.evidence(limit=50))
    best("evidence list --review pending", lambda: desk.evidence(review="pending", limit=50))
    best("pledge show", lambda: desk.pledge(pledge_id))
    best("weekly report", lambda: desk.report(now - timedelta(days=7), now), repeat=2)
    # Each sweep stores 1,000 articles new to the store; the store grows by 0.3% at most.
    sweeps = []
    for round_ in range(SWEEPS):
        os.replace(new_articles_feed(folder, 1_000, pledges, f"{folder.name}-{round_}"), feed)
        start = time.perf_counter()
        summary = desk.sweep(all_feeds=True)
        sweeps.append(time.perf_counter() - start)
        assert summary.articles_new == 1_000, summary
    figures[f"sweep of 1,000 new articles (best of {SWEEPS})"] = min(sweeps)
    fields = {
        "text": f"The government of Ruritania will build clinics, plan {folder.name}",
        "actor": "Health ministry",
        "made_on": "2024-01-01",
        "source_url": f"https://news.example.org/plan/{folder.name}",
        "query": "clinics AND Ruritania",
    }
    best("pledge add (clinics AND Ruritania)", lambda: desk.add_pledge(fields), repeat=1)
    desk.close()
    return figures


def store(argv: list[str]) -> None:
    articles = int(argv[argv.index("--articles") + 1]) if "--articles" in argv else 1_000_000
    evidence = int(argv[argv.index("--evidence") + 1]) if "--evidence" in argv else 200_000
    pledges = 10_000
    sizes = {"large": (articles, evidence), "small": (articles // 100, evidence // 100)}
    # What a process loads once, the first time it suggests a stance: paid by the
    # first `pledge add` that finds evidence, whatever the store; measured on its own.
    from pledgewatch.matching.reading import lemma
    from pledgewatch.matching.stance import lexicon

    start = time.perf_counter()
    lexicon()
    lemma("build")
    once = time.perf_counter() - start
    print(f"store: the stance lexicon and lemmas, once a process: {once:.2f} s")
    for backend in ("sqlite", "postgresql"):
        results: dict[str, dict[str, float]] = {}
        for size, (n_articles, n_evidence) in sizes.items():
            folder = Path(tempfile.mkdtemp(prefix=f"pw-store-{size}-"))
            url = f"sqlite:///{folder / 'pledgewatch.db'}" if backend == "sqlite" else pg_schema()
            Database(url).migrate()
            start = time.perf_counter()
            fill_store(url, pledges, n_articles, n_evidence)
            print(
                f"store, {backend}, {size}: {pledges:,} pledges, {n_articles:,} articles, "
                f"{n_evidence:,} evidence, filled in {time.perf_counter() - start:.0f} s",
                flush=True,
            )
            results[size] = store_figures(url, folder, pledges)
            if backend == "postgresql":
                drop_schema(url)
        for name, large in results["large"].items():
            small = results["small"][name]
            print(f"  {name:<36} {large:7.3f} s  small {small:7.3f} s  {large / small:5.2f}x")


def main() -> None:
    chosen = set(sys.argv[1:]) or {"workers", "matcher", "match", "feeds", "add"}
    # The matcher files cron sweeps keep (pledgewatch/matcher_file.py): the bench's own.
    os.environ.setdefault("PLEDGEWATCH_CACHE_DIR", tempfile.mkdtemp(prefix="pw-bench-matchers-"))
    print(f"{datetime.now(UTC):%Y-%m-%d %H:%M} UTC, {os.cpu_count()} cores")
    if "store" in chosen:
        store(sys.argv[1:])
    if "workers" in chosen:
        workers()
    if "matcher" in chosen:
        matcher()
    if "match" in chosen:
        match()
    if "feeds" in chosen:
        feeds()
    if "feeds-pg" in chosen:
        feeds(backend="postgresql")
    if "add" in chosen:
        add()
    if "feed-list" in chosen:
        feed_list()


if __name__ == "__main__":
    main()
