"""The Fetcher against real HTTP servers on 127.0.0.1.

pytest-httpserver (threaded, so concurrent requests really overlap) serves the
ordinary cases; small asyncio servers written here play the servers that
never answer or trickle a body forever.
"""

from __future__ import annotations

import asyncio
import gzip
import socket
import threading
import time
import tracemalloc
import zlib
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from pathlib import Path
from typing import Any

import pytest
from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

from pledgewatch.feeds.fetch import (
    MAX_ETAG_LENGTH,
    MAX_LAST_MODIFIED_LENGTH,
    MAX_RETRY_AFTER,
    FeedRequest,
    Fetcher,
    FetchResult,
    FetchSettings,
    parse_retry_after,
)

FEEDS = Path(__file__).parent / "data" / "feeds"
RSS = (FEEDS / "rss20.xml").read_bytes()
RSS_TYPE = "application/rss+xml; charset=utf-8"
FAST = FetchSettings(timeout=5.0, connect_timeout=2.0)


async def fetch_all(requests: list[FeedRequest], settings: FetchSettings) -> list[FetchResult]:
    """Every request through one Fetcher at once, as a sweep fetches; its limits hold."""
    async with Fetcher(settings) as fetcher:
        return list(await asyncio.gather(*(fetcher.fetch(r) for r in requests)))


# --- servers ---------------------------------------------------------------------------


@pytest.fixture(scope="module")
def servers() -> Iterator[tuple[HTTPServer, HTTPServer]]:
    started = []
    for _ in range(2):
        server = HTTPServer(host="127.0.0.1", port=0, threaded=True)
        server.start()
        started.append(server)
    yield started[0], started[1]
    for server in started:
        server.clear()
        server.stop()


@pytest.fixture
def server(servers: tuple[HTTPServer, HTTPServer]) -> Iterator[HTTPServer]:
    for each in servers:
        each.clear()
    yield servers[0]
    for each in servers:
        each.clear()


Handler = Callable[[asyncio.StreamReader, asyncio.StreamWriter], Awaitable[None]]


@asynccontextmanager
async def raw_server(handler: Handler) -> AsyncIterator[str]:
    """A TCP server in the test's own event loop; yields its base URL."""
    tasks: set[asyncio.Task[None]] = set()

    async def track(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        tasks.add(task)
        try:
            await handler(reader, writer)
        except (ConnectionError, asyncio.CancelledError):
            pass
        finally:
            writer.close()

    server = await asyncio.start_server(track, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.close()
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        await server.wait_closed()


async def never_answer(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    await reader.read(65536)
    await asyncio.sleep(3600)


async def trickle_forever(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    await reader.read(65536)
    writer.write(
        b"HTTP/1.1 200 OK\r\nContent-Type: application/rss+xml\r\n"
        b"Transfer-Encoding: chunked\r\n\r\n"
    )
    while True:
        writer.write(b"1\r\n<\r\n")
        await writer.drain()
        await asyncio.sleep(0.05)


def fetch_one(request: FeedRequest, settings: FetchSettings = FAST) -> FetchResult:
    async def go() -> FetchResult:
        async with Fetcher(settings) as fetcher:
            return await fetcher.fetch(request)

    return asyncio.run(go())


def feed(server: HTTPServer, path: str = "/feed.xml", **kwargs: Any) -> FeedRequest:
    return FeedRequest(name=path.strip("/"), url=server.url_for(path), **kwargs)


def assert_one_line_error(result: FetchResult) -> str:
    assert result.outcome == "error"
    assert result.body is None
    assert result.error
    assert "\n" not in result.error
    return result.error


# --- success, validators and request headers ------------------------------------------


def test_ok_returns_body_content_type_and_validators(server: HTTPServer) -> None:
    server.expect_request("/feed.xml").respond_with_data(
        RSS,
        content_type=RSS_TYPE,
        headers={"ETag": '"v1"', "Last-Modified": "Fri, 14 Jun 2024 08:00:00 GMT"},
    )
    result = fetch_one(feed(server))
    assert result.outcome == "ok"
    assert result.http_status == 200
    assert result.body == RSS
    assert result.content_type == RSS_TYPE
    assert result.etag == '"v1"'
    assert result.last_modified == "Fri, 14 Jun 2024 08:00:00 GMT"
    assert result.permanent_redirect is None
    assert result.error is None
    assert result.elapsed > 0


def test_user_agent_and_feed_accept_header_are_sent(server: HTTPServer) -> None:
    settings = FetchSettings(user_agent="pledgewatch-test/9 (+https://ex.org)")
    server.expect_request(
        "/feed.xml", headers={"User-Agent": "pledgewatch-test/9 (+https://ex.org)"}
    ).respond_with_data(RSS, content_type=RSS_TYPE)
    result = fetch_one(feed(server), settings)
    assert result.outcome == "ok"
    request = server.log[0][0]
    assert request.headers["Accept"].startswith("application/rss+xml, application/atom+xml")


def test_conditional_get_sends_stored_validators_and_304_is_not_modified(
    server: HTTPServer,
) -> None:
    stamp = "Fri, 14 Jun 2024 08:00:00 GMT"
    server.expect_request(
        "/feed.xml", headers={"If-None-Match": '"v1"', "If-Modified-Since": stamp}
    ).respond_with_data(b"", status=304)
    result = fetch_one(feed(server, etag='"v1"', last_modified=stamp))
    assert result.outcome == "not_modified"
    assert result.http_status == 304
    assert result.error is None
    assert result.body is None
    # The server sent no new validators: the stored ones are kept.
    assert (result.etag, result.last_modified) == ('"v1"', stamp)


def test_304_with_new_etag_returns_the_new_one(server: HTTPServer) -> None:
    server.expect_request("/feed.xml").respond_with_data(b"", status=304, headers={"ETag": '"v2"'})
    result = fetch_one(feed(server, etag='"v1"'))
    assert (result.outcome, result.etag) == ("not_modified", '"v2"')


def test_non_ascii_stored_etag_does_not_break_the_fetch(server: HTTPServer) -> None:
    server.expect_request("/feed.xml").respond_with_data(b"", status=304)
    assert fetch_one(feed(server, etag='"café"')).outcome == "not_modified"


# --- HTTP errors ------------------------------------------------------------------------


def test_http_500_is_an_error_with_the_status_line(server: HTTPServer) -> None:
    server.expect_request("/feed.xml").respond_with_data(b"oops", status=500)
    result = fetch_one(feed(server))
    assert assert_one_line_error(result) == "HTTP 500 Internal Server Error"
    assert result.http_status == 500
    assert result.retry_after is None


def test_http_404_is_an_error(server: HTTPServer) -> None:
    server.expect_request("/feed.xml").respond_with_data(b"", status=404)
    assert assert_one_line_error(fetch_one(feed(server))) == "HTTP 404 Not Found"


def test_410_is_gone(server: HTTPServer) -> None:
    server.expect_request("/feed.xml").respond_with_data(b"removed", status=410)
    result = fetch_one(feed(server))
    assert result.outcome == "gone"
    assert result.http_status == 410


def test_429_with_retry_after_seconds_sets_retry_after(server: HTTPServer) -> None:
    server.expect_request("/feed.xml").respond_with_data(
        b"slow down", status=429, headers={"Retry-After": "120"}
    )
    before = datetime.now(UTC)
    result = fetch_one(feed(server))
    assert assert_one_line_error(result) == "HTTP 429 Too Many Requests"
    assert result.retry_after is not None
    expected = before + timedelta(seconds=120)
    assert expected <= result.retry_after <= expected + timedelta(seconds=5)


def test_503_with_retry_after_http_date_sets_retry_after(server: HTTPServer) -> None:
    when = (datetime.now(UTC) + timedelta(hours=2)).replace(microsecond=0)
    server.expect_request("/feed.xml").respond_with_data(
        b"", status=503, headers={"Retry-After": format_datetime(when, usegmt=True)}
    )
    result = fetch_one(feed(server))
    assert assert_one_line_error(result) == "HTTP 503 Service Unavailable"
    assert result.retry_after == when


def test_503_with_garbage_retry_after_has_no_retry_after(server: HTTPServer) -> None:
    server.expect_request("/feed.xml").respond_with_data(
        b"", status=503, headers={"Retry-After": "soon-ish"}
    )
    result = fetch_one(feed(server))
    assert result.outcome == "error"
    assert result.retry_after is None


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("0", None),
        ("60", timedelta(seconds=60)),
        ("99999999999999999999", timedelta(days=7)),
        ("Wed, 21 Oct 2099 07:28:00 GMT", timedelta(days=7)),
        ("Fri, 14 Jun 2024 11:00:00 GMT", None),  # in the past
        ("Fri, 14 Jun 2024 13:00:00 GMT", timedelta(hours=1)),
        ("-5", None),
        ("tomorrow", None),
        ("", None),
        (None, None),
    ],
)
def test_parse_retry_after_reads_seconds_and_dates_caps_and_ignores_garbage(
    value: str | None, expected: timedelta | None
) -> None:
    now = datetime(2024, 6, 14, 12, 0, tzinfo=UTC)
    result = parse_retry_after(value, now=now)
    assert (result - now if result else None) == expected


def test_empty_body_is_an_error(server: HTTPServer) -> None:
    server.expect_request("/feed.xml").respond_with_data(b"", content_type=RSS_TYPE)
    assert assert_one_line_error(fetch_one(feed(server))) == "empty body"


def test_connection_refused_is_an_error() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    result = fetch_one(FeedRequest(name="closed", url=f"http://127.0.0.1:{port}/feed.xml"))
    assert assert_one_line_error(result) == "connection refused"
    assert result.http_status is None


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("ftp://127.0.0.1/feed.xml", "unsupported URL scheme 'ftp'"),
        ("http://[::1/feed.xml", "invalid URL"),
    ],
)
def test_unusable_urls_are_errors(url: str, message: str) -> None:
    assert assert_one_line_error(fetch_one(FeedRequest(name="bad", url=url))).startswith(message)


# --- redirects --------------------------------------------------------------------------


def test_301_is_followed_and_reported_as_permanent_redirect(server: HTTPServer) -> None:
    server.expect_request("/old.xml").respond_with_data(
        b"", status=301, headers={"Location": "/new.xml"}
    )
    server.expect_request("/new.xml").respond_with_data(RSS, content_type=RSS_TYPE)
    result = fetch_one(feed(server, "/old.xml"))
    assert result.outcome == "ok"
    assert result.body == RSS
    assert result.permanent_redirect == server.url_for("/new.xml")


def test_308_then_302_reports_only_the_permanent_hop(server: HTTPServer) -> None:
    server.expect_request("/a.xml").respond_with_data(
        b"", status=308, headers={"Location": "/b.xml"}
    )
    server.expect_request("/b.xml").respond_with_data(
        b"", status=302, headers={"Location": "/c.xml"}
    )
    server.expect_request("/c.xml").respond_with_data(RSS, content_type=RSS_TYPE)
    result = fetch_one(feed(server, "/a.xml"))
    assert result.outcome == "ok"
    assert result.permanent_redirect == server.url_for("/b.xml")


def test_temporary_redirect_is_followed_without_permanent_redirect(server: HTTPServer) -> None:
    server.expect_request("/tmp.xml").respond_with_data(
        b"", status=302, headers={"Location": "/feed.xml"}
    )
    server.expect_request("/feed.xml").respond_with_data(RSS, content_type=RSS_TYPE)
    result = fetch_one(feed(server, "/tmp.xml"))
    assert result.outcome == "ok"
    assert result.permanent_redirect is None


def test_redirect_loop_is_too_many_redirects(server: HTTPServer) -> None:
    server.expect_request("/loop-a").respond_with_data(
        b"", status=302, headers={"Location": "/loop-b"}
    )
    server.expect_request("/loop-b").respond_with_data(
        b"", status=301, headers={"Location": "/loop-a"}
    )
    result = fetch_one(feed(server, "/loop-a"), FetchSettings(max_redirects=5))
    assert assert_one_line_error(result) == "too many redirects"
    assert len(server.log) == 6  # the request and five redirects, then it stops


def test_redirect_to_a_non_http_url_is_an_error(server: HTTPServer) -> None:
    server.expect_request("/feed.xml").respond_with_data(
        b"", status=302, headers={"Location": "file:///etc/passwd"}
    )
    message = assert_one_line_error(fetch_one(feed(server)))
    assert message.startswith("redirected to an unsupported URL")


# --- limits: time, size, decompression --------------------------------------------------


def test_server_that_never_answers_is_cut_at_the_timeout_while_others_finish(
    server: HTTPServer,
) -> None:
    server.expect_request("/feed.xml").respond_with_data(RSS, content_type=RSS_TYPE)
    settings = FetchSettings(timeout=1.0, connect_timeout=1.0)

    async def go() -> tuple[list[FetchResult], float]:
        async with raw_server(never_answer) as silent:
            requests = [FeedRequest("silent", f"{silent}/feed.xml")] + [
                FeedRequest(f"ok-{i}", server.url_for("/feed.xml")) for i in range(3)
            ]
            started = time.monotonic()
            results = await asyncio.wait_for(fetch_all(requests, settings), timeout=5)
            return results, time.monotonic() - started

    results, wall = asyncio.run(go())
    assert assert_one_line_error(results[0]) == "timed out after 1s"
    assert [r.outcome for r in results[1:]] == ["ok", "ok", "ok"]
    assert all(r.elapsed < 0.9 for r in results[1:])
    assert 0.9 <= wall < 2.0


def test_body_trickled_forever_is_cut_at_the_total_deadline() -> None:
    settings = FetchSettings(timeout=0.8)

    async def go() -> tuple[FetchResult, float]:
        async with raw_server(trickle_forever) as trickler:
            started = time.monotonic()
            async with Fetcher(settings) as fetcher:
                request = FeedRequest("trickle", f"{trickler}/feed.xml")
                # The outer wait_for only keeps a broken deadline from hanging the suite.
                result = await asyncio.wait_for(fetcher.fetch(request), timeout=5)
            return result, time.monotonic() - started

    result, wall = asyncio.run(go())
    assert assert_one_line_error(result) == "timed out after 0.8s"
    assert wall < 1.6


def test_50_mb_body_is_cut_at_max_bytes(server: HTTPServer) -> None:
    megabyte = b"<" * 1_000_000

    def endless(request: Request) -> Response:
        return Response((megabyte for _ in range(50)), content_type=RSS_TYPE)

    server.expect_request("/huge.xml").respond_with_handler(endless)
    started = time.monotonic()
    result = fetch_one(feed(server, "/huge.xml"), FetchSettings(max_bytes=15_000_000))
    assert assert_one_line_error(result) == "body larger than 15,000,000 bytes"
    assert time.monotonic() - started < 5


@pytest.fixture(scope="module")
def gzip_bomb() -> bytes:
    """100 MB of zeros, gzip-compressed to about 100 KB."""
    compressor = zlib.compressobj(9, zlib.DEFLATED, 16 + zlib.MAX_WBITS)
    zeros = bytes(1_000_000)
    parts = [compressor.compress(zeros) for _ in range(100)]
    parts.append(compressor.flush())
    return b"".join(parts)


def test_gzip_bomb_is_cut_at_max_bytes_without_inflating_it(
    server: HTTPServer, gzip_bomb: bytes
) -> None:
    assert len(gzip_bomb) < 200_000
    server.expect_request("/bomb.xml").respond_with_data(
        gzip_bomb, content_type=RSS_TYPE, headers={"Content-Encoding": "gzip"}
    )
    max_bytes = 5_000_000
    tracemalloc.start()
    try:
        started = time.monotonic()
        result = fetch_one(feed(server, "/bomb.xml"), FetchSettings(max_bytes=max_bytes))
        elapsed = time.monotonic() - started
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert assert_one_line_error(result) == "body larger than 5,000,000 bytes"
    assert elapsed < 5
    # Inflating one 64 KiB network read whole would already take ~64 MB; the
    # margin is for what the loopback server's threads allocate meanwhile.
    assert peak < 5 * max_bytes


def test_stacked_content_encodings_are_refused(server: HTTPServer) -> None:
    server.expect_request("/feed.xml").respond_with_data(
        gzip.compress(gzip.compress(RSS)), headers={"Content-Encoding": "gzip, gzip"}
    )
    message = assert_one_line_error(fetch_one(feed(server)))
    assert message == "unsupported Content-Encoding 'gzip, gzip'"


@pytest.mark.parametrize(
    ("encoding", "compress"),
    [
        ("gzip", gzip.compress),
        ("deflate", zlib.compress),
        ("deflate", lambda data: zlib.compress(data)[2:-4]),  # raw deflate, as IIS sends
        ("gzip", lambda data: gzip.compress(data[:500]) + gzip.compress(data[500:])),
    ],
)
def test_compressed_bodies_are_inflated(
    server: HTTPServer, encoding: str, compress: Callable[[bytes], bytes]
) -> None:
    server.expect_request("/feed.xml").respond_with_data(
        compress(RSS), content_type=RSS_TYPE, headers={"Content-Encoding": encoding}
    )
    result = fetch_one(feed(server))
    assert result.outcome == "ok"
    assert result.body == RSS


def test_corrupt_gzip_body_is_an_error(server: HTTPServer) -> None:
    server.expect_request("/feed.xml").respond_with_data(
        b"\x1f\x8b\x08\x00garbage-garbage", headers={"Content-Encoding": "gzip"}
    )
    message = assert_one_line_error(fetch_one(feed(server)))
    assert message.startswith("could not decompress the gzip body")


# --- concurrency ------------------------------------------------------------------------


class ConcurrencyCounter:
    """A werkzeug handler that holds each request briefly and records the overlap."""

    def __init__(self, hold: float = 0.3) -> None:
        self.hold = hold
        self.lock = threading.Lock()
        self.now = 0
        self.most = 0
        self.per_host: dict[str, int] = {}
        self.most_per_host: dict[str, int] = {}

    def __call__(self, request: Request) -> Response:
        host = request.host
        with self.lock:
            self.now += 1
            self.most = max(self.most, self.now)
            self.per_host[host] = self.per_host.get(host, 0) + 1
            self.most_per_host[host] = max(self.most_per_host.get(host, 0), self.per_host[host])
        time.sleep(self.hold)
        with self.lock:
            self.now -= 1
            self.per_host[host] -= 1
        return Response(RSS, content_type=RSS_TYPE)


def test_per_host_limit_is_respected(server: HTTPServer) -> None:
    counter = ConcurrencyCounter()
    server.expect_request("/feed.xml").respond_with_handler(counter)
    requests = [FeedRequest(f"f{i}", server.url_for("/feed.xml")) for i in range(6)]
    started = time.monotonic()
    results = asyncio.run(fetch_all(requests, FetchSettings(concurrency=16, per_host=2)))
    wall = time.monotonic() - started
    assert [r.outcome for r in results] == ["ok"] * 6
    assert counter.most == 2
    assert wall >= 3 * counter.hold * 0.9  # three rounds of two


def test_overall_concurrency_limit_is_respected_across_hosts(
    servers: tuple[HTTPServer, HTTPServer], server: HTTPServer
) -> None:
    counter = ConcurrencyCounter()
    for each in servers:
        each.expect_request("/feed.xml").respond_with_handler(counter)
    requests = [
        FeedRequest(f"f{i}-{n}", each.url_for("/feed.xml"))
        for n, each in enumerate(servers)
        for i in range(4)
    ]
    results = asyncio.run(fetch_all(requests, FetchSettings(concurrency=3, per_host=2)))
    assert [r.outcome for r in results] == ["ok"] * 8
    assert counter.most == 3
    assert max(counter.most_per_host.values()) == 2


def test_fetch_outside_the_context_manager_is_a_bug() -> None:
    async def go() -> None:
        await Fetcher(FAST).fetch(FeedRequest("x", "http://127.0.0.1:9/feed.xml"))

    with pytest.raises(RuntimeError):
        asyncio.run(go())


# --- local files ------------------------------------------------------------------------


def test_file_url_and_plain_path_are_read_from_disk(tmp_path: Path) -> None:
    path = tmp_path / "archive feed.xml"
    path.write_bytes(RSS)
    requests = [FeedRequest("url", path.as_uri()), FeedRequest("path", str(path))]
    results = asyncio.run(fetch_all(requests, FAST))
    for result in results:
        assert result.outcome == "ok"
        assert result.body == RSS
        assert result.http_status is None
        assert result.content_type in ("application/xml", "text/xml")


@pytest.mark.parametrize(
    ("content", "limit", "message"),
    [
        (None, 100, "no such file: "),
        (b"", 100, "empty body"),
        (b"x" * 101, 100, "body larger than 100 bytes"),
    ],
)
def test_missing_empty_and_oversized_files_are_errors(
    tmp_path: Path, content: bytes | None, limit: int, message: str
) -> None:
    path = tmp_path / "feed.xml"
    if content is not None:
        path.write_bytes(content)
    result = fetch_one(FeedRequest("file", path.as_uri()), FetchSettings(max_bytes=limit))
    assert assert_one_line_error(result).startswith(message)


def test_directory_is_an_error(tmp_path: Path) -> None:
    message = assert_one_line_error(fetch_one(FeedRequest("dir", str(tmp_path))))
    assert message.startswith("is a directory")


# --- what no server may crash: odd Retry-After, validators, redirects, URLs ----------


def test_429_with_a_superscript_two_as_retry_after_has_no_retry_after(server: HTTPServer) -> None:
    # "²".isdigit() is true, but int("²") raises.
    server.expect_request("/feed.xml").respond_with_data(
        b"", status=429, headers={"Retry-After": "²"}
    )
    result = fetch_one(feed(server))
    assert assert_one_line_error(result) == "HTTP 429 Too Many Requests"
    assert result.retry_after is None


def test_429_with_4400_digits_of_retry_after_waits_the_longest_honoured(
    server: HTTPServer,
) -> None:
    # Python refuses int() of more than 4,300 digits.
    server.expect_request("/feed.xml").respond_with_data(
        b"", status=429, headers={"Retry-After": "9" * 4400}
    )
    before = datetime.now(UTC)
    result = fetch_one(feed(server))
    assert assert_one_line_error(result) == "HTTP 429 Too Many Requests"
    assert result.retry_after is not None
    assert before + MAX_RETRY_AFTER <= result.retry_after <= datetime.now(UTC) + MAX_RETRY_AFTER


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("²", None),
        ("٣", None),  # an Arabic-Indic three: a digit, but not delta-seconds
        ("１２０", None),  # fullwidth digits
        ("9" * 4400, timedelta(days=7)),
        ("0" * 5000 + "60", timedelta(seconds=60)),
        ("Fri, 31 Dec 9999 23:59:59 -1200", timedelta(days=7)),  # beyond datetime.max in UTC
        ("Fri, 31 Dec 9999 23:59:59 GMT", timedelta(days=7)),
        ("Mon, 01 Jan 0001 00:00:00 +1400", None),  # before datetime.min in UTC
        ("Mon, 01 Jan 0001 00:00:00 GMT", None),
    ],
)
def test_parse_retry_after_never_raises_on_odd_digits_and_dates(
    value: str, expected: timedelta | None
) -> None:
    now = datetime(2024, 6, 14, 12, 0, tzinfo=UTC)
    result = parse_retry_after(value, now=now)
    assert (result - now if result else None) == expected


@pytest.mark.parametrize(
    ("etag", "kept"),
    [
        ('"' + "e" * (MAX_ETAG_LENGTH - 2) + '"', True),
        ('"' + "e" * 4998 + '"', False),
        ('"caf\xe9"', False),
    ],
    ids=["at-the-column-size", "5000-chars", "non-ascii"],
)
def test_etag_the_feeds_table_cannot_hold_is_not_returned(
    server: HTTPServer, etag: str, kept: bool
) -> None:
    server.expect_request("/feed.xml").respond_with_data(
        RSS, content_type=RSS_TYPE, headers={"ETag": etag}
    )
    result = fetch_one(feed(server))
    assert result.outcome == "ok"
    assert result.etag == (etag if kept else None)


@pytest.mark.parametrize(
    ("last_modified", "kept"),
    [("x" * MAX_LAST_MODIFIED_LENGTH, True), ("x" * 300, False), ("Fri, 14 Jun 2024 \xe9", False)],
    ids=["at-the-column-size", "300-chars", "non-ascii"],
)
def test_last_modified_the_feeds_table_cannot_hold_is_not_returned(
    server: HTTPServer, last_modified: str, kept: bool
) -> None:
    server.expect_request("/feed.xml").respond_with_data(
        RSS, content_type=RSS_TYPE, headers={"Last-Modified": last_modified}
    )
    result = fetch_one(feed(server))
    assert result.outcome == "ok"
    assert result.last_modified == (last_modified if kept else None)


def test_stored_validators_that_cannot_be_sent_are_left_out_and_the_poll_is_unconditional(
    server: HTTPServer,
) -> None:
    server.expect_request("/feed.xml").respond_with_data(RSS, content_type=RSS_TYPE)
    request = feed(server, etag='"v1"\r\nX-Injected: 1', last_modified="x" * 300)
    result = fetch_one(request)
    assert result.outcome == "ok"
    sent = server.log[0][0].headers
    assert "If-None-Match" not in sent
    assert "If-Modified-Since" not in sent
    assert "X-Injected" not in sent


def test_redirect_to_a_url_too_long_to_store_is_followed_but_not_the_new_home(
    server: HTTPServer,
) -> None:
    long_path = "/new-" + "a" * 3000 + ".xml"
    server.expect_request("/old.xml").respond_with_data(
        b"", status=301, headers={"Location": long_path}
    )
    server.expect_request(long_path).respond_with_data(RSS, content_type=RSS_TYPE)
    result = fetch_one(feed(server, "/old.xml"))
    assert result.outcome == "ok"
    assert result.body == RSS
    assert result.permanent_redirect is None


def test_permanent_chain_ending_in_a_url_too_long_reports_the_last_storable_hop(
    server: HTTPServer,
) -> None:
    long_path = "/new-" + "a" * 3000 + ".xml"
    server.expect_request("/old.xml").respond_with_data(
        b"", status=301, headers={"Location": "/middle.xml"}
    )
    server.expect_request("/middle.xml").respond_with_data(
        b"", status=308, headers={"Location": long_path}
    )
    server.expect_request(long_path).respond_with_data(RSS, content_type=RSS_TYPE)
    result = fetch_one(feed(server, "/old.xml"))
    assert result.outcome == "ok"
    assert result.permanent_redirect == server.url_for("/middle.xml")


def test_redirect_to_a_host_idna_cannot_decode_is_an_error(server: HTTPServer) -> None:
    server.expect_request("/feed.xml").respond_with_data(
        b"", status=301, headers={"Location": "http://xn--a.example/feed.xml"}
    )
    message = assert_one_line_error(fetch_one(feed(server)))
    assert message.startswith("redirected to an invalid host: ")


@pytest.mark.parametrize(
    "url",
    [
        "http://[::1",
        "http://xn--a.example/feed.xml",  # idna raises while httpx builds the request
        "http://127.0.0.1:9/\ud800.xml",  # a lone surrogate cannot be encoded
        "http://ex\u00e4mple..org/",
    ],
)
def test_url_the_http_stack_refuses_is_an_invalid_url_error(url: str) -> None:
    result = fetch_one(FeedRequest(name="bad", url=url))
    assert assert_one_line_error(result).startswith("invalid URL: ")
    assert result.http_status is None


@pytest.mark.parametrize(
    ("path", "message"),
    [
        ("~no-such-user-here/feed.xml", "no home directory for ~no-such-user-here"),
        ("/tmp/feed\x00.xml", "cannot read /tmp/feed"),
    ],
)
def test_local_path_that_cannot_be_opened_is_an_error(path: str, message: str) -> None:
    assert assert_one_line_error(fetch_one(FeedRequest("file", path))).startswith(message)


def test_anything_else_the_http_stack_raises_is_the_feeds_error_and_is_logged(
    server: HTTPServer, caplog: pytest.LogCaptureFixture
) -> None:
    # TOML can spell nan; anyio refuses a NaN deadline with ValueError, which
    # httpx does not wrap: the kind of failure nobody foresaw.
    server.expect_request("/feed.xml").respond_with_data(RSS, content_type=RSS_TYPE)
    with caplog.at_level("WARNING", logger="pledgewatch.feeds"):
        result = fetch_one(feed(server), FetchSettings(connect_timeout=float("nan")))
    assert assert_one_line_error(result) == "unexpected error: ValueError: deadline must not be NaN"
    [record] = caplog.records
    assert record.levelname == "WARNING"
    assert server.url_for("/feed.xml") in record.getMessage()
    assert record.exc_info is not None
