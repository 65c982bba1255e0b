"""Seeing a query before trusting it: `query test`, `--dry-run`, and an edited query's
pending evidence; on both databases, through the command line."""

from __future__ import annotations

import json

from tests.conftest import Cli

DRONE_STORY = "Chinese-made drone parts found in Russian attack drones, Ukraine says"


def trial(cli: Cli, *args: str) -> dict[str, object]:
    result = cli("query", "test", *args, "--json")
    assert result.code == 0, result.err
    return json.loads(result.out)  # type: ignore[no-any-return]


def test_query_test_counts_matches_shows_the_newest_with_words_and_writes_nothing(
    desk: Cli,
) -> None:
    before = desk("evidence", "list", "--json").out
    found = trial(desk, "@china AND @russia AND drone*")
    assert found["matched"] == 1
    assert found["articles"] == 12
    (sample,) = found["sample"]  # type: ignore[misc]
    assert sample["title"] == DRONE_STORY
    assert "drones" in sample["words"] and "china" in sample["words"]
    assert found["warnings"] == []
    assert desk("evidence", "list", "--json").out == before


def test_query_test_warns_when_a_query_matches_most_articles(desk: Cli) -> None:
    found = trial(desk, "the")
    assert found["matched"] == found["articles"]
    assert any("of the stored articles" in w for w in found["warnings"])  # type: ignore[union-attr]
    text = desk("query", "test", "the").out
    assert "warning: matches 100% of the stored articles" in text


def test_query_test_for_a_pledge_warns_when_the_actor_is_missing(desk: Cli) -> None:
    missing = trial(desk, "sell* AND weapons", "--pledge", "1")
    assert any("asks for nothing of Xi Jinping" in w for w in missing["warnings"])  # type: ignore[union-attr]
    named = trial(desk, "@china AND weapons", "--pledge", "1")
    assert not any("asks for nothing" in w for w in named["warnings"])  # type: ignore[union-attr]
    by_name = trial(desk, "Xi AND weapons", "--pledge", "1")
    assert not any("asks for nothing" in w for w in by_name["warnings"])  # type: ignore[union-attr]


def test_query_test_refuses_a_bad_query_in_one_line(desk: Cli) -> None:
    result = desk("query", "test", "china AND (russia")
    assert result.code == 2
    assert result.err.startswith("error: QUERY: query does not parse at position")
    assert len(result.err.strip().splitlines()) == 1


def test_pledge_add_dry_run_shows_the_derived_query_and_what_it_finds(desk: Cli) -> None:
    before = desk("pledge", "list", "--json").out
    result = desk(
        "pledge",
        "add",
        "Beijing will not supply drones to Moscow",
        "--by",
        "Chinese government",
        "--made-on",
        "2024-06-01",
        "--source-url",
        "https://example.org/x",
        "--dry-run",
        "--json",
    )
    assert result.code == 0, result.err
    shown = json.loads(result.out)
    assert shown["dry_run"] is True and shown["query_derived"] is True
    titles = [s["title"] for s in shown["trial"]["sample"]]
    assert DRONE_STORY in titles
    assert desk("pledge", "list", "--json").out == before, "a dry run writes nothing"
    again = desk(
        "pledge",
        "add",
        "China will not sell weapons to Russia",
        "--by",
        "Xi Jinping",
        "--made-on",
        "2024-06-13",
        "--source-url",
        "https://example.org/y",
        "--dry-run",
    )
    assert again.code == 2 and "already records this pledge" in again.err


def test_pledge_edit_dry_run_shows_the_new_query_and_changes_nothing(desk: Cli) -> None:
    before = desk("pledge", "show", "1", "--json").out
    result = desk("pledge", "edit", "1", "--query", "@china AND drone*", "--dry-run")
    assert result.code == 0, result.err
    assert "would be" in result.out and "nothing was written" in result.out
    assert DRONE_STORY in result.out
    assert desk("pledge", "show", "1", "--json").out == before


def test_a_narrowed_query_offers_to_reject_the_pending_evidence_it_no_longer_matches(
    desk: Cli,
) -> None:
    pending = [
        e["id"]
        for e in json.loads(
            desk("evidence", "list", "--pledge", "1", "--review", "pending", "--json").out
        )
    ]
    assert len(pending) >= 2
    result = desk("pledge", "edit", "1", "--query", "@china AND @russia AND drone*", "--json")
    assert result.code == 0, result.err
    unmatched = json.loads(result.out)["pending_unmatched"]
    assert unmatched and set(unmatched) < set(pending)
    text = desk("pledge", "edit", "1", "--note", "narrowed").out
    assert "pending" not in text, "only a query change makes the offer"
    offer = desk("pledge", "edit", "1", "--query", "@china AND @russia AND drone* AND parts")
    assert "pledgewatch evidence reject" in offer.out
    ids = [str(i) for i in unmatched]
    rejected = desk("evidence", "reject", *ids, "--note", "no longer matches the query", "--json")
    assert rejected.code == 0, rejected.err
    documents = json.loads(rejected.out)
    documents = documents if isinstance(documents, list) else [documents]
    assert sorted(d["id"] for d in documents) == sorted(unmatched)
    assert all(d["review"] == "rejected" for d in documents)


def test_reviewing_several_items_is_all_or_nothing(desk: Cli) -> None:
    pending = [
        e["id"] for e in json.loads(desk("evidence", "list", "--review", "pending", "--json").out)
    ]
    result = desk("evidence", "confirm", str(pending[0]), "999999")
    assert result.code == 2 and "no evidence #999999" in result.err
    still = [
        e["id"] for e in json.loads(desk("evidence", "list", "--review", "pending", "--json").out)
    ]
    assert still == pending, "the first item was not confirmed either"
