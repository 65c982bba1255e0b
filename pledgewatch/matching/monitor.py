"""The presearcher: many stored pledge queries against one article at a time.

In the manner of Lucene's Monitor or Elasticsearch's percolator, each query is
indexed by the groups of keys it requires (``query.required_terms``: a
document can only match if it holds a key of every group). For an article,
the monitor finds which keys it holds (its terms, plus the prefix keys found
by an Aho-Corasick pass), looks up the queries whose rarest group it holds,
and evaluates those whose other groups it holds too. Work per article grows with the
queries that could match it, not with all queries. Results are exactly those
of calling ``query.match`` on every stored query.

May import pledgewatch.matching.query and .analysis, and pyahocorasick.
"""

from __future__ import annotations

import bisect
from collections.abc import Hashable, Iterable, Iterator
from dataclasses import dataclass
from operator import attrgetter
from typing import Generic, TypeVar

import ahocorasick

from pledgewatch.matching.analysis import Document
from pledgewatch.matching.query import Match, Node, estimated_frequency, match, required_terms

K = TypeVar("K", bound=Hashable)

_order = attrgetter("order")
Group = frozenset[str]  # keys, any one of which a matching document holds


@dataclass(frozen=True, slots=True)
class _Stored(Generic[K]):
    order: int  # results come back in the order queries were added
    key: K
    query: Node
    head: Group | None  # its rarest group; None: evaluated on every document
    second: Group  # its second rarest group (the head again if it has one group)
    rest: tuple[Group, ...]  # its other groups


class Monitor(Generic[K]):
    """Stored queries by key (a pledge id, say); ``match(doc)`` finds the
    queries an article matches.

    ``sample``: a few hundred articles typical of the feeds, to learn how
    common each group of terms is, so each query is indexed by its rarest.
    Without one, rarity is guessed from word length. Results are the same
    either way; only the speed differs.

    Example: ``monitor.add(7, parse("@china AND sell* AND @weapons"))``, then
    ``monitor.match(Document.from_fields(title="Beijing sells drones"))``
    returns ``[(7, Match(...))]``.
    """

    def __init__(self, sample: Iterable[Document] = ()) -> None:
        self._sample = [doc.terms for doc in sample]
        self._vocabulary = sorted(frozenset[str]().union(*self._sample))  # to expand prefixes
        self._stored: dict[K, _Stored[K]] = {}
        self._order = 0
        # Every distinct group once, with its frequency: queries share them.
        self._groups: dict[Group, tuple[Group, float]] = {}
        # head group -> second group -> key -> query
        self._heads: dict[Group, dict[Group, dict[K, _Stored[K]]]] = {}
        self._key_heads: dict[str, set[Group]] = {}  # key -> head groups holding it
        self._prefixes: set[str] = set()  # prefix keys of any group, with their "*"
        self._automaton: ahocorasick.Automaton | None = None
        self._always: dict[K, _Stored[K]] = {}  # queries that require nothing

    def __len__(self) -> int:
        return len(self._stored)

    def __contains__(self, key: object) -> bool:
        return key in self._stored

    def add(self, key: K, query: Node) -> None:
        """Store a query under ``key``, replacing any query stored there."""
        if key in self._stored:
            self.remove(key)
        known = [self._group(group) for group in required_terms(query)]
        groups = [group for group, _ in sorted(known, key=lambda g: (g[1], sorted(g[0])))]
        if not groups:
            stored = _Stored(self._order, key, query, None, frozenset(), ())
            self._always[key] = stored
        else:
            head, second = groups[0], groups[min(1, len(groups) - 1)]
            stored = _Stored(self._order, key, query, head, second, tuple(groups[2:]))
            if head not in self._heads:
                for term in head:
                    self._key_heads.setdefault(term, set()).add(head)
            self._heads.setdefault(head, {}).setdefault(second, {})[key] = stored
        self._stored[key] = stored
        self._order += 1

    def remove(self, key: K) -> None:
        """Forget the query stored under ``key``; KeyError if there is none."""
        stored = self._stored.pop(key)
        if stored.head is None:
            del self._always[key]
            return
        by_second = self._heads[stored.head]
        del by_second[stored.second][key]
        if not by_second[stored.second]:
            del by_second[stored.second]
        if not by_second:
            del self._heads[stored.head]
            for term in stored.head:
                self._key_heads[term].discard(stored.head)

    def candidates(self, doc: Document) -> list[K]:
        """Keys of the queries worth evaluating on ``doc``, in the order added."""
        return [stored.key for stored in self._candidates(doc)]

    def match(self, doc: Document) -> list[tuple[K, Match]]:
        """(key, match) for every stored query that ``doc`` matches, in the order added."""
        found = []
        for stored in self._candidates(doc):
            result = match(stored.query, doc)
            if result is not None:
                found.append((stored.key, result))
        return found

    def _candidates(self, doc: Document) -> list[_Stored[K]]:
        present = set(doc.terms)  # its terms, and the prefix keys its terms start with
        if self._prefixes:
            present.update(self._prefix_keys(doc))
        # Set operations run in C; the loops see only queries whose rarest
        # group is in the document, and test a second group once for all
        # the queries that share it.
        key_heads = self._key_heads
        heads = set[Group]().union(*map(key_heads.__getitem__, present & key_heads.keys()))
        chosen = list(self._always.values())
        for head in heads:
            for second, stored in self._heads[head].items():
                if not second.isdisjoint(present):
                    chosen.extend(
                        s
                        for s in stored.values()
                        if not s.rest or all(not g.isdisjoint(present) for g in s.rest)
                    )
        if len(chosen) > 1:
            chosen.sort(key=_order)
        return chosen

    def _prefix_keys(self, doc: Document) -> Iterator[str]:
        if self._automaton is None:
            automaton = ahocorasick.Automaton()
            for key in self._prefixes:
                # A separator before the prefix anchors it at the start of a term.
                automaton.add_word("\x1f" + key[:-1], key)
            automaton.make_automaton()
            self._automaton = automaton
        return (key for _, key in self._automaton.iter(doc.key_text()))

    def _group(self, group: Group) -> tuple[Group, float]:
        """The shared copy of ``group`` and how common it is."""
        known = self._groups.get(group)
        if known is None:
            known = self._groups[group] = (group, self._frequency(group))
            for key in group:
                if key.endswith("*") and key not in self._prefixes:
                    self._prefixes.add(key)
                    self._automaton = None
        return known

    def _frequency(self, group: frozenset[str]) -> float:
        """Share of sample articles holding a key of ``group`` (half an article
        if none does); without a sample, a guess from word length."""
        if not self._sample:
            return estimated_frequency(group)
        terms = set()
        for key in group:
            if key.endswith("*"):
                lo = bisect.bisect_left(self._vocabulary, key[:-1])
                hi = bisect.bisect_left(self._vocabulary, key[:-1] + "\U0010ffff", lo)
                terms.update(self._vocabulary[lo:hi])
            else:
                terms.add(key)
        holding = sum(1 for doc_terms in self._sample if not doc_terms.isdisjoint(terms))
        return (holding or 0.5) / len(self._sample)
