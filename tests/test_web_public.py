"""The public pages, served for real: off unless enabled; a page per pledge with
its rulings and ClaimReview JSON-LD that no pledge text can break out of; a badge;
an Atom feed of status changes that a feed reader parses."""

from __future__ import annotations

import json
import shutil
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from pathlib import Path

import feedparser
import html5lib
import pytest

from tests.web_support import EXAMPLES, Served, serve

HOSTILE = 'Ministers will not </script><script>alert("x")</script> <!-- cut & run'


@pytest.fixture
def public(tmp_path: Path, prepared_sqlite: Path) -> Iterator[Served]:
    shutil.copyfile(prepared_sqlite, tmp_path / "pledgewatch.db")
    yield from serve(
        tmp_path,
        f"sqlite:///{tmp_path / 'pledgewatch.db'}",
        EXAMPLES / "feed.xml",
        '[public]\nenabled = true\npublisher = "The Daily Example"\n',
    )


def test_public_pages_are_off_unless_enabled(served: Served) -> None:
    visitor = served.client()
    for path in ("/public/", "/public/pledges/1", "/public/changes.atom"):
        assert visitor.get(path).status_code == 404


def _scripts(html: str) -> list[tuple[str | None, str]]:
    document = html5lib.parse(html, namespaceHTMLElements=False)
    return [(s.get("type"), s.text or "") for s in document.iter("script")]


def test_a_pledge_page_shows_its_rulings_and_a_claim_review_nobody_can_break(
    public: Served,
) -> None:
    desk = public.desk.acting("ana")
    desk.edit_pledge(2, {"text": HOSTILE, "notes": "internal: call the ministry first"})
    desk.record_verdict(2, "in_the_works", note="Talks began in March.")
    desk.record_verdict(
        2, "broken", note="No agreement by the deadline.", source_url="https://example.org/ruling"
    )
    visitor = public.client()
    page = visitor.get("/public/pledges/2")
    assert page.status_code == 200
    assert "internal: call the ministry" not in page.text
    assert "Talks began in March." in page.text and "No agreement by the deadline." in page.text
    assert page.text.index("No agreement") < page.text.index("Talks began")  # newest first
    scripts = _scripts(page.text)
    assert [kind for kind, _ in scripts] == ["application/ld+json"]
    (review,) = json.loads(scripts[0][1])
    assert review["claimReviewed"] == HOSTILE
    assert review["reviewRating"]["alternateName"] == "Promise Broken"
    assert review["author"]["name"] == "The Daily Example"
    assert review["url"].endswith("/public/pledges/2")
    # A pledge without a final status has no rating to publish.
    assert _scripts(visitor.get("/public/pledges/1").text) == []


def test_archived_and_unknown_pledges_are_not_published(public: Served) -> None:
    public.desk.archive_pledge(3, "logged twice")
    visitor = public.client()
    for path in ("/public/pledges/3", "/public/pledges/999", "/public/pledges/x"):
        assert visitor.get(path).status_code == 404
    assert "/public/pledges/3" not in visitor.get("/public/").text
    assert visitor.get("/public/pledges/3/badge.svg").status_code == 404


def test_the_badge_is_an_svg_of_the_status(public: Served) -> None:
    public.desk.record_verdict(4, "kept", note="Paid.", source_url="https://example.org/paid")
    answer = public.client().get("/public/pledges/4/badge.svg")
    assert answer.headers["content-type"].startswith("image/svg+xml")
    root = ET.fromstring(answer.text)
    texts = [t.text for t in root.iter("{http://www.w3.org/2000/svg}text")]
    assert texts == ["pledge #4", "Promise kept"]


def test_the_atom_feed_lists_status_changes_newest_first(public: Served) -> None:
    public.desk.record_verdict(1, "in_the_works", note="Talks <b>resumed</b> & more.")
    public.desk.record_verdict(5, "stalled", note="No bill yet.")
    answer = public.client().get("/public/changes.atom")
    assert answer.headers["content-type"].startswith("application/atom+xml")
    parsed = feedparser.parse(answer.content)
    assert not parsed.bozo, parsed.get("bozo_exception")
    titles = [e.title for e in parsed.entries]
    assert len(titles) == 2 and titles[0].startswith("Stalled: ")
    # Escaped once in the XML, the text arrives as it was written.
    assert parsed.entries[1].summary == "Was Not yet rated. Talks <b>resumed</b> & more."
    assert "Talks &lt;b&gt;resumed&lt;/b&gt; &amp; more." in answer.text
    assert parsed.entries[1].link.endswith("/public/pledges/1")
