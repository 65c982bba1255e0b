"""Alias sets: the package data loads, every set is usable, references resolve."""

from __future__ import annotations

import tomllib
from importlib import resources

import pytest

from pledgewatch.matching.aliases import KINDS, alias_names, expand
from pledgewatch.matching.analysis import Document
from pledgewatch.matching.query import match, parse


def raw_data() -> dict[str, dict[str, list[str]]]:
    text = resources.files("pledgewatch").joinpath("data/aliases.toml").read_text("utf-8")
    return tomllib.loads(text)


def test_every_un_member_plus_taiwan_kosovo_palestine_is_a_country() -> None:
    countries = alias_names("countries")
    assert len(countries) == 193 + 3
    assert {"taiwan", "kosovo", "palestine", "us", "uk", "china", "russia"} <= set(countries)


def test_bodies_and_topics_are_there() -> None:
    assert {"eu", "nato", "un", "g7", "g20"} <= set(alias_names("bodies"))
    assert {"weapons", "troops", "sanctions", "emissions", "migration", "tariffs"} <= set(
        alias_names("topics")
    )
    assert set(alias_names()) == {name for kind in KINDS for name in alias_names(kind)}


def test_the_file_has_only_known_kinds() -> None:
    assert set(raw_data()) == set(KINDS)


@pytest.mark.parametrize("name", alias_names())
def test_every_set_is_non_empty_and_analysed(name: str) -> None:
    variants = expand(name)
    assert variants
    assert all(seq and all(term and term.isalnum() for term in seq) for seq in variants)
    assert all(term == term.lower() for seq in variants for term in seq)


def test_every_reference_resolves_into_the_including_set() -> None:
    for kind in raw_data().values():
        for name, entries in kind.items():
            for entry in entries:
                if entry.startswith("@"):
                    assert set(expand(entry[1:])) <= set(expand(name)), (name, entry)


def test_brief_examples() -> None:
    assert {("china",), ("chinese",), ("beijing",), ("prc",)} <= set(expand("china"))
    assert ("people", "republic", "of", "china") in expand("china")
    assert {("russia",), ("russian",), ("moscow",), ("kremlin",)} <= set(expand("russia"))
    assert ("russian", "federation") in expand("russia")
    us = set(expand("us"))
    assert {("us",), ("usa",), ("american",), ("washington",), ("pentagon",)} <= us
    assert {("united", "states"), ("white", "house"), ("state", "department")} <= us
    uk = set(expand("uk"))
    assert {("britain",), ("british",), ("uk",), ("london",), ("whitehall",)} <= uk
    assert {("united", "kingdom"), ("downing", "street")} <= uk


def test_expansions_use_the_query_analyser() -> None:
    assert ("elysee",) in expand("france")  # "Élysée"
    assert {("f16",), ("f", "16")} <= set(expand("weapons"))  # "F-16"
    assert ("air", "defence") in expand("weapons")  # via @air_defence


def test_names_are_case_insensitive_and_unknown_names_raise() -> None:
    assert expand("China") == expand("china")
    with pytest.raises(KeyError):
        expand("narnia")


def test_an_alias_matches_articles_the_way_news_writes() -> None:
    doc = Document.from_fields(content="Downing Street said British F-16 jets would not be sent.")
    assert match(parse("@uk AND @weapons"), doc)
    assert not match(parse("@us"), doc)
