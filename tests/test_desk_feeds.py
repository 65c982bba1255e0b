"""The library's feeds and sweeps: what a feed holds, its state, and a sweep's
summary, through the Desk on each backend."""

from __future__ import annotations

from pathlib import Path

import pytest

from pledgewatch.desk import Desk, check_feed
from pledgewatch.errors import FeedError, ValidationError

EXAMPLES = Path(__file__).parent.parent / "examples"


def test_a_feed_is_checked_by_its_name_or_its_path_and_nothing_is_stored(
    library: Desk,
) -> None:
    before = library.feeds()[0].articles
    by_name = library.check_feed("example")
    by_path = library.check_feed(str(EXAMPLES / "feed.xml"))
    assert by_name.to_json()["entries"] == by_path.to_json()["entries"]
    assert len(by_name.entries) == 12 and by_name.title
    assert library.feeds()[0].articles == before
    # No config needed at all, as before a newsroom has one.
    assert len(check_feed(None, str(EXAMPLES / "feed.xml")).entries) == 12


def test_a_feed_that_fails_is_an_error_with_its_url(library: Desk, tmp_path: Path) -> None:
    broken = tmp_path / "broken.xml"
    broken.write_bytes(b"\x00\x01 not a feed")
    with pytest.raises((FeedError, ValidationError)):
        library.check_feed(str(broken))
    with pytest.raises(ValidationError) as caught:
        library.check_feed("gopher://example.org/feed")
    assert caught.value.field == "url"


def test_a_sweep_returns_its_summary_and_the_next_finds_nothing_due(library: Desk) -> None:
    feeds = library.feeds()
    assert feeds[0].last_outcome == "ok" and feeds[0].next_poll_at is not None
    again = library.sweep()
    assert again.feeds_due == 0
    forced = library.sweep(names=["example"])
    assert forced.feeds_polled == 1 and forced.articles_new == 0
    assert forced.to_json()["feeds_polled"] == 1
    with pytest.raises(Exception, match="no feed named"):
        library.sweep(names=["nope"])


def test_every_page_of_the_feeds_is_a_slice_of_the_whole_listing(
    tmp_path: Path, database_url: str
) -> None:
    from pledgewatch.config import load_config

    def config(names: list[str]) -> Path:
        path = tmp_path / "config.toml"
        path.write_text(
            f'[database]\nurl = "{database_url}"\n'
            + "".join(f'[[feeds]]\nname = "{n}"\nurl = "{EXAMPLES / "feed.xml"}"\n' for n in names),
            encoding="utf-8",
        )
        return path

    # Seven feeds stored by a sweep; the config then drops three and adds two, so
    # the listing is five configured feeds, then three stored ones no longer configured.
    first = config([f"f{i}" for i in range(7)])
    setup = Desk(load_config(str(first)), user="setup")
    setup.init()
    setup.sweep()
    setup.close()
    desk = Desk(load_config(str(config(["f6", "f1", "f3", "new-b", "new-a"]))), user="ana")
    try:
        whole = desk.feeds()
        names = [row.name for row in whole]
        assert names == ["f6", "f1", "f3", "new-b", "new-a", "f0", "f2", "f4", "f5"]
        assert whole.total == len(names)
        for limit in range(0, 11):
            for offset in range(0, 12):
                page = desk.feeds(limit=limit, offset=offset)
                assert [row.name for row in page] == names[offset : offset + limit]
                assert page.total == len(names) and page.offset == offset
        flagged = desk.feeds(attention=True)
        assert [row.name for row in flagged] == ["f0", "f2", "f4", "f5"]
        assert [row.name for row in desk.feeds(attention=True, limit=2, offset=1)] == [
            "f2",
            "f4",
        ]
    finally:
        desk.close()
