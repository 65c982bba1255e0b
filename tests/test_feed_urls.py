"""canonical_url: one spelling per article, tracking noise removed, real differences kept."""

from __future__ import annotations

import pytest

from pledgewatch.feeds.urls import canonical_url


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("HTTPS://News.Example.COM/World/Story", "https://news.example.com/World/Story"),
        ("http://example.com:80/a", "http://example.com/a"),
        ("https://example.com:443/a", "https://example.com/a"),
        ("https://example.com:8443/a", "https://example.com:8443/a"),
        ("http://example.com:443/a", "http://example.com:443/a"),
        ("https://example.com/a#comments", "https://example.com/a"),
        ("https://example.com", "https://example.com/"),
        ("https://example.com?id=3", "https://example.com/?id=3"),
        ("  https://example.com/a  ", "https://example.com/a"),
        ("https://[2001:DB8::1]:443/a", "https://[2001:db8::1]/a"),
        ("https://User:Pw@Example.com/a", "https://User:Pw@example.com/a"),
    ],
)
def test_canonical_url_normalises_scheme_host_port_fragment_and_path(
    url: str, expected: str
) -> None:
    assert canonical_url(url) == expected


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        (
            "https://ex.com/a?utm_source=rss&utm_medium=feed&UTM_Campaign=x",
            "https://ex.com/a",
        ),
        ("https://ex.com/a?id=7&fbclid=IwAR0&gclid=Cj0&dclid=1&msclkid=2", "https://ex.com/a?id=7"),
        ("https://ex.com/a?mc_cid=1&mc_eid=2&igshid=3&_ga=4&yclid=5&p=2", "https://ex.com/a?p=2"),
        (
            "https://www.bbc.co.uk/news/world-1?at_medium=RSS&at_campaign=KARANGA",
            "https://www.bbc.co.uk/news/world-1",
        ),
        ("https://ex.com/a?ref_src=twsrc%5Etfw&xtor=RSS-3208", "https://ex.com/a"),
    ],
)
def test_canonical_url_removes_tracking_parameters(url: str, expected: str) -> None:
    assert canonical_url(url) == expected


def test_canonical_url_keeps_other_parameters_in_original_order_and_encoding() -> None:
    url = "https://ex.com/s?z=1&utm_source=x&a=hello%20world&b=&flag&q=caf%C3%A9"
    assert canonical_url(url) == "https://ex.com/s?z=1&a=hello%20world&b=&flag&q=caf%C3%A9"


def test_canonical_url_keeps_path_case_and_trailing_slash() -> None:
    assert canonical_url("https://ex.com/Story/") != canonical_url("https://ex.com/story/")
    assert canonical_url("https://ex.com/a/") == "https://ex.com/a/"


def test_canonical_url_makes_tracked_and_untracked_links_equal() -> None:
    tracked = "HTTPS://Ex.com:443/story?id=1&utm_source=rss#top"
    assert canonical_url(tracked) == canonical_url("https://ex.com/story?id=1")


def test_canonical_url_is_idempotent() -> None:
    once = canonical_url("HTTP://Ex.com:80?b=2&utm_term=x&a=1#f")
    assert canonical_url(once) == once


@pytest.mark.parametrize(
    "url",
    [
        "ftp://example.com/feed",
        "mailto:desk@example.com",
        "javascript:alert(1)",
        "/relative/path",
        "example.com/no-scheme",
        "https:///no-host",
        "http://example.com:99999/bad-port",
        "",
    ],
)
def test_canonical_url_rejects_urls_that_are_not_absolute_http(url: str) -> None:
    with pytest.raises(ValueError):
        canonical_url(url)
