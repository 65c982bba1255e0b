"""Any pledge text, actor or article: reading, derivation and stance never fail.

Hypothesis feeds arbitrary text, and text built from the words these parsers
look for (modals, negations, cue words, names, figures, typographic
punctuation), to ``read_pledge``, ``derive_query`` and ``suggest_stance``:
a reading is always returned, a derived query always parses (or the one
ValidationError for a text with no words), and a stance is one of the three
labels with a one-line reason.
"""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from pledgewatch.errors import ValidationError
from pledgewatch.matching.derive import derive_query
from pledgewatch.matching.query import parse
from pledgewatch.matching.reading import read_pledge
from pledgewatch.matching.stance import suggest_stance

WORDS = (
    "will won’t not never no longer shall would to by before 2030 2% 6,500 $50 billion "
    "£1.2bn homes tanks emissions deficit China Russia EU NATO Microsoft Labour Party council "
    "of the Mayor London Lula da Silva (COP26) / , ; : — – - ’ “ ” ? . ! missed fell short "
    "only # ... halts deliveries rose fell record pledged reaffirms may could plans set a "
    "target goal deal pact signed approved not enough yet to begin failed refuses denies "
    "à é ü ß 中国 روسيا \u200b \u2028 \x00 \ufffd"
).split()

texts = st.one_of(
    st.text(max_size=200),
    st.lists(st.sampled_from(WORDS), max_size=40).map(" ".join),
)


@given(texts)
def test_any_pledge_text_is_read(text: str) -> None:
    reading = read_pledge(text)
    assert reading.act is None or isinstance(reading.act, str)
    assert all(isinstance(f, str) for f in reading.figures)


@given(texts, texts)
def test_any_pledge_and_actor_derive_a_query_that_parses_or_a_clear_error(
    text: str, actor: str
) -> None:
    try:
        query = derive_query(text, actor)
    except ValidationError as exc:
        assert "no words" in str(exc)
        return
    parse(query)


@given(texts, texts, st.lists(texts, max_size=3))
def test_any_article_gets_a_stance_and_a_one_line_reason(
    pledge: str, title: str, sentences: list[str]
) -> None:
    result = suggest_stance(pledge, title, sentences)
    assert result.label in ("kept", "broken", "neutral")
    assert result.reason and "\n" not in result.reason
