"""parse_feed: every feed format to plain-text entries, and one-line errors for non-feeds."""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest

from pledgewatch.errors import FeedError
from pledgewatch.feeds.parse import (
    CONTENT_MAX_CHARS,
    SUMMARY_MAX_CHARS,
    TITLE_MAX_CHARS,
    ParsedFeed,
    html_to_text,
    parse_feed,
)

FEEDS = Path(__file__).parent / "data" / "feeds"
FETCHED_AT = datetime(2024, 6, 20, 6, 0, tzinfo=UTC)
FEED_URL = "https://base.example.com/feeds/main.xml"


def parse(body: bytes, content_type: str | None = None, url: str = FEED_URL) -> ParsedFeed:
    return parse_feed(body, url=url, fetched_at=FETCHED_AT, content_type=content_type)


def parse_file(name: str, content_type: str | None = None) -> ParsedFeed:
    return parse((FEEDS / name).read_bytes(), content_type)


def rss(items: str, *, encoding: str = "utf-8", channel_title: str = "T") -> str:
    return (
        f'<?xml version="1.0" encoding="{encoding}"?>\n'
        f'<rss version="2.0"><channel><title>{channel_title}</title>'
        f"<link>https://ex.org/</link>{items}</channel></rss>"
    )


def one_entry_error(body: bytes, content_type: str | None = None) -> str:
    with pytest.raises(FeedError) as caught:
        parse(body, content_type)
    message = str(caught.value)
    assert "\n" not in message
    assert caught.value.url == FEED_URL
    return message


# --- formats ---------------------------------------------------------------------------


def test_rss_091_is_read_with_its_declared_latin1_encoding() -> None:
    feed = parse_file("rss091.xml")
    assert feed.title == "Gazette du Matin"
    assert [e.title for e in feed.entries] == [
        "Le ministre promet une réforme des retraites",
        "Budget: the mayor vows no new taxes",
    ]
    first, second = feed.entries
    assert first.url == "http://gazette.example.org/2024/retraites.html"
    assert first.summary == "Le ministre s'est engagé à présenter le texte avant l'été."
    assert second.summary == "Café owners welcomed the pledge."
    assert feed.warnings == []


def test_rss_10_rdf_entries_carry_dublin_core_dates_in_utc() -> None:
    feed = parse_file("rss10.rdf")
    assert feed.title == "Example Wire"
    assert [e.url for e in feed.entries] == [
        "https://wire.example.net/a/1",
        "https://wire.example.net/a/2",
    ]
    assert feed.entries[0].published_at == datetime(2024, 3, 5, 8, 30, tzinfo=UTC)
    assert feed.entries[0].published_at.tzinfo is UTC
    assert feed.entries[1].summary == "Critics say the plan is unfunded."


def test_rss_20_entry_is_reduced_to_text_with_canonical_url() -> None:
    feed = parse_file("rss20.xml", "application/rss+xml; charset=utf-8")
    assert feed.title == "The Daily Example & Co"
    story = feed.entries[0]
    assert story.url == "https://news.example.com/world/china-russia-weapons?id=42"
    assert story.title == "China says it will not sell weapons to Russia"
    assert story.summary == "Beijing & Moscow: the foreign ministry repeated its pledge."
    assert story.content == (
        "Xi Jinping's government said on Friday it would not sell weapons to Russia.\n"
        "Analysts were sceptical – see our analysis."
    )
    assert story.published_at == datetime(2024, 6, 14, 6, 15, tzinfo=UTC)
    assert story.guid == "news-example-42"


def test_rss_20_relative_link_is_resolved_against_the_feed_url() -> None:
    feed = parse_file("rss20.xml")
    assert feed.entries[1].url == "https://base.example.com/world/relative-story"


def test_rss_20_permalink_guid_stands_in_for_a_missing_link() -> None:
    feed = parse_file("rss20.xml")
    assert feed.entries[2].url == "https://news.example.com/world/guid-story"
    assert feed.entries[2].guid == "https://news.example.com/world/guid-story"


def test_missing_date_becomes_fetch_time_and_future_date_is_clamped_to_it() -> None:
    feed = parse_file("rss20.xml")
    by_title = {e.title: e for e in feed.entries}
    assert by_title["Relative link, no date"].published_at == FETCHED_AT
    assert by_title["From the future"].published_at == FETCHED_AT


def test_entry_without_a_link_is_skipped_with_one_warning() -> None:
    feed = parse_file("rss20.xml")
    assert "No link at all" not in [e.title for e in feed.entries]
    assert len(feed.entries) == 4
    assert feed.warnings == ["1 entry skipped (first: #5 'No link at all': no http(s) link)"]


def test_atom_entry_uses_alternate_link_published_date_and_typed_text() -> None:
    feed = parse_file("atom.xml")
    assert feed.title == "Pledge Tracker Desk"
    fares = feed.entries[0]
    assert fares.url == "https://desk.example.org/fares?page=2"
    # type="text": the "<" is part of the title, not markup to strip
    assert fares.title == "Mayor: fares will not rise < 2026"
    assert fares.summary == "The mayor repeated the fare freeze pledge."
    assert fares.content == "Full story: the mayor said fares would stay frozen.\nSecond paragraph."
    assert fares.published_at == datetime(2024, 6, 14, 14, 0, tzinfo=UTC)
    assert fares.guid == "tag:desk.example.org,2024:fares"


def test_atom_relative_links_follow_xml_base() -> None:
    body = b"""<feed xmlns="http://www.w3.org/2005/Atom" xml:base="https://other.example.org/news/">
      <title>x</title>
      <entry><title>a</title><link href="2024/a.html"/><id>1</id></entry>
      <entry xml:base="/archive/"><title>b</title><link href="b.html"/><id>2</id></entry>
    </feed>"""
    assert [e.url for e in parse(body).entries] == [
        "https://other.example.org/news/2024/a.html",
        "https://other.example.org/archive/b.html",
    ]


def test_atom_entry_without_published_uses_updated() -> None:
    feed = parse_file("atom.xml")
    assert feed.entries[1].published_at == datetime(2024, 6, 13, 8, 0, tzinfo=UTC)


def test_json_feed_11_items_become_entries() -> None:
    feed = parse_file("jsonfeed11.json", "application/feed+json")
    assert feed.title == "Example JSON Desk"
    first, second = feed.entries
    assert first.url == "https://json.example.org/pledges/1"
    assert first.title == "Minister pledges 10,000 new homes"
    assert first.content == "The minister pledged 10,000 homes & a new rail line."
    assert first.summary == "A housing pledge."
    assert first.published_at == datetime(2024, 6, 10, 7, 0, tzinfo=UTC)
    assert first.guid == "1"
    assert second.url == "https://base.example.com/pledges/2"
    assert second.guid == "2"  # a numeric id, as JSON Feed 1.0 allowed
    assert second.content == "Plain text body\nwith two paragraphs."
    assert second.summary == second.content
    assert second.published_at == datetime(2024, 6, 11, 10, 0, tzinfo=UTC)


def test_json_feed_items_without_url_or_not_objects_are_skipped_with_a_warning() -> None:
    feed = parse_file("jsonfeed11.json")
    assert len(feed.entries) == 2
    assert feed.warnings == ["2 entries skipped (first: #3 'No URL here': no http(s) link)"]


def test_json_feed_is_recognised_by_content_type_despite_leading_whitespace() -> None:
    body = b"\n  " + (FEEDS / "jsonfeed11.json").read_bytes()
    assert len(parse(body, "application/json").entries) == 2


def test_json_feed_10_version_is_accepted() -> None:
    document = {
        "version": "https://jsonfeed.org/version/1",
        "items": [{"id": "a", "url": "https://ex.org/a", "content_text": "x"}],
    }
    assert parse(json.dumps(document).encode()).entries[0].url == "https://ex.org/a"


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        (b'{"version": "https://jsonfeed.org/version/1.1", "items": [', "invalid JSON feed:"),
        (b'{"version": "https://example.org/v2", "items": []}', "invalid JSON feed: version"),
        (b'{"items": []}', "invalid JSON feed: version None"),
        (b'{"version": "https://jsonfeed.org/version/1.1", "items": {}}', '"items" is not'),
        (b'[{"version": "https://jsonfeed.org/version/1.1"}]', "top level is not an object"),
        (b"[" * 100_000 + b"]" * 100_000, "invalid JSON feed"),
    ],
)
def test_invalid_json_feed_raises_one_line_feed_error(body: bytes, reason: str) -> None:
    assert reason in one_entry_error(body, "application/feed+json")


# --- what is not a feed ----------------------------------------------------------------


@pytest.mark.parametrize("body", [b"", b"   \n\t ", b"\xef\xbb\xbf\n"])
def test_empty_body_raises_feed_error(body: bytes) -> None:
    assert one_entry_error(body) == "empty body"


def test_html_page_raises_html_page_not_a_feed() -> None:
    assert one_entry_error((FEEDS / "html_page.html").read_bytes()) == "HTML page, not a feed"


@pytest.mark.parametrize(
    "body",
    [
        b"<html><head><title>x</title></head><body>hi</body></html>",
        b'<?xml version="1.0"?>\n<!-- c -->\n<!DOCTYPE html PUBLIC "-//W3C//DTD XHTML 1.0 Strict//EN"'
        b' "http://www.w3.org/TR/xhtml1/DTD/xhtml1-strict.dtd">\n<html xmlns="x"><body/></html>',
    ],
)
def test_html_without_doctype_or_as_xhtml_is_recognised(body: bytes) -> None:
    assert one_entry_error(body) == "HTML page, not a feed"


def test_html_fragment_served_as_text_html_is_recognised() -> None:
    body = b"<div><p>Subscribe to our newsletter</p></div>"
    assert one_entry_error(body, "text/html; charset=utf-8") == "HTML page, not a feed"


def test_feed_served_as_text_html_is_still_parsed() -> None:
    feed = parse_file("rss20.xml", "text/html")
    assert len(feed.entries) == 4


@pytest.mark.parametrize(
    "body",
    [
        bytes(range(256)) * 40,
        b"Service temporarily unavailable, please try later",
        b"<config><item>not a feed</item></config>",
    ],
)
def test_bytes_that_are_no_feed_raise_not_a_feed(body: bytes) -> None:
    assert one_entry_error(body).startswith("not an RSS, Atom or JSON feed")


def test_gzip_bytes_without_content_encoding_raise_a_clear_error() -> None:
    import gzip

    message = one_entry_error(gzip.compress((FEEDS / "rss20.xml").read_bytes()))
    assert message.startswith("gzip-compressed bytes")


def test_body_that_names_a_local_file_is_not_read_from_disk(tmp_path: Path) -> None:
    # feedparser.parse(bytes) tries bytes as a file name first.
    feed_file = tmp_path / "feed.xml"
    feed_file.write_bytes((FEEDS / "rss20.xml").read_bytes())
    with pytest.raises(FeedError):
        parse(str(feed_file).encode())


# --- entity bombs ----------------------------------------------------------------------


def assert_refused_quickly(body: bytes) -> None:
    started = time.perf_counter()
    message = one_entry_error(body)
    elapsed = time.perf_counter() - started
    assert "declares XML entities" in message
    assert elapsed < 0.05


def test_billion_laughs_is_refused_in_milliseconds() -> None:
    assert_refused_quickly((FEEDS / "billion_laughs.xml").read_bytes())


def test_quadratic_blowup_entity_is_refused() -> None:
    big = "x" * 100_000
    body = f'<?xml version="1.0"?><!DOCTYPE rss [<!ENTITY a "{big}">]><rss>' + "&a;" * 50_000
    assert_refused_quickly((body + "</rss>").encode())


def test_entity_declaration_after_a_quoted_subset_end_is_refused() -> None:
    body = (
        b'<?xml version="1.0"?>\n<!-- leading comment -->\n'
        b'<!DOCTYPE rss [ <!ATTLIST rss note CDATA "]>"> <!ENTITY lol "lol"> ]>'
        b'<rss version="2.0"><channel><title>&lol;</title></channel></rss>'
    )
    assert_refused_quickly(body)


def test_entity_bomb_in_utf16_is_refused() -> None:
    body = (FEEDS / "billion_laughs.xml").read_text().replace('<?xml version="1.0"?>', "")
    assert_refused_quickly(body.encode("utf-16"))


def test_unterminated_doctype_is_rejected_in_milliseconds() -> None:
    started = time.perf_counter()
    one_entry_error(b"<!DOCTYPE " + b"a" * 200_000)
    assert time.perf_counter() - started < 0.05


def test_doctype_without_internal_subset_and_entity_text_in_cdata_are_accepted() -> None:
    item = (
        "<item><title>XML security</title><link>https://ex.org/xml</link>"
        '<description><![CDATA[Never parse <!ENTITY lol "lol"> blindly]]></description></item>'
    )
    body = rss(item).replace("<rss", '<!DOCTYPE rss SYSTEM "http://ex.org/rss.dtd">\n<rss', 1)
    feed = parse(body.encode())
    assert feed.entries[0].summary == "Never parse blindly"


# --- malformed and mis-encoded feeds ---------------------------------------------------


def test_malformed_but_recoverable_rss_returns_entries_and_a_warning() -> None:
    feed = parse_file("malformed.xml")
    assert [e.url for e in feed.entries] == [
        "https://broken.example.com/first",
        "https://broken.example.com/second",
    ]
    assert len(feed.warnings) == 1
    assert feed.warnings[0].startswith("malformed XML recovered: not well-formed")
    assert "line 4" in feed.warnings[0]


def test_invalid_utf8_bytes_are_replaced_and_the_valid_text_is_kept() -> None:
    item = "<item><title>Café pledge \udcff here</title><link>https://ex.org/c</link></item>"
    body = rss(item).encode("utf-8", "surrogateescape")  # one stray 0xff byte
    feed = parse(body, "application/rss+xml; charset=utf-8")
    assert feed.entries[0].title == "Café pledge \ufffd here"
    assert len(feed.warnings) == 1
    assert feed.warnings[0].startswith("invalid UTF-8 replaced with U+FFFD")


def test_latin1_feed_mislabelled_as_utf8_is_decoded_as_windows_1252() -> None:
    item = "<item><title>Café – pledge</title><link>https://ex.org/c</link></item>"
    body = rss(item).encode("cp1252")
    feed = parse(body)
    assert feed.entries[0].title == "Café – pledge"
    assert feed.warnings == ["encoding: document declared as utf-8, but parsed as windows-1252"]


def test_feed_without_entries_is_a_feed_not_an_error() -> None:
    feed = parse(rss("").encode())
    assert feed.title == "T"
    assert feed.entries == []
    assert feed.warnings == []


def test_feed_with_no_title_has_title_none() -> None:
    body = b'<rss version="2.0"><channel><item><link>https://ex.org/a</link></item></channel></rss>'
    feed = parse(body)
    assert feed.title is None
    assert feed.entries[0].title == ""


# --- text limits and HTML stripping ----------------------------------------------------


def test_long_fields_are_truncated_to_their_limits() -> None:
    words = "pledge " * 20_000
    item = (
        f"<item><title>{words}</title><link>https://ex.org/long</link>"
        f"<description>{words}</description>"
        f"<content:encoded><![CDATA[<p>{words}</p>]]></content:encoded></item>"
    )
    body = rss(item).replace(
        "<rss ", '<rss xmlns:content="http://purl.org/rss/1.0/modules/content/" ', 1
    )
    entry = parse(body.encode()).entries[0]
    assert TITLE_MAX_CHARS - 10 <= len(entry.title) <= TITLE_MAX_CHARS
    assert SUMMARY_MAX_CHARS - 10 <= len(entry.summary) <= SUMMARY_MAX_CHARS
    assert CONTENT_MAX_CHARS - 10 <= len(entry.content) <= CONTENT_MAX_CHARS
    assert entry.title.endswith("pledge…")


def test_whitespace_in_titles_is_collapsed_to_single_spaces() -> None:
    item = "<item><title>  Minister\n\t  pledges\u00a0more  </title><link>https://ex.org/w</link></item>"
    assert parse(rss(item).encode()).entries[0].title == "Minister pledges more"


def test_fetched_at_must_be_timezone_aware() -> None:
    with pytest.raises(ValueError):
        parse_feed(rss("").encode(), url=FEED_URL, fetched_at=datetime(2024, 6, 20))


def test_fetched_at_in_another_zone_is_converted_to_utc_before_clamping() -> None:
    item = (
        "<item><title>a</title><link>https://ex.org/a</link>"
        "<pubDate>Fri, 14 Jun 2024 23:30:00 -0500</pubDate></item>"
    )
    paris_noon = datetime(2024, 6, 15, 6, 0, tzinfo=timezone(timedelta(hours=2)))
    entry = parse_feed(rss(item).encode(), url=FEED_URL, fetched_at=paris_noon).entries[0]
    assert entry.published_at == datetime(2024, 6, 15, 4, 0, tzinfo=UTC)


def test_html_to_text_drops_script_and_style_and_unescapes_entities() -> None:
    markup = (
        "<style>.x{}</style><h2>Deal &amp; no&nbsp;deal</h2><script>alert('x')</script>"
        "<p>It&#39;s &ldquo;kept&rdquo;<br>for now</p>"
    )
    assert html_to_text(markup, 1000) == "Deal & no deal\nIt's “kept”\nfor now"
    assert html_to_text(markup, 1000, paragraphs=False) == "Deal & no deal It's “kept” for now"


def test_html_to_text_plain_text_fast_path_unescapes_entities() -> None:
    assert html_to_text("Fish &amp; chips   pledge", 100) == "Fish & chips pledge"
    assert html_to_text("No markup at all", 100) == "No markup at all"


def test_html_to_text_stops_early_on_huge_markup_but_fills_the_limit() -> None:
    markup = "<p>" + "word " * 2_000_000 + "</p>"
    started = time.perf_counter()
    text = html_to_text(markup, 5_000)
    assert time.perf_counter() - started < 0.5
    assert 4_990 <= len(text) <= 5_000


# --- what no feed may crash: character references, controls, dates, numbers ------------


def one_item(inner: str) -> bytes:
    return rss(f"<item><link>https://ex.org/a</link>{inner}</item>").encode()


@pytest.mark.parametrize(
    ("reference", "stored"),
    [
        ("&#xD800;", "Pledge \ufffd kept"),  # a surrogate
        ("&#xdfff;", "Pledge \ufffd kept"),
        ("&#55296;", "Pledge \ufffd kept"),
        ("&#1114112;", "Pledge \ufffd kept"),  # beyond U+10FFFF
        ("&#X110000;", "Pledge \ufffd kept"),
        ("&#" + "9" * 4400 + ";", "Pledge \ufffd kept"),  # more digits than int() takes
        ("&#0;", "Pledge kept"),  # controls XML forbids even as references
        ("&#x1B;", "Pledge kept"),
        ("&#x7;", "Pledge kept"),
        ("&#" + "0" * 4400 + "65;", "Pledge A kept"),
    ],
)
def test_character_reference_to_no_character_is_stored_as_safe_text(
    reference: str, stored: str
) -> None:
    feed = parse(one_item(f"<title>Pledge {reference} kept</title>"))
    assert feed.entries[0].title == stored
    assert feed.warnings[0].startswith("unusable character references repaired (first: &#")


def test_invalid_character_reference_in_a_link_and_in_escaped_html_is_repaired() -> None:
    body = one_item(
        "<title>t</title><description>&lt;p&gt;a &amp;#xD800; b &amp;#1114112; c "
        "&amp;#" + "9" * 4400 + "; d&lt;/p&gt;</description>"
        "<guid isPermaLink='false'>id-&#xD800;</guid>"
    )
    entry = parse(body).entries[0]
    assert entry.summary == "a \ufffd b \ufffd c \ufffd d"
    assert entry.guid == "id-\ufffd"


def test_dropping_a_control_reference_does_not_join_the_text_around_it_into_another() -> None:
    feed = parse(one_item("<title>a &&#0;#1114112; b</title>"))
    assert feed.entries[0].title == "a &#1114112; b"


def test_namespace_uri_holding_a_no_break_space_is_escaped_and_the_feed_read() -> None:
    # xml.sax splits "URI localname" on any whitespace and feedparser unpacks two parts;
    # a stray 0xA0 byte is a no-break space once the feed is read as windows-1252.
    body = (FEEDS / "rss10.rdf").read_bytes().replace(b'rdf="http', b'rdf="h\xa0ttp', 1)
    feed = parse(body)
    assert [e.url for e in feed.entries] == [
        "https://wire.example.net/a/1",
        "https://wire.example.net/a/2",
    ]
    assert feed.warnings[0].startswith(
        "namespace URIs holding spaces or non-ASCII characters escaped (first: 'h"
    )


def test_invalid_character_reference_in_a_utf16_feed_is_repaired() -> None:
    body = rss("<item><title>a &#xD800; b</title><link>https://ex.org/a</link></item>")
    feed = parse(body.replace('encoding="utf-8"', 'encoding="utf-16"').encode("utf-16"))
    assert feed.entries[0].title == "a \ufffd b"


@pytest.mark.parametrize(
    "raw",
    ["\x00", "\x07", "\x1b", "\x7f", "\ufffe", "\uffff"],
    ids=["NUL", "BEL", "ESC", "DEL", "U+FFFE", "U+FFFF"],
)
def test_raw_control_characters_are_dropped_from_every_field(raw: str) -> None:
    body = rss(
        f"<item><title>Vote{raw} [2J now</title><link>https://ex.org/a{raw}</link>"
        f"<description>Sum{raw}mary</description><guid>g{raw}1</guid></item>",
        channel_title=f"Desk{raw}",
    ).encode("utf-8", "surrogatepass")
    feed = parse(body)
    entry = feed.entries[0]
    assert (feed.title, entry.title, entry.summary, entry.guid) == (
        "Desk",
        "Vote [2J now",
        "Summary",
        "g1",
    )
    assert entry.url == "https://ex.org/a"


def test_c1_control_in_rss_is_read_as_the_windows_1252_character_meant() -> None:
    # feedparser's own repair of a common mis-encoding; the result is printable.
    title = parse(one_item("<title>\u2039quoted\u009b</title>")).entries[0].title
    assert title == "\u2039quoted\u203a"


def test_lone_surrogates_in_a_json_feed_become_replacement_characters() -> None:
    body = (
        b'{"version": "https://jsonfeed.org/version/1.1", "title": "Desk \\ud800",'
        b' "items": [{"id": "\\udfff-1", "url": "https://ex.org/a",'
        b' "title": "A \\ud800 \\u001b \\u009b[2J",'
        b' "content_text": "x\\ud83d\\ude00y"}]}'
    )
    feed = parse(body)
    entry = feed.entries[0]
    assert feed.title == "Desk \ufffd"
    assert entry.title == "A \ufffd [2J"
    assert entry.guid == "\ufffd-1"
    assert entry.content == "x\U0001f600y"  # a proper pair is one character, kept


def test_marked_section_html_parser_does_not_know_is_dropped_like_a_bogus_comment() -> None:
    # Python's html.parser raises AssertionError on "<![name[" unless name is a known keyword.
    item = "<description>&lt;![foo[ Word markup ]]&gt;&lt;p&gt;Pledge kept&lt;/p&gt;</description>"
    assert parse(one_item(item)).entries[0].summary == "Pledge kept"
    assert html_to_text("<![if !supportLists]>· <![endif]>Kept", 100) == "· Kept"


@pytest.mark.parametrize(
    "date",
    [
        "Mon, 01 Jan 0001 00:00:00 +1400",
        "Sun, 31 Dec 1899 23:59:59 GMT",
        "Fri, 31 Dec 9999 23:59:59 -0500",
        "Fri, 31 Dec 9999 23:59:59 GMT",
    ],
)
def test_rss_date_before_1900_or_in_the_future_is_the_fetch_time(date: str) -> None:
    entry = parse(one_item(f"<title>t</title><pubDate>{date}</pubDate>")).entries[0]
    assert entry.published_at == FETCHED_AT


def test_date_on_1900_01_01_is_kept() -> None:
    entry = parse(one_item("<pubDate>Mon, 01 Jan 1900 00:00:00 GMT</pubDate>")).entries[0]
    assert entry.published_at == datetime(1900, 1, 1, tzinfo=UTC)


@pytest.mark.parametrize(
    "date", ["0001-01-01T00:00:00+14:00", "0001-01-01T00:00:00Z", "9999-12-31T23:59:59-05:00"]
)
def test_atom_date_at_the_ends_of_the_calendar_is_the_fetch_time(date: str) -> None:
    body = (
        '<feed xmlns="http://www.w3.org/2005/Atom"><title>x</title><entry><title>a</title>'
        f'<link href="https://ex.org/a"/><id>1</id><updated>{date}</updated></entry></feed>'
    )
    assert parse(body.encode()).entries[0].published_at == FETCHED_AT


@pytest.mark.parametrize(
    "date",
    [
        "0001-01-01T00:00:00+14:00",
        "0001-01-01T00:00:00",
        "1899-12-31T23:59:59Z",
        "9999-12-31T23:59:59-05:00",
        "9999-12-31T23:59:59-12:00",
        "9999-12-31T23:59:59Z",
    ],
)
def test_json_feed_date_at_the_ends_of_the_calendar_is_the_fetch_time(date: str) -> None:
    document = {
        "version": "https://jsonfeed.org/version/1.1",
        "items": [{"id": "1", "url": "https://ex.org/a", "date_published": date}],
    }
    assert parse(json.dumps(document).encode()).entries[0].published_at == FETCHED_AT


def test_json_feed_with_a_5000_digit_number_keeps_its_entries() -> None:
    body = (
        b'{"version": "https://jsonfeed.org/version/1.1", "items": ['
        b'{"id": ' + b"9" * 5000 + b', "url": "https://ex.org/a", "title": "Huge id"},'
        b'{"id": "b", "url": "https://ex.org/b", "_size": -' + b"1" * 5000 + b"}]}"
    )
    feed = parse(body)
    assert [(e.title, e.guid) for e in feed.entries] == [("Huge id", None), ("", "b")]


@pytest.mark.parametrize(
    ("raw_id", "guid"),
    [(7, "7"), ("x", "x"), (1.5, None), (True, None), (None, None), ([1], None), ({}, None)],
)
def test_json_feed_id_of_any_type_gives_a_guid_or_none(raw_id: object, guid: str | None) -> None:
    document = {
        "version": "https://jsonfeed.org/version/1.1",
        "items": [{"id": raw_id, "url": "https://ex.org/a"}],
    }
    assert parse(json.dumps(document).encode()).entries[0].guid == guid


def test_json_feed_nested_too_deeply_is_one_line_error() -> None:
    body = b'{"version": "https://jsonfeed.org/version/1.1", "items": [' + b"[" * 100_000
    assert one_entry_error(body) == "invalid JSON feed: nested too deeply"


def test_entry_link_too_long_to_store_is_skipped_with_a_warning() -> None:
    long_link = "https://ex.org/" + "a" * 3000
    body = rss(
        f"<item><title>Long</title><link>{long_link}</link></item>"
        "<item><title>Fine</title><link>https://ex.org/b</link></item>"
    ).encode()
    feed = parse(body)
    assert [e.title for e in feed.entries] == ["Fine"]
    assert feed.warnings == [
        "1 entry skipped (first: #1 'Long': link longer than 2,000 characters)"
    ]


@pytest.mark.parametrize("link", ["http://[::1", "//[::1/story"])
def test_entry_link_with_a_broken_host_is_skipped(link: str) -> None:
    feed = parse(one_item("").replace(b"https://ex.org/a", link.encode()))
    assert feed.entries == []
    assert feed.warnings == ["1 entry skipped (first: #1: no http(s) link)"]


@pytest.mark.parametrize(
    "content_type",
    [
        "application/rss+xml; charset=undefined",  # codecs that raise a plain UnicodeError
        "application/rss+xml; charset=punycode",
        "application/rss+xml; charset=idna",
        "application/rss+xml; charset=utf\x00-8",  # a NUL: ValueError from codecs.lookup
        "application/rss+xml; charset=\ud800",
    ],
)
def test_charset_feedparser_would_raise_on_is_ignored_with_a_warning(content_type: str) -> None:
    feed = parse_file("rss20.xml", content_type)
    assert len(feed.entries) == 4
    assert feed.warnings[0].startswith("encoding: the charset ")
    assert feed.warnings[0].endswith(" of the Content-Type cannot be used, ignored")


@pytest.mark.parametrize("declared", [b"undefined", b"punycode", b"utf\x00-8", b"\xff"])
def test_xml_declared_encoding_feedparser_would_raise_on_is_ignored_with_a_warning(
    declared: bytes,
) -> None:
    body = (
        (FEEDS / "rss20.xml").read_bytes().replace(b'encoding="utf-8"', b'encoding="%s"' % declared)
    )
    feed = parse(body)
    assert feed.entries[0].title == "China says it will not sell weapons to Russia"
    assert feed.warnings[0].startswith("encoding: the declared encoding ")
    assert feed.warnings[0].endswith(" cannot be used, ignored")


def test_failure_inside_feedparser_is_the_feeds_one_line_error_and_is_logged(
    caplog: pytest.LogCaptureFixture,
) -> None:
    # feedparser decodes EBCDIC (and UTF-7) itself, so a reference to a surrogate
    # in it is hidden from the repairs and still reaches feedparser's chr(): the
    # kind of failure the last-resort guard is there for.
    body = rss("<item><title>a &#xD800; b</title><link>https://ex.org/a</link></item>")
    body = body.replace('encoding="utf-8"', 'encoding="cp037"')
    with caplog.at_level("WARNING", logger="pledgewatch.feeds"):
        message = one_entry_error(body.encode("cp037"))
    assert message.startswith("the feed parser failed (UnicodeEncodeError: ")
    [record] = caplog.records
    assert record.levelname == "WARNING"
    assert FEED_URL in record.getMessage()
    assert record.exc_info is not None
