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

Whatever bytes arrive, the result is a ParsedFeed or a FeedError, never another
exception: character references to code points that cannot exist are repaired
before feedparser sees them, dates outside what a publication date can be fall
back to the fetch time, every string is made safe to store and print
(:func:`pledgewatch.characters.clean`) where the entries are built, and anything
feedparser still raises becomes the feed's error.

May import pledgewatch.characters, pledgewatch.errors and pledgewatch.feeds.*, nothing
else from pledgewatch.
"""

from __future__ import annotations

import codecs
import io
import json
import logging
import re
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from html import unescape
from html.parser import HTMLParser
from typing import Any
from urllib.parse import urljoin
from xml.sax import SAXParseException

import feedparser

from pledgewatch.characters import clean
from pledgewatch.errors import FeedError
from pledgewatch.feeds.urls import MAX_URL_LENGTH, canonical_url

TITLE_MAX_CHARS = 500
SUMMARY_MAX_CHARS = 5_000
CONTENT_MAX_CHARS = 50_000
# Earlier dates are placeholders (0001-01-01) and typing mistakes, not the day a
# story was published; such an entry is dated like one without a date.
EARLIEST_PUBLISHED = datetime(1900, 1, 1, tzinfo=UTC)

log = logging.getLogger("pledgewatch.feeds")


@dataclass(frozen=True)
class ParsedEntry:
    """One article as a feed announced it, already reduced to text."""

    url: str  # canonical_url of the entry's link
    title: str
    summary: str
    content: str  # full text when the feed carries it (content:encoded, atom:content), else ""
    published_at: datetime  # UTC; never later than the fetch, never before 1900
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
    body, repairs = _repair_for_feedparser(body)
    warnings.extend(repairs)
    if content_type:
        content_type, repair = _content_type_for_feedparser(content_type)
        if repair:
            warnings.append(repair)

    # No Content-Location: given a base URI, feedparser runs urljoin on every
    # element, which doubles its time on plain feeds. Relative links are
    # resolved against the feed URL in _EntryBuilder instead.
    headers = {"content-type": content_type} if content_type else {}
    # A BytesIO, never the bytes themselves: feedparser tries a bytes argument
    # as a file name first. Sanitising and URI resolution rewrite HTML that
    # is about to be reduced to text anyway; skipping them halves the cost.
    try:
        parsed = feedparser.parse(
            io.BytesIO(body),
            response_headers=headers,
            sanitize_html=False,
            resolve_relative_uris=False,
        )
    except Exception as exc:
        # The known causes are repaired above, but for references hidden in an
        # encoding only feedparser decodes (EBCDIC, UTF-7 runs); whatever else
        # it raises is still this feed's error, with the traceback in the log.
        log.warning("feedparser failed on %s", url, exc_info=True)
        text = _one_line(str(exc))
        reason = f"{type(exc).__name__}: {text}" if text else type(exc).__name__
        raise FeedError(url, clean(f"the feed parser failed ({reason})")) from exc

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
        raise FeedError(url, clean(f"not an RSS, Atom or JSON feed{detail}"))
    if problem:
        warnings.append(problem)
    feed = parsed.feed
    feed_title = _detail_text(
        feed.get("title_detail"), feed.get("title"), TITLE_MAX_CHARS, paragraphs=False
    )
    return builder.feed(feed_title, warnings)


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
# prolog scan and the character reference repair; the byte patterns would not
# see "<\x00!\x00". The byte order is explicit so that a BOM survives a round trip.
_WIDE_ENCODINGS = (
    (b"\x00\x00\xfe\xff", "utf-32-be"),
    (b"\xff\xfe\x00\x00", "utf-32-le"),
    (b"\x00\x00\x00<", "utf-32-be"),
    (b"<\x00\x00\x00", "utf-32-le"),
    (b"\xfe\xff", "utf-16-be"),
    (b"\xff\xfe", "utf-16-le"),
    (b"\x00<", "utf-16-be"),
    (b"<\x00", "utf-16-le"),
)


def _wide_encoding(body: bytes) -> str | None:
    for bom, encoding in _WIDE_ENCODINGS:
        if body.startswith(bom):
            return encoding
    return None


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
    encoding = _wide_encoding(body)
    if encoding is not None:
        body = body.decode(encoding, "replace").encode("utf-8")
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
    if _wide_encoding(body) is not None:
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


# --- before feedparser: what it would raise on rather than read ------------------------


def _repair_for_feedparser(body: bytes) -> tuple[bytes, list[str]]:
    """Rewrite what would make feedparser raise, with a warning for each repair.

    A document that looks like UTF-16 or UTF-32 is repaired as UTF-8 and
    encoded back, and then repaired as bytes too: feedparser falls back to
    reading it as UTF-8 or windows-1252 when it does not decode.
    """
    encoding = _wide_encoding(body)
    warnings: list[str] = []
    if encoding is not None:
        text = body.decode(encoding, "replace").encode("utf-8")
        text, declared = _repair_declared_encoding(text, encoding)
        text, repairs = _repair_markup(text)
        warnings = ([declared] if declared else []) + repairs
        if warnings:
            body = text.decode("utf-8").encode(encoding)
    else:
        body, declared = _repair_declared_encoding(body, None)
        if declared:
            warnings.append(declared)
    body, repairs = _repair_markup(body)
    return body, warnings + [repair for repair in repairs if repair not in warnings]


def _repair_markup(text: bytes) -> tuple[bytes, list[str]]:
    warnings = []
    for repair in (_repair_charrefs, _repair_namespaces):
        text, warning = repair(text)
        if warning:
            warnings.append(warning)
    return text, warnings


# feedparser tries each encoding a document declares with data.decode(name) and
# catches only UnicodeDecodeError and LookupError: a name holding a NUL or a
# surrogate (ValueError), the codecs that raise a plain UnicodeError, and a
# declaration that is not UTF-8 itself would each crash it instead.
_RAISING_CODECS = frozenset({"idna", "punycode", "undefined"})
_QUOTE = re.compile(rb"['\"]")


def _feedparser_cannot_try(name: str) -> bool:
    try:
        return codecs.lookup(name).name in _RAISING_CODECS
    except LookupError:
        return False  # feedparser moves on to the next encoding
    except ValueError:
        return True


def _repair_declared_encoding(text: bytes, encoding: str | None) -> tuple[bytes, str | None]:
    span = _feedparser_declared_encoding(text)
    if span is None:
        return text, None
    value = text[span[0] : span[1]]
    try:
        usable = not _feedparser_cannot_try(value.decode("utf-8"))
    except UnicodeDecodeError:
        usable = False
    if usable:
        return text, None
    # The document's byte order mark decides for UTF-16 and UTF-32; else UTF-8 is tried
    # first and feedparser falls back from there as for any wrong declaration.
    replacement = encoding.rpartition("-")[0].encode("ascii") if encoding else b"utf-8"
    name = value.decode("utf-8", "replace")
    repaired = text[: span[0]] + replacement + text[span[1] :]
    return repaired, f"encoding: the declared encoding {name!r} cannot be used, ignored"


def _feedparser_declared_encoding(text: bytes) -> tuple[int, int] | None:
    """Where the encoding is that feedparser reads from the XML declaration, if any.

    The same as feedparser's ``^<\\?.*encoding=['"](.*?)['"].*\\?>`` on the
    document after a UTF-8 byte order mark, without that pattern's
    backtracking over a first line that may be the whole document.
    """
    start = len(codecs.BOM_UTF8) if text.startswith(codecs.BOM_UTF8) else 0
    if not text.startswith(b"<?", start):
        return None
    line_end = text.find(b"\n", start)
    if line_end < 0:
        line_end = len(text)
    end = line_end
    # ".*" is greedy: the last "encoding=" on the line that the rest can follow.
    while (at := text.rfind(b"encoding=", start + 2, end)) >= 0:
        end = at + len(b"encoding=") - 1
        value = at + len(b"encoding=") + 1
        if text[value - 1 : value] not in (b"'", b'"'):
            continue
        quote = _QUOTE.search(text, value, line_end)
        if quote is not None and text.find(b"?>", quote.end(), line_end) >= 0:
            return value, quote.start()
    return None


def _content_type_for_feedparser(content_type: str) -> tuple[str, str | None]:
    """``content_type`` without a charset parameter that feedparser would raise on."""
    media_type, *parameters = content_type.split(";")  # as feedparser splits it
    kept = [media_type]
    dropped = None
    for parameter in parameters:
        key, _, value = parameter.partition("=")
        charset = value.strip().strip("\"'")
        if key.strip().lower() == "charset" and _feedparser_cannot_try(charset):
            dropped = charset
        else:
            kept.append(parameter)
    if dropped is None:
        return content_type, None
    warning = f"encoding: the charset {dropped!r} of the Content-Type cannot be used, ignored"
    return ";".join(kept), warning


# Both spellings feedparser's fallback parser reads as a character reference.
_CHARREF = re.compile(rb"&#(?:[xX]([0-9a-fA-F]+)|([0-9]+));")
_REPLACEMENT_CHARREF = b"&#xFFFD;"
# Code points XML refuses even as a reference (C0 controls but tab and line
# breaks, U+FFFE, U+FFFF); characters.clean would drop them from the text anyway.
_XML_FORBIDDEN = frozenset([*range(0x09), 0x0B, 0x0C, *range(0x0E, 0x20), 0xFFFE, 0xFFFF])
_MAX_CODE_POINT_DIGITS = 7  # 1114111 is U+10FFFF; seven hex digits are beyond it too


def _repair_charrefs(text: bytes) -> tuple[bytes, str | None]:
    """Rewrite character references that feedparser cannot survive, with a warning.

    ``&#xD800;`` (a surrogate), ``&#1114112;`` (beyond U+10FFFF) and ``&#0;``
    make expat refuse the document, and feedparser's fallback parser then
    calls ``chr(int(ref)).encode("utf-8")`` on them, which raises; so does
    ``int()`` of a reference padded to more than 4,300 digits. References to
    surrogates and to code points that do not exist become U+FFFD, the
    forbidden controls become DEL (dropped from the text later, like every
    control), padded ones lose their zeros, and expat can then read the
    document.
    """
    if b"&#" not in text:
        return text, None
    for match in _CHARREF.finditer(text):
        if _charref_repair(match) != match.group():
            break
    else:
        return text, None
    first = match.group().decode("ascii")
    if len(first) > 20:
        first = first[:12] + "…;"
    repaired = _CHARREF.sub(_charref_repair, text)
    return repaired, f"unusable character references repaired (first: {first})"


def _charref_repair(match: re.Match[bytes]) -> bytes:
    hex_digits, decimal_digits = match.groups()
    written = hex_digits if hex_digits is not None else decimal_digits
    digits = written.lstrip(b"0")
    # Counted before int(): a reference may have more digits than int() accepts.
    if len(digits) > _MAX_CODE_POINT_DIGITS:
        return _REPLACEMENT_CHARREF
    code = int(digits or b"0", 16 if hex_digits is not None else 10)
    if code > sys.maxunicode or 0xD800 <= code <= 0xDFFF:
        return _REPLACEMENT_CHARREF
    if code in _XML_FORBIDDEN:
        # DEL, not nothing: dropping the reference could join the text around it
        # into a new one ("&&#0;#1114112;"). XML allows DEL, characters.clean drops it.
        return b"&#x7F;"
    if len(written) > _MAX_CODE_POINT_DIGITS:
        return b"&#%d;" % code
    return match.group()


# xml.sax hands feedparser each namespaced name as "URI localname" split with
# str.split(), and feedparser unpacks exactly two parts: a namespace URI holding
# whitespace (a space, a no-break space that windows-1252 reads from 0xA0, a
# reference to one) raises ValueError. A URI holds no whitespace anyway.
_NAMESPACE_DECLARATION = re.compile(rb"""\bxmlns(?::[^\s=>]*)?\s*=\s*(?:"([^"<]*)"|'([^'<]*)')""")
_NAMESPACE_UNSAFE = re.compile(rb"[^\x21-\x25\x27-\x7e]")  # printable ASCII but "&"


def _repair_namespaces(text: bytes) -> tuple[bytes, str | None]:
    """Percent-encode what could be whitespace in namespace URIs, with a warning."""
    if b"xmlns" not in text:
        return text, None
    for match in _NAMESPACE_DECLARATION.finditer(text):
        if _NAMESPACE_UNSAFE.search(match.group(1) or match.group(2) or b""):
            break
    else:
        return text, None
    first = (match.group(1) or match.group(2)).decode("utf-8", "replace")
    repaired = _NAMESPACE_DECLARATION.sub(_percent_encode_namespace, text)
    return (
        repaired,
        f"namespace URIs holding spaces or non-ASCII characters escaped (first: {first[:60]!r})",
    )


def _percent_encode_namespace(match: re.Match[bytes]) -> bytes:
    group = 1 if match.group(1) is not None else 2
    value = _NAMESPACE_UNSAFE.sub(lambda char: b"%%%02X" % char.group()[0], match.group(group))
    start, end = match.span(group)
    whole = match.group()
    return whole[: start - match.start()] + value + whole[end - match.start() :]


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
    """Turns format-specific entries into ParsedEntry, collecting the ones it skips.

    Every string of the result passes through here and is cleaned here, so
    nothing unsafe to store or print can leave parse_feed whatever path the
    format took.
    """

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
        title = _safe_text(title, paragraphs=False)
        url = None
        if link:
            link = link.strip()
            try:
                if not link.startswith(("http://", "https://")):
                    link = urljoin(self.feed_url, link)
                url = clean(canonical_url(link))
            except ValueError:  # "http://[::1": urlsplit refuses the host
                url = None
        if url is None:
            self.skipped.append(f"{self._label(title)}: no http(s) link")
            return
        if len(url) > MAX_URL_LENGTH:
            # The articles table could not hold it; on PostgreSQL the whole batch would fail.
            reason = f"link longer than {MAX_URL_LENGTH:,} characters"
            self.skipped.append(f"{self._label(title)}: {reason}")
            return
        if published is None or not EARLIEST_PUBLISHED <= published <= self.fetched_at:
            # Missing dates and dates in the future (time zone bugs, embargo
            # mistakes) would sort an article above everything else for days.
            published = self.fetched_at
        guid_text = clean(guid).strip() if isinstance(guid, str) else None
        self.entries.append(
            ParsedEntry(
                url=url,
                title=title,
                summary=_safe_text(summary),
                content=_safe_text(content),
                published_at=published,
                guid=guid_text or None,
            )
        )

    def _label(self, title: str) -> str:
        return f"#{self.position}" + (f" {title[:60]!r}" if title else "")

    def feed(self, title: str, warnings: list[str]) -> ParsedFeed:
        """The feed of the entries built so far, with its title and what was forgiven."""
        if self.skipped:
            count = len(self.skipped)
            noun = "entry" if count == 1 else "entries"
            warnings = [*warnings, f"{count} {noun} skipped (first: {self.skipped[0]})"]
        return ParsedFeed(
            title=_safe_text(title, paragraphs=False) or None,
            entries=self.entries,
            warnings=[clean(warning) for warning in warnings],
        )


def _safe_text(text: str, *, paragraphs: bool = True) -> str:
    safe = clean(text)
    # A dropped control character can leave two spaces, or one at an end.
    return safe if safe is text else _plain_text(safe, len(safe), paragraphs)


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
        return moment.replace(tzinfo=UTC)
    try:
        return moment.astimezone(UTC)
    except OverflowError:
        # Within a day of the ends of datetime's range (0001-01-01T00:00+14:00,
        # 9999-12-31T23:59-05:00): too early to be a date, or in the future.
        return None


# --- JSON Feed ------------------------------------------------------------------------

_JSON_FEED_VERSION = re.compile(r"https?://jsonfeed\.org/version/1(\.\d+)?/?")


# Python refuses int() of more digits than its limit, which may be set as low
# as this; no id, count or size in a feed needs more.
_JSON_INT_DIGITS = sys.int_info.str_digits_check_threshold


def _json_int(digits: str) -> int | None:
    return int(digits) if len(digits) <= _JSON_INT_DIGITS else None


def _parse_json_feed(body: bytes, *, url: str, fetched_at: datetime) -> ParsedFeed:
    try:
        document = json.loads(body, parse_int=_json_int)
    except RecursionError:
        raise FeedError(url, "invalid JSON feed: nested too deeply") from None
    except ValueError as exc:  # JSONDecodeError, and UnicodeDecodeError for invalid UTF-8
        raise FeedError(url, clean(f"invalid JSON feed: {_one_line(str(exc))}")) from None
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
    return builder.feed(title, [])


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
    if "&#" in markup:
        markup = _LONG_DECIMAL_CHARREF.sub(_shorten_charref, markup)
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


# html.unescape (which HTMLParser calls too) runs int() on the digits of
# "&#...;", and Python refuses int() of more than 4,300 of them.
_LONG_DECIMAL_CHARREF = re.compile(r"&#([0-9]{8,})")


def _shorten_charref(match: re.Match[str]) -> str:
    digits = match.group(1).lstrip("0")
    # Beyond U+10FFFF whatever the digits: unescape gives U+FFFD for that too.
    return f"&#{digits or '0'}" if len(digits) <= _MAX_CODE_POINT_DIGITS else "&#65533"


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

    def parse_marked_section(self, i: int, report: bool = True) -> int:
        # The standard library raises AssertionError for "<![name[" with a name
        # it does not know and for "<![" followed by no name; browsers read
        # either as a bogus comment that ends at the next ">", and so does this.
        try:
            return super().parse_marked_section(i, report)
        except AssertionError:
            end = self.rawdata.find(">", i + 3)
            return -1 if end < 0 else end + 1

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
