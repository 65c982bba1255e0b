"""Feed bytes to entries: RSS 0.9x/1.0/2.0 and Atom through feedparser, JSON Feed by hand.

:func:`parse_feed` is the only entry point. It takes the body the fetcher
returned and gives a :class:`ParsedFeed` of plain-text entries with canonical
URLs and UTC times, or raises :class:`~pledgewatch.errors.FeedError` with one
line a newsroom can act on (empty body, an HTML page, a document that is not
a feed, an entity bomb, a broken JSON Feed). A feed that is malformed but
readable still yields its entries, with what went wrong in ``warnings``.

Before feedparser sees a document, its prolog is scanned for a DOCTYPE that
declares entities and such documents are refused: an entity-expansion bomb
("billion laughs") costs a few hundred bytes to send and minutes of CPU and
gigabytes to expand, and feedparser's fallback parser does not stop it.

HTML in titles, summaries and content becomes text with a small
:mod:`html.parser` stripper that drops script and style and unescapes entities.

May import pledgewatch.errors and pledgewatch.feeds.*, nothing else from pledgewatch.
"""

from __future__ import annotations

import io
import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from html import unescape
from html.parser import HTMLParser
from typing import Any
from urllib.parse import urljoin
from xml.sax import SAXParseException

import feedparser

from pledgewatch.errors import FeedError
from pledgewatch.feeds.urls import canonical_url

TITLE_MAX_CHARS = 500
SUMMARY_MAX_CHARS = 5_000
CONTENT_MAX_CHARS = 50_000


@dataclass(frozen=True)
class ParsedEntry:
    """One article as a feed announced it, already reduced to text."""

    url: str  # canonical_url of the entry's link
    title: str
    summary: str
    content: str  # full text when the feed carries it (content:encoded, atom:content), else ""
    published_at: datetime  # UTC; never later than the fetch
    guid: str | None


@dataclass(frozen=True)
class ParsedFeed:
    """What one feed document held, and what had to be forgiven to read it."""

    title: str | None
    entries: list[ParsedEntry]
    warnings: list[str]


def parse_feed(
    body: bytes, *, url: str, fetched_at: datetime, content_type: str | None = None
) -> ParsedFeed:
    """Parse one feed document fetched from ``url`` at ``fetched_at`` (timezone-aware).

    ``content_type`` is the Content-Type response header, if any; it helps
    pick the character encoding and recognise JSON Feed. Raises FeedError
    when the body is not a feed this module can read.
    """
    if fetched_at.tzinfo is None:
        raise ValueError("fetched_at must be timezone-aware")
    fetched_at = fetched_at.astimezone(UTC)

    start = _first_significant_byte(body)
    if start == len(body):
        raise FeedError(url, "empty body")
    if body.startswith(b"\x1f\x8b", start):
        raise FeedError(url, "gzip-compressed bytes without Content-Encoding, not a feed")

    media_type = (content_type or "").partition(";")[0].strip().lower()
    first = body[start : start + 1]
    if first == b"{" or (first != b"<" and media_type in _JSON_TYPES):
        return _parse_json_feed(body, url=url, fetched_at=fetched_at)

    prolog = _scan_prolog(body)
    if prolog.declares_entities:
        raise FeedError(url, "refused: the document declares XML entities (possible entity bomb)")
    if prolog.is_html:
        raise FeedError(url, "HTML page, not a feed")

    warnings: list[str] = []
    body, repair = _repair_utf8(body, content_type)
    if repair:
        warnings.append(repair)

    # No Content-Location: given a base URI, feedparser runs urljoin on every
    # element, which doubles its time on plain feeds. Relative links are
    # resolved against the feed URL in _EntryBuilder instead.
    headers = {"content-type": content_type} if content_type else {}
    # A BytesIO, never the bytes themselves: feedparser tries a bytes argument
    # as a file name first. Sanitising and URI resolution rewrite HTML that
    # is about to be reduced to text anyway; skipping them halves the cost.
    parsed = feedparser.parse(
        io.BytesIO(body),
        response_headers=headers,
        sanitize_html=False,
        resolve_relative_uris=False,
    )

    builder = _EntryBuilder(url, fetched_at)
    for entry in parsed.entries:
        builder.add_feedparser_entry(entry)

    problem = _bozo_reason(parsed)
    if not builder.entries and not parsed.get("version"):
        # Neither a recognised root element nor one usable entry: not a feed,
        # even if some <item> in it looked like one to feedparser.
        if "html" in media_type:
            raise FeedError(url, "HTML page, not a feed")
        detail = f" ({problem})" if problem else ""
        raise FeedError(url, f"not an RSS, Atom or JSON feed{detail}")
    if problem:
        warnings.append(problem)
    warnings.extend(builder.warnings())
    feed = parsed.feed
    feed_title = _detail_text(
        feed.get("title_detail"), feed.get("title"), TITLE_MAX_CHARS, paragraphs=False
    )
    return ParsedFeed(title=feed_title or None, entries=builder.entries, warnings=warnings)


# --- before feedparser: prolog scan and encoding repair ---------------------------------

_JSON_TYPES = frozenset({"application/feed+json", "application/json", "text/json"})
_LEADING = re.compile(rb"(?:\xef\xbb\xbf)?[ \t\r\n]*")
_SPACE = re.compile(rb"[ \t\r\n]*")
# The name and the rest are split on whitespace so that the two repeats cannot
# trade characters: an unterminated DOCTYPE fails in linear, not quadratic, time.
_DOCTYPE = re.compile(
    rb"<!DOCTYPE[ \t\r\n]+([^ \t\r\n\[>]*)(?:[ \t\r\n][^\[>]*)?([\[>])", re.IGNORECASE
)
_ENTITY_DECLARATION = re.compile(rb"<!\s*ENTITY", re.IGNORECASE)
_ROOT_TAG = re.compile(rb"<([A-Za-z_][^ \t\r\n/>]*)")

# Documents in encodings that are not ASCII-compatible are decoded before the
# prolog scan; the byte patterns above would not see "<\x00!\x00".
_WIDE_ENCODINGS = (
    (b"\x00\x00\xfe\xff", "utf-32"),
    (b"\xff\xfe\x00\x00", "utf-32"),
    (b"\x00\x00\x00<", "utf-32-be"),
    (b"<\x00\x00\x00", "utf-32-le"),
    (b"\xfe\xff", "utf-16"),
    (b"\xff\xfe", "utf-16"),
    (b"\x00<", "utf-16-be"),
    (b"<\x00", "utf-16-le"),
)


def _first_significant_byte(body: bytes) -> int:
    match = _LEADING.match(body)
    return match.end() if match else 0


@dataclass(frozen=True)
class _Prolog:
    declares_entities: bool
    is_html: bool


def _scan_prolog(body: bytes) -> _Prolog:
    """Walk the XML declaration, comments, PIs and DOCTYPE up to the root element.

    Linear in the size of the prolog and never expands anything, so an entity
    bomb is refused in microseconds.
    """
    for bom, encoding in _WIDE_ENCODINGS:
        if body.startswith(bom):
            body = body.decode(encoding, "replace").encode("utf-8")
            break
    pos = _first_significant_byte(body)
    doctype_name = b""
    while True:
        if body.startswith(b"<?", pos):
            end = body.find(b"?>", pos + 2)
        elif body.startswith(b"<!--", pos):
            end = body.find(b"-->", pos + 4)
        elif body[pos : pos + 9].upper() == b"<!DOCTYPE":
            match = _DOCTYPE.match(body, pos)
            if match is None:
                # A DOCTYPE we cannot read; only refuse it if it could hide entities.
                return _Prolog(bool(_ENTITY_DECLARATION.search(body, pos)), False)
            doctype_name = match.group(1).lower()
            if match.group(2) == b"[":
                # The end of an internal subset is not found reliably without a
                # full DTD tokenizer (quoted "]>" inside entity values), so look
                # for an entity declaration anywhere after it: a false refusal
                # needs a DOCTYPE subset *and* a literal "<!ENTITY" in the text.
                found = _ENTITY_DECLARATION.search(body, match.end())
                return _Prolog(found is not None, doctype_name == b"html")
            pos = _skip_space(body, match.end())
            continue
        else:
            root = _ROOT_TAG.match(body, pos)
            root_name = root.group(1).lower() if root else b""
            return _Prolog(False, doctype_name == b"html" or root_name == b"html")
        if end < 0:
            return _Prolog(False, False)
        pos = _skip_space(body, end + 2 if body[end : end + 2] == b"?>" else end + 3)


def _skip_space(body: bytes, pos: int) -> int:
    match = _SPACE.match(body, pos)
    return match.end() if match else pos


_CHARSET_PARAM = re.compile(r"charset\s*=\s*[\"']?([\w.:-]+)", re.IGNORECASE)
_XML_ENCODING = re.compile(rb"<\?xml[^>]*?encoding\s*=\s*[\"']([\w.:-]+)")
_DECODED_NON_ASCII = re.compile("[^\x00-\x7f\ufffd]")


def _repair_utf8(body: bytes, content_type: str | None) -> tuple[bytes, str | None]:
    """Replace invalid bytes in a document declared UTF-8 with U+FFFD, with a warning.

    feedparser's own fallback re-decodes the whole document as windows-1252,
    which turns every correct accented letter into mojibake because of one bad
    byte; that mojibake would then be stored and matched. When nothing in the
    document decodes as UTF-8 beyond ASCII, it is really a single-byte
    encoding mislabelled as UTF-8, and feedparser's fallback is the better guess.
    """
    if body.isascii():
        return body, None
    charset = None
    if content_type and (param := _CHARSET_PARAM.search(content_type)):
        charset = param.group(1)
    elif declaration := _XML_ENCODING.match(body, _first_significant_byte(body[:64])):
        charset = declaration.group(1).decode("ascii")
    if charset is not None and charset.lower() not in ("utf-8", "utf8"):
        return body, None
    if any(body.startswith(bom) for bom, _ in _WIDE_ENCODINGS):
        return body, None
    try:
        body.decode("utf-8")
    except UnicodeDecodeError as exc:
        text = body.decode("utf-8", "replace")
        if not _DECODED_NON_ASCII.search(text):
            return body, None
        return (
            text.encode("utf-8"),
            f"invalid UTF-8 replaced with U+FFFD (first bad byte at offset {exc.start})",
        )
    return body, None


def _bozo_reason(parsed: Any) -> str | None:
    """One line for what feedparser had to forgive, or None when it is noise."""
    if not parsed.get("bozo"):
        return None
    exc = parsed.get("bozo_exception")
    if exc is None or isinstance(exc, feedparser.NonXMLContentType):
        # Served as text/plain or octet-stream, or no Content-Type: says
        # nothing about the document.
        return None
    if isinstance(exc, (feedparser.CharacterEncodingOverride, feedparser.CharacterEncodingUnknown)):
        return f"encoding: {_one_line(str(exc))}"
    if isinstance(exc, SAXParseException):
        where = f"line {exc.getLineNumber()}, column {exc.getColumnNumber()}"
        return f"malformed XML recovered: {_one_line(exc.getMessage())} at {where}"
    return f"malformed XML recovered: {_one_line(str(exc)) or type(exc).__name__}"


def _one_line(text: str) -> str:
    return " ".join(text.split())


# --- entries ---------------------------------------------------------------------------


class _EntryBuilder:
    """Turns format-specific entries into ParsedEntry, collecting the ones it skips."""

    def __init__(self, feed_url: str, fetched_at: datetime) -> None:
        self.feed_url = feed_url
        self.fetched_at = fetched_at
        self.entries: list[ParsedEntry] = []
        self.skipped: list[str] = []
        self.position = 0

    def add_feedparser_entry(self, entry: Mapping[str, Any]) -> None:
        self.position += 1
        link = _feedparser_link(entry)
        title = _detail_text(
            entry.get("title_detail"), entry.get("title"), TITLE_MAX_CHARS, paragraphs=False
        )

        contents: list[Mapping[str, Any]] = entry.get("content") or []
        content_texts: dict[str, str] = {}
        for item in contents:
            value = item.get("value")
            if isinstance(value, str) and value and value not in content_texts:
                content_texts[value] = _detail_text(item, value, CONTENT_MAX_CHARS)

        summary_raw = entry.get("summary")
        if isinstance(summary_raw, str) and summary_raw in content_texts:
            # feedparser copies content:encoded into summary when there is no
            # description; reuse the text rather than strip the markup twice.
            summary = _truncate(content_texts[summary_raw], SUMMARY_MAX_CHARS)
        else:
            summary = _detail_text(entry.get("summary_detail"), summary_raw, SUMMARY_MAX_CHARS)
        content = _truncate("\n".join(t for t in content_texts.values() if t), CONTENT_MAX_CHARS)

        published = None
        for key in ("published_parsed", "updated_parsed", "created_parsed"):
            published = _struct_time_to_utc(entry.get(key))
            if published is not None:
                break
        self._add(link, title, summary, content, published, entry.get("id"))

    def add_json_item(self, item: object) -> None:
        self.position += 1
        if not isinstance(item, dict):
            self.skipped.append(f"#{self.position}: not an object")
            return
        link = _json_str(item.get("url")) or _json_str(item.get("external_url"))
        title = _plain_text(_json_str(item.get("title")), TITLE_MAX_CHARS, paragraphs=False)
        html = _json_str(item.get("content_html"))
        if html:
            content = html_to_text(html, CONTENT_MAX_CHARS)
        else:
            content = _plain_text(_json_str(item.get("content_text")), CONTENT_MAX_CHARS)
        summary_raw = _json_str(item.get("summary"))
        # Like feedparser does for RSS without a description, fall back to the content.
        summary = (
            _plain_text(summary_raw, SUMMARY_MAX_CHARS)
            if summary_raw
            else _truncate(content, SUMMARY_MAX_CHARS)
        )
        published = _rfc3339_to_utc(item.get("date_published")) or _rfc3339_to_utc(
            item.get("date_modified")
        )
        raw_id = item.get("id")
        guid = (
            str(raw_id) if isinstance(raw_id, str | int) and not isinstance(raw_id, bool) else None
        )
        self._add(link, title, summary, content, published, guid)

    def _add(
        self,
        link: str | None,
        title: str,
        summary: str,
        content: str,
        published: datetime | None,
        guid: object,
    ) -> None:
        url = None
        if link:
            link = link.strip()
            if not link.startswith(("http://", "https://")):
                link = urljoin(self.feed_url, link)
            try:
                url = canonical_url(link)
            except ValueError:
                url = None
        if url is None:
            label = f"#{self.position}" + (f" {title[:60]!r}" if title else "")
            self.skipped.append(f"{label}: no http(s) link")
            return
        if published is None or published > self.fetched_at:
            # Missing dates and dates in the future (time zone bugs, embargo
            # mistakes) would sort an article above everything else for days.
            published = self.fetched_at
        guid_text = guid.strip() if isinstance(guid, str) else None
        self.entries.append(
            ParsedEntry(
                url=url,
                title=title,
                summary=summary,
                content=content,
                published_at=published,
                guid=guid_text or None,
            )
        )

    def warnings(self) -> list[str]:
        if not self.skipped:
            return []
        count = len(self.skipped)
        noun = "entry" if count == 1 else "entries"
        return [f"{count} {noun} skipped (first: {self.skipped[0]})"]


def _feedparser_link(entry: Mapping[str, Any]) -> str | None:
    link = entry.get("link")
    if isinstance(link, str) and link:
        return link
    for candidate in entry.get("links") or []:
        href = candidate.get("href")
        if isinstance(href, str) and href and candidate.get("rel", "alternate") == "alternate":
            return href
    # Atom ids and RSS guids marked isPermaLink="false" are often still the article URL.
    guid = entry.get("id")
    if isinstance(guid, str) and guid.lower().startswith(("http://", "https://")):
        return guid
    return None


def _struct_time_to_utc(value: object) -> datetime | None:
    # feedparser has already converted every date it understood to UTC.
    if not isinstance(value, Sequence) or len(value) < 6:
        return None
    try:
        year, month, day, hour, minute, second = (int(part) for part in value[:6])
        return datetime(year, month, day, hour, minute, min(second, 59), tzinfo=UTC)
    except (TypeError, ValueError, OverflowError):
        return None


def _rfc3339_to_utc(value: object) -> datetime | None:
    if not isinstance(value, str) or not value:
        return None
    try:
        moment = datetime.fromisoformat(value.strip())
    except ValueError:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC)


# --- JSON Feed ------------------------------------------------------------------------

_JSON_FEED_VERSION = re.compile(r"https?://jsonfeed\.org/version/1(\.\d+)?/?")


def _parse_json_feed(body: bytes, *, url: str, fetched_at: datetime) -> ParsedFeed:
    try:
        document = json.loads(body)
    except (ValueError, RecursionError) as exc:
        reason = _one_line(str(exc)) or "too deeply nested"
        raise FeedError(url, f"invalid JSON feed: {reason}") from None
    if not isinstance(document, dict):
        raise FeedError(url, "invalid JSON feed: the top level is not an object")
    version = document.get("version")
    if not isinstance(version, str) or not _JSON_FEED_VERSION.fullmatch(version):
        raise FeedError(
            url, f"invalid JSON feed: version {version!r} is not https://jsonfeed.org/version/1.x"
        )
    items = document.get("items")
    if not isinstance(items, list):
        raise FeedError(url, 'invalid JSON feed: "items" is not an array')

    builder = _EntryBuilder(url, fetched_at)
    for item in items:
        builder.add_json_item(item)
    title = _plain_text(_json_str(document.get("title")), TITLE_MAX_CHARS, paragraphs=False)
    return ParsedFeed(title=title or None, entries=builder.entries, warnings=builder.warnings())


def _json_str(value: object) -> str:
    return value if isinstance(value, str) else ""


# --- HTML to text ---------------------------------------------------------------------


def _detail_text(
    detail: Mapping[str, Any] | None, value: object, limit: int, *, paragraphs: bool = True
) -> str:
    """Text of a feedparser value, honouring the type feedparser detected for it."""
    if not isinstance(value, str) or not value:
        return ""
    if detail is not None and detail.get("type") == "text/plain":
        # Entities are already decoded; "a < b" here is text, not a tag.
        return _plain_text(value, limit, paragraphs=paragraphs)
    return html_to_text(value, limit, paragraphs=paragraphs)


def html_to_text(markup: str, limit: int, *, paragraphs: bool = True) -> str:
    """Visible text of an HTML fragment, at most ``limit`` characters.

    Script and style content is dropped, entities are unescaped, runs of
    whitespace become one space; with ``paragraphs``, block elements end a
    line, otherwise everything is on one line.
    """
    if "<" not in markup:
        # The common case for titles and many summaries: no parser at all.
        return _plain_text(unescape(markup) if "&" in markup else markup, limit, paragraphs)
    stripper = _TextExtractor(limit)
    # Feed in slices so that a huge fragment stops being parsed once enough
    # text is collected instead of being parsed whole and then truncated.
    for offset in range(0, len(markup), _FEED_SLICE):
        stripper.feed(markup[offset : offset + _FEED_SLICE])
        if stripper.full:
            break
    else:
        stripper.close()
    return _plain_text("".join(stripper.parts), limit, paragraphs)


_FEED_SLICE = 32_768
_BLOCK_TAGS = frozenset(
    [
        "address",
        "article",
        "aside",
        "blockquote",
        "br",
        "dd",
        "div",
        "dl",
        "dt",
        "figcaption",
        "figure",
        "footer",
        "h1",
        "h2",
        "h3",
        "h4",
        "h5",
        "h6",
        "header",
        "hr",
        "li",
        "main",
        "nav",
        "ol",
        "p",
        "pre",
        "section",
        "table",
        "td",
        "th",
        "tr",
        "ul",
    ]
)
_HIDDEN_TAGS = frozenset({"script", "style", "template"})


class _TextExtractor(HTMLParser):
    def __init__(self, limit: int) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.hidden = 0
        self.collected = 0
        # Whitespace collapses later, so collect some slack beyond the limit.
        self.wanted = 2 * limit + 1_000

    @property
    def full(self) -> bool:
        return self.collected >= self.wanted

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _HIDDEN_TAGS:
            self.hidden += 1
        elif tag in _BLOCK_TAGS:
            self.parts.append("\n")

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _BLOCK_TAGS:
            self.parts.append("\n")

    def handle_endtag(self, tag: str) -> None:
        if tag in _HIDDEN_TAGS:
            self.hidden = max(0, self.hidden - 1)
        elif tag in _BLOCK_TAGS:
            self.parts.append("\n")

    def handle_data(self, data: str) -> None:
        if not self.hidden:
            self.parts.append(data)
            self.collected += len(data)


def _plain_text(text: str, limit: int, paragraphs: bool = True) -> str:
    if not text:
        return ""
    if paragraphs and "\n" in text:
        lines = (" ".join(line.split()) for line in text.split("\n"))
        squashed = "\n".join(line for line in lines if line)
    else:
        squashed = " ".join(text.split())
    return _truncate(squashed, limit)


def _truncate(text: str, limit: int) -> str:
    """Cut at a word boundary near ``limit`` and mark the cut with an ellipsis."""
    if len(text) <= limit:
        return text
    cut = text[: limit - 1]
    space = cut.rfind(" ", limit - 1 - limit // 10)
    if space > 0:
        cut = cut[:space]
    return cut.rstrip() + "…"
