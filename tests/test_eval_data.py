"""The evaluation sets of tests/data/eval are well formed, and the splits keep apart.

Only the data is checked here: the manifest, each set's schema, references
and dates, the counts the corpus promises, and that no pledge of the test
split is also a development pledge (by key or by wording). The measuring of
matching and stance lives in tests/evaluation.py.
"""

from __future__ import annotations

import datetime as dt
import re
from collections import Counter
from typing import Any

import pytest

from pledgewatch.matching import query
from pledgewatch.matching.analysis import plain
from tests.evaluation import EVAL, MANIFEST, item_files, load_json

RELEVANT_KINDS = {"evidence", "restatement"}
HARD_NEGATIVE_KINDS = {"other-actor", "other-sense", "reverse", "before"}
KINDS = RELEVANT_KINDS | HARD_NEGATIVE_KINDS | {"unrelated"}
STANCES = {"kept", "broken", "neutral"}
PLEDGE_FIELDS = {"key", "text", "actor", "made_on", "source_url", "query"}
PLEDGE_OPTIONAL = {
    "actor_kind",
    "deadline",
    "domain",
    "figures",
    "language",
    "notes",
    "polarity",
    "source_checked",
}
ITEM_FIELDS = {"id", "title", "summary", "published_at", "pledge", "stance", "kind", "why"}
ITEM_OPTIONAL = {"about", "also"}
SETS = MANIFEST["sets"]
PLEDGE_FILES = sorted({entry["pledges"] for entry in SETS})
ITEM_FILES = sorted(
    {(name, entry["pledges"], entry["prefix"]) for entry in SETS for name in item_files(entry)}
)


def _pledges(name: str) -> dict[str, dict[str, Any]]:
    rows = load_json(name)
    keys = [p["key"] for p in rows]
    assert len(keys) == len(set(keys)), f"{name}: pledge keys must be unique"
    return {p["key"]: p for p in rows}


def _published(item: dict[str, Any]) -> dt.datetime:
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", item["published_at"]), item["id"]
    return dt.datetime.fromisoformat(item["published_at"].replace("Z", "+00:00"))


def _made_on(pledge: dict[str, Any]) -> dt.date:
    return dt.date.fromisoformat(pledge["made_on"])


def test_the_manifest_says_what_each_set_is_and_how_it_was_used() -> None:
    names = [entry["name"] for entry in SETS]
    assert len(names) == len(set(names))
    for entry in SETS:
        assert entry["split"] in {"dev", "test"}, entry["name"]
        assert entry["written"].strip() and entry["used"].strip(), entry["name"]
        assert (EVAL / entry["pledges"]).is_file(), entry["name"]
        for name in item_files(entry):
            assert (EVAL / name).is_file(), name
            assert name.startswith(entry["split"] + "/"), name
        if entry["split"] == "test":
            assert "floors" not in entry, "the test split is measured, never a test's floor"


@pytest.mark.parametrize("name", PLEDGE_FILES)
def test_pledges_have_every_field_with_a_sensible_value(name: str) -> None:
    for key, pledge in _pledges(name).items():
        assert PLEDGE_FIELDS <= set(pledge) <= PLEDGE_FIELDS | PLEDGE_OPTIONAL, key
        assert re.fullmatch(r"[a-z0-9]+(?:-[a-z0-9]+)*", key)
        assert all(isinstance(pledge[f], str) and pledge[f].strip() for f in PLEDGE_FIELDS), key
        assert pledge["source_url"].startswith("https://"), key
        assert dt.date(1990, 1, 1) < _made_on(pledge) < dt.date(2026, 1, 1), key
        if pledge.get("deadline"):
            assert dt.date.fromisoformat(pledge["deadline"]) >= _made_on(pledge), key
        assert pledge.get("polarity", "positive") in {"positive", "negative"}, key
        query.parse(pledge["query"])  # raises QuerySyntaxError, naming the position


def test_the_legacy_readme_names_every_alias_set_its_queries_use() -> None:
    readme = (EVAL / "dev" / "legacy" / "README.md").read_text(encoding="utf-8")
    pledges = _pledges("dev/legacy/pledges.json")
    used = {name for p in pledges.values() for name in re.findall(r"@(\w+)", p["query"])}
    assert used
    assert not {name for name in used if f"@{name}" not in readme}


@pytest.mark.parametrize(("name", "pledge_file", "prefix"), ITEM_FILES)
def test_items_are_well_formed_and_consistent(name: str, pledge_file: str, prefix: str) -> None:
    pledges = _pledges(pledge_file)
    items = load_json(name)
    ids = [i["id"] for i in items]
    assert len(ids) == len(set(ids)), f"{name}: item ids must be unique"
    for item in items:
        where = (name, item["id"])
        assert re.fullmatch(rf"{prefix}\d{{3,4}}", item["id"]), where
        assert ITEM_FIELDS <= set(item) <= ITEM_FIELDS | ITEM_OPTIONAL, where
        assert item["kind"] in KINDS, where
        for field in ("title", "summary", "why"):
            assert isinstance(item[field], str) and item[field].strip(), (where, field)
        published = _published(item).date()
        if item["kind"] in RELEVANT_KINDS:
            assert item["pledge"] in pledges and item["stance"] in STANCES, where
        else:
            assert item["pledge"] is None and item["stance"] is None, where
        if item["kind"] == "restatement":
            assert item["stance"] == "neutral", where
        about = item.get("about")
        if item["kind"] == "unrelated":
            assert about is None, where
        else:
            assert about in pledges, where
        if item["pledge"] is not None:
            assert about == item["pledge"], where
        if item["kind"] == "before":
            assert published < _made_on(pledges[about]), where
        for key, stance in item.get("also", {}).items():
            assert key in pledges and key != item["pledge"] and stance in STANCES, where
        for key in [item["pledge"], *item.get("also", {})]:
            if key is not None:
                assert published >= _made_on(pledges[key]), (where, key)


def _split(split: str) -> tuple[dict[str, dict[str, Any]], list[dict[str, Any]]]:
    pledges: dict[str, dict[str, Any]] = {}
    items: list[dict[str, Any]] = []
    for entry in SETS:
        if entry["split"] == split and not entry["name"].startswith("legacy"):
            pledges.update(_pledges(entry["pledges"]))
            items.extend(i for name in item_files(entry) for i in load_json(name))
    return pledges, items


@pytest.mark.parametrize(
    ("split", "min_pledges", "min_items"), [("dev", 40, 1000), ("test", 15, 300)]
)
def test_each_split_meets_its_counts(split: str, min_pledges: int, min_items: int) -> None:
    pledges, items = _split(split)
    relevant = Counter(i["pledge"] for i in items if i["pledge"] is not None)
    stances = Counter(i["stance"] for i in items if i["stance"] is not None)
    kinds = Counter(i["kind"] for i in items)
    assert len(pledges) >= min_pledges
    assert len(items) >= min_items
    assert all(relevant[key] >= 8 for key in pledges), relevant
    assert min(stances.values()) >= 0.15 * sum(stances.values()), stances
    assert all(kinds[k] >= 10 for k in KINDS), kinds
    actor_kinds = Counter(p.get("actor_kind") for p in pledges.values())
    assert {"person", "government", "company", "international-body"} <= set(actor_kinds)
    polarity = Counter(p.get("polarity") for p in pledges.values())
    assert polarity["negative"] >= 3 and polarity["positive"] >= 3, polarity


def test_the_test_split_shares_no_pledge_with_development() -> None:
    dev = [p for name in PLEDGE_FILES if name.startswith("dev/") for p in load_json(name)]
    test = [p for name in PLEDGE_FILES if name.startswith("test/") for p in load_json(name)]
    assert test

    def words(text: str) -> str:
        return " ".join(plain(text).casefold().split())

    assert not {p["key"] for p in dev} & {p["key"] for p in test}
    assert not {words(p["text"]) for p in dev} & {words(p["text"]) for p in test}
