"""The sweep end to end: real feeds on a loopback HTTP server, a real database."""

from __future__ import annotations

import gzip
import json
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from pytest_httpserver import HTTPServer
from sqlalchemy import func, select, update
from werkzeug import Request, Response

from pledgewatch.config import load_config
from pledgewatch.db import Database
from pledgewatch.models import Article, ArticleFeed, Feed, SweepLock, SweepRun
from pledgewatch.sweep import Sweep, SweepLockHolder, holder_id


def rss(items: list[tuple[str, str]], *, title: str = "Test feed", description: str = "") -> str:
    """An RSS 2.0 document with (slug, title) items."""
    body = "".join(
        f"<item><title>{t}</title><link>https://news.example.org/{slug}?utm_source=rss</link>"
        f"<pubDate>Mon, 17 Jun 2024 10:00:00 GMT</pubDate>"
        f"<description>{description or t} summary</description></item>"
        for slug, t in items
    )
    return (
        '<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel>'
        f"<title>{title}</title><link>https://news.example.org/</link>{body}</channel></rss>"
    )


@pytest.fixture
def server() -> Iterator[HTTPServer]:
    srv = HTTPServer(host="127.0.0.1", port=0, threaded=True)
    srv.start()
    yield srv
    srv.clear()
    if srv.is_running():
        srv.stop()


def write_config(path: Path, url: str, feeds: dict[str, str], **sweep: object) -> Path:
    lines = [f'[database]\nurl = "{url}"\n', "[sweep]\n"]
    settings = {"timeout": 3, "concurrency": 8, "per_host": 8, **sweep}
    for key, value in settings.items():
        lines.append(f"{key} = {json.dumps(value)}\n")
    for name, feed_url in feeds.items():
        lines.append(f'[[feeds]]\nname = "{name}"\nurl = "{feed_url}"\n')
    path.write_text("".join(lines), encoding="utf-8")
    return path


@pytest.fixture
def make_config(tmp_path: Path, database_url: str):  # type: ignore[no-untyped-def]
    def make(feeds: dict[str, str], **sweep: object) -> Path:
        return write_config(tmp_path / "config.toml", database_url, feeds, **sweep)

    return make


def run_sweep(config_path: Path, **kwargs: object) -> tuple[Database, object]:
    config = load_config(config_path, env={})
    database = Database(config.database.url)
    database.migrate()
    summary = Sweep(database, config, **kwargs).run()  # type: ignore[arg-type]
    return database, summary


def article_count(database: Database) -> int:
    with database.session() as session:
        return int(session.scalar(select(func.count()).select_from(Article)) or 0)


def feed_row(database: Database, name: str) -> Feed:
    with database.session() as session:
        return session.scalars(select(Feed).where(Feed.name == name)).one()


def test_good_feeds_are_stored_while_bad_ones_record_their_error(
    server: HTTPServer, make_config, cli_for
) -> None:
    server.expect_request("/good.xml").respond_with_data(
        rss([("a", "Alpha"), ("b", "Beta")]), content_type="application/rss+xml"
    )
    server.expect_request("/html").respond_with_data(
        "<!DOCTYPE html><html><body><h1>Welcome</h1></body></html>", content_type="text/html"
    )
    server.expect_request("/garbage").respond_with_data(
        b"\x00\x01\x02 not a feed \xff\xfe" * 50, content_type="application/octet-stream"
    )
    server.expect_request("/empty").respond_with_data("", content_type="application/rss+xml")
    server.expect_request("/error").respond_with_data("boom", status=500)
    server.expect_request("/loop").respond_with_data(
        "", status=302, headers={"Location": server.url_for("/loop")}
    )
    server.expect_request("/bomb").respond_with_data(
        '<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">'
        '<!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">]>'
        "<rss><channel><title>&lol2;</title></channel></rss>",
        content_type="application/xml",
    )
    server.expect_request("/badutf8").respond_with_data(
        rss([("u", "Caf\udce9")])
        .encode("utf-8", "surrogateescape")
        .replace(b"\xed\xb3\xa9", b"\xe9"),
        content_type="application/rss+xml; charset=utf-8",
    )
    feeds = {
        "good": server.url_for("/good.xml"),
        "html": server.url_for("/html"),
        "garbage": server.url_for("/garbage"),
        "empty": server.url_for("/empty"),
        "error": server.url_for("/error"),
        "loop": server.url_for("/loop"),
        "bomb": server.url_for("/bomb"),
        "badutf8": server.url_for("/badutf8"),
    }
    cli = cli_for(make_config(feeds))
    result = cli("sweep", "--json")
    assert result.code == 0, result.err
    summary = json.loads(result.out)
    assert summary["feeds_polled"] == 8
    assert summary["feeds_failed"] == 6
    # Invalid UTF-8 in a feed declared UTF-8 is repaired and stored, with a warning.
    assert summary["articles_new"] == 3
    assert [w["feed"] for w in summary["warnings"]] == ["badutf8"]
    errors = {e["feed"]: e["error"] for e in summary["errors"]}
    assert set(errors) == {"html", "garbage", "empty", "error", "loop", "bomb"}
    assert "HTML" in errors["html"]
    assert "empty" in errors["empty"]
    assert "500" in errors["error"]
    assert "redirect" in errors["loop"]
    assert "entit" in errors["bomb"]
    assert all("\n" not in e for e in errors.values())

    listed = {f["name"]: f for f in json.loads(cli("feed", "list", "--json").out)}
    assert listed["good"]["articles"] == 2
    assert listed["badutf8"]["articles"] == 1
    assert listed["badutf8"]["last_warning"]
    assert listed["good"]["consecutive_errors"] == 0
    assert listed["error"]["consecutive_errors"] == 1
    assert listed["error"]["last_status"] == 500
    assert "500" in listed["error"]["last_error"]
    assert set(listed["good"]) >= {
        "name",
        "url",
        "last_polled_at",
        "last_status",
        "consecutive_errors",
        "last_error",
        "next_poll_at",
        "articles",
    }


def test_the_same_sweep_twice_stores_nothing_twice(server: HTTPServer, make_config) -> None:
    server.expect_request("/a.xml").respond_with_data(rss([("a", "Alpha"), ("b", "Beta")]))
    config = make_config({"a": server.url_for("/a.xml")})
    database, first = run_sweep(config, all_feeds=True)
    assert first.articles_new == 2
    _, second = run_sweep(config, all_feeds=True)
    assert (second.articles_new, second.articles_updated) == (0, 0)
    assert article_count(database) == 2
    with database.session() as session:
        urls = sorted(session.scalars(select(Article.url)))
    assert urls == ["https://news.example.org/a", "https://news.example.org/b"]


def test_one_article_in_two_feeds_is_stored_once_and_lists_both(
    server: HTTPServer, make_config
) -> None:
    server.expect_request("/one.xml").respond_with_data(rss([("shared", "Shared story")]))
    server.expect_request("/two.xml").respond_with_data(
        rss([("shared", "Shared story, other wording"), ("own", "Own story")])
    )
    config = make_config({"one": server.url_for("/one.xml"), "two": server.url_for("/two.xml")})
    database, summary = run_sweep(config)
    assert summary.articles_new == 2
    assert summary.articles_updated == 0
    with database.session() as session:
        shared = session.scalars(
            select(Article).where(Article.url == "https://news.example.org/shared")
        ).one()
        feeds = session.scalars(
            select(Feed.name).join(ArticleFeed).where(ArticleFeed.article_id == shared.id)
        ).all()
    assert sorted(feeds) == ["one", "two"]
    _, again = run_sweep(config, all_feeds=True)
    assert (again.articles_new, again.articles_updated) == (0, 0), "two wordings are not a change"


def test_a_changed_article_is_updated_not_duplicated(server: HTTPServer, make_config) -> None:
    server.expect_request("/a.xml").respond_with_data(rss([("a", "Alpha")]))
    config = make_config({"a": server.url_for("/a.xml")})
    database, _ = run_sweep(config)
    server.clear()
    server.expect_request("/a.xml").respond_with_data(rss([("a", "Alpha, corrected")]))
    _, summary = run_sweep(config, all_feeds=True)
    assert (summary.articles_new, summary.articles_updated) == (0, 1)
    with database.session() as session:
        titles = session.scalars(select(Article.title)).all()
    assert titles == ["Alpha, corrected"]


def test_conditional_get_sends_validators_and_304_is_not_modified(
    server: HTTPServer, make_config
) -> None:
    server.expect_ordered_request("/a.xml").respond_with_data(
        rss([("a", "Alpha")]),
        headers={"ETag": '"v1"', "Last-Modified": "Mon, 17 Jun 2024 10:00:00 GMT"},
    )
    server.expect_ordered_request(
        "/a.xml",
        headers={"If-None-Match": '"v1"', "If-Modified-Since": "Mon, 17 Jun 2024 10:00:00 GMT"},
    ).respond_with_data("", status=304)
    config = make_config({"a": server.url_for("/a.xml")})
    database, _first = run_sweep(config)
    _, second = run_sweep(config, all_feeds=True)
    server.check_assertions()
    assert second.feeds_not_modified == 1
    assert second.feeds_failed == 0
    feed = feed_row(database, "a")
    assert feed.last_status == 304
    assert feed.etag == '"v1"'
    assert feed.consecutive_errors == 0


def test_429_with_retry_after_defers_only_that_feed(server: HTTPServer, make_config) -> None:
    server.expect_request("/busy.xml").respond_with_data(
        "slow down", status=429, headers={"Retry-After": "7200"}
    )
    server.expect_request("/fine.xml").respond_with_data(rss([("f", "Fine")]))
    config = make_config({"busy": server.url_for("/busy.xml"), "fine": server.url_for("/fine.xml")})
    before = datetime.now(UTC)
    database, summary = run_sweep(config)
    assert summary.feeds_failed == 1
    busy = feed_row(database, "busy")
    fine = feed_row(database, "fine")
    assert busy.next_poll_at is not None and fine.next_poll_at is not None
    assert busy.next_poll_at - before >= timedelta(seconds=7100)
    assert timedelta(minutes=29) < fine.next_poll_at - before <= timedelta(minutes=31)
    # Neither is due now; the busy one stays deferred while the fine one is polled later.
    _, again = run_sweep(config)
    assert again.feeds_due == 0


@pytest.mark.parametrize("status", [429, 503])
def test_sweep_all_still_honours_a_feeds_retry_after(
    server: HTTPServer, make_config, status: int
) -> None:
    server.expect_request("/busy.xml").respond_with_data(
        "slow down", status=status, headers={"Retry-After": "3600"}
    )
    server.expect_request("/fine.xml").respond_with_data(rss([("f", "Fine")]))
    config = make_config({"busy": server.url_for("/busy.xml"), "fine": server.url_for("/fine.xml")})
    database, first = run_sweep(config)
    assert first.feeds_failed == 1
    assert feed_row(database, "busy").retry_until is not None
    asked = len(server.log)
    _, forced = run_sweep(config, all_feeds=True)
    assert forced.feeds_due == 1 and forced.feeds_failed == 0, "only the fine feed"
    assert [r.path for r, _ in server.log[asked:]] == ["/fine.xml"]
    # Naming the feed is the admin's explicit wish: it is polled.
    _, named = run_sweep(config, names=["busy"])
    assert named.feeds_due == 1


def test_500s_back_off_and_a_recovered_feed_comes_back(server: HTTPServer, make_config) -> None:
    server.expect_request("/flaky.xml").respond_with_data("down", status=500)
    config = make_config({"flaky": server.url_for("/flaky.xml")}, interval="10m")
    waits = []
    for _ in range(3):
        start = datetime.now(UTC)
        database, _ = run_sweep(config, names=["flaky"])
        feed = feed_row(database, "flaky")
        assert feed.next_poll_at is not None
        waits.append((feed.next_poll_at - start).total_seconds())
    assert feed.consecutive_errors == 3
    assert 540 <= waits[0] <= 660 and 1080 <= waits[1] <= 1320 and 2160 <= waits[2] <= 2640
    server.clear()
    server.expect_request("/flaky.xml").respond_with_data(rss([("x", "Back")]))
    with database.session() as session:
        session.execute(update(Feed).values(next_poll_at=datetime.now(UTC) - timedelta(seconds=1)))
    _, summary = run_sweep(config)
    assert summary.feeds_polled == 1 and summary.articles_new == 1
    feed = feed_row(database, "flaky")
    assert feed.consecutive_errors == 0 and feed.last_error is None


def test_410_gone_stops_polling_with_a_reason(server: HTTPServer, make_config, cli_for) -> None:
    server.expect_request("/gone.xml").respond_with_data("gone", status=410)
    config = make_config({"gone": server.url_for("/gone.xml")})
    cli = cli_for(config)
    assert cli("sweep").code == 0
    again = json.loads(cli("sweep", "--all", "--json").out)
    assert again["feeds_due"] == 0
    row = json.loads(cli("feed", "list", "--json").out)[0]
    assert row["gone"] is True
    assert row["next_poll_at"] is None
    assert "410" in cli("feed", "list").out


def test_a_permanent_redirect_is_recorded_and_shown(
    server: HTTPServer, make_config, cli_for
) -> None:
    server.expect_request("/old.xml").respond_with_data(
        "", status=301, headers={"Location": server.url_for("/new.xml")}
    )
    server.expect_request("/new.xml").respond_with_data(rss([("n", "New home")]))
    cli = cli_for(make_config({"moved": server.url_for("/old.xml")}))
    assert json.loads(cli("sweep", "--json").out)["articles_new"] == 1
    row = json.loads(cli("feed", "list", "--json").out)[0]
    assert row["redirect_url"] == server.url_for("/new.xml")
    assert "moved permanently" in cli("feed", "list").out


def test_a_server_that_never_answers_is_cut_at_the_timeout_while_others_finish(
    server: HTTPServer, make_config
) -> None:
    release = threading.Event()

    def hang(_request: Request) -> Response:
        release.wait(20)
        return Response("late", status=200)

    server.expect_request("/hang.xml").respond_with_handler(hang)
    server.expect_request("/ok.xml").respond_with_data(rss([("o", "On time")]))
    config = make_config(
        {"hang": server.url_for("/hang.xml"), "ok": server.url_for("/ok.xml")}, timeout=1
    )
    started = time.monotonic()
    try:
        _database, summary = run_sweep(config)
    finally:
        release.set()
    assert time.monotonic() - started < 5
    assert summary.articles_new == 1
    assert [e["feed"] for e in summary.errors] == ["hang"]
    assert "timed out" in summary.errors[0]["error"]


def test_a_huge_body_and_a_gzip_bomb_are_cut_at_max_bytes(server: HTTPServer, make_config) -> None:
    server.expect_request("/huge.xml").respond_with_data(
        b"<rss>" + b" " * 50_000_000, content_type="application/rss+xml"
    )
    bomb = gzip.compress(b"<rss>" + b" " * 200_000_000, compresslevel=9)
    server.expect_request("/bomb.xml").respond_with_data(
        bomb, headers={"Content-Encoding": "gzip"}, content_type="application/rss+xml"
    )
    server.expect_request("/ok.xml").respond_with_data(rss([("o", "Fine")]))
    config = make_config(
        {
            "huge": server.url_for("/huge.xml"),
            "bomb": server.url_for("/bomb.xml"),
            "ok": server.url_for("/ok.xml"),
        },
        max_bytes=1_000_000,
        timeout=10,
    )
    _database, summary = run_sweep(config)
    errors = {e["feed"]: e["error"] for e in summary.errors}
    assert set(errors) == {"huge", "bomb"}
    assert "larger than 1,000,000 bytes" in errors["huge"]
    assert "larger than 1,000,000 bytes" in errors["bomb"]
    assert summary.articles_new == 1


def test_a_removed_feed_stops_being_polled_and_keeps_its_articles(
    server: HTTPServer, tmp_path: Path, database_url: str, cli_for
) -> None:
    server.expect_request("/a.xml").respond_with_data(rss([("a", "Alpha")]))
    server.expect_request("/b.xml").respond_with_data(rss([("b", "Beta")]))
    path = tmp_path / "config.toml"
    write_config(path, database_url, {"a": server.url_for("/a.xml"), "b": server.url_for("/b.xml")})
    cli = cli_for(path)
    assert json.loads(cli("sweep", "--json").out)["articles_new"] == 2
    write_config(path, database_url, {"a": server.url_for("/a.xml")})
    summary = json.loads(cli("sweep", "--all", "--json").out)
    assert summary["feeds_due"] == 1
    rows = {r["name"]: r for r in json.loads(cli("feed", "list", "--json").out)}
    assert rows["b"]["articles"] == 1
    assert "removed" in rows["b"]["next"]


def test_sweep_feed_names_an_unknown_feed_clearly(make_config, cli_for) -> None:
    cli = cli_for(make_config({"a": "https://news.example.org/a.xml"}))
    result = cli("sweep", "--feed", "nope")
    assert result.code == 2
    assert result.err.strip() == 'error: no feed named "nope" in the config; feeds: a'


def test_local_files_are_swept_through_the_same_parse_path(make_config) -> None:
    example = Path(__file__).parent.parent / "examples" / "feed.xml"
    database, summary = run_sweep(make_config({"example": str(example)}))
    assert summary.feeds_failed == 0
    assert summary.articles_new >= 10
    with database.session() as session:
        urls = session.scalars(select(Article.url)).all()
    assert not any("utm_" in u for u in urls), "tracking parameters are removed"


# SQLite's one sweep lock; PostgreSQL workers share feeds instead (tests/test_workers.py).
@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_a_second_concurrent_sweep_exits_75(make_config, cli_for, database_url: str) -> None:
    config = make_config({"a": "https://news.example.org/a.xml"})
    cli = cli_for(config)
    holder = SweepLockHolder(Database(database_url))
    holder.acquire()
    try:
        result = cli("sweep")
        assert result.code == 75
        assert result.err.startswith("error: another sweep is running on this database")
    finally:
        holder.release()
    assert cli("sweep", "--feed", "a").code == 0


def test_a_lock_left_by_a_dead_process_does_not_block(make_config, database_url: str) -> None:
    config = make_config({})
    database = Database(database_url)
    database.migrate()
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    with database.session() as session:
        session.execute(
            update(SweepLock).values(
                holder=holder_id(dead.pid, "deadbeef"),
                acquired_at=datetime.now(UTC),
                heartbeat_at=datetime.now(UTC),
            )
        )
    _, summary = run_sweep(config)
    assert summary.run_id is not None
    # A lock from another machine is taken over once its heartbeat is stale.
    with database.session() as session:
        session.execute(
            update(SweepLock).values(
                holder="elsewhere:1:cafe",
                acquired_at=datetime.now(UTC) - timedelta(hours=1),
                heartbeat_at=datetime.now(UTC) - timedelta(minutes=11),
            )
        )
    _, summary = run_sweep(config)
    assert summary.run_id is not None


def descendants(pid: int) -> list[int]:
    """Every process below ``pid``, from /proc."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            parent = int(stat.rsplit(")", 1)[1].split()[1])
            children.setdefault(parent, []).append(int(entry.name))
    found, todo = [], [pid]
    while todo:
        for child in children.get(todo.pop(), []):
            found.append(child)
            todo.append(child)
    return found


def alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


def test_a_sweep_killed_mid_run_loses_nothing_and_the_next_completes(
    server: HTTPServer, make_config, database_url: str
) -> None:
    fast = {f"fast{i}": server.url_for(f"/fast{i}.xml") for i in range(6)}
    slow = {f"slow{i}": server.url_for(f"/slow{i}.xml") for i in range(4)}
    hold = threading.Event()
    for i in range(6):
        server.expect_request(f"/fast{i}.xml").respond_with_data(
            rss([(f"f{i}-{j}", f"Fast {i} {j}") for j in range(5)] + [("shared", "Shared")])
        )

    def slow_handler(index: int):  # type: ignore[no-untyped-def]
        def handler(_request: Request) -> Response:
            if not hold.is_set():
                hold.wait(30)
            return Response(
                rss([(f"s{index}-{j}", f"Slow {index} {j}") for j in range(5)]),
                content_type="application/rss+xml",
            )

        return handler

    for i in range(4):
        server.expect_request(f"/slow{i}.xml").respond_with_handler(slow_handler(i))
    config = make_config({**fast, **slow}, timeout=30, lease="1s")
    database = Database(database_url)
    database.migrate()
    proc = subprocess.Popen(
        [sys.executable, "-m", "pledgewatch", "--config", str(config), "sweep"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    try:
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline and article_count(database) < 31:
            time.sleep(0.05)
        assert article_count(database) == 31, "the fast feeds were committed before the kill"
        helpers = descendants(proc.pid)
        assert helpers, "the sweep parses in worker processes"
        proc.send_signal(signal.SIGKILL)
        proc.wait(10)
        # Its parse workers and their fork server leave with it: cron piles up no orphans.
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and any(alive(pid) for pid in helpers):
            time.sleep(0.1)
        assert not any(alive(pid) for pid in helpers)
    finally:
        if proc.poll() is None:
            proc.kill()
    hold.set()
    if database.dialect == "postgresql":
        # The killed worker's claims run out with their lease, its run a little later.
        time.sleep(3.5)
    _, summary = run_sweep(config)
    assert summary.feeds_due == 4, "only the feeds the killed sweep had not finished are due"
    assert summary.articles_new == 20
    assert article_count(database) == 51
    with database.session() as session:
        states = session.scalars(select(SweepRun.state).order_by(SweepRun.id)).all()
        links = session.scalar(select(func.count()).select_from(ArticleFeed))
    assert states == ["abandoned", "finished"]
    assert links == 6 * 6 + 4 * 5


def test_sweep_json_has_the_documented_keys(make_config, cli_for) -> None:
    example = Path(__file__).parent.parent / "examples" / "feed.xml"
    cli = cli_for(make_config({"example": str(example)}))
    result = cli("sweep", "--json")
    assert result.code == 0
    document = json.loads(result.out)
    assert {
        "feeds_polled",
        "feeds_not_modified",
        "feeds_failed",
        "articles_new",
        "articles_updated",
        "evidence_new",
        "seconds",
        "errors",
    } <= set(document)
    text = cli("sweep", "--all")
    assert "1 of 1 feeds polled" in text.out


def test_watch_sweeps_then_stops_cleanly_on_sigterm(make_config, database_url: str) -> None:
    example = Path(__file__).parent.parent / "examples" / "feed.xml"
    config = make_config({"example": str(example)}, interval="1h")
    Database(database_url).migrate()
    proc = subprocess.Popen(
        [sys.executable, "-m", "pledgewatch", "--config", str(config), "watch"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    database = Database(database_url)
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline and article_count(database) == 0:
        time.sleep(0.1)
    time.sleep(0.5)
    proc.send_signal(signal.SIGTERM)
    _, err = proc.communicate(timeout=20)
    assert proc.returncode == 0, err
    assert "sweep #1: 1 of 1 feeds polled" in err
    assert "stopped" in err


def test_a_stop_request_finishes_the_feed_in_hand_and_starts_no_other(
    server: HTTPServer, make_config
) -> None:
    started = threading.Event()
    release = threading.Event()

    def slow(_request: Request) -> Response:
        started.set()
        release.wait(10)
        return Response(rss([("s", "Slow but stored")]), content_type="application/rss+xml")

    server.expect_request("/a-slow.xml").respond_with_handler(slow)
    for name in ("b", "c", "d"):
        server.expect_request(f"/{name}.xml").respond_with_data(rss([(name, name.upper())]))
    feeds = {"a-slow": server.url_for("/a-slow.xml")}
    feeds.update({n: server.url_for(f"/{n}.xml") for n in ("b", "c", "d")})
    config_path = make_config(feeds, concurrency=1, timeout=15)
    config = load_config(config_path, env={})
    database = Database(config.database.url)
    database.migrate()
    stop = threading.Event()
    results: list[object] = []
    worker = threading.Thread(
        target=lambda: results.append(Sweep(database, config, stop=stop).run())
    )
    worker.start()
    assert started.wait(10)
    stop.set()
    release.set()
    worker.join(20)
    summary = results[0]
    assert summary.interrupted is True  # type: ignore[attr-defined]
    assert summary.feeds_polled == 1  # type: ignore[attr-defined]
    with database.session() as session:
        assert session.scalars(select(Article.title)).all() == ["Slow but stored"]
        assert session.scalars(select(SweepRun.state)).all() == ["interrupted"]
        due = session.scalars(select(Feed.name).where(Feed.next_poll_at.is_(None))).all()
    assert sorted(due) == ["b", "c", "d"], "the feeds not started stay due for the next sweep"


def test_feed_list_shows_a_page_of_feeds_and_every_feed_that_needs_the_admin(
    server: HTTPServer, make_config, cli_for
) -> None:
    # 60 feeds, more than a table's page; two of the last ones fail, one is gone.
    feeds = {f"f{i:02d}": server.url_for(f"/f{i}.xml") for i in range(60)}
    for i in range(60):
        if i in (57, 58):
            server.expect_request(f"/f{i}.xml").respond_with_data("no", status=500)
        elif i == 59:
            server.expect_request(f"/f{i}.xml").respond_with_data("gone", status=410)
        else:
            server.expect_request(f"/f{i}.xml").respond_with_data(rss([(f"s{i}", f"Story {i}")]))
    cli = cli_for(make_config(feeds, concurrency=16, per_host=16))
    assert cli("sweep").code == 0

    table = cli("feed", "list")
    assert table.code == 0
    assert "showing 50 of 60 feeds; --limit 60 shows more" in table.out
    assert "f49" in table.out
    # Every feed that needs the admin is named with its URL, beyond the page too.
    for i in (57, 58, 59):
        assert f"f{i}: {server.url_for(f'/f{i}.xml')}" in table.out
    assert "f56" not in table.out

    listed = json.loads(cli("feed", "list", "--json").out)
    assert [row["name"] for row in listed] == sorted(feeds)
    assert listed[0]["articles"] == 1 and listed[59]["articles"] == 0
    page = json.loads(cli("feed", "list", "--limit", "5", "--json").out)
    assert [row["name"] for row in page] == ["f00", "f01", "f02", "f03", "f04"]
    assert page[3]["articles"] == 1
    assert cli("feed", "list", "--limit", "5").out.count(" ok") == 5
