"""Evidence end to end: sweep, pledge add/edit, rematch, evidence list; both databases."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
import sqlalchemy.exc
from sqlalchemy import text

from pledgewatch.db import Database
from tests.conftest import Cli, Result

if TYPE_CHECKING:
    from pledgewatch.desk import Desk

ROOT = Path(__file__).parent.parent
EXAMPLE_FEED = ROOT / "examples" / "feed.xml"
EXAMPLE_PLEDGES = ROOT / "examples" / "pledges.csv"


def evidence(cli: Cli, *args: str) -> list[dict[str, object]]:
    result = cli("evidence", "list", "--json", *args)
    assert result.code == 0, result.err
    return json.loads(result.out)  # type: ignore[no-any-return]


def titles(items: list[dict[str, object]]) -> set[str]:
    return {item["article"]["title"] for item in items}  # type: ignore[index]


def test_sweep_then_evidence_list_shows_the_right_evidence_with_stances(newsroom: Cli) -> None:
    summary = json.loads(newsroom("sweep", "--json").out)
    assert summary["evidence_new"] > 0
    xi = evidence(newsroom, "--pledge", "1")
    by_title = {item["article"]["title"]: item for item in xi}  # type: ignore[index]
    drones = by_title["Chinese-made drone parts found in Russian attack drones, Ukraine says"]
    assert drones["stance"] == "broken"
    assert drones["review"] == "pending"
    assert "Tennis: Sinner wins the Australian Open final" not in by_title
    first = xi[0]
    assert set(first) >= {
        "id",
        "pledge_id",
        "article",
        "score",
        "stance",
        "snippet",
        "review",
        "found_at",
    }
    assert set(first["article"]) >= {"url", "title", "published_at", "feeds"}  # type: ignore[arg-type]
    assert first["article"]["feeds"] == ["example"]  # type: ignore[index]
    loan = titles(evidence(newsroom, "--pledge", "4"))
    assert "First tranche of G7 loan paid to Kyiv from Russian asset profits" in loan
    boats = evidence(newsroom, "--pledge", "8")
    assert [b["stance"] for b in boats] == ["broken"]
    table = newsroom("evidence", "list", "--pledge", "1")
    assert "Chinese-made drone parts" in table.out


def test_evidence_is_stored_once_per_pledge_and_article(newsroom: Cli) -> None:
    first = json.loads(newsroom("sweep", "--json").out)["evidence_new"]
    assert first > 0
    again = json.loads(newsroom("sweep", "--all", "--json").out)
    assert again["evidence_new"] == 0
    rematch = newsroom("rematch", "--json")
    assert rematch.code == 0, rematch.err
    assert json.loads(rematch.out) == {"evidence_new": 0}
    assert len(evidence(newsroom)) == first


def add_drone_pledge(newsroom: Cli, *, made_on: str) -> Result:
    """A pledge about the example feed's drone story, logged after the sweep."""
    return newsroom(
        "pledge",
        "add",
        "Beijing will not supply drones to Moscow",
        "--by",
        "Chinese government",
        "--made-on",
        made_on,
        "--source-url",
        "https://example.org/x",
        "--query",
        "@china AND @russia AND drone*",
        "--json",
    )


def test_a_pledge_added_later_finds_stored_coverage_at_once(newsroom: Cli) -> None:
    newsroom("sweep")
    result = add_drone_pledge(newsroom, made_on="2024-06-01")
    assert result.code == 0, result.err
    pledge = json.loads(result.out)
    assert pledge["evidence_new"] >= 1
    found = titles(evidence(newsroom, "--pledge", str(pledge["id"])))
    assert "Chinese-made drone parts found in Russian attack drones, Ukraine says" in found


def test_articles_published_before_the_pledge_do_not_count(newsroom: Cli) -> None:
    newsroom("sweep")
    # The drone story is from 2024-09-12; a pledge made after it finds nothing there.
    result = add_drone_pledge(newsroom, made_on="2024-09-14")
    assert json.loads(result.out)["evidence_new"] == 0
    # A day of grace for time zones: made on the 13th, the story of the 12th counts.
    newsroom("pledge", "edit", str(json.loads(result.out)["id"]), "--made-on", "2024-09-13")
    assert len(evidence(newsroom, "--pledge", str(json.loads(result.out)["id"]))) == 1


def test_editing_the_query_finds_new_evidence_and_keeps_the_old(newsroom: Cli) -> None:
    newsroom("sweep")
    before = evidence(newsroom, "--pledge", "8")
    result = newsroom(
        "pledge", "edit", "8", "--query", "(@uk OR Channel) AND (boat* OR crossings)", "--json"
    )
    assert result.code == 0, result.err
    after = evidence(newsroom, "--pledge", "8")
    assert {e["id"] for e in before} <= {e["id"] for e in after}


def test_a_bad_query_is_refused_with_its_position_and_nothing_is_written(newsroom: Cli) -> None:
    result = newsroom(
        "pledge",
        "add",
        "x",
        "--by",
        "A",
        "--made-on",
        "2024-01-01",
        "--source-url",
        "https://example.org",
        "--query",
        "china AND (russia",
    )
    assert result.code == 2
    assert result.err.startswith("error: --query: query does not parse at position")
    assert "closing" in result.err
    result = newsroom("pledge", "edit", "1", "--query", "ch*")
    assert result.code == 2
    assert "three letters" in result.err


def test_pledge_show_prints_the_effective_query(newsroom: Cli) -> None:
    shown = json.loads(newsroom("pledge", "show", "1", "--json").out)
    assert shown["query_derived"] is True
    assert "@russia" in shown["effective_query"]
    text = newsroom("pledge", "show", "1").out
    assert "query (derived" in text
    assert shown["effective_query"] in text


def test_evidence_list_filters(newsroom: Cli) -> None:
    newsroom("sweep")
    everything = evidence(newsroom)
    broken = evidence(newsroom, "--stance", "broken")
    assert broken and all(e["stance"] == "broken" for e in broken)
    assert evidence(newsroom, "--review", "confirmed") == []
    assert len(evidence(newsroom, "--review", "pending")) == len(everything)
    assert len(evidence(newsroom, "--since", "7d")) == len(everything)
    future = newsroom("evidence", "list", "--since", "2999-01-01")
    assert (future.code, future.err) == (
        2,
        'error: --since: "2999-01-01" is in the future; give a date up to today\n',
    )
    bad = newsroom("evidence", "list", "--stance", "maybe")
    assert bad.code == 2
    assert (
        bad.err.strip()
        == 'error: --stance: "maybe" is not a stance; use one of kept, broken, neutral'
    )
    bad = newsroom("evidence", "list", "--since", "last week")
    assert bad.code == 2
    assert "--since" in bad.err


def test_a_stored_query_that_no_longer_parses_does_not_stop_the_sweep(
    newsroom: Cli, database_url: str
) -> None:
    from sqlalchemy import update

    from pledgewatch.db import Database
    from pledgewatch.models import Pledge

    database = Database(database_url)
    with database.session() as session:
        # As if the query language had changed since this query was saved.
        session.execute(update(Pledge).where(Pledge.id == 2).values(query="ukraine AND ("))
    database.dispose()
    result = newsroom("sweep", "--json")
    assert result.code == 0, result.err
    summary = json.loads(result.out)
    assert summary["evidence_new"] > 0
    assert any("pledge #2" in w["warning"] for w in summary["warnings"])
    assert evidence(newsroom, "--pledge", "2") == []
    assert evidence(newsroom, "--pledge", "1")


def test_the_presearcher_learns_from_the_newest_stored_articles(
    newsroom: Cli, database_url: str
) -> None:
    from sqlalchemy import func, select

    from pledgewatch.db import Database
    from pledgewatch.evidence import SAMPLE, PledgeMatcher
    from pledgewatch.models import Article, Pledge

    database = Database(database_url)
    with database.session() as session:
        assert PledgeMatcher.load(session).monitor.sampled == 0  # nothing stored yet
    assert newsroom("sweep").code == 0
    with database.session() as session:
        stored = session.scalar(select(func.count()).select_from(Article))
        pledges = session.scalar(select(func.count()).select_from(Pledge))
        matcher = PledgeMatcher.load(session)
    database.dispose()
    assert stored and matcher.monitor.sampled == min(stored, SAMPLE)
    assert len(matcher) == pledges


def test_imported_pledges_find_stored_coverage_as_an_added_one_does(
    newsroom: Cli, tmp_path: Path
) -> None:
    newsroom("sweep")
    path = tmp_path / "more.csv"
    path.write_text(
        "text,actor,made_on,source_url,query\n"
        "Beijing will not supply drones to Moscow,Chinese government,2024-06-01,"
        "https://example.org/x,@china AND @russia AND drone*\n",
        encoding="utf-8",
    )
    result = newsroom("pledge", "import", str(path), "--json")
    assert result.code == 0, result.err
    imported = json.loads(result.out)
    assert imported["evidence_new"] >= 1
    found = titles(evidence(newsroom, "--pledge", str(imported["imported"][0])))
    assert "Chinese-made drone parts found in Russian attack drones, Ukraine says" in found
    assert json.loads(newsroom("rematch", "--json").out) == {"evidence_new": 0}


def test_a_pledge_whose_evidence_cannot_be_stored_is_not_stored_either(
    newsroom: Cli, database_url: str
) -> None:
    # The pledge and its evidence are one transaction: when the database refuses
    # the evidence (a real trigger here), nothing is left behind, and the same
    # command succeeds once the fault is gone, rather than "already records".
    newsroom("sweep")
    database = Database(database_url)
    with database.session() as session:
        if database.dialect == "sqlite":
            session.execute(
                text(
                    "CREATE TRIGGER refuse BEFORE INSERT ON evidence "
                    "BEGIN SELECT RAISE(ABORT, 'evidence refused'); END"
                )
            )
        else:
            session.execute(
                text(
                    "CREATE FUNCTION refuse() RETURNS trigger AS $$ BEGIN "
                    "RAISE EXCEPTION 'evidence refused'; END $$ LANGUAGE plpgsql"
                )
            )
            session.execute(
                text(
                    "CREATE TRIGGER refuse BEFORE INSERT ON evidence "
                    "FOR EACH ROW EXECUTE FUNCTION refuse()"
                )
            )
    before = len(json.loads(newsroom("pledge", "list", "--json").out))
    with pytest.raises(sqlalchemy.exc.DBAPIError):
        add_drone_pledge(newsroom, made_on="2024-06-01")
    assert len(json.loads(newsroom("pledge", "list", "--json").out)) == before
    with database.session() as session:
        session.execute(
            text("DROP TRIGGER refuse" + (" ON evidence" if database.dialect != "sqlite" else ""))
        )
    database.dispose()
    again = add_drone_pledge(newsroom, made_on="2024-06-01")
    assert again.code == 0, again.err
    assert json.loads(again.out)["evidence_new"] >= 1


def test_a_watch_keeps_its_matcher_and_takes_in_only_the_pledges_that_changed(
    library: Desk,
) -> None:
    from pledgewatch.evidence import MatcherCache, PledgeMatcher
    from pledgewatch.matching.analysis import Document

    cache = MatcherCache()
    database = library.database

    def cached() -> PledgeMatcher:
        with database.session(write=False) as session:
            return cache.get(session)

    def loaded() -> PledgeMatcher:
        with database.session(write=False) as session:
            return PledgeMatcher.load(session)

    first = cached()
    assert cached() is first and (cache.loads, cache.refreshes) == (1, 0), "nothing changed"
    library.add_pledge(
        {
            "text": "The borough will reopen the Eastgate library by spring",
            "actor": "Eastgate borough council",
            "made_on": "2024-06-13",
            "source_url": "https://news.example.org/eastgate",
            "query": "eastgate AND library",
        }
    )
    library.edit_pledge(2, {"query": "ukraine AND security AND agreement"})
    library.archive_pledge(3, "merged into pledge 2")
    kept = cached()
    assert kept is first and (cache.loads, cache.refreshes) == (1, 1)
    fresh = loaded()
    assert {i: t.query for i, t in kept.targets.items()} == {
        i: t.query for i, t in fresh.targets.items()
    }
    assert 3 not in kept.targets and kept.targets[2].query == "ukraine AND security AND agreement"
    doc = Document.from_fields(
        title="Eastgate library reopens its doors",
        summary="Ukraine security agreement signed; the Eastgate library is open again.",
        content="",
    )
    now = datetime.now(UTC)
    assert kept.findings(doc, now) == fresh.findings(doc, now)
    assert {pledge_id for pledge_id, _ in kept.findings(doc, now)} >= {2, 10}
    # Past its age the matcher is loaded afresh, so its sample follows the news.
    cache.max_age = timedelta(0)
    assert cached() is not first and cache.loads == 2


def test_a_pledge_on_a_large_store_is_matched_on_the_newest_at_once_and_the_rest_after(
    library: Desk, monkeypatch: pytest.MonkeyPatch
) -> None:
    from pledgewatch import evidence as evidence_store

    # A large store in miniature: three articles matched before `add` returns,
    # the rest four at a time in the background.
    monkeypatch.setattr(evidence_store, "INLINE_REMATCH", 3)
    monkeypatch.setattr(evidence_store, "CHUNK", 4)
    added = library.add_pledge(
        {
            "text": "Europe will keep Russia out of its energy markets",
            "actor": "European Commission",
            "made_on": "2020-01-01",
            "source_url": "https://news.example.org/energy",
            "query": "russia OR ukraine OR china OR kyiv",
        }
    )
    pledge_id = added.pledge.id
    assert added.matching is not None
    done, total = added.matching
    assert done == 3 and total > 3 + 4, added.matching
    assert library.pledge(pledge_id).matching == (3, total)
    assert library.pledge(pledge_id).to_json()["matching"] == {"done": 3, "total": total}
    at_once = len(library.evidence(pledge_id=pledge_id))
    assert at_once == added.evidence_new

    # One chunk, then an edit: the job starts again with the new query.
    calls = iter([False, True])
    database = library.database
    evidence_store.run_queued(
        database, datetime.now(UTC), budget=60, stop=lambda: next(calls, True)
    )
    assert library.pledge(pledge_id).matching == (3 + 4, total)
    edited = library.edit_pledge(pledge_id, {"query": "russia OR ukraine OR kyiv"})
    assert edited.matching is not None and edited.matching[0] == 3

    # The next sweep finishes the job: what a full rematch would find, and nothing more.
    swept = library.sweep()
    assert library.pledge(pledge_id).matching is None
    assert swept.evidence_new >= 0
    assert library.rematch(pledge_id) == 0, "the background missed evidence"
    assert len(library.evidence(pledge_id=pledge_id)) > at_once


def test_the_newest_articles_since_a_date_are_the_same_read_along_the_key_or_asked_for(
    library: Desk,
) -> None:
    # _newest_ids reads pages backwards along the primary key and falls back to
    # one filtered query; both must give what the plain query gives, whatever the
    # dates of the newest ids.
    from sqlalchemy import select, update

    from pledgewatch import evidence as evidence_store
    from pledgewatch.models import Article

    with library.database.session() as session:
        ids = list(session.scalars(select(Article.id).order_by(Article.id)))
        assert len(ids) >= 6
        # The newest ids carry old dates, as articles from an archive would.
        session.execute(
            update(Article)
            .where(Article.id.in_(ids[-3:]))
            .values(published_at=datetime(2001, 1, 1, tzinfo=UTC))
        )
        for since in (None, datetime(2000, 1, 1, tzinfo=UTC), datetime(2002, 1, 1, tzinfo=UTC)):
            for limit in (1, 2, 3, 5, len(ids) + 1):
                query = select(Article.id).order_by(Article.id.desc()).limit(limit)
                if since is not None:
                    query = query.where(Article.published_at >= since)
                expected = list(session.scalars(query))
                assert evidence_store._newest_ids(session, since, limit) == expected
        session.rollback()
