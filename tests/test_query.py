"""The query language: parsing, errors, printing, matching and presearch terms."""

from __future__ import annotations

import random

import pytest

from pledgewatch.errors import InputError, QuerySyntaxError
from pledgewatch.matching import hits as hits_module
from pledgewatch.matching.aliases import expand
from pledgewatch.matching.analysis import FIELDS, Document
from pledgewatch.matching.query import (
    Alias,
    And,
    Field,
    Near,
    Not,
    Or,
    Phrase,
    Prefix,
    Term,
    format_query,
    match,
    parse,
    predicate,
    required_terms,
)
from tests.test_monitor import random_article, random_queries

ARTICLE = Document.from_fields(
    title="China will not sell weapons to Russia, Beijing says",
    summary="The foreign ministry repeated the pledge on Monday.",
    content=(
        "Beijing said on Monday it had no plans to supply arms. "
        "Chinese-made drones were nonetheless seen near Moscow. "
        "The F16 deal with the U.S. was not discussed."
    ),
)


def matches(query: str, doc: Document = ARTICLE) -> bool:
    return match(parse(query), doc) is not None


def term(text: str) -> Term:
    node = parse(text)
    assert isinstance(node, Term)
    return node


# --- parsing and precedence -------------------------------------------------


def test_adjacent_terms_are_anded() -> None:
    assert parse("china weapons") == parse("china AND weapons")
    assert parse("china weapons") == And((term("china"), term("weapons")))


def test_not_binds_tighter_than_and_which_binds_tighter_than_or() -> None:
    assert parse("a OR b AND NOT c") == Or((term("a"), And((term("b"), Not(term("c"))))))


def test_parentheses_group() -> None:
    assert parse("(a OR b) AND c") == And((Or((term("a"), term("b"))), term("c")))


def test_not_inside_parentheses() -> None:
    assert parse("china AND (weapons NOT drones)") == And(
        (term("china"), term("weapons"), Not(term("drones")))
    )
    assert parse("NOT (a OR b) c") == And((Not(Or((term("a"), term("b")))), term("c")))
    assert not matches("china AND (weapons NOT drones)")
    assert matches("china AND (weapons NOT tanks)")
    assert matches("china AND NOT (tanks OR rifles)")
    assert not matches("china AND NOT (tanks OR drones)")


def test_lower_case_operators_are_words() -> None:
    assert parse("will not sell") == And((term("will"), term("not"), term("sell")))
    assert matches("will not sell")


def test_same_kind_groups_are_flattened() -> None:
    assert parse("a AND (b AND c)") == parse("a b c")
    assert parse("(a OR b) OR c") == parse("a OR b OR c")


def test_leaves() -> None:
    assert isinstance(parse('"military aid"'), Phrase)
    assert parse("sell*") == Prefix("sell", "sell")
    assert parse("@China") == Alias("china", expand("china"))
    assert parse("title:china") == Field("title", term("china"))
    assert parse("TITLE:(a OR b)") == Field("title", Or((term("a"), term("b"))))
    assert parse("a NEAR/3 b") == Near(term("a"), term("b"), 3, ordered=False)
    assert parse("a ONEAR/3 b") == Near(term("a"), term("b"), 3, ordered=True)


# --- errors -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("query", "position", "expected"),
    [
        ("china AND", 9, 'a term after "AND"'),
        ("china OR", 8, 'a term after "OR"'),
        ("(china", 6, 'a closing ")"'),
        ("(china weapons", 14, 'a closing ")"'),
        ("china)", 5, 'AND, OR or the end of the query, not ")"'),
        ("AND china", 0, 'a term, not "AND"'),
        ("()", 1, 'a term after "("'),
        ("", 0, "a term to search for"),
        ("se*", 0, 'at least three letters before "*"'),
        ("china s*", 6, 'at least three letters before "*"'),
        ("s*ll", 0, 'a "*" only at the end of a word'),
        ('"sell* arms"', 0, 'a phrase without "*"'),
        ('"china', 6, "a closing '\"' to end the phrase"),
        ('""', 0, "letters or digits between the quotes"),
        ("a NEAR/x b", 2, 'a distance of 1 or more after "NEAR/"'),
        ("a NEAR/0 b", 2, 'a distance of 1 or more after "NEAR/"'),
        ("a NEAR b", 2, 'a distance of 1 or more after "NEAR/"'),
        ("a NEAR/3 (b AND c)", 9, "on each side of"),
        ("(a AND b) NEAR/3 c", 10, "on each side of"),
        ("a NEAR/2 b NEAR/3 c", 11, "AND between two NEAR groups"),
        ("title:", 6, 'after "title:"'),
        ("summary:china", 0, '"title:" or no field'),
        ("NOT china", 0, "a term outside NOT"),
        ("china OR NOT russia", 9, "a term outside NOT"),
        ("& weapons", 0, "a term with letters or digits"),
    ],
)
def test_parse_errors_point_at_the_problem(query: str, position: int, expected: str) -> None:
    with pytest.raises(QuerySyntaxError) as caught:
        parse(query)
    assert caught.value.position == position
    assert caught.value.expected.startswith(expected) or expected in caught.value.expected
    assert isinstance(caught.value, InputError)


def test_unknown_alias_error_suggests_known_names() -> None:
    with pytest.raises(QuerySyntaxError) as caught:
        parse("weapons AND @rusia")
    assert caught.value.position == 12
    assert caught.value.expected.startswith('an alias set name: unknown "@rusia"; known: @russia')


# --- printing ---------------------------------------------------------------


@pytest.mark.parametrize(
    "query",
    [
        "china weapons OR russia",
        '@china AND (sell* OR supply) NOT "military aid"',
        "title:@china NEAR/5 @weapons",
        'title:(a OR b) ONEAR/3 "x y"',
        "NOT (a OR b) c",
        "a AND NOT NOT b",
        "(a OR b) NEAR/2 F-16",
        "title:(a NEAR/2 b) OR c",
        "a AND (b OR (c AND (d OR e)))",
        "U.S. Russia's @uk",
    ],
)
def test_format_query_round_trips(query: str) -> None:
    tree = parse(query)
    text = format_query(tree)
    assert parse(text) == tree
    assert format_query(parse(text)) == text


def test_format_query_is_canonical() -> None:
    assert format_query(parse("china  weapons or  (b)")) == "china AND weapons AND or AND b"
    assert format_query(parse("a OR b c")) == "a OR b AND c"
    assert format_query(parse("(a OR b) c")) == "(a OR b) AND c"


# --- matching ---------------------------------------------------------------


def test_terms_match_in_any_field_case_insensitively() -> None:
    assert matches("CHINA")
    assert matches("ministry")  # summary
    assert matches("nonetheless")  # content
    assert not matches("tanks")


def test_and_or_not() -> None:
    assert matches("china AND weapons")
    assert not matches("china AND tanks")
    assert matches("tanks OR drones")
    assert matches("china NOT tanks")
    assert not matches("china NOT drones")
    assert matches("tanks OR china AND drones")  # OR of (tanks) and (china AND drones)
    assert not matches("(tanks OR china) AND rifles")


def test_phrase_needs_adjacent_words() -> None:
    assert matches('"sell weapons"')
    assert matches('"Chinese made drones"')  # "Chinese-made" is "chinese made"
    assert not matches('"weapons sell"')
    assert not matches('"china weapons"')


def test_hyphenated_query_matches_every_spelling() -> None:
    for content in ("an F-16 deal", "an F16 deal", "an F 16 deal"):
        doc = Document.from_fields(content=content)
        assert match(parse("F-16"), doc), content
        assert match(parse('"F-16 deal"'), doc), content
    assert matches("chinese-made")
    assert matches("chinesemade")
    assert matches("F-16")  # the article writes "F16"


def test_possessives_and_abbreviations_match() -> None:
    doc = Document.from_fields(content="Russia’s army and the U.S. navy")
    assert match(parse("russia's"), doc)
    assert match(parse("russia"), doc)
    assert match(parse("US"), doc)
    assert match(parse('"U.S. navy"'), doc)


def test_wildcard_matches_term_starts() -> None:
    assert matches("nonethe*")
    assert matches("discuss*")
    assert matches("Chin*")
    assert not matches("weaponry*")
    hits = match(parse("Chin*"), ARTICLE)
    assert hits is not None
    assert {hit.matched for hit in hits.hits} >= {"china", "chinese"}


def test_near_counts_positions_either_way() -> None:
    # content: "Chinese-made(3,4) drones(5) were nonetheless seen near Moscow(10)"
    assert matches("drones NEAR/5 moscow")
    assert matches("moscow NEAR/5 drones")
    assert not matches("drones NEAR/4 moscow")
    assert matches('"chinese made" NEAR/1 drones')
    assert matches("sell NEAR/1 weapons")  # next to each other


def test_near_needs_two_different_places() -> None:
    doc = Document.from_fields(content="Chinese drones. Nothing else here at all.")
    assert not match(parse("@china NEAR/3 chinese"), doc)
    assert not match(parse("chin* NEAR/3 chinese"), doc)
    assert match(parse("chinese NEAR/3 chinese"), Document.from_fields(content="Chinese, Chinese"))


def test_onear_needs_the_order() -> None:
    assert matches("drones ONEAR/5 moscow")
    assert not matches("moscow ONEAR/5 drones")


def test_near_crosses_sentence_boundaries_and_hits_say_where() -> None:
    # "... supply arms. Chinese-made drones ...": arms ends sentence 0, drones is in 1.
    found = match(parse("arms NEAR/3 drones"), ARTICLE)
    assert found is not None
    assert {(hit.leaf, hit.sentence) for hit in found.hits} == {("arms", 0), ("drones", 1)}


def test_near_needs_the_same_field() -> None:
    doc = Document.from_fields(title="China", summary="weapons")
    assert match(parse("china AND weapons"), doc)
    assert not match(parse("china NEAR/5 weapons"), doc)


def test_near_with_alias_sets_and_or_groups() -> None:
    assert matches("@china NEAR/3 @weapons")
    assert matches("(tanks OR drones) NEAR/5 moscow")
    assert not matches("(tanks OR rifles) NEAR/5 moscow")


def test_title_restricts_to_the_title() -> None:
    assert matches("title:beijing")
    assert not matches("title:drones")
    assert matches("title:(drones OR weapons)")
    assert matches('title:"sell weapons"')
    assert not matches("title:@china NEAR/2 drones")


def test_alias_sets_expand() -> None:
    doc = Document.from_fields(
        content="The Kremlin denied it; the People's Republic of China agreed."
    )
    assert match(parse("@russia"), doc)
    assert match(parse("@china"), doc)
    found = match(parse("@russia AND @china"), doc)
    assert found is not None
    assert {hit.matched for hit in found.hits} == {"kremlin", "people republic of china", "china"}
    assert not match(parse("@uk"), doc)


def test_match_reports_hits() -> None:
    found = match(parse("@china AND sell* AND weapons"), ARTICLE)
    assert found is not None
    leaves = {(hit.leaf, hit.matched, hit.field, hit.start) for hit in found.hits}
    assert ("@china", "china", "title", 0) in leaves
    assert ("@china", "beijing", "content", 0) in leaves
    assert ("sell*", "sell", "title", 3) in leaves
    assert ("weapons", "weapons", "title", 4) in leaves


def test_negated_terms_give_no_hits() -> None:
    found = match(parse("china NOT tanks"), ARTICLE)
    assert found is not None
    assert {hit.leaf for hit in found.hits} == {"china"}


def test_many_queries_on_one_document_share_work_but_not_results() -> None:
    first = match(parse("@china AND drones"), ARTICLE)
    second = match(parse("@china AND weapons"), ARTICLE)
    assert first is not None and second is not None
    assert {h.leaf for h in first.hits} == {"@china", "drones"}
    assert {h.leaf for h in second.hits} == {"@china", "weapons"}


# --- presearch terms --------------------------------------------------------


def test_required_terms() -> None:
    assert required_terms(parse("china weapons")) == (
        frozenset({"china"}),
        frozenset({"weapons"}),
    )
    assert required_terms(parse("china OR russia")) == (frozenset({"china", "russia"}),)
    assert required_terms(parse("china NOT russia")) == (frozenset({"china"}),)
    assert required_terms(parse("sell*")) == (frozenset({"sell*"}),)
    assert required_terms(parse('"military aid"')) == (
        frozenset({"military"}),
        frozenset({"aid"}),
    )
    assert required_terms(parse("F-16")) == (frozenset({"f16", "16"}),)
    assert required_terms(parse("title:china NEAR/3 arms")) == (
        frozenset({"china"}),
        frozenset({"arms"}),
    )
    assert "kremlin" in required_terms(parse("@russia"))[0]


def test_required_terms_of_an_or_take_one_group_of_each_side() -> None:
    (group,) = required_terms(parse("(china weapons) OR (russia sanctions)"))
    assert len(group) == 2
    assert group & {"china", "weapons"} and group & {"russia", "sanctions"}


def test_required_terms_are_really_required() -> None:
    # A document missing any group cannot match.
    query = parse('@china AND (sell* OR supply) AND "arms deal" NOT tanks')
    doc = Document.from_fields(content="Beijing will supply arms deal terms")
    assert match(query, doc)
    for group in required_terms(query):
        words = "Beijing will supply arms deal terms".split()
        stripped = " ".join(
            w for w in words if w.lower() not in group and w.lower()[:4] + "*" not in group
        )
        assert not match(query, Document.from_fields(content=stripped))


_NEAR_WORDS = (
    "china chinese beijing russia russia's moscow kremlin arms weapons drones F-16 f16 jets "
    "sells selling sold supply said the not U.S. States' united states white house long-range "
    "missiles chinese-made made deal 2030 net zero trade war nuclear test aid package of "
    "america 16"
).split()
_NEAR_OPERANDS = [
    "@china",
    "@russia",
    "@us",
    "@weapons",
    "sell*",
    "suppl*",
    "chin*",
    '"united states"',
    '"white house"',
    "F-16",
    "f16",
    '"long range"',
    "longrange",
    "missiles",
    '"chinese made"',
    "made",
    '"net zero"',
    "2030",
    "(arms OR drones)",
    '(@russia OR "net zero")',
    "jets",
    "@trade",
    "war",
    "@nuclear",
    "test",
    "@aid",
    "package",
    "america",
    "16",
    "made*",
]


def _near_query(rng: random.Random) -> str:
    operator = rng.choice(["NEAR", "ONEAR"])
    left, right = rng.choice(_NEAR_OPERANDS), rng.choice(_NEAR_OPERANDS)
    query = f"{left} {operator}/{rng.randint(1, 6)} {right}"
    if rng.random() < 0.3:
        query += f" AND {rng.choice(_NEAR_OPERANDS)}"
    return query


def _near_text(rng: random.Random) -> str:
    sentences = []
    for _ in range(rng.randint(1, 4)):
        words = [rng.choice(_NEAR_WORDS) for _ in range(rng.randint(2, 14))]
        sentences.append(" ".join(words) + ".")
    return " ".join(sentences)


def test_near_without_places_decides_as_the_places_do() -> None:
    """``match`` decides NEAR from the places of one side and a window of the
    other; the hits come from every place of both. They must always agree."""
    rng = random.Random(11)
    matched = 0
    for _ in range(4000):
        node = parse(_near_query(rng))
        texts = {"title": _near_text(rng), "summary": "", "content": _near_text(rng)}
        quick = match(node, Document.from_fields(**texts))
        full = hits_module._evaluate(node, Document.from_fields(**texts), FIELDS)
        assert (quick is not None) == (full is not None), (format_query(node), texts)
        if quick is not None:
            assert quick.hits  # found again from every place, and not empty
            matched += 1
    assert matched > 400  # NEAR matched often enough for the comparison to mean something


@pytest.mark.parametrize(
    ("query", "text"),
    [
        # A place is a leaf's longest sequence there: "trade war" is one place
        # of @trade, not "trade" followed by "war".
        ("@trade NEAR/5 war", "fears of a trade war grow"),
        ("@nuclear NEAR/3 test", "North Korea carried out a nuclear test on Sunday."),
        ("@aid ONEAR/2 package", "The aid package was approved."),
        ("@us NEAR/3 america", "The United States of America said."),
        ('"F-16" NEAR/1 16', "They sent an F-16 yesterday."),
        ("Chinese-made NEAR/1 made*", "a Chinese-made drone"),
    ],
)
def test_near_counts_a_leaf_once_where_its_longest_sequence_starts(query: str, text: str) -> None:
    node = parse(query)
    assert match(node, Document.from_fields(title=text)) is None
    negated = parse(f"{text.split()[0]} NOT ({query})")
    assert match(negated, Document.from_fields(title=text)) is not None


def test_match_decides_as_the_hits_do_for_every_shape_of_query() -> None:
    """``match`` decides with a compiled predicate (``predicate``); the hits
    come from a full evaluation of every place. Over random queries of every
    operator (title:, NOT, OR, phrases, prefixes, aliases, NEAR) the two agree."""
    rng = random.Random(5)
    queries = random_queries(rng, 400)
    matched = 0
    for _ in range(60):
        doc = random_article(rng)
        for node in queries:
            quick = predicate(node)(doc)
            assert quick == (match(node, doc) is not None)
            full = hits_module._evaluate(node, doc, FIELDS)
            assert quick == (full is not None), format_query(node)
            matched += quick
    assert matched > 1000  # enough matches, and enough misses, to mean something
    assert matched < 60 * 400 - 1000


@pytest.mark.parametrize(
    ("text", "matches"),
    [
        ("Allies agreed to spend 2% of GDP on defence.", True),
        ("Allies agreed to spend 2 percent of GDP on defence.", True),
        ("Allies agreed to spend 2 per cent of GDP on defence.", True),
        ("Spain beat England 2-1 in Berlin.", False),
        ("The talks lasted 2 days and 20% of delegates left.", False),
    ],
)
def test_a_percentage_matches_as_news_writes_it_and_not_a_bare_number(
    text: str, matches: bool
) -> None:
    for query in ('"2%"', "2%", '"2 per cent"', '"2 percent"'):
        assert (match(parse(query), Document.from_fields(title=text)) is not None) == matches
