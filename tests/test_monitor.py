"""The presearcher: exactly the naive loop's results, evaluating only candidates."""

from __future__ import annotations

import random

import pytest

from pledgewatch.errors import QuerySyntaxError
from pledgewatch.matching.analysis import Document
from pledgewatch.matching.monitor import Monitor
from pledgewatch.matching.query import Node, Not, Term, match, parse

WORDS = (
    "china chinese beijing russia moscow kremlin ukraine kyiv weapons arms drones tanks "
    "sell sells selling sold supply supplies deliver aid troops sanctions said will not "
    "the a of to and in on minister government talks summit F-16 U.S. Britain's "
    "net zero emissions 2030 trees plant planted million deal"
).split()
TERMS = [w for w in WORDS if w.isalpha()] + ["f-16", "u.s.", "2030"]
ALIASES = ["@china", "@russia", "@ukraine", "@weapons", "@us", "@uk", "@troops", "@sanctions"]


def random_article(rng: random.Random) -> Document:
    def sentence() -> str:
        return " ".join(rng.choice(WORDS) for _ in range(rng.randint(3, 14))) + "."

    return Document.from_fields(
        title=sentence(),
        summary=" ".join(sentence() for _ in range(rng.randint(0, 2))),
        content=" ".join(sentence() for _ in range(rng.randint(0, 6))),
    )


def random_operand(rng: random.Random) -> str:
    roll = rng.random()
    if roll < 0.3:
        return rng.choice(ALIASES)
    if roll < 0.4:
        return rng.choice(["sell*", "suppl*", "deliver*", "plant*", "emission*", "chin*"])
    if roll < 0.5:
        return f'"{rng.choice(TERMS)} {rng.choice(TERMS)}"'
    if roll < 0.55:
        return f"title:{rng.choice(TERMS)}"
    return rng.choice(TERMS)


def random_query(rng: random.Random, depth: int = 0) -> str:
    roll = rng.random()
    if depth > 2 or roll < 0.3:
        return random_operand(rng)
    if roll < 0.45:
        operator = rng.choice(["NEAR", "ONEAR"])
        return f"{random_operand(rng)} {operator}/{rng.randint(1, 6)} {random_operand(rng)}"
    left, right = random_query(rng, depth + 1), random_query(rng, depth + 1)
    if roll < 0.7:
        return f"({left}) AND ({right})"
    if roll < 0.85:
        return f"({left}) OR ({right})"
    return f"({left}) NOT ({right})"


def random_queries(rng: random.Random, count: int) -> list[Node]:
    queries: list[Node] = []
    while len(queries) < count:
        try:
            queries.append(parse(random_query(rng)))
        except QuerySyntaxError:  # an unanchored random query ("a OR NOT b"): draw again
            continue
    return queries


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_monitor_returns_exactly_what_a_naive_loop_returns(seed: int) -> None:
    rng = random.Random(seed)
    queries = random_queries(rng, 300)
    docs = [random_article(rng) for _ in range(150)]
    sample = [random_article(rng) for _ in range(30)] if seed % 2 else []
    monitor: Monitor[int] = Monitor(sample)
    for key, query in enumerate(queries):
        monitor.add(key, query)
    matched = 0
    for doc in docs:
        naive = [(key, found) for key, query in enumerate(queries) if (found := match(query, doc))]
        fresh = Document.from_fields(
            title=doc.fields["title"].text,
            summary=doc.fields["summary"].text,
            content=doc.fields["content"].text,
        )
        assert monitor.match(fresh) == naive
        matched += len(naive)
    assert matched > 100  # the corpus is not trivially empty


def test_monitor_skips_documents_without_required_terms() -> None:
    monitor: Monitor[str] = Monitor()
    monitor.add("arms", parse("@china AND sell* AND @weapons"))
    monitor.add("zero", parse('@uk AND "net zero" AND 2050'))
    monitor.add("near", parse("@russia NEAR/5 @troops"))
    doc = Document.from_fields(
        title="China will not sell weapons to Russia", content="Russian troops were seen."
    )
    assert monitor.candidates(doc) == ["arms", "near"]
    assert [key for key, _ in monitor.match(doc)] == ["arms", "near"]
    assert monitor.candidates(Document.from_fields(title="Weather: sunny")) == []


def test_candidates_that_fail_are_not_matches() -> None:
    monitor: Monitor[int] = Monitor()
    monitor.add(1, parse("china NEAR/1 weapons"))
    doc = Document.from_fields(content="China said the weapons were old")
    assert monitor.candidates(doc) == [1]
    assert monitor.match(doc) == []


def test_prefixes_are_presearched() -> None:
    monitor: Monitor[int] = Monitor()
    monitor.add(1, parse("deliver* AND tanks"))
    assert monitor.candidates(Document.from_fields(content="tanks were delivered")) == [1]
    assert monitor.candidates(Document.from_fields(content="tanks were undelivered")) == []
    monitor.add(2, parse("undeliv* AND tanks"))  # a new prefix after a match rebuilds
    assert monitor.candidates(Document.from_fields(content="tanks were undelivered")) == [2]


def test_add_replaces_and_remove_forgets() -> None:
    monitor: Monitor[int] = Monitor()
    doc = Document.from_fields(content="Beijing sells drones")
    monitor.add(1, parse("@china AND drones"))
    monitor.add(2, parse("drones"))
    assert [key for key, _ in monitor.match(doc)] == [1, 2]
    monitor.add(1, parse("@russia AND drones"))
    assert [key for key, _ in monitor.match(doc)] == [2]
    monitor.remove(2)
    assert monitor.match(doc) == []
    assert len(monitor) == 1 and 1 in monitor and 2 not in monitor
    with pytest.raises(KeyError):
        monitor.remove(2)
    monitor.remove(1)
    assert monitor.candidates(doc) == []


def test_queries_sharing_groups_are_all_found() -> None:
    monitor: Monitor[int] = Monitor()
    for key in range(50):
        monitor.add(key, parse(f"@china AND drones AND {'tanks' if key % 2 else 'sells'}"))
    doc = Document.from_fields(content="Beijing sells drones")
    assert monitor.candidates(doc) == list(range(0, 50, 2))


def test_a_query_built_by_hand_without_required_terms_is_always_evaluated() -> None:
    monitor: Monitor[int] = Monitor()
    monitor.add(1, Not(Term("tanks", (("tanks",),))))
    assert [key for key, _ in monitor.match(Document.from_fields(content="drones"))] == [1]
    assert monitor.match(Document.from_fields(content="tanks")) == []


@pytest.mark.parametrize("seed", [4, 5])
def test_removing_and_replacing_queries_keeps_the_index_exact(seed: int) -> None:
    # Queries share their rarest and next-rarest groups ("@china", "sell*"), so
    # removing one must leave the others under the same groups findable.
    rng = random.Random(seed)
    queries = random_queries(rng, 200)
    docs = [random_article(rng) for _ in range(80)]
    monitor: Monitor[int] = Monitor()
    stored = dict(enumerate(queries))
    for key, query in stored.items():
        monitor.add(key, query)
    for key in rng.sample(sorted(stored), 120):
        if rng.random() < 0.5:
            monitor.remove(key)
            del stored[key]
        else:
            del stored[key]  # a replaced query comes back as the newest
            stored[key] = random_queries(rng, 1)[0]
            monitor.add(key, stored[key])
    for doc in docs:
        naive = [key for key, query in stored.items() if match(query, doc)]
        assert [key for key, _ in monitor.match(doc)] == naive
    for key in list(stored):
        monitor.remove(key)
    assert len(monitor) == 0
    assert all(monitor.candidates(doc) == [] for doc in docs)
    assert not monitor._heads and not monitor._groups  # nothing left behind


def test_a_sample_decides_which_group_indexes_a_query() -> None:
    # Without a sample, rarity is guessed from length: "drones" looks rarer
    # than "tanks", and one prefix rarer than the many words of @china.
    guessed: Monitor[int] = Monitor()
    guessed.add(1, parse("drones AND tanks"))
    guessed.add(2, parse("@china AND sell*"))
    assert guessed.sampled == 0
    assert guessed.indexed_by(1) == {"drones"}
    assert guessed.indexed_by(2) == {"sell*"}
    # The feeds say otherwise: drones and selling are in every article.
    sample = [Document.from_fields(content="Drones on sale; selling drones.") for _ in range(9)]
    sample.append(Document.from_fields(content="Beijing buys tanks"))
    learned: Monitor[int] = Monitor(sample)
    learned.add(1, parse("drones AND tanks"))
    learned.add(2, parse("@china AND sell*"))
    assert learned.sampled == 10
    assert learned.indexed_by(1) == {"tanks"}
    assert "beijing" in learned.indexed_by(2)
    doc = Document.from_fields(title="Beijing selling drones and tanks")
    assert learned.candidates(doc) == guessed.candidates(doc) == [1, 2]
