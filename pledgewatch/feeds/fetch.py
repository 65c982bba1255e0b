"""Fetching feeds over HTTP (httpx) or from disk, politely and within hard limits.

:class:`Fetcher` fetches a sweep's feeds concurrently. A feed's own failure (a timeout,
an HTTP error, a body too large, a refused connection) is never raised: it
comes back as a :class:`FetchResult` with outcome ``"error"`` and a one-line
``error``, so one broken feed cannot stop a sweep. Bugs still raise.

Limits, all from :class:`FetchSettings`:

- at most ``concurrency`` fetches at once, and at most ``per_host`` to one
  host (host and port of the URL asked for, held through any redirects);
- a connect timeout, and a total deadline of ``timeout`` seconds on each
  fetch from the first byte sent to the last byte read, so a server that
  trickles its body forever is cut off;
- at most ``max_bytes`` of body *after* decompression. Decompression is done
  here, in bounded steps, rather than by httpx: httpx inflates each network
  read whole, so 64 KiB of gzip can become 64 MB before any check runs, and
  a doubly gzipped body far more.

Conditional GET: the stored ETag and Last-Modified are sent back, and a 304
is outcome ``"not_modified"``. 410 is ``"gone"``. 429 and 503 carry the
Retry-After time. ``file:`` URLs and plain paths are read from disk, for
archives, offline use and tests.

What a result carries can be stored: a validator too long for its column or
holding anything but printable ASCII is left out (the next poll is then
unconditional), and a permanent redirect is only reported when its target is
a URL the feeds table can hold. Whatever else a server or a URL makes the
HTTP stack raise is the feed's error too; only FetchStopped and cancellation
leave :meth:`Fetcher.fetch`.

May import pledgewatch.defaults, pledgewatch.errors and pledgewatch.feeds.*, nothing else
from pledgewatch.
"""

from __future__ import annotations

import asyncio
import errno
import logging
import mimetypes
import re
import socket
import ssl
import threading
import time
import zlib
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, replace
from datetime import MAXYEAR, UTC, datetime, timedelta
from email.utils import parsedate_to_datetime
from http import HTTPStatus
from pathlib import Path
from types import TracebackType
from typing import Literal
from urllib.parse import urlsplit
from urllib.request import url2pathname

import httpx

from pledgewatch import defaults
from pledgewatch.feeds.urls import http_url_problem

Outcome = Literal["ok", "not_modified", "error", "gone"]

ACCEPT = (
    "application/rss+xml, application/atom+xml, application/feed+json, "
    "application/rdf+xml;q=0.9, application/xml;q=0.8, text/xml;q=0.8, "
    "application/json;q=0.7, */*;q=0.1"
)
# Only what _BodyDecoder can inflate in bounded steps.
ACCEPT_ENCODING = "gzip, deflate"
MAX_RETRY_AFTER = timedelta(days=7)
# The feeds table's column sizes (etag VARCHAR(1000), last_modified VARCHAR(200)):
# PostgreSQL refuses a longer value, and the feed could then never be stored.
MAX_ETAG_LENGTH = 1000
MAX_LAST_MODIFIED_LENGTH = 200
_REDIRECT_STATUSES = frozenset({301, 302, 303, 307, 308})
_PERMANENT_REDIRECTS = frozenset({301, 308})
# An ETag is printable ASCII (RFC 9110 allows obs-text, no server needs it) and
# an HTTP-date is ASCII; anything else would be stored and sent back garbled.
_VALIDATOR_UNSAFE = re.compile(r"[^\x20-\x7e]")
_DELTA_SECONDS = re.compile(r"[0-9]+")

log = logging.getLogger("pledgewatch.feeds")


@dataclass(frozen=True)
class FetchSettings:
    """Limits and identity for one sweep's fetching (defaults: pledgewatch.defaults)."""

    concurrency: int = defaults.CONCURRENCY
    per_host: int = defaults.PER_HOST
    timeout: float = defaults.TIMEOUT  # total seconds for one fetch, body included
    connect_timeout: float = defaults.CONNECT_TIMEOUT
    max_bytes: int = defaults.MAX_BYTES  # after decompression
    user_agent: str = defaults.USER_AGENT
    max_redirects: int = defaults.MAX_REDIRECTS


@dataclass(frozen=True)
class FeedRequest:
    """One feed to fetch, with the validators stored from its last fetch."""

    name: str
    url: str
    etag: str | None = None
    last_modified: str | None = None


@dataclass(frozen=True)
class FetchResult:
    """What happened when one feed was fetched."""

    request: FeedRequest
    outcome: Outcome
    http_status: int | None  # final status; None for files and failures before a response
    body: bytes | None  # only when outcome is "ok"
    content_type: str | None
    etag: str | None  # validators to store; on a 304 the old ones unless the server sent new
    last_modified: str | None
    # Where the feed now lives when the redirect chain began with 301/308 hops:
    # the target of the last of those permanent hops that the feeds table can hold.
    permanent_redirect: str | None
    retry_after: datetime | None  # from Retry-After on 429 and 503 (UTC, at most 7 days ahead)
    error: str | None  # one line, for outcomes "error" and "gone"
    elapsed: float  # seconds


class _FetchFailed(Exception):
    """A feed's own failure, turned into an "error" result at the top of fetch()."""

    def __init__(self, message: str, *, status: int | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.status = status


class FetchStopped(Exception):
    """Raised by Fetcher.fetch for a feed not yet started when the stop flag was set."""


class Fetcher:
    """Fetches feeds through one HTTP client; use as ``async with Fetcher(settings) as f``.

    ``stop``, when given and set, makes every fetch that has not started yet raise
    FetchStopped once it gets its slots, while fetches in flight finish.
    """

    def __init__(
        self,
        settings: FetchSettings,
        *,
        transport: httpx.AsyncBaseTransport | None = None,
        stop: threading.Event | None = None,
    ) -> None:
        if settings.concurrency < 1 or settings.per_host < 1 or settings.max_redirects < 0:
            raise ValueError("concurrency and per_host must be >= 1, max_redirects >= 0")
        self.settings = settings
        self._transport = transport
        self._stop = stop
        self._client: httpx.AsyncClient | None = None
        self._clients: dict[tuple[str, bytes, int | None], httpx.AsyncClient] = {}
        self._ssl: ssl.SSLContext | None = None
        self._slots = asyncio.Semaphore(settings.concurrency)
        self._host_slots: dict[str, asyncio.Semaphore] = {}

    async def __aenter__(self) -> Fetcher:
        settings = self.settings
        # Semaphores belong to the running loop; make fresh ones for each use.
        self._slots = asyncio.Semaphore(settings.concurrency)
        self._host_slots = {}
        self._clients = {}
        # One TLS context for every client: building one costs tens of milliseconds.
        self._ssl = httpx.create_ssl_context() if self._transport is None else None
        self._client = self._new_client(settings.concurrency)
        return self

    def _new_client(self, connections: int) -> httpx.AsyncClient:
        settings = self.settings
        return httpx.AsyncClient(
            transport=self._transport,
            verify=self._ssl if self._ssl is not None else True,
            follow_redirects=False,  # followed in _follow, to see 301/308 and count hops
            timeout=httpx.Timeout(settings.timeout, connect=settings.connect_timeout),
            limits=httpx.Limits(max_connections=connections, max_keepalive_connections=connections),
            headers={
                "User-Agent": settings.user_agent,
                "Accept": ACCEPT,
                "Accept-Encoding": ACCEPT_ENCODING,
            },
        )

    def _client_for(self, url: httpx.URL) -> httpx.AsyncClient:
        """A client per host: httpcore's pool scans all its connections on every
        request, so one pool for a whole sweep costs more the more feeds it has."""
        assert self._client is not None
        if self._transport is not None:
            return self._client  # an injected transport serves every host
        # The host as sent, not url.host: that decodes IDNA and raises for a
        # label such as "xn--a" that does not decode.
        key = (url.scheme, url.raw_host, url.port)
        client = self._clients.get(key)
        if client is None:
            client = self._clients[key] = self._new_client(self.settings.per_host)
        return client

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        for client in self._clients.values():
            await client.aclose()
        self._clients = {}
        if self._client is not None:
            await self._client.aclose()
            self._client = None

    async def fetch(self, request: FeedRequest) -> FetchResult:
        """Fetch one feed; a failure of the feed is a result, never an exception.

        Raises FetchStopped for a feed not started before the stop flag was set,
        and RuntimeError when called outside ``async with``; nothing else.
        """
        try:
            parts = urlsplit(request.url)
            host_key = f"{parts.hostname}:{parts.port}"
        except ValueError as exc:
            return failed_result(request, f"invalid URL: {_one_line(exc)}")
        scheme = parts.scheme.lower()
        if scheme in ("http", "https"):
            if self._client is None:
                raise RuntimeError("Fetcher.fetch() called outside 'async with Fetcher(...)'")
            host_slots = self._host_slots.get(host_key)
            if host_slots is None:
                host_slots = self._host_slots[host_key] = asyncio.Semaphore(self.settings.per_host)
            # Host first: a feed waiting for its busy host must not hold one
            # of the sweep's slots that a feed on another host could use.
            async with host_slots, self._slots:
                return await self._attempt(request, self._fetch_http)
        if scheme in ("file", ""):
            async with self._slots:
                return await self._attempt(request, self._fetch_file)
        return failed_result(request, f"unsupported URL scheme {scheme!r}")

    async def _attempt(
        self,
        request: FeedRequest,
        fetch: Callable[[FeedRequest], Awaitable[FetchResult]],
    ) -> FetchResult:
        if self._stop is not None and self._stop.is_set():
            raise FetchStopped(request.url)
        # The clock starts once the slots are held: queueing is not the feed's fault.
        started = time.monotonic()
        try:
            result = await fetch(request)
        except _FetchFailed as failure:
            result = failed_result(request, failure.message, status=failure.status)
        except Exception as exc:
            # httpx, h11 and idna raise ValueError and UnicodeError on odd hosts
            # and headers, and a server can surely find more: whatever one feed
            # makes the stack raise is that feed's error, not the sweep's.
            log.warning("fetching %s failed", request.url, exc_info=True)
            result = failed_result(request, f"unexpected error: {_describe(exc)}")
        return replace(result, elapsed=time.monotonic() - started)

    # --- HTTP ----------------------------------------------------------------------------

    async def _fetch_http(self, request: FeedRequest) -> FetchResult:
        settings = self.settings
        try:
            async with asyncio.timeout(settings.timeout):
                return await self._follow(request)
        except TimeoutError:
            # Ours (the total deadline) or a timeout from the OS.
            raise _FetchFailed(f"timed out after {settings.timeout:g}s") from None
        except httpx.ConnectTimeout:
            raise _FetchFailed(f"connect timed out after {settings.connect_timeout:g}s") from None
        except httpx.TimeoutException:
            raise _FetchFailed(f"timed out after {settings.timeout:g}s") from None
        except httpx.HTTPError as exc:
            raise _FetchFailed(_describe_http_error(exc)) from None
        except httpx.InvalidURL as exc:
            raise _FetchFailed(f"invalid URL: {_one_line(exc)}") from None
        except OSError as exc:
            raise _FetchFailed(_describe_os_error(exc)) from None

    async def _follow(self, request: FeedRequest) -> FetchResult:
        # A validator stored before it was checked, and that would no longer
        # be kept, is not sent: h11 refuses a header holding a line break, and
        # the feed would fail on every poll.
        headers: dict[bytes, bytes] = {}
        etag = _storable_validator(request.etag, MAX_ETAG_LENGTH)
        if etag:
            headers[b"If-None-Match"] = etag.encode("ascii")
        last_modified = _storable_validator(request.last_modified, MAX_LAST_MODIFIED_LENGTH)
        if last_modified:
            headers[b"If-Modified-Since"] = last_modified.encode("ascii")

        url = _http_url(request.url)
        permanent: str | None = None
        still_permanent = True
        for _hop in range(self.settings.max_redirects + 1):
            client = self._client_for(url)
            try:
                response = await client.send(
                    client.build_request("GET", url, headers=headers), stream=True
                )
            except UnicodeError as exc:
                # httpx decodes the host of every redirect's Location as it reads
                # the response, and idna raises for one such as "xn--a" that does
                # not decode (the URL asked for was checked in _http_url).
                raise _FetchFailed(f"redirected to an invalid host: {_one_line(exc)}") from None
            try:
                location = response.headers.get("Location")
                if response.status_code not in _REDIRECT_STATUSES or not location:
                    return await self._result(request, response, permanent)
                try:
                    target = _http_url(location, base=response.url)
                except _FetchFailed as failure:
                    raise _FetchFailed(
                        f"redirected to an {failure.message}", status=response.status_code
                    ) from None
                if target.scheme not in ("http", "https"):
                    raise _FetchFailed(
                        f"redirected to an unsupported URL {str(target)[:200]!r}",
                        status=response.status_code,
                    )
                # Only a chain that starts with permanent hops moves the feed:
                # after a temporary hop, the next URL is not the feed's new home.
                still_permanent = still_permanent and response.status_code in _PERMANENT_REDIRECTS
                # A target the feeds table cannot hold (longer than MAX_URL_LENGTH,
                # unescaped characters: http_url_problem says) is followed but not
                # recorded; the last permanent hop that can be stored still leads
                # to the feed.
                if still_permanent and http_url_problem(str(target)) is None:
                    permanent = str(target)
                url = target
            finally:
                await response.aclose()
        raise _FetchFailed("too many redirects")

    async def _result(
        self, request: FeedRequest, response: httpx.Response, permanent: str | None
    ) -> FetchResult:
        status = response.status_code
        headers = response.headers
        result = FetchResult(
            request=request,
            outcome="error",
            http_status=status,
            body=None,
            content_type=headers.get("Content-Type"),
            etag=_storable_validator(headers.get("ETag"), MAX_ETAG_LENGTH),
            last_modified=_storable_validator(
                headers.get("Last-Modified"), MAX_LAST_MODIFIED_LENGTH
            ),
            permanent_redirect=permanent,
            retry_after=None,
            error=None,
            elapsed=0.0,
        )
        if status == 304:
            return replace(
                result,
                outcome="not_modified",
                etag=result.etag or _storable_validator(request.etag, MAX_ETAG_LENGTH),
                last_modified=result.last_modified
                or _storable_validator(request.last_modified, MAX_LAST_MODIFIED_LENGTH),
            )
        if status == 410:
            return replace(result, outcome="gone", error=_status_line(response))
        if not 200 <= status < 300:
            retry_after = None
            if status in (429, 503):
                retry_after = parse_retry_after(headers.get("Retry-After"), now=_utcnow())
            return replace(result, error=_status_line(response), retry_after=retry_after)

        body = await self._read_body(response)
        if not body:
            return replace(result, error="empty body")
        return replace(result, outcome="ok", body=body)

    async def _read_body(self, response: httpx.Response) -> bytes:
        limit = self.settings.max_bytes
        status = response.status_code
        decoder = _BodyDecoder(response.headers.get("Content-Encoding", ""), limit, status)
        chunks: list[bytes] = []
        size = 0
        async for raw in response.aiter_raw():
            for chunk in decoder.decode(raw):
                size += len(chunk)
                if size > limit:
                    raise _FetchFailed(_too_large(limit), status=status)
                chunks.append(chunk)
        for chunk in decoder.flush():
            size += len(chunk)
            if size > limit:
                raise _FetchFailed(_too_large(limit), status=status)
            chunks.append(chunk)
        return b"".join(chunks)

    # --- files ---------------------------------------------------------------------------

    async def _fetch_file(self, request: FeedRequest) -> FetchResult:
        path = _local_path(request.url)
        body = await asyncio.to_thread(_read_file, path, self.settings.max_bytes)
        if not body:
            raise _FetchFailed("empty body")
        return FetchResult(
            request=request,
            outcome="ok",
            http_status=None,
            body=body,
            content_type=mimetypes.guess_type(path.name)[0],
            etag=None,
            last_modified=None,
            permanent_redirect=None,
            retry_after=None,
            error=None,
            elapsed=0.0,
        )


def parse_retry_after(value: str | None, *, now: datetime) -> datetime | None:
    """When a Retry-After header (delta-seconds or HTTP-date) allows the next try.

    None for a missing or unreadable value or a time not in the future;
    never more than 7 days after ``now``. Never raises.
    """
    if not value:
        return None
    value = value.strip()
    latest = now + MAX_RETRY_AFTER
    if _DELTA_SECONDS.fullmatch(value):
        # ASCII digits only ("²".isdigit() is true, int("²") fails), counted
        # before int(): Python refuses int() of more than 4,300 digits.
        digits = value.lstrip("0")
        if len(digits) > len(str(int(MAX_RETRY_AFTER.total_seconds()))):
            when = latest
        else:
            when = min(now + timedelta(seconds=int(digits or "0")), latest)
    else:
        try:
            when = parsedate_to_datetime(value)
        except (TypeError, ValueError, IndexError, OverflowError):
            return None
        if when.tzinfo is None:
            when = when.replace(tzinfo=UTC)
        try:
            when = min(when.astimezone(UTC), latest)
        except OverflowError:
            # Within a day of the ends of datetime's range: year 1 is long
            # past, year 9999 further ahead than any wait is honoured.
            when = latest if when.year == MAXYEAR else now
    return when if when > now else None


# --- bounded decompression --------------------------------------------------------------


class _BodyDecoder:
    """Inflates a response body without ever producing more than ``limit`` + 1 bytes.

    zlib's ``max_length`` stops each step at what is still allowed, so a
    gzip bomb costs at most ``limit`` bytes of memory before it is refused.
    """

    def __init__(self, content_encoding: str, limit: int, status: int) -> None:
        codings = [c.strip().lower() for c in content_encoding.split(",") if c.strip()]
        codings = [c for c in codings if c != "identity"]
        # Stacked encodings multiply the ratio, and no feed server needs them.
        if len(codings) > 1 or (codings and codings[0] not in ("gzip", "x-gzip", "deflate")):
            message = f"unsupported Content-Encoding {content_encoding!r}"
            raise _FetchFailed(message, status=status)
        self.coding = codings[0] if codings else ""
        self.status = status
        self.remaining = limit + 1  # one byte more than allowed proves the body is too large
        self.inflater: zlib._Decompress | None = None
        self.deflate_probe = self.coding == "deflate"
        if self.coding in ("gzip", "x-gzip"):
            self.inflater = zlib.decompressobj(16 + zlib.MAX_WBITS)
        elif self.coding == "deflate":
            self.inflater = zlib.decompressobj()

    def decode(self, data: bytes) -> list[bytes]:
        if self.inflater is None:
            return [data]
        try:
            return self._inflate(data)
        except zlib.error as exc:
            raise _FetchFailed(self._failure(exc), status=self.status) from None

    def flush(self) -> list[bytes]:
        if self.inflater is None:
            return []
        try:
            tail = self.inflater.flush(max(self.remaining, 1))
        except zlib.error as exc:
            raise _FetchFailed(self._failure(exc), status=self.status) from None
        return [tail] if tail else []

    def _failure(self, exc: zlib.error) -> str:
        return f"could not decompress the {self.coding} body: {exc}"

    def _inflate(self, data: bytes) -> list[bytes]:
        assert self.inflater is not None
        out: list[bytes] = []
        while data and self.remaining > 0:
            if self.deflate_probe:
                # "deflate" is zlib-wrapped by the standard, raw by many servers.
                self.deflate_probe = False
                try:
                    probe = zlib.decompressobj()
                    chunk = probe.decompress(data, self.remaining)
                    self.inflater = probe
                except zlib.error:
                    self.inflater = zlib.decompressobj(-zlib.MAX_WBITS)
                    chunk = self.inflater.decompress(data, self.remaining)
            else:
                chunk = self.inflater.decompress(data, self.remaining)
            self.remaining -= len(chunk)
            if chunk:
                out.append(chunk)
            data = self.inflater.unconsumed_tail
            if (
                self.coding != "deflate"
                and self.inflater.eof
                and self.inflater.unused_data.startswith(b"\x1f\x8b")
            ):
                # Concatenated gzip members (RFC 1952) continue the body; other
                # bytes after the end of the stream are padding and are ignored.
                data = self.inflater.unused_data
                self.inflater = zlib.decompressobj(16 + zlib.MAX_WBITS)
        return out


# --- helpers ----------------------------------------------------------------------------


def _storable_validator(value: str | None, limit: int) -> str | None:
    if not value or len(value) > limit or _VALIDATOR_UNSAFE.search(value):
        return None
    return value


def _http_url(text: str, base: httpx.URL | None = None) -> httpx.URL:
    """``text`` (resolved against ``base``) as a URL httpx can send, or _FetchFailed."""
    try:
        url = base.join(text) if base is not None else httpx.URL(text)
        # httpx decodes the host when it builds the request, and idna raises
        # for an "xn--" label that does not decode: find out here.
        url.host  # noqa: B018
    except (httpx.InvalidURL, ValueError) as exc:  # idna's errors are ValueErrors
        raise _FetchFailed(f"invalid URL: {_one_line(exc)}") from None
    return url


def failed_result(request: FeedRequest, message: str, *, status: int | None = None) -> FetchResult:
    """The result of a fetch that failed with ``message``."""
    return FetchResult(
        request=request,
        outcome="error",
        http_status=status,
        body=None,
        content_type=None,
        etag=None,
        last_modified=None,
        permanent_redirect=None,
        retry_after=None,
        error=message,
        elapsed=0.0,
    )


def _status_line(response: httpx.Response) -> str:
    # The standard phrase, not the server's spelling ("INTERNAL SERVER ERROR").
    try:
        phrase = HTTPStatus(response.status_code).phrase
    except ValueError:
        phrase = response.reason_phrase
    return f"HTTP {response.status_code} {phrase}".rstrip()


def _too_large(limit: int) -> str:
    return f"body larger than {limit:,} bytes"


def _utcnow() -> datetime:
    return datetime.now(UTC)


def _one_line(exc: BaseException) -> str:
    return " ".join(str(exc).split()) or type(exc).__name__


def _describe(exc: BaseException) -> str:
    message = " ".join(str(exc).split())
    return f"{type(exc).__name__}: {message}" if message else type(exc).__name__


def _causes(exc: BaseException) -> Iterable[BaseException]:
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        yield current
        current = current.__cause__ or current.__context__


def _describe_http_error(exc: httpx.HTTPError) -> str:
    for cause in _causes(exc):
        if isinstance(cause, socket.gaierror):
            return f"could not resolve host ({_one_line(cause)})"
        if isinstance(cause, ssl.SSLError):
            return f"TLS error: {_one_line(cause)}"
        if isinstance(cause, OSError) and cause.errno == errno.ECONNREFUSED:
            return "connection refused"
    message = _one_line(exc)
    if "connection refused" in message.lower():
        return "connection refused"
    if isinstance(exc, httpx.ConnectError):
        return f"could not connect: {message}"
    if isinstance(exc, httpx.RemoteProtocolError):
        return f"protocol error: {message}"
    if isinstance(exc, httpx.UnsupportedProtocol):
        return f"unsupported URL: {message}"
    return f"{type(exc).__name__}: {message}"


def _describe_os_error(exc: OSError) -> str:
    if exc.errno == errno.ECONNREFUSED:
        return "connection refused"
    return _one_line(exc)


def _local_path(url: str) -> Path:
    parts = urlsplit(url)
    if parts.scheme.lower() == "file":
        if parts.netloc not in ("", "localhost"):
            raise _FetchFailed(f"file URL on another host: {parts.netloc}")
        return Path(url2pathname(parts.path))
    try:
        return Path(url).expanduser()
    except RuntimeError:  # "~someone/feed.xml" for a user this machine does not know
        raise _FetchFailed(f"no home directory for {url.partition('/')[0]}") from None


def _read_file(path: Path, limit: int) -> bytes:
    try:
        with path.open("rb") as handle:
            body = handle.read(limit + 1)
    except FileNotFoundError:
        raise _FetchFailed(f"no such file: {path}") from None
    except IsADirectoryError:
        raise _FetchFailed(f"is a directory, not a feed file: {path}") from None
    except PermissionError:
        raise _FetchFailed(f"permission denied: {path}") from None
    except (OSError, ValueError) as exc:  # ValueError: a NUL in the path
        raise _FetchFailed(f"cannot read {path}: {_one_line(exc)}") from None
    if len(body) > limit:
        raise _FetchFailed(_too_large(limit))
    return body
