"""The analyser: what a word in an article or a query becomes, and where it stands."""

from __future__ import annotations

import random
import string

import pytest
from hypothesis import given
from hypothesis import strategies as st

from pledgewatch.matching import analysis
from pledgewatch.matching.analysis import Document, analyse, fold, phrase_variants


def terms(text: str) -> list[str]:
    return [token.term for token in analyse(text)]


def test_case_and_diacritics_are_folded() -> None:
    assert terms("Élysée CÔTE naïve São Tomé Straße") == [
        "elysee",
        "cote",
        "naive",
        "sao",
        "tome",
        "strasse",
    ]


def test_decomposed_input_folds_like_composed_input() -> None:
    assert terms("Cote\u0301") == terms("Coté") == ["cote"]


def test_compatibility_characters_are_folded() -> None:
    assert terms("ﬁre") == ["fire"]


@pytest.mark.parametrize("word", ["Russia's", "Russia’s", "RUSSIA'S", "Russia"])
def test_possessives_are_normalised(word: str) -> None:
    assert terms(word) == ["russia"]


def test_plural_possessive_gives_both_forms_at_one_position() -> None:
    tokens = analyse("Russias' States' plans")
    assert [(t.term, t.position) for t in tokens] == [
        ("russias", 0),
        ("russia", 0),
        ("states", 1),
        ("state", 1),
        ("plans", 2),
    ]


def test_other_apostrophes_are_dropped() -> None:
    assert terms("don't Côte d’Ivoire") == ["dont", "cote", "divoire"]


def test_hyphenated_word_gives_parts_and_joined_form() -> None:
    tokens = analyse("F-16 jets")
    assert [(t.term, t.position) for t in tokens] == [
        ("f", 0),
        ("f16", 0),
        ("16", 1),
        ("jets", 2),
    ]
    joined = next(t for t in tokens if t.term == "f16")
    assert "F-16 jets"[joined.start : joined.end] == "F-16"


def test_dashes_are_not_hyphens() -> None:
    assert terms("China – Russia") == ["china", "russia"]
    assert terms("2020–2025") == ["2020", "2025"]


@pytest.mark.parametrize(("text", "term"), [("U.S.", "us"), ("U.K.", "uk"), ("U.S.A.", "usa")])
def test_dotted_abbreviations_lose_their_dots(text: str, term: str) -> None:
    assert terms(text) == [term]


def test_decimals_and_domains_are_not_abbreviations_or_sentence_ends() -> None:
    tokens = analyse("It paid $3.5bn to example.com on Monday.")
    assert [t.term for t in tokens] == "it paid 3 5bn to example com on monday".split()
    assert {t.sentence for t in tokens} == {0}


def test_positions_and_offsets_point_into_the_text() -> None:
    text = "Beijing’s  drones, sold to Moscow."
    tokens = analyse(text)
    assert [t.position for t in tokens] == [0, 1, 2, 3, 4]
    # A possessive's offsets cover the name, which is what a highlight wants.
    assert [text[t.start : t.end] for t in tokens] == ["Beijing", "drones", "sold", "to", "Moscow"]


def test_sentences_are_numbered() -> None:
    tokens = analyse('China said no. "We will not sell arms!" Is that so? Yes\n\nNew paragraph')
    by_term = {t.term: t.sentence for t in tokens}
    assert by_term["china"] == 0
    assert by_term["sell"] == 1
    assert by_term["so"] == 2
    assert by_term["yes"] == 3
    assert by_term["paragraph"] == 4


def test_titles_initials_and_abbreviations_do_not_end_sentences() -> None:
    tokens = analyse("Mr. Xi met George W. Bush in the U.S. on Monday. Then he left.")
    assert [t.sentence for t in tokens if t.term in ("mr", "xi", "bush", "us", "monday")] == [0] * 5
    assert next(t.sentence for t in tokens if t.term == "then") == 1


def test_fold_one_word() -> None:
    assert fold("Zürich") == "zurich"
    assert fold("Russia's") == "russias"


def test_phrase_variants_cover_hyphen_and_letter_digit_forms() -> None:
    assert phrase_variants("F-16 jets") == (("f16", "jets"), ("f", "16", "jets"))
    assert phrase_variants("F16") == (("f16",), ("f", "16"))
    assert phrase_variants("Russias'") == (("russias",), ("russia",))
    assert phrase_variants("...") == ()


def test_document_fields_have_their_own_positions() -> None:
    doc = Document.from_fields(title="China sells arms", content="Arms sold by China. Again.")
    assert doc.fields["title"].positions("china") == [0]
    assert doc.fields["content"].positions("china") == [3]
    assert doc.fields["summary"].positions("china") == []
    assert doc.terms >= {"china", "sells", "arms", "sold", "again"}
    assert doc.fields["content"].sentence_of(4) == 1


def test_document_positions_agree_with_analyse_many_times() -> None:
    # Past a few lookups a field indexes itself in one pass: same answers either way.
    text = "The F-16 and the Russias' jets; the U.S. and the F16. " * 3
    field = Document.from_fields(content=text).fields["content"]
    expected: dict[str, list[int]] = {}
    for token in analyse(text):
        expected.setdefault(token.term, []).append(token.position)
    for term, positions in sorted(expected.items()):
        assert field.positions(term) == sorted(positions), term
    assert field.positions("absent") == []


def test_sentence_span_gives_snippet_text() -> None:
    doc = Document.from_fields(content="First one here. China will not sell weapons. Last.")
    field = doc.fields["content"]
    start, end = field.sentence_span(1)
    assert field.text[start:end] == "China will not sell weapons"
    start, end = field.char_span(4, 5)
    assert field.text[start:end] == "will not"


def _reference_scan(text: str) -> tuple[list[str], list[tuple[int, str]], list[int]]:
    """The analyser's definition: ``_TOKEN`` over the whole text at once, with no
    fast path. ``_Scan`` cuts the text at whitespace first and must agree."""
    terms: list[str] = []
    stacked: list[tuple[int, str]] = []
    starts = [0]
    for abbr, word, stop, percent in analysis._TOKEN.findall(text):
        if word:
            parts, extra = analysis._compound(word)
            stacked.extend((len(terms), form) for form in extra)
            terms.extend(term for term, _, _ in parts)
        elif abbr:
            terms.append(fold(abbr.replace(".", "")))
        elif percent:
            terms.append("percent")
        elif len(terms) > starts[-1] and not (
            stop == "." and (terms[-1] in analysis._TITLES or len(terms[-1]) == 1)
        ):
            starts.append(len(terms))
    return terms, stacked, starts


_PIECES = [
    "word",
    "Word",
    "said,",
    "talks.",
    "end!",
    "why?",
    "U.S.",
    "U.K.",
    "Mr.",
    "W.",
    "2.5",
    "F-16",
    "Russia's",
    "States'",
    "don't",
    "Élysée",
    "naïve.",
    "e.g.",
    "...",
    "(Reuters)",
    '"quoted."',
    "it's.",
    "x",
    "42",
    "3%",
    "2.5%,",
    "%",
    "50-52%",
    "a.b.c",
    "—",
    "-",
    "'",
    ".",
    "!?",
    "foo_bar",
    "Chinese-made,",
    "co-op.",
    "U.S.-led",
    "’s",
    "ÇA",
    "ﬁne",
    "日本",
    "semi;",
    "colon:",
]
_SPACES = [" ", "  ", "\n", "\n\n", "\n \t\n", "\t", "\u00a0", "\u2003", "\n\n\n", " \n"]


def test_whitespace_cut_scan_agrees_with_the_token_pattern() -> None:
    rng = random.Random(20261127)
    for _ in range(3000):
        count = rng.randint(1, 12)
        text = "".join(rng.choice(_PIECES) + rng.choice(_SPACES) for _ in range(count))
        if rng.random() < 0.3:  # words glued to punctuation without spaces
            text = text.replace(" ", rng.choice(["", ",", "."]), 2)
        scan = analysis._Scan(text)
        assert (scan.terms, scan.stacked, scan.sentence_starts) == _reference_scan(text), text
        # Offsets come from the pattern itself: they must line up with positions.
        assert len(analysis._spans(text)) == len(scan.terms), text


def test_quick_phrase_and_prefix_tests_agree_with_positions() -> None:
    rng = random.Random(7)
    for _ in range(1500):
        text = " ".join(rng.choice(_PIECES) for _ in range(rng.randint(1, 10)))
        field = Document.from_fields(content=text).fields["content"]
        terms = [*analysis._Scan(text).terms, "zz", "f16", "russia", "16"]
        for _ in range(6):
            size = rng.randint(1, 3)
            start = rng.randrange(len(terms))
            seq = tuple(terms[start : start + size]) or ("zz",)
            if rng.random() < 0.3:
                seq = tuple(rng.choice(terms) for _ in range(size))
            assert field.has_phrase(seq) == bool(field.phrase_starts(seq)), (text, seq)
            prefix = rng.choice(terms)[: rng.randint(1, 4)] or "x"
            assert field.has_prefix(prefix) == bool(field.prefixed(prefix)), (text, prefix)


@given(st.text(st.sampled_from(string.ascii_letters + string.digits), min_size=1, max_size=30))
def test_a_plain_ascii_chunk_is_the_one_word_the_token_pattern_finds(chunk: str) -> None:
    # What lets _Scan take such a chunk as one word without the pattern, on the
    # query side (units) as on the article side.
    assert analysis._TOKEN.findall(chunk) == [("", chunk, "", "")]
    scan = analysis._Scan(f"x {chunk}, y", units=True)
    assert scan.terms == ["x", chunk.lower(), "y"]
    assert scan.units == [(("x",),), ((chunk.lower(),),), (("y",),)]
