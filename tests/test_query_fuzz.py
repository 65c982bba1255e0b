"""The query language and query derivation on any input: nothing crashes.

Whatever a journalist types, ``parse`` gives a query or a QuerySyntaxError
with a position; whatever parses prints back to itself and runs on any
article (matching, hits, presearch, the monitor, scoring); whatever a pledge
says, ``derive_query`` gives a query that parses, or a ValidationError; and
the analyser takes any text. Inputs mix arbitrary text (lone surrogates and
control characters included) with queries and pledges built from the
language's own pieces, so that most of them parse and many match.
"""

from __future__ import annotations

import pickle
import unicodedata

import pytest
from hypothesis import event, given, reject
from hypothesis import strategies as st

from pledgewatch.errors import QuerySyntaxError, ValidationError
from pledgewatch.matching import aliases
from pledgewatch.matching.analysis import FIELDS, Document, analyse, phrase_variants
from pledgewatch.matching.derive import derive_query
from pledgewatch.matching.monitor import Monitor
from pledgewatch.matching.query import (
    MAX_DEPTH,
    MAX_DISTANCE,
    Node,
    format_query,
    match,
    parse,
    predicate,
    required_terms,
)
from pledgewatch.matching.score import assess

# --- text ---------------------------------------------------------------------------

# Every code point, lone surrogates and unassigned ones included.
ANY_CHAR = st.characters(exclude_categories=())
ANY_TEXT = st.text(ANY_CHAR)
# Characters with a meaning in the query language or in the analyser.
SPECIAL = st.sampled_from(list("()\"*:@/%％.,;!?'’-‐‑ \t\n\r\x00\x1f\x7f\u037a\u0301\ud800\ufffe"))
SPECIAL_TEXT = st.text(st.one_of(ANY_CHAR, SPECIAL, SPECIAL, SPECIAL))

WORDS = [
    "china", "weapons", "arms", "sell", "selling", "drones", "russia", "Russia's", "States'",
    "and", "not", "or", "near", "title", "F-16", "f16", "U.S.", "u.k.", "chinese-made",
    "2%", "2", "percent", "cent", "1.5%", "2030", "50bn", "Élysée", "elysee", "d'Ivoire",
    "روسيا", "الصين", "中国", "武器", "😀", "x\u0301", "Ⅻ", "ﬁre", "٣", "²", "ß", "İstanbul",
]  # fmt: skip
PREFIXES = ["sell*", "suppl*", "chin*", "deliver*", "ro*", "*", "F-16*", "روس*", "中国*"]
ALIAS_NAMES = sorted(aliases.alias_names())
# Words of some alias sets, so that articles hold what "@china" looks for.
ALIAS_WORDS = sorted(
    {word for name in ("china", "russia", "uk", "us", "weapons") for seq in aliases.expand(name)
     for word in seq}
)  # fmt: skip
VOCABULARY = WORDS + ALIAS_WORDS


@st.composite
def words(draw: st.DrawFn) -> str:
    """A word of a query or an article: from the vocabulary, or any characters."""
    if draw(st.integers(0, 3)):
        return draw(st.sampled_from(VOCABULARY))
    return draw(st.text(ANY_CHAR, min_size=1, max_size=8))


@st.composite
def sentences(draw: st.DrawFn) -> str:
    """Article-like text: words, punctuation, sentence ends, paragraphs."""
    separators = st.sampled_from([" ", " ", " ", ", ", ". ", "! ", "\n\n", "-", "\t", " \x00 "])
    return "".join(draw(words()) + draw(separators) for _ in range(draw(st.integers(0, 30))))


@st.composite
def article_texts(draw: st.DrawFn) -> str:
    kind = draw(st.sampled_from(["sentences", "sentences", "special", "repeated", "long word"]))
    if kind == "sentences":
        return draw(sentences())
    if kind == "special":
        return draw(SPECIAL_TEXT)
    if kind == "repeated":
        return (draw(words()) + " ") * draw(st.integers(1, 300))
    return draw(st.sampled_from(["a", "x\u0301", "中", "-a"])) * draw(st.integers(1, 5000))


@st.composite
def documents(draw: st.DrawFn) -> Document:
    return Document.from_fields(
        title=draw(article_texts()), summary=draw(article_texts()), content=draw(article_texts())
    )


def holds(doc: Document, key: str) -> bool:
    """Whether ``doc`` holds a presearch key: a term, or "prefix*"."""
    if key.endswith("*"):
        return any(doc.fields[name].has_prefix(key[:-1]) for name in FIELDS)
    return key in doc.terms


# --- queries ------------------------------------------------------------------------


@st.composite
def leaves(draw: st.DrawFn) -> str:
    """A term, prefix, phrase or alias set, now and then one that does not parse."""
    kind = draw(st.sampled_from(["word", "word", "prefix", "phrase", "alias", "any"]))
    if kind == "word":
        return draw(st.sampled_from(VOCABULARY))
    if kind == "prefix":
        return draw(st.sampled_from(PREFIXES))
    if kind == "phrase":
        return '"' + " ".join(draw(st.lists(words(), min_size=1, max_size=4))) + '"'
    if kind == "alias":
        return "@" + draw(st.sampled_from([*ALIAS_NAMES, "", "nosuch", "Uk"]))
    return draw(st.text(ANY_CHAR, min_size=1, max_size=6))


@st.composite
def distances(draw: st.DrawFn) -> str:
    if draw(st.integers(0, 4)):
        return str(draw(st.integers(1, 12)))
    return draw(
        st.sampled_from(["0", "1000", "1001", "0005", "٣", "²", "x", "", "9" * 50, "1" * 5000])
    )


@st.composite
def positional(draw: st.DrawFn) -> str:
    """What may stand beside NEAR: a leaf, title: of one, or an OR of them."""
    kind = draw(st.sampled_from(["leaf", "leaf", "title", "or"]))
    if kind == "leaf":
        return draw(leaves())
    if kind == "title":
        return "title:" + draw(leaves())
    return "(" + " OR ".join(draw(st.lists(leaves(), min_size=2, max_size=4))) + ")"


@st.composite
def near_queries(draw: st.DrawFn) -> str:
    operator = draw(st.sampled_from(["NEAR", "ONEAR"]))
    return f"{draw(positional())} {operator}/{draw(distances())} {draw(positional())}"


@st.composite
def built_queries(draw: st.DrawFn, depth: int = 0) -> str:
    """A query built from the grammar: most parse."""
    shape = draw(st.sampled_from(["leaf", "near", "and", "or", "adjacent", "and not", "group"]))
    if depth > 3 or shape == "leaf":
        return draw(leaves())
    if shape == "near":
        return draw(near_queries())
    if shape == "group":
        return draw(st.sampled_from(["({})", "title:({})", "NOT NOT ({})"])).format(
            draw(built_queries(depth + 1))
        )
    joiner = {"and": " AND ", "or": " OR ", "adjacent": " ", "and not": " AND NOT "}[shape]
    return draw(built_queries(depth + 1)) + joiner + draw(built_queries(depth + 1))


TOKENS = [
    "(", ")", '"', "AND", "OR", "NOT", "NEAR/3", "ONEAR/2", "NEAR/0", "NEAR", "NEAR/99999",
    "title:", "TITLE:", "summary:", "*", "@", "and", "not", "a", "b",
]  # fmt: skip


@st.composite
def token_soups(draw: st.DrawFn) -> str:
    """Operators, brackets and leaves in any order, joined by any whitespace."""
    spaces = st.sampled_from([" ", "", "  ", "\t", "\n", "\u00a0", "\u2028"])
    tokens = st.one_of(st.sampled_from(TOKENS), leaves())
    return "".join(draw(tokens) + draw(spaces) for _ in range(draw(st.integers(0, 40))))


OPENERS = st.lists(st.sampled_from(["(", "NOT ", "title:"]), max_size=MAX_DEPTH + 8)


def nest(openers: list[str], inner: str) -> tuple[str, int]:
    """``inner`` inside the openers, after a term that every match holds; and its depth.
    ("title:NOT" is refused for another reason: a parenthesis goes between.)"""
    opened = "".join(openers).replace("title:NOT ", "title:(NOT ")
    depth = opened.count("(") + opened.count("NOT ") + opened.count("title:")
    return f"a AND {opened}{inner}{')' * opened.count('(')}", depth


@st.composite
def nested_queries(draw: st.DrawFn) -> str:
    return nest(draw(OPENERS), draw(built_queries(depth=3)))[0]


@st.composite
def query_texts(draw: st.DrawFn) -> str:
    kinds = [built_queries(), built_queries(), token_soups(), nested_queries(), SPECIAL_TEXT]
    text: str = draw(st.one_of(*kinds, ANY_TEXT))
    return text


def parse_or_syntax_error(query: str) -> Node | None:
    """``parse``'s result after checking what it promises; None for a QuerySyntaxError."""
    try:
        return parse(query)
    except QuerySyntaxError as exc:
        assert 0 <= exc.position <= len(query)
        assert exc.query == query
        # What is wrong, on one line and short, whatever the query is.
        assert "\n" not in exc.expected and len(exc.expected) < 300, exc.expected
        assert str(exc).startswith(f"query does not parse at position {exc.position + 1}: ")
        return None


@st.composite
def parsed_queries(draw: st.DrawFn) -> tuple[str, Node]:
    """A query that parses: its text and its tree."""
    for _ in range(4):  # about half the queries built parse; four tries nearly always do
        text = draw(st.one_of(built_queries(), built_queries(), nested_queries()))
        try:
            return text, parse(text)
        except QuerySyntaxError:
            continue
    reject()


# --- parsing ------------------------------------------------------------------------


@given(query_texts())
def test_any_text_parses_or_is_refused_with_a_position(query: str) -> None:
    event("parses" if parse_or_syntax_error(query) is not None else "refused")


@given(OPENERS, leaves())
def test_a_query_parses_exactly_when_it_nests_at_most_max_depth_levels(
    openers: list[str], leaf: str
) -> None:
    query, depth = nest(openers, "b")
    assert (parse_or_syntax_error(query) is not None) == (depth <= MAX_DEPTH)
    query, depth = nest(openers, leaf)
    if depth > MAX_DEPTH:
        assert parse_or_syntax_error(query) is None


@given(parsed_queries())
def test_a_parsed_query_prints_as_text_that_parses_back_to_it(query: tuple[str, Node]) -> None:
    _, node = query
    text = format_query(node)
    assert parse(text) == node
    assert format_query(parse(text)) == text


# --- matching -----------------------------------------------------------------------


@given(parsed_queries(), documents(), article_texts(), ANY_TEXT)
def test_a_parsed_query_runs_on_any_article(
    query: tuple[str, Node], doc: Document, text: str, pledge: str
) -> None:
    query_text, node = query
    groups = required_terms(node)
    assert groups  # parse refuses a query that requires nothing
    # An article that holds the query's own words matches it more often than not.
    for article in (doc, Document.from_fields(title=query_text, content=text)):
        found = match(node, article)
        assert predicate(node)(article) == (found is not None)
        event("matches" if found else "does not match")
        if found is None:
            continue
        assert found.hits
        for group in groups:  # what the presearcher relies on
            assert any(holds(article, key) for key in group), group
        finding = assess(pledge, found, article)
        assert 0.0 <= finding.score <= 1.0


@given(st.lists(parsed_queries(), min_size=1, max_size=4), st.lists(documents(), max_size=2))
def test_the_monitor_finds_what_matching_each_query_finds(
    queries: list[tuple[str, Node]], docs: list[Document]
) -> None:
    monitor: Monitor[int] = Monitor(docs)
    for key, (_, node) in enumerate(queries):
        monitor.add(key, node)
    for doc in [*docs, *(Document.from_fields(content=text) for text, _ in queries)]:
        naive = [
            (key, found) for key, (_, node) in enumerate(queries) if (found := match(node, doc))
        ]
        event("some match" if naive else "none match")
        assert monitor.match(doc) == naive
    # Read back as a cron sweep reads its matcher file: the same queries, the same matches.
    revived: Monitor[int] = pickle.loads(pickle.dumps(monitor))
    assert [pickle.loads(pickle.dumps(node)) for _, node in queries] == [n for _, n in queries]
    for doc in [*docs, *(Document.from_fields(content=text) for text, _ in queries)]:
        assert revived.match(doc) == monitor.match(doc)


# --- derivation ---------------------------------------------------------------------

PLEDGE_PIECES = [
    "China will not sell weapons to Russia.", "The United States will provide Ukraine with",
    "military and security assistance", "under a ten-year bilateral security agreement",
    "spend 2% of GDP on defence", "within 24 hours", "by 2030", "$50 billion", "€3bn",
    "We will stop the boats", "I will pass new laws", "net zero", "end the war",
    "meet to consult", "loans to Ukraine", "from Russian assets", "0.7% of gross national income",
    "In the event of an attack,", "US and Ukrainian officials will", "99999999999999999999%",
    "NEAR/5", "AND", "OR NOT", "title:", "@china", '"', "(", ")", "*", "%", "ͺ.ͺ",
]  # fmt: skip
ACTORS = [
    "Xi Jinping", "Joe Biden", "NATO allies (The Hague summit)", "G7 leaders", "Rishi Sunak",
    "United States (Joe Biden)", "COP26 leaders", "EU", "Li Qiang", "AND", "NEAR/3", "(",
    "محمد بن سلمان", "习近平", "",
]  # fmt: skip
PUNCTUATION = list("!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~")


@st.composite
def pledge_texts(draw: st.DrawFn) -> str:
    kind = draw(st.sampled_from(["pieces", "pieces", "special", "any", "punctuation", "digits"]))
    if kind == "pieces":
        pieces = st.one_of(st.sampled_from(PLEDGE_PIECES), words())
        return " ".join(draw(st.lists(pieces, max_size=12)))
    if kind == "special":
        return draw(SPECIAL_TEXT)
    if kind == "any":
        return draw(ANY_TEXT)
    if kind == "punctuation":
        return draw(st.text(st.sampled_from(PUNCTUATION), max_size=1000))
    return draw(st.text(st.sampled_from(list("0123456789٣% ٪％")), max_size=50))


@st.composite
def actors(draw: st.DrawFn) -> str:
    return draw(st.one_of(st.sampled_from(ACTORS), SPECIAL_TEXT, ANY_TEXT, words()))


@given(pledge_texts(), actors(), documents())
def test_a_derived_query_parses_and_runs_on_any_article(
    text: str, actor: str, doc: Document
) -> None:
    try:
        query = derive_query(text, actor)
    except ValidationError:
        event("no query: no words")
        return
    node = parse(query)
    own = Document.from_fields(title=text, content=actor)
    for article in (own, doc):
        found = match(node, article)
        if found is not None:
            assess(text, found, article)
    event("derived query matches its own pledge" if match(node, own) else "derived")


@pytest.mark.parametrize("letter", ["\u037a", "\u02b0", "\u1d2c", "\u3005", "\uff70"])
def test_a_word_of_letters_the_analyser_drops_derives_no_term(letter: str) -> None:
    """Modifier letters are word characters to Python, but fold to nothing or to a
    combining mark: as a pledge's act or object they are no query term and no
    stance pattern (the family of "will \u037a.\u037a", found by the fuzzer)."""
    text = f"US and Ukrainian officials will {letter}.{letter}"
    query = derive_query(text, "Xi Jinping")
    node = parse(query)
    own = Document.from_fields(title=f"{text} Xi Jinping")
    found = match(node, own)
    assert found is not None, query
    assess(text, found, own)


# --- the analyser -------------------------------------------------------------------


@given(article_texts())
def test_the_analyser_takes_any_text(text: str) -> None:
    tokens = analyse(text)
    composed = unicodedata.normalize("NFC", text)
    positions = [token.position for token in tokens]
    assert positions == sorted(positions)
    assert all(0 <= t.start <= t.end <= len(composed) for t in tokens)
    doc = Document.from_fields(title=text, summary=text, content=text)
    assert len(doc.fields["title"]) == len(set(positions))
    for variant in phrase_variants(text):
        assert variant and all(variant)


# --- the named families -------------------------------------------------------------


def syntax_error(query: str) -> QuerySyntaxError:
    with pytest.raises(QuerySyntaxError) as caught:
        parse(query)
    return caught.value


def test_two_hundred_nested_parentheses_are_one_line_of_error() -> None:
    error = syntax_error("(" * 200 + "a" + ")" * 200)
    assert error.position == MAX_DEPTH
    assert error.expected.startswith(f"nested more than {MAX_DEPTH} levels deep")
    assert "\n" not in str(error)


def test_parentheses_nested_max_depth_levels_parse_and_match() -> None:
    node = parse("(" * MAX_DEPTH + "china" + ")" * MAX_DEPTH)
    assert match(node, Document.from_fields(title="China")) is not None


@pytest.mark.parametrize("count", [MAX_DEPTH + 1, 2000])
def test_a_long_not_chain_is_refused_at_the_first_level_too_many(count: int) -> None:
    error = syntax_error("a AND " + "NOT " * count + "b")
    assert error.position == len("a AND ") + len("NOT ") * MAX_DEPTH
    assert "nested more than" in error.expected


def test_a_not_chain_within_the_limit_runs() -> None:
    node = parse("a AND " + "NOT " * MAX_DEPTH + "b")
    assert match(node, Document.from_fields(title="a b")) is not None  # an even count of NOT
    assert parse(format_query(node)) == node


def test_title_repeated_is_refused_past_the_limit_and_means_title_within_it() -> None:
    assert "nested more than" in syntax_error("title:" * 3000 + "china").expected
    node = parse("title:" * MAX_DEPTH + "china")
    assert match(node, Document.from_fields(title="China")) is not None
    assert match(node, Document.from_fields(content="China")) is None


@pytest.mark.parametrize("digits", ["9" * 5000, "1" + "0" * 4299, "1001", str(10**18)])
def test_a_huge_near_distance_is_refused_with_the_limit(digits: str) -> None:
    error = syntax_error(f"china NEAR/{digits} weapons")
    assert error.position == len("china ")
    assert error.expected.startswith(f'a distance of at most {MAX_DISTANCE} after "NEAR/"')


@pytest.mark.parametrize("digits", ["0", "0000", "", "²", "x", "٠"])
def test_a_near_distance_below_one_or_not_a_number_is_refused(digits: str) -> None:
    error = syntax_error(f"china ONEAR/{digits} weapons")
    assert error.expected.startswith('a distance of 1 or more after "ONEAR/"')


def test_near_at_the_limit_spans_a_long_article() -> None:
    node = parse(f"china NEAR/{MAX_DISTANCE} weapons")
    article = "China " + "and " * (MAX_DISTANCE - 1) + "weapons"
    assert match(node, Document.from_fields(content=article)) is not None
    too_far = article.replace("weapons", "and weapons")
    assert match(node, Document.from_fields(content=too_far)) is None


def test_a_near_distance_with_leading_zeros_is_its_number() -> None:
    assert parse("a NEAR/0005 b") == parse("a NEAR/5 b")


@pytest.mark.parametrize(
    "query", ["", " ", "\t\n ", "\u00a0\u2028", "\ud800", "\x00", "\x1b[\x07", "\ufffe", "()"]
)
def test_empty_control_and_surrogate_queries_are_refused(query: str) -> None:
    assert parse_or_syntax_error(query) is None


def test_controls_and_lone_surrogates_beside_words_are_ignored_like_punctuation() -> None:
    doc = Document.from_fields(title="a b\ud800c\x00d")
    assert match(parse("a\ud800 AND b\x1f"), doc) is not None


@pytest.mark.parametrize(
    "query",
    [
        "china " * 20000,
        " OR ".join(["china", "weapons"] * 12000),
        "x" * 100_000,
        '"' + "china weapons " * 7000 + '"',
        "F-16 " * 20000,
    ],
)
def test_a_hundred_thousand_character_query_parses_and_runs(query: str) -> None:
    node = parse(query)
    assert parse(format_query(node)) == node
    doc = Document.from_fields(title="China weapons x F-16", content="china weapons " * 3)
    found = match(node, doc)
    if found is not None:
        assess("China will not sell weapons", found, doc)


@pytest.mark.parametrize(
    "query",
    [
        "china AND " * 25000,
        "@" + "x" * 100_000,
        "a NEAR/" + "9" * 100_000 + " b",
        "& " * 50000,
        "(" * 50000,
        "a " * 50000 + ")",
        '"' + "x" * 100_000,
    ],
)
def test_a_hundred_thousand_character_query_is_refused_in_a_short_sentence(query: str) -> None:
    error = syntax_error(query)
    assert len(error.expected) < 300


def test_letters_that_fold_to_nothing_are_no_word() -> None:
    assert parse_or_syntax_error("\u037a.\u037a") is None
    doc = Document.from_fields(title="x \u037a.\u037a y")
    assert match(parse('"x y"'), doc) is not None


@pytest.mark.parametrize(
    "text",
    [
        "\ud800\udfff" * 100,
        "\x00\x01\x1b\x7f\x9f" * 50,
        "a" * 100_000,
        "-".join(["x"] * 5000),
        "'" * 1000 + "s",
        "\u037a.\u037a.",
        "U." * 5000,
        "x\u0301" * 2000,
        "%" * 1000,
    ],
)
def test_documents_take_any_text(text: str) -> None:
    doc = Document.from_fields(title=text, summary=text, content=text)
    assert len(doc.fields["content"]) == len({t.position for t in analyse(text)})


@pytest.mark.parametrize(
    ("text", "actor"),
    [
        ("الصين لن تبيع أسلحة لروسيا", "شي جين بينغ"),
        ("中国不会向俄罗斯出售武器", "习近平"),
        ("🚀🚀🚀 will 🎉", "😀"),
        ("Cafe\u0301 will close by 2030", "Me\u0301lanie"),
        ("China\x00 will\x1b not sell\x7f weapons to Russia", "Xi\x00 Jinping"),
        ("China \ud800 will not sell weapons", "\udfff"),
        ("1234567890" * 10, "42"),
        ("%%% % ٪ ％", "%"),
        # Each of these took minutes or crashed: int() of 5,000 digits, every
        # digit of a long number tried as an amount, a bracket of spaces tried
        # as "(... summit)" in cubic time, a run of "(" scanned from each one.
        ("spend " + "9" * 5000 + "% of GDP on defence", "NATO allies"),
        ("9" * 100_000 + " billion", "Joe Biden"),
        ("We will stop the boats", "NATO (" + " " * 5000 + "summit"),
        ("We will stop the boats", "(" * 100_000),
    ],
)
def test_a_pledge_in_any_script_or_shape_derives_a_query_that_finds_it(
    text: str, actor: str
) -> None:
    node = parse(derive_query(text, actor))
    assert match(node, Document.from_fields(title=text, content=actor)) is not None


@pytest.mark.parametrize(
    ("text", "actor"), [("!?.,;:" * 167, "!!!"), ("", ""), (" \t\n", "\x00"), ("\ud800", "—")]
)
def test_a_pledge_without_a_word_is_refused(text: str, actor: str) -> None:
    with pytest.raises(ValidationError):
        derive_query(text, actor)
