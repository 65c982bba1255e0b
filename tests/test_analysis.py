"""The analyser: what a word in an article or a query becomes, and where it stands."""

from __future__ import annotations

import pytest

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
