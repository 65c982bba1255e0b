"""`pledgewatch feed check`: fetch and parse once, store nothing."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from pytest_httpserver import HTTPServer

from tests.conftest import Cli

EXAMPLE = Path(__file__).parent.parent / "examples" / "feed.xml"


@pytest.fixture
def cli(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> Cli:
    config = tmp_path / "config.toml"
    config.write_text(
        f'[database]\nurl = "sqlite:///{tmp_path / "pw.db"}"\n'
        f'[[feeds]]\nname = "example"\nurl = "{EXAMPLE}"\n'
    )
    return Cli(capsys, config)


def test_feed_check_a_local_file_prints_its_entries(cli: Cli) -> None:
    result = cli("feed", "check", str(EXAMPLE))
    assert result.code == 0, result.err
    assert result.out.startswith("Example World Desk: 12 entries")
    assert "Beijing denies supplying lethal weapons to Moscow" in result.out


def test_feed_check_by_configured_name_in_json_stores_nothing(cli: Cli, tmp_path: Path) -> None:
    result = cli("feed", "check", "example", "--json")
    assert result.code == 0, result.err
    document = json.loads(result.out)
    assert document["title"] == "Example World Desk"
    assert len(document["entries"]) == 12
    assert all("utm_" not in e["url"] for e in document["entries"])
    assert not (tmp_path / "pw.db").exists(), "feed check needs no database and writes none"


def test_feed_check_over_http(cli: Cli, httpserver: HTTPServer) -> None:
    httpserver.expect_request("/feed.xml").respond_with_data(
        EXAMPLE.read_bytes(), content_type="application/rss+xml"
    )
    result = cli("feed", "check", httpserver.url_for("/feed.xml"), "--limit", "2")
    assert result.code == 0, result.err
    assert "12 entries" in result.out
    assert result.out.count("https://news.example.org/") == 2


def test_feed_check_of_an_html_page_is_one_clear_error(cli: Cli, httpserver: HTTPServer) -> None:
    httpserver.expect_request("/").respond_with_data(
        "<!doctype html><html><body>hi</body></html>", content_type="text/html"
    )
    result = cli("feed", "check", httpserver.url_for("/"))
    assert result.code == 1
    assert result.err.strip() == "error: HTML page, not a feed"


def test_feed_check_of_an_unreachable_url_is_one_clear_error(cli: Cli) -> None:
    result = cli("feed", "check", "http://127.0.0.1:9/feed.xml")
    assert result.code == 1
    assert result.err.startswith("error: http://127.0.0.1:9/feed.xml: ")
    assert len(result.err.strip().splitlines()) == 1


def test_feed_check_of_a_missing_file(cli: Cli, tmp_path: Path) -> None:
    result = cli("feed", "check", str(tmp_path / "nope.xml"))
    assert result.code == 2, "a file that is not there is an input error, like a bad URL"
    assert "nope.xml" in result.err
