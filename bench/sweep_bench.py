"""Sweep benchmark: concurrency against the latency floor, and throughput against feedparser.

(a) 200 feeds on loopback, each answering after 100 ms, spread over 100 ports
    (two feeds a host, as real feeds spread over publishers) and swept with
    concurrency 32 and per_host 2: the sweep's wall time against the latency
    floor ceil(200 / 32) * 100 ms, and against the sequential floor 200 * 100 ms.
(b) Entries per second of a whole sweep (fetch, parse, store in SQLite) against
    feedparser alone parsing the same bytes, in the same run.
(c) 48 feeds on one host (a publisher's section feeds), each answering after
    100 ms, swept with the default concurrency and per_host 2 (the old default)
    and the default per_host, against the latency floor.

Run: .venv/bin/python bench/sweep_bench.py [a] [b] [c]   (all three by default)
"""

from __future__ import annotations

import asyncio
import math
import multiprocessing
import random
import tempfile
import time
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from multiprocessing.connection import Connection
from pathlib import Path

import feedparser

from pledgewatch.config import config_from_dict
from pledgewatch.db import Database
from pledgewatch.sweep import Sweep

WORDS = (
    "minister said government talks weapons ukraine russia china sanctions summit agreement "
    "officials reported army budget climate emissions aid loan parliament election vote border "
    "troops missile drone energy grid strike ceasefire pledge deadline promise report analysts"
).split()


def make_feed(index: int, entries: int, rng: random.Random) -> bytes:
    now = datetime(2026, 11, 1, tzinfo=UTC)
    items = []
    for j in range(entries):
        title = " ".join(rng.choice(WORDS) for _ in range(9)).capitalize()
        summary = " ".join(rng.choice(WORDS) for _ in range(45))
        when = format_datetime(now - timedelta(minutes=7 * j + index), usegmt=True)
        items.append(
            f"<item><title>{title}</title>"
            f"<link>https://news{index % 50}.example.org/story/{index}-{j}?utm_source=rss</link>"
            f"<guid>https://news{index % 50}.example.org/story/{index}-{j}</guid>"
            f"<pubDate>{when}</pubDate>"
            f'<description>&lt;p&gt;{summary} &lt;a href="https://x.org"&gt;more&lt;/a&gt;&lt;/p&gt;'
            f"</description></item>"
        )
    return (
        '<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel>'
        f"<title>Feed {index}</title><link>https://news.example.org/</link>"
        + "".join(items)
        + "</channel></rss>"
    ).encode()


class LoopbackServer:
    """Minimal HTTP/1.1 server on many loopback ports, answering after a fixed delay.

    It runs in its own process, as a real publisher would, so that it does not
    compete with the sweep for the interpreter lock.
    """

    def __init__(self, bodies: dict[str, bytes], delay: float, ports: int) -> None:
        self.bodies = bodies
        self.delay = delay
        self.count = ports
        self.ports: list[int] = []
        context = multiprocessing.get_context("fork")
        self._parent, child = context.Pipe()
        self._process = context.Process(target=self._run, args=(child,), daemon=True)

    def __enter__(self) -> LoopbackServer:
        self._process.start()
        self.ports = self._parent.recv()
        return self

    def __exit__(self, *exc: object) -> None:
        self._process.terminate()
        self._process.join(5)

    def _run(self, pipe: Connection) -> None:
        async def main() -> None:
            servers = [
                await asyncio.start_server(self._serve, "127.0.0.1", 0, backlog=256)
                for _ in range(self.count)
            ]
            pipe.send([srv.sockets[0].getsockname()[1] for srv in servers])
            await asyncio.Event().wait()

        asyncio.run(main())

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                path = head.split(b" ", 2)[1].decode()
                await asyncio.sleep(self.delay)
                body = self.bodies.get(path, b"")
                status = b"200 OK" if body else b"404 Not Found"
                writer.write(
                    b"HTTP/1.1 " + status + b"\r\nContent-Type: application/rss+xml\r\n"
                    b"Content-Length: " + str(len(body)).encode() + b"\r\n\r\n" + body
                )
                await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            writer.close()


def sweep_once(feeds: list[dict[str, str]], concurrency: int, per_host: int) -> tuple[float, int]:
    with tempfile.TemporaryDirectory() as folder:
        config = config_from_dict(
            {
                "database": {"url": f"sqlite:///{Path(folder) / 'bench.db'}"},
                "sweep": {"concurrency": concurrency, "per_host": per_host, "timeout": 30},
                "feeds": feeds,
            },
            path=Path(folder) / "config.toml",
            env={},
        )
        database = Database(config.database.url)
        database.migrate()
        started = time.perf_counter()
        summary = Sweep(database, config).run()
        seconds = time.perf_counter() - started
        database.dispose()
        if summary.feeds_failed:
            raise SystemExit(f"bench feeds failed: {summary.errors[:3]}")
        return seconds, summary.articles_new


def part_a() -> None:
    rng = random.Random(1)
    n, delay, concurrency, hosts = 200, 0.100, 32, 100
    bodies = {f"/feed{i}.xml": make_feed(i, 10, rng) for i in range(n)}
    with LoopbackServer(bodies, delay, hosts) as server:
        feeds = [
            {"name": f"feed{i}", "url": f"http://127.0.0.1:{server.ports[i % hosts]}/feed{i}.xml"}
            for i in range(n)
        ]
        # The first sweep of a process starts the parse workers (a cron `sweep`);
        # later ones find them running (`watch`). Both on fresh databases.
        cold, _ = sweep_once(feeds, concurrency, per_host=2)
        warm, _ = sweep_once(feeds, concurrency, per_host=2)
    floor = math.ceil(n / concurrency) * delay
    sequential = n * delay
    print(
        f"(a) {n} feeds x {delay * 1000:.0f} ms latency on {hosts} loopback hosts, "
        f"concurrency {concurrency}, per_host 2"
    )
    print(f"    latency floor          {floor:7.2f} s   sequential floor {sequential:.2f} s")
    for label, seconds in (("first sweep (cron)", cold), ("next sweep (watch)", warm)):
        print(
            f"    {label:<22} {seconds:7.2f} s   {seconds / floor:5.2f}x the floor (goal < 2x), "
            f"{seconds / sequential:5.3f}x sequential"
        )


def part_b() -> None:
    rng = random.Random(2)
    n, entries = 100, 50
    bodies = {f"/feed{i}.xml": make_feed(i, entries, rng) for i in range(n)}
    started = time.perf_counter()
    parsed = 0
    for body in bodies.values():
        parsed += len(feedparser.parse(body).entries)
    feedparser_seconds = time.perf_counter() - started
    with LoopbackServer(bodies, 0.0, 10) as server:
        feeds = [
            {"name": f"feed{i}", "url": f"http://127.0.0.1:{server.ports[i % 10]}/feed{i}.xml"}
            for i in range(n)
        ]
        seconds, stored = sweep_once(feeds, concurrency=16, per_host=2)
    assert stored == parsed == n * entries, (stored, parsed)
    fp_rate = parsed / feedparser_seconds
    sweep_rate = stored / seconds
    print(f"(b) {n} feeds x {entries} entries ({sum(map(len, bodies.values())) / 1e6:.1f} MB)")
    print(f"    feedparser alone       {fp_rate:9,.0f} entries/s")
    print(
        f"    whole sweep            {sweep_rate:9,.0f} entries/s   "
        f"{100 * sweep_rate / fp_rate:5.1f}% of feedparser  (goal >= 70%)"
    )


def part_c() -> None:
    from pledgewatch import defaults

    rng = random.Random(3)
    n, delay = 48, 0.100
    bodies = {f"/feed{i}.xml": make_feed(i, 10, rng) for i in range(n)}
    with LoopbackServer(bodies, delay, 1) as server:
        feeds = [
            {"name": f"feed{i}", "url": f"http://127.0.0.1:{server.ports[0]}/feed{i}.xml"}
            for i in range(n)
        ]
        sweep_once(feeds, defaults.CONCURRENCY, per_host=2)  # starts the parse workers
        old, _ = sweep_once(feeds, defaults.CONCURRENCY, per_host=2)
        new, _ = sweep_once(feeds, defaults.CONCURRENCY, per_host=defaults.PER_HOST)
    floor = math.ceil(n / defaults.CONCURRENCY) * delay
    print(
        f"(c) {n} feeds x {delay * 1000:.0f} ms latency on one host, "
        f"concurrency {defaults.CONCURRENCY}"
    )
    print(f"    latency floor          {floor:7.2f} s")
    for label, seconds in (("per_host 2", old), (f"per_host {defaults.PER_HOST} (default)", new)):
        print(f"    {label:<22} {seconds:7.2f} s   {seconds / floor:5.2f}x the floor")
    print(f"    per_host 2 / default   {old / new:7.2f}x")


if __name__ == "__main__":
    import sys

    parts = {"a": part_a, "b": part_b, "c": part_c}
    for name in sys.argv[1:] or parts:
        parts[name]()
