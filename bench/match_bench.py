"""Throughput of the matching core: analyser, monitor (presearcher) and naive loop.

Generates 10,000 synthetic news articles and up to 10,000 pledge queries with a
fixed seed, then prints documents per second for:

- the analyser alone (Document.from_fields on title, summary and content);
- the monitor at 100, 1,000 and 10,000 pledges: analyse each article and find
  the pledges it matches, as a sweep does and as Lucene's Monitor counts it;
  also the match step alone on articles analysed beforehand, the presearch
  alone, and the monitor plus the hits of every match (what the evidence stage
  adds for the matches it keeps: places, sentences, for score and snippet);
- a naive loop that evaluates every query on every article, at 100 and 1,000
  (match step only), which must find exactly what the monitor finds.

Usage: .venv/bin/python bench/match_bench.py [--docs N] [--naive-docs N]
"""

from __future__ import annotations

import argparse
import itertools
import random
import time
import tomllib
from collections.abc import Iterator
from importlib import resources

from pledgewatch.matching.analysis import Document
from pledgewatch.matching.monitor import Monitor
from pledgewatch.matching.query import Node, match, parse

SEED = 20261127
SLICE = 250  # articles measured for one pledge count before the next takes its turn

FUNCTION_WORDS = (
    "the of and to in a is that for on said with as was by it at from his her will not has have "
    "be are its their they but an after more would also who this which over been than had told "
    "were first last one we he she all about no up out there some other into could two new"
).split()
NEWS_WORDS = (
    "government minister president officials year week month country state police court "
    "report people leader party election vote policy plan deal talks border war attack city "
    "region spokesman statement press conference agency economy market prices billion million "
    "percent record crisis security forces military ministry foreign defence energy climate "
    "health school workers company industry bank budget tax law parliament opposition critics "
    "analysts sources according earlier later since despite amid following ahead warned "
    "announced confirmed denied promised pledged vowed insisted rejected welcomed criticised"
).split()
VERBS = (
    "sell supply deliver send provide ban cut reduce increase build fund halt stop resume end "
    "phase raise lower invest protect deploy withdraw sign ratify meet visit impose lift cap "
    "double plant hire recruit train export import buy produce close open restore expand"
).split()
INFLECTIONS = ("", "s", "ed", "ing")
MAJOR_ACTORS = (
    "us uk china russia ukraine france germany eu israel india japan iran turkey nato un "
    "brazil canada australia poland italy spain south_korea north_korea saudi_arabia "
    "south_africa mexico palestine taiwan pakistan egypt"
).split()
STORIES = 20_000
SYLLABLES = (
    "ka lo ri sen tu mar vel do pra ni zo gal ber tan mi qua ros hel dun ci fe bra"
).split()


def zipf_weights(n: int, s: float = 1.0) -> list[float]:
    return [1 / (rank**s) for rank in range(1, n + 1)]


class Generator:
    """Articles and pledge queries over one vocabulary, from one seed.

    A pool of stories (actor, topic, action, object) stands for what happens
    in the world: pledge number i is about story i, and an article is about a
    random story of the pool (or about nothing pledged at all), so the share
    of articles that are evidence for some pledge grows with the pledge count,
    as in a newsroom. Every pledge names something specific (its object: a
    word, a year or a two-word phrase), as real pledges do ("30 million
    trees", "F-16"); the rest of the text is news words and a long-tailed
    vocabulary of made-up words.
    """

    def __init__(self, seed: int) -> None:
        self.rng = random.Random(seed)
        data = tomllib.loads(
            resources.files("pledgewatch").joinpath("data/aliases.toml").read_text("utf-8")
        )
        names = {**data["countries"], **data["bodies"]}
        rest = sorted(set(names) - set(MAJOR_ACTORS))
        random.Random(seed).shuffle(rest)
        self.actors = [*MAJOR_ACTORS, *rest]
        self.actor_weights = list(itertools.accumulate(zipf_weights(len(self.actors), 0.9)))
        self.actor_forms = {n: [e for e in names[n] if not e.startswith("@")] for n in names}
        self.topics = sorted(data["topics"])
        self.topic_forms = {
            n: [e for e in data["topics"][n] if not e.startswith("@")] for n in self.topics
        }
        rng = random.Random(seed + 1)
        tail = sorted({"".join(rng.choices(SYLLABLES, k=rng.randint(2, 4))) for _ in range(30000)})
        rng.shuffle(tail)
        self.tail = tail
        self.tail_weights = list(itertools.accumulate(zipf_weights(len(tail), 1.05)))
        self.common = FUNCTION_WORDS + NEWS_WORDS
        self.common_weights = list(itertools.accumulate(zipf_weights(len(self.common), 0.8)))
        self.stories = [self.story() for _ in range(STORIES)]

    def story(self) -> tuple[str, str, str, str, str]:
        rng = self.rng
        actor, other = rng.choices(self.actors, cum_weights=self.actor_weights, k=2)
        kind = rng.random()
        if kind < 0.7:  # a specific word: neither the commonest nor the rarest
            thing = self.tail[rng.randint(50, 5000)]
        elif kind < 0.85:
            thing = str(rng.randint(2025, 2050))
        else:
            thing = f"{self.tail[rng.randint(20, 2000)]} {self.tail[rng.randint(20, 2000)]}"
        return actor, other, rng.choice(self.topics), rng.choice(VERBS), thing

    def filler(self) -> str:
        if self.rng.random() < 0.7:
            return self.rng.choices(self.common, cum_weights=self.common_weights)[0]
        return self.rng.choices(self.tail, cum_weights=self.tail_weights)[0]

    def mention(self, actors: list[str], topics: list[str]) -> str:
        rng, roll = self.rng, self.rng.random()
        if roll < 0.45:
            form = rng.choice(self.actor_forms[rng.choice(actors)])
            return form + ("'s" if rng.random() < 0.1 else "")
        if roll < 0.8:
            return rng.choice(self.topic_forms[rng.choice(topics)])
        return rng.choice(VERBS) + rng.choice(INFLECTIONS)

    def sentence(self, actors: list[str], topics: list[str], length: int, lead: str = "") -> str:
        words = [lead] if lead else []
        while len(words) < length:
            words.append(
                self.mention(actors, topics) if self.rng.random() < 0.08 else self.filler()
            )
        text = " ".join(words)
        return text[0].upper() + text[1:] + "."

    def article(self) -> tuple[str, str, str]:
        rng = self.rng
        actors = rng.choices(self.actors, cum_weights=self.actor_weights, k=rng.randint(1, 2))
        topics = rng.sample(self.topics, rng.randint(1, 2))
        lead = ""
        if rng.random() < 0.6:  # about a story, which a pledge may be about
            actor, other, topic, verb, thing = rng.choice(self.stories)
            actors, topics = [actor, *actors], [topic, *topics]
            if rng.random() < 0.3:
                actors.append(other)
            form = rng.choice(self.actor_forms[actor])
            lead = f"{form} {verb}{rng.choice(INFLECTIONS)} {self.filler()} {thing}"
        title = self.sentence(actors, topics, rng.randint(7, 12), lead)[:-1]
        summary = " ".join(self.sentence(actors, topics, rng.randint(12, 25)) for _ in range(2))
        body = [
            self.sentence(actors, topics, rng.randint(10, 28)) for _ in range(rng.randint(8, 24))
        ]
        if lead:
            body.insert(rng.randrange(len(body)), self.sentence(actors, topics, 20, lead))
        return title, summary, " ".join(body)

    def pledge_query(self, number: int) -> str:
        actor, other, topic, verb, thing = self.stories[number]
        thing = f'"{thing}"' if " " in thing else thing
        other_verb = self.rng.choice(VERBS)
        template = number % 6
        if template == 0:
            return f"@{actor} AND ({verb}* OR {other_verb}) AND {thing}"
        if template == 1:
            return f"@{actor} AND @{topic} AND {thing}"
        if template == 2:
            return f"@{actor} NEAR/10 {thing}"
        if template == 3:
            return f"title:@{actor} AND {thing}"
        if template == 4:
            return f"@{actor} AND {verb}* AND {thing} NOT @{other}"
        return f"@{actor} ONEAR/8 {verb}* AND {thing}"


def rate(count: int, seconds: float) -> str:
    return f"{count / seconds:,.0f}"


def analysed(texts: list[tuple[str, str, str]]) -> Iterator[Document]:
    """Each article analysed afresh, as a sweep sees it: nothing cached from an
    earlier run, and no pile of live documents for the garbage collector."""
    for title, summary, content in texts:
        yield Document.from_fields(title=title, summary=summary, content=content)


class Timings:
    """Seconds spent per stage over all articles, for one pledge count."""

    def __init__(self) -> None:
        self.analysis = self.presearch = self.match = self.hits = 0.0
        self.candidates = self.matches = 0
        self.found: list[list[int]] = []  # the keys each article matched


def measure(monitor: Monitor[int], texts: list[tuple[str, str, str]], t: Timings) -> None:
    """The monitor as a sweep runs it: analyse an article, find the pledges it
    matches; then, as the evidence stage does for the matches it keeps, the hits.
    Adds to ``t``."""
    for doc in analysed(texts):
        start = time.perf_counter()
        t.candidates += len(monitor.candidates(doc))
        t.presearch += time.perf_counter() - start
    clock = time.perf_counter
    for title, summary, content in texts:
        start = clock()
        doc = Document.from_fields(title=title, summary=summary, content=content)
        analysed_at = clock()
        found = monitor.match(doc)
        matched_at = clock()
        for _, result in found:
            result.hits  # noqa: B018 - worked out on first use
        done = clock()
        t.analysis += analysed_at - start
        t.match += matched_at - analysed_at
        t.hits += done - matched_at
        t.matches += len(found)
        t.found.append([key for key, _ in found])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--docs", type=int, default=10_000, help="articles (default 10,000)")
    parser.add_argument("--naive-docs", type=int, default=10_000, help="for the naive loop")
    args = parser.parse_args()

    generator = Generator(SEED)
    texts = [generator.article() for _ in range(args.docs)]
    queries: list[Node] = [parse(generator.pledge_query(n)) for n in range(10_000)]
    # Other articles of the same feeds, from which the monitor learns how common
    # terms are (as a sweep's monitor does from the newest stored articles).
    sample = list(analysed([generator.article() for _ in range(500)]))

    start = time.perf_counter()
    for _ in analysed(texts):
        pass
    analysis_seconds = time.perf_counter() - start
    words = sum(len(" ".join(text).split()) for text in texts) / len(texts)
    n = len(texts)
    print(f"{n:,} articles of {words:.0f} words on average; seed {SEED}")
    print(f"analyser alone: {rate(n, analysis_seconds)} documents/s")
    print()
    print("documents per second; monitor = analyse the article and find the pledges it matches")
    header = ("pledges", "monitor", "match only", "presearch", "+ hits", "naive", "cand/doc")
    print("{:>8} {:>9} {:>11} {:>10} {:>9} {:>8} {:>9} {:>9}".format(*header, "match/doc"))
    counts = (100, 1_000, 10_000)
    monitors: dict[int, Monitor[int]] = {}
    for count in counts:
        monitors[count] = Monitor(sample)
        for key, query in enumerate(queries[:count]):
            monitors[count].add(key, query)
    # The pledge counts take turns on each slice of the articles, starting with
    # a different one each time, so that the machine speeding up or slowing
    # down during the run (as a shared machine does) falls on all of them alike.
    timings = {count: Timings() for count in counts}
    for turn, start in enumerate(range(0, n, SLICE)):
        for count in counts[turn % 3 :] + counts[: turn % 3]:
            measure(monitors[count], texts[start : start + SLICE], timings[count])
    for count in counts:
        t = timings[count]
        naive = ""
        if count <= 1_000:
            seconds = 0.0
            subset = texts[: args.naive_docs]
            for doc, expected in zip(analysed(subset), t.found, strict=False):
                start = time.perf_counter()
                found = [key for key, q in enumerate(queries[:count]) if match(q, doc)]
                seconds += time.perf_counter() - start
                assert found == expected, "monitor and naive loop differ"
            naive = rate(len(subset), seconds)
        print(
            f"{count:>8,} {rate(n, t.analysis + t.match):>9} {rate(n, t.match):>11}"
            f" {rate(n, t.presearch):>10} {rate(n, t.analysis + t.match + t.hits):>9}"
            f" {naive:>8} {t.candidates / n:>9.2f} {t.matches / n:>9.3f}"
        )
    print()
    low, high = timings[100], timings[10_000]
    for label, stages in (
        ("monitor (analyse + match)", ("analysis", "match")),
        ("match only, articles analysed beforehand", ("match",)),
        ("presearch only", ("presearch",)),
        ("monitor + hits of every match", ("analysis", "match", "hits")),
    ):
        ratio = sum(getattr(low, s) for s in stages) / sum(getattr(high, s) for s in stages)
        print(f"rate at 10,000 pledges / rate at 100, {label}: {ratio:.2f}")
    hits_cost = high.hits / max(1, high.matches) * 1e6
    print(f"hits of one match, at 10,000 pledges: {hits_cost:.0f} microseconds")
    print("the naive loop found exactly the monitor's matches wherever both ran")


if __name__ == "__main__":
    main()
