"""Nothing a feed sends stops a sweep: each family of bad input is that feed's error.

Each test serves one or more bad feeds beside good ones from a real loopback
server (or real files), runs the sweep through the command line, and checks
what an admin would see: the sweep exits 0, every good feed's articles are
stored, the bad feed's error is recorded (and it backs off), and the next
sweep runs too. Faults the network cannot produce (the database refusing a
row) come from a real trigger in the real database.
"""

from __future__ import annotations

import asyncio
import json
import os
import tempfile
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pytest_httpserver import HTTPServer
from sqlalchemy import select, text
from werkzeug import Request, Response

from pledgewatch.config import load_config
from pledgewatch.db import Database
from pledgewatch.errors import SweepLocked, SweepLockLost
from pledgewatch.models import Article, Feed
from pledgewatch.sweep import FeedParser, Sweep, SweepLockHolder
from pledgewatch.sweep import lock as lock_module
from pledgewatch.sweep import workers as workers_module
from pledgewatch.sweep.workers import _parse_job
from tests.test_sweep import rss, write_config

ROOT = Path(__file__).parent.parent
GOOD_ITEMS = [("g1", "Good one"), ("g2", "Good two"), ("g3", "Good three")]


@pytest.fixture
def server():  # type: ignore[no-untyped-def]
    srv = HTTPServer(host="127.0.0.1", port=0, threaded=True)
    srv.start()
    yield srv
    srv.clear()
    if srv.is_running():
        srv.stop()


def sweep_json(cli: Any) -> dict[str, Any]:
    result = cli("sweep", "--json")
    assert result.code == 0, result.err
    return json.loads(result.out)  # type: ignore[no-any-return]


def feeds_listed(cli: Any) -> dict[str, dict[str, Any]]:
    result = cli("feed", "list", "--json")
    assert result.code == 0, result.err
    return {f["name"]: f for f in json.loads(result.out)}


def titles(database_url: str) -> set[str]:
    database = Database(database_url)
    try:
        with database.session(write=False) as session:
            return set(session.scalars(select(Article.title)))
    finally:
        database.dispose()


def serve_good(server: HTTPServer) -> str:
    server.expect_request("/good.xml").respond_with_data(
        rss(GOOD_ITEMS), content_type="application/rss+xml"
    )
    return server.url_for("/good.xml")


def json_feed(items: list[dict[str, Any]]) -> str:
    return json.dumps(
        {"version": "https://jsonfeed.org/version/1.1", "title": "JSON", "items": items}
    )


# -- feed text and dates --------------------------------------------------------------------

BAD_TEXT = {
    "raw-surrogate-ref": "Talks &#xD800; resume",
    "raw-beyond-unicode": "Talks &#1114112; resume",
    "surrogate-ref": "Talks &amp;#xD800; resume",
    "beyond-unicode": "Talks &amp;#1114112; resume",
    "nul-ref": "Talks &amp;#0; resume",
    "escape-ref": "Talks &amp;#x1B;[31m resume",
    "raw-escape": "Talks \x1b[31m\x07 resume",
}


@pytest.mark.parametrize("case", sorted(BAD_TEXT))
def test_unstorable_characters_in_a_feed_never_stop_the_sweep(
    server: HTTPServer, tmp_path: Path, database_url: str, cli_for, case: str
) -> None:
    # The title holds an entity-escaped character reference, so the feed's
    # HTML title decodes to the character itself, as real feeds do.
    body = rss([("bad", BAD_TEXT[case])], description=BAD_TEXT[case])
    server.expect_request("/bad.xml").respond_with_data(body, content_type="application/rss+xml")
    config = write_config(
        tmp_path / "config.toml",
        database_url,
        {"good": serve_good(server), "bad": server.url_for("/bad.xml")},
    )
    cli = cli_for(config)
    summary = sweep_json(cli)
    assert summary["feeds_polled"] == 2
    stored = titles(database_url)
    assert {t for _, t in GOOD_ITEMS} <= stored
    for title in stored:
        assert not any(ord(c) < 0x20 or 0xD800 <= ord(c) <= 0xDFFF for c in title), title
    listed = feeds_listed(cli)
    assert listed["good"]["consecutive_errors"] == 0
    # The next sweep runs as well: nothing was left behind that fails every run.
    again = cli("sweep", "--all", "--json")
    assert again.code == 0, again.err


@pytest.mark.parametrize(
    "when",
    [
        "0001-01-01T00:00:00+01:00",
        "0001-01-01T00:00:00Z",
        "9999-12-31T23:59:59-05:00",
        "9999-12-31T23:59:59Z",
        "1899-12-31T23:59:59Z",
        "not a date",
    ],
)
def test_json_feed_dates_at_the_edges_are_stored_as_the_fetch_time(
    tmp_path: Path, database_url: str, cli_for, when: str
) -> None:
    bad = tmp_path / "dates.json"
    bad.write_text(
        json_feed(
            [
                {
                    "id": "1",
                    "url": "https://news.example.org/edge",
                    "title": "Edge",
                    "date_published": when,
                }
            ]
        ),
        encoding="utf-8",
    )
    good = tmp_path / "good.json"
    good.write_text(
        json_feed(
            [
                {
                    "id": "2",
                    "url": "https://news.example.org/fine",
                    "title": "Fine",
                    "date_published": "2024-06-17T10:00:00Z",
                }
            ]
        ),
        encoding="utf-8",
    )
    config = write_config(
        tmp_path / "config.toml", database_url, {"dates": str(bad), "good": str(good)}
    )
    cli = cli_for(config)
    before = datetime.now(UTC)
    summary = sweep_json(cli)
    assert (summary["feeds_failed"], summary["articles_new"]) == (0, 2)
    database = Database(database_url)
    with database.session(write=False) as session:
        edge = session.scalars(select(Article).where(Article.title == "Edge")).one()
    database.dispose()
    assert before - timedelta(seconds=5) <= edge.published_at <= datetime.now(UTC)


# -- what servers answer --------------------------------------------------------------------


@pytest.mark.parametrize(
    "retry_after",
    ["²", "¹³", "9" * 4400, "1" * 20, "-5", "1e9", "Wed, 31 Dec 9999 23:59:59 GMT", "garbage"],
)
def test_any_retry_after_is_read_or_ignored_and_the_feed_waits_at_most_a_week(
    server: HTTPServer, tmp_path: Path, database_url: str, cli_for, retry_after: str
) -> None:
    server.expect_request("/busy.xml").respond_with_data(
        "slow down", status=429, headers={"Retry-After": retry_after}
    )
    config = write_config(
        tmp_path / "config.toml",
        database_url,
        {"good": serve_good(server), "busy": server.url_for("/busy.xml")},
    )
    cli = cli_for(config)
    summary = sweep_json(cli)
    assert summary["feeds_failed"] == 1
    assert [e["feed"] for e in summary["errors"]] == ["busy"]
    assert "429" in summary["errors"][0]["error"]
    assert {t for _, t in GOOD_ITEMS} <= titles(database_url)
    busy = feeds_listed(cli)["busy"]
    next_poll = datetime.fromisoformat(busy["next_poll_at"])
    assert next_poll <= datetime.now(UTC) + timedelta(days=7, minutes=1)
    assert busy["consecutive_errors"] == 1


def test_validators_too_long_for_their_columns_leave_the_feed_storable(
    server: HTTPServer, tmp_path: Path, database_url: str, cli_for
) -> None:
    # PostgreSQL enforces etag VARCHAR(1000) and last_modified VARCHAR(200);
    # a feed sending longer ones used to be unstorable there for good.
    server.expect_request("/long.xml").respond_with_data(
        rss([("l1", "Long validators")]),
        headers={"ETag": '"' + "e" * 5000 + '"', "Last-Modified": "x" * 300},
        content_type="application/rss+xml",
    )
    config = write_config(
        tmp_path / "config.toml", database_url, {"long": server.url_for("/long.xml")}
    )
    cli = cli_for(config)
    for _ in range(2):
        summary = sweep_json(cli)
        assert summary["feeds_failed"] == 0, summary["errors"]
        listed = feeds_listed(cli)["long"]
        assert listed["consecutive_errors"] == 0
        assert cli("sweep", "--all", "--json").code == 0
    assert "Long validators" in titles(database_url)


class _FailingHost(httpx.AsyncBaseTransport):
    """A real HTTP transport, except that one host's requests raise as a library
    bug would (a fault a loopback server cannot produce)."""

    def __init__(self, host: str) -> None:
        self.host = host
        self.inner = httpx.AsyncHTTPTransport()

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        if request.url.host == self.host:
            raise ValueError("an unexpected failure inside the HTTP stack")
        return await self.inner.handle_async_request(request)

    async def aclose(self) -> None:
        await self.inner.aclose()


def test_an_unexpected_exception_while_fetching_is_that_feeds_error(
    server: HTTPServer, tmp_path: Path, database_url: str
) -> None:
    good = serve_good(server)
    bad = good.replace("127.0.0.1", "localhost").replace("/good.xml", "/other.xml")
    config_path = write_config(tmp_path / "config.toml", database_url, {"good": good, "odd": bad})
    config = load_config(config_path, env={})
    database = Database(config.database.url)
    database.migrate()
    summary = Sweep(database, config, transport=_FailingHost("localhost")).run()
    assert summary.feeds_polled == 2
    assert [e["feed"] for e in summary.errors] == ["odd"]
    assert "ValueError" in summary.errors[0]["error"]
    assert summary.articles_new == len(GOOD_ITEMS)
    with database.session(write=False) as session:
        odd = session.scalars(select(Feed).where(Feed.name == "odd")).one()
    assert odd.consecutive_errors == 1 and odd.last_error and odd.next_poll_at
    database.dispose()


def test_an_unexpected_exception_while_parsing_is_that_feeds_error() -> None:
    # The worker's contract: whatever parsing raises comes back as the feed's error.
    parsed = _parse_job(None, "https://e.org/feed", datetime.now(UTC), None)  # type: ignore[arg-type]
    assert parsed.entries == []
    assert parsed.error is not None and "could not parse the feed" in parsed.error


# -- the database refusing one feed's rows ----------------------------------------------------


def poison_articles(database: Database) -> None:
    """A real trigger that refuses any article whose URL says "poison"."""
    with database.session() as session:
        if database.dialect == "sqlite":
            session.execute(
                text(
                    "CREATE TRIGGER poison BEFORE INSERT ON articles "
                    "WHEN NEW.url LIKE '%poison%' "
                    "BEGIN SELECT RAISE(ABORT, 'poisoned row'); END"
                )
            )
        else:
            session.execute(
                text(
                    "CREATE FUNCTION poison() RETURNS trigger AS $$ BEGIN "
                    "IF NEW.url LIKE '%poison%' THEN RAISE EXCEPTION 'poisoned row'; END IF; "
                    "RETURN NEW; END $$ LANGUAGE plpgsql"
                )
            )
            session.execute(
                text(
                    "CREATE TRIGGER poison BEFORE INSERT ON articles "
                    "FOR EACH ROW EXECUTE FUNCTION poison()"
                )
            )


def test_a_feed_whose_rows_the_database_refuses_is_recorded_and_the_rest_stored(
    server: HTTPServer, tmp_path: Path, database_url: str, cli_for
) -> None:
    server.expect_request("/bad.xml").respond_with_data(rss([("poison", "Poisoned")]))
    feeds = {"good": serve_good(server), "bad": server.url_for("/bad.xml")}
    for i in range(3):
        server.expect_request(f"/more{i}.xml").respond_with_data(rss([(f"m{i}", f"More {i}")]))
        feeds[f"more{i}"] = server.url_for(f"/more{i}.xml")
    cli = cli_for(write_config(tmp_path / "config.toml", database_url, feeds))
    database = Database(database_url)
    poison_articles(database)
    database.dispose()
    summary = sweep_json(cli)
    assert summary["feeds_polled"] == 5
    assert [e["feed"] for e in summary["errors"]] == ["bad"]
    assert "could not store this feed's articles" in summary["errors"][0]["error"]
    stored = titles(database_url)
    assert {t for _, t in GOOD_ITEMS} | {"More 0", "More 1", "More 2"} <= stored
    assert "Poisoned" not in stored
    bad = feeds_listed(cli)["bad"]
    assert bad["consecutive_errors"] == 1
    assert "could not store" in bad["last_error"]
    assert datetime.fromisoformat(bad["next_poll_at"]) > datetime.now(UTC)


# -- any bad feed among good ones ---------------------------------------------------------------

_REAL_FEEDS = [
    p.read_bytes()
    for p in sorted((ROOT / "tests" / "data" / "feeds").iterdir())
    if p.suffix in (".xml", ".rdf", ".json")
] + [(ROOT / "examples" / "feed.xml").read_bytes()]

_SPLICES = [
    b"&#xD800;",
    b"&#1114112;",
    b"&#0;",
    b"&#x1B;",
    b"\x1b[2J",
    b"\xff\xfe",
    b"\x00",
    b"<pubDate>Mon, 01 Jan 0001 00:00:00 +0100</pubDate>",
    b"<updated>9999-12-31T23:59:59-12:00</updated>",
    b'"date_published": "0001-01-01T00:00:00+14:00",',
    b"<![CDATA[",
    b"]]>",
    b"<item>",
    b"</channel>",
    b"9" * 5000,
]


@st.composite
def mutated_feeds(draw: st.DrawFn) -> bytes:
    body = bytearray(draw(st.sampled_from(_REAL_FEEDS)))
    for _ in range(draw(st.integers(1, 4))):
        at = draw(st.integers(0, len(body)))
        kind = draw(st.sampled_from(["splice", "flip", "cut", "random"]))
        if kind == "splice":
            body[at:at] = draw(st.sampled_from(_SPLICES))
        elif kind == "flip" and at < len(body):
            body[at] = draw(st.integers(0, 255))
        elif kind == "cut":
            del body[at:]
        else:
            body[at:at] = draw(st.binary(max_size=64))
    return bytes(body)


@settings(max_examples=max(10, settings().max_examples // 10))
@given(bad=mutated_feeds())
def test_any_bad_feed_among_good_ones_is_recorded_on_itself_alone(bad: bytes) -> None:
    with tempfile.TemporaryDirectory() as folder:
        root = Path(folder)
        (root / "bad.xml").write_bytes(bad)
        (root / "good.xml").write_text(rss(GOOD_ITEMS), encoding="utf-8")
        (root / "also.json").write_text(
            json_feed([{"id": "a", "url": "https://news.example.org/also", "title": "Also good"}]),
            encoding="utf-8",
        )
        url = f"sqlite:///{root / 'pw.db'}"
        config_path = write_config(
            root / "config.toml",
            url,
            {
                "bad": str(root / "bad.xml"),
                "good": str(root / "good.xml"),
                "also": str(root / "also.json"),
            },
        )
        config = load_config(config_path, env={})
        database = Database(config.database.url)
        database.migrate()
        try:
            summary = Sweep(database, config).run()
            assert summary.feeds_polled == 3
            assert {e["feed"] for e in summary.errors} <= {"bad"}
            with database.session(write=False) as session:
                stored = set(session.scalars(select(Article.title)))
                bad_feed = session.scalars(select(Feed).where(Feed.name == "bad")).one()
            assert {t for _, t in GOOD_ITEMS} | {"Also good"} <= stored
            if summary.errors:
                assert bad_feed.last_error and bad_feed.consecutive_errors == 1
            # And a second sweep over the same bad feed runs just as well.
            again = Sweep(database, config, all_feeds=True).run()
            assert again.feeds_polled == 3
        finally:
            database.dispose()


# -- limits of the database and of the sweep's own parts -------------------------------------------


def test_an_article_url_too_long_for_the_index_leaves_the_rest_of_its_feed_stored(
    server: HTTPServer, tmp_path: Path, database_url: str, cli_for
) -> None:
    # 900 Chinese characters are 900 characters but 2,700 bytes: more than
    # PostgreSQL's index on articles.url takes, so the whole feed used to fail.
    long_slug = "新闻" * 450
    server.expect_request("/cjk.xml").respond_with_data(
        rss([(long_slug, "Too long to index"), ("fine", "Stored beside it")]),
        content_type="application/rss+xml",
    )
    cli = cli_for(
        write_config(tmp_path / "config.toml", database_url, {"cjk": server.url_for("/cjk.xml")})
    )
    summary = sweep_json(cli)
    assert summary["feeds_failed"] == 0, summary["errors"]
    assert titles(database_url) == {"Stored beside it"}


def _parse_or_die(body: bytes, url: str, fetched_at: datetime, content_type: str | None):  # type: ignore[no-untyped-def]
    """A parse job whose worker dies on one body, as a native crash or the OOM killer would."""
    if body == b"die":
        os._exit(1)
    return _parse_job(body, url, fetched_at, content_type)


def test_a_worker_that_dies_on_one_feed_fails_that_feed_alone(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Forked workers run the job the module names at fork time.
    monkeypatch.setattr(workers_module, "_parse_job", _parse_or_die)
    parser = FeedParser(workers=2)
    good = rss(GOOD_ITEMS).encode()

    async def parse_all() -> list[Any]:
        parser.warm_up()
        while parser._ready is not None and not parser._ready.done():
            await asyncio.sleep(0.05)
        bodies = [good] * 3 + [b"die"] + [good] * 3
        return await asyncio.gather(
            *(
                parser.parse(body, f"https://e.org/{i}", datetime.now(UTC), None)
                for i, body in enumerate(bodies)
            )
        )

    try:
        results = asyncio.run(parse_all())
    finally:
        parser.close()
    errors = [r.error for r in results]
    assert errors[3] == "the feed parser crashed on this feed"
    assert errors[:3] + errors[4:] == [None] * 6, errors
    assert all(len(r.entries) == len(GOOD_ITEMS) for i, r in enumerate(results) if i != 3)


# SQLite's one sweep lock; PostgreSQL workers share feeds instead (tests/test_workers.py).
@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_a_sweep_that_makes_no_progress_lets_its_lock_go_stale(
    server: HTTPServer, tmp_path: Path, database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A sweep hung on one feed keeps its process alive, but its heartbeat stops:
    # another sweep may take the lock over, and the hung one then writes nothing.
    monkeypatch.setattr(lock_module, "LOCK_STALE_AFTER", timedelta(seconds=1))
    release = threading.Event()

    def hang(_request: Request) -> Response:
        release.wait(20)
        return Response(rss([("late", "Too late")]), content_type="application/rss+xml")

    server.expect_request("/hang.xml").respond_with_handler(hang)
    config_path = write_config(
        tmp_path / "config.toml", database_url, {"hang": server.url_for("/hang.xml")}, timeout=30
    )
    config = load_config(config_path, env={})
    database = Database(config.database.url)
    database.migrate()
    raised: list[BaseException] = []

    def hung_sweep() -> None:
        try:
            Sweep(database, config, heartbeat_every=0.1).run()
        except BaseException as exc:
            raised.append(exc)

    worker = threading.Thread(target=hung_sweep)
    worker.start()
    try:
        deadline = time.monotonic() + 15
        taken_over = None
        while time.monotonic() < deadline and taken_over is None:
            time.sleep(0.3)
            holder = SweepLockHolder(database)
            try:
                holder.acquire()
                taken_over = holder
            except SweepLocked:
                continue
        assert taken_over is not None, "the hung sweep's lock never went stale"
    finally:
        release.set()
        worker.join(30)
    assert len(raised) == 1 and isinstance(raised[0], SweepLockLost), raised
    with database.session(write=False) as session:
        assert not session.scalars(select(Article.title)).all()
    taken_over.release()
    database.dispose()
