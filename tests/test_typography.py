"""Typographic punctuation reads as plain punctuation everywhere text is read.

Most feeds write "won’t", “quotes” and no-break spaces. Matching always folded
them; the stance and derivation rules read lower-cased strings and did not, so
"China won’t sell weapons to Russia" read as a positive pledge and flipped
every suggestion for it. The family test: for every pledge and item of the
evaluation sets, the typographic spelling gives what the plain one gives.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from pledgewatch.matching.analysis import Document
from pledgewatch.matching.derive import derive_query
from pledgewatch.matching.query import match, parse
from pledgewatch.matching.stance import pledge_polarity, suggest_stance

EVAL = Path(__file__).parent / "data" / "eval" / "dev" / "legacy"


def typographic(text: str) -> str:
    """The same text as a feed would typeset it."""
    out, opening = [], True
    for char in text:
        if char == "'":
            out.append("’")
        elif char == '"':
            out.append("“" if opening else "”")
            opening = not opening
        elif char == " " and out and out[-1].isdigit():
            out.append("\u00a0")
        else:
            out.append(char)
    return "".join(out)


def _sets() -> list[tuple[list[dict[str, str]], list[dict[str, str]]]]:
    pledges = json.loads((EVAL / "pledges.json").read_text(encoding="utf-8"))
    items = []
    for path in sorted(EVAL.glob("*.json")):
        if path.name != "pledges.json":
            items += json.loads(path.read_text(encoding="utf-8"))
    return [(pledges, items)]


PLEDGES, ITEMS = _sets()[0]
PLEDGE_TEXTS = {p["key"]: p["text"] for p in PLEDGES}
NEGATED = [
    "China won't sell weapons to Russia",
    "We won't raise income tax, national insurance or VAT",
    "The company will not use coal after 2030",
    "Labour will not build on the green belt",
]


@pytest.mark.parametrize("text", [p["text"] for p in PLEDGES] + NEGATED)
def test_a_pledges_polarity_is_the_same_typeset(text: str) -> None:
    assert pledge_polarity(typographic(text)) == pledge_polarity(text)


@pytest.mark.parametrize("text", NEGATED)
def test_negative_pledges_with_curly_apostrophes_are_negative(text: str) -> None:
    assert pledge_polarity(typographic(text)) == "negative"


def test_every_items_stance_is_the_same_typeset() -> None:
    changed = []
    for item in ITEMS:
        pledge = PLEDGE_TEXTS.get(item.get("about") or item.get("pledge") or "")
        if pledge is None:
            continue
        sentences = [item["summary"]]
        plain = suggest_stance(pledge, item["title"], sentences).label
        typeset = suggest_stance(
            typographic(pledge), typographic(item["title"]), [typographic(item["summary"])]
        ).label
        if plain != typeset:
            changed.append((item["id"], plain, typeset))
    assert changed == []


@pytest.mark.parametrize("pledge", PLEDGES, ids=lambda p: p["key"])
def test_a_derived_query_is_the_same_typeset(pledge: dict[str, str]) -> None:
    assert derive_query(typographic(pledge["text"]), typographic(pledge["actor"])) == (
        derive_query(pledge["text"], pledge["actor"])
    )


def test_typeset_articles_match_as_plain_ones() -> None:
    for pledge in PLEDGES:
        node = parse(pledge["query"])
        for item in ITEMS:
            doc = Document.from_fields(title=item["title"], summary=item["summary"], content="")
            typeset = Document.from_fields(
                title=typographic(item["title"]), summary=typographic(item["summary"]), content=""
            )
            assert (match(node, doc) is None) == (match(node, typeset) is None), item["id"]


def test_didnt_deliver_with_a_curly_apostrophe_is_not_delivered() -> None:
    pledge = "Labour will build 1.5 million homes in England"
    stance = suggest_stance(pledge, "Labour didn’t deliver the homes it promised", [])
    assert stance.label == "broken"
