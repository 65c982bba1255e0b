"""The presearcher: many stored pledge queries against one article at a time.

In the manner of Lucene's Monitor or Elasticsearch's percolator, each query is
indexed by the groups of keys it requires (``query.required_terms``: a
document can only match if it holds a key of every group). For an article,
the monitor finds which keys it holds (its terms, plus the prefix keys found
by an Aho-Corasick pass), looks up the queries whose rarest group it holds,
and evaluates those whose other groups it holds too, each with its query
compiled once into a predicate (``query.predicate``: set lookups, substring
searches for phrases, window searches for NEAR; hits only when asked for).
Work per article grows with the queries that could match it, not with all
queries. Results are exactly those of calling ``query.match`` on every
stored query.

May import pledgewatch.matching.query and .analysis, and pyahocorasick.
"""

from __future__ import annotations

import bisect
from collections.abc import Hashable, Iterable
from dataclasses import dataclass
from itertools import chain
from operator import attrgetter, itemgetter
from typing import Any, Generic, TypeVar

import ahocorasick

from pledgewatch.matching.analysis import Document
from pledgewatch.matching.query import (
    Match,
    Node,
    Predicate,
    estimated_frequency,
    predicate,
    required_terms,
)

K = TypeVar("K", bound=Hashable)

_order = attrgetter("order")
_second = itemgetter(1)
Group = frozenset[str]  # keys, any one of which a matching document holds
# A group's name in the index: its key when it has one ("2030"), else a number.
# Most groups are one rare word: a document holds such a group when the word is
# one of its terms, so its terms stand for all its one-word groups at once.
GroupId = str | int


@dataclass(frozen=True, slots=True)
class _Stored(Generic[K]):
    order: int  # results come back in the order queries were added
    key: K
    query: Node
    holds: Predicate  # whether a document matches it: query.predicate(query)
    head: GroupId | None  # its rarest group; None: evaluated on every document
    needs: frozenset[GroupId]  # its other groups

    def __reduce__(self) -> tuple[Any, ...]:
        # Pickled without its compiled predicate (closures do not pickle), which
        # is compiled again from the query when it is loaded.
        return (_revive, (self.order, self.key, self.query, self.head, self.needs))


def _revive(
    order: int, key: K, query: Node, head: GroupId | None, needs: frozenset[GroupId]
) -> _Stored[K]:
    return _Stored(order, key, query, _Compiled(query), head, needs)


class _Compiled:
    """A stored query's predicate, compiled when first asked: a monitor read back
    from a file holds thousands of queries, and a sweep evaluates the few its
    articles make candidates."""

    __slots__ = ("_holds", "_query")

    def __init__(self, query: Node) -> None:
        self._query = query
        self._holds: Predicate | None = None

    def __call__(self, doc: Document) -> bool:
        if self._holds is None:
            self._holds = predicate(self._query)
        return self._holds(doc)


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
        # Term -> the sample articles holding it (their numbers), and the terms
        # in order, to expand prefixes.
        self._postings: dict[str, set[int]] = {}
        self._sampled = 0
        for number, doc in enumerate(sample):
            for term in doc.terms:
                self._postings.setdefault(term, set()).add(number)
            self._sampled += 1
        self._vocabulary = sorted(self._postings)
        self._stored: dict[K, _Stored[K]] = {}
        self._order = 0
        # Every distinct group once, named by a GroupId: queries share them ("@china").
        self._group_ids: dict[Group, GroupId] = {}
        self._groups: dict[GroupId, tuple[Group, float]] = {}  # id -> (group, frequency)
        self._users: dict[GroupId, int] = {}  # id -> how many stored queries use it
        self._next_number = 0
        self._key_groups: dict[str, set[int]] = {}  # key -> the groups of several keys holding it
        # Head group -> its queries as (other groups, query) pairs, as the presearch
        # reads them; and the heads as a set, which intersects faster (None: to build).
        self._heads: dict[GroupId, list[tuple[frozenset[GroupId], _Stored[K]]]] = {}
        self._head_set: frozenset[GroupId] | None = None
        self._prefixes: dict[str, int] = {}  # prefix keys ("sell*") -> groups holding them
        self._automaton: ahocorasick.Automaton | None = None
        self._always: dict[K, _Stored[K]] = {}  # queries that require nothing

    def __getstate__(self) -> dict[str, Any]:
        # The prefix automaton is rebuilt when first needed; the head set too.
        return {**self.__dict__, "_automaton": None, "_head_set": None}

    def __len__(self) -> int:
        return len(self._stored)

    def __contains__(self, key: object) -> bool:
        return key in self._stored

    def add(self, key: K, query: Node) -> None:
        """Store a query under ``key``, replacing any query stored there."""
        if key in self._stored:
            self.remove(key)
        gids = list(dict.fromkeys(self._use(group) for group in required_terms(query)))
        gids.sort(key=lambda gid: (self._groups[gid][1], sorted(self._groups[gid][0])))
        holds = predicate(query)
        if not gids:
            stored = _Stored(self._order, key, query, holds, None, frozenset())
            self._always[key] = stored
        else:
            stored = _Stored(self._order, key, query, holds, gids[0], frozenset(gids[1:]))
            if gids[0] not in self._heads:
                self._head_set = None
            self._heads.setdefault(gids[0], []).append((stored.needs, stored))
        self._stored[key] = stored
        self._order += 1

    def remove(self, key: K) -> None:
        """Forget the query stored under ``key``; KeyError if there is none."""
        stored = self._stored.pop(key)
        if stored.head is None:
            del self._always[key]
            return
        pairs = [pair for pair in self._heads[stored.head] if pair[1] is not stored]
        if pairs:
            self._heads[stored.head] = pairs
        else:
            del self._heads[stored.head]
            self._head_set = None
        for gid in {stored.head, *stored.needs}:
            self._release(gid)

    @property
    def sampled(self) -> int:
        """How many sample articles it learned how common terms are from."""
        return self._sampled

    def indexed_by(self, key: K) -> frozenset[str]:
        """The keys under which the query stored at ``key`` is indexed (its
        rarest group); empty if it is evaluated on every document."""
        head = self._stored[key].head
        return frozenset() if head is None else self._groups[head][0]

    def candidates(self, doc: Document) -> list[K]:
        """Keys of the queries worth evaluating on ``doc``, in the order added."""
        return [stored.key for stored in self._candidates(doc)]

    def match(self, doc: Document) -> list[tuple[K, Match]]:
        """(key, match) for every stored query that ``doc`` matches, in the order added."""
        return [
            (stored.key, Match(stored.query, doc))
            for stored in self._candidates(doc)
            if stored.holds(doc)
        ]

    def _candidates(self, doc: Document) -> list[_Stored[K]]:
        # The groups the document holds a key of (a term, or a prefix that one
        # of its terms starts with), found with set operations that run in C;
        # then the queries whose rarest group is held, of which those whose
        # other groups are held too: a subset test each.
        key_groups = self._key_groups
        held: set[GroupId] = set(doc.terms)  # one-key groups are named by their key
        held.update(*map(key_groups.__getitem__, doc.terms & key_groups.keys()))
        if self._prefixes:
            prefix_keys = self._prefix_keys(doc)
            held.update(prefix_keys)
            held.update(*map(key_groups.__getitem__, prefix_keys & key_groups.keys()))
        if self._head_set is None:
            self._head_set = frozenset(self._heads)
        chosen = list(self._always.values())
        pairs = chain.from_iterable(map(self._heads.__getitem__, held & self._head_set))
        chosen.extend(stored for needs, stored in pairs if needs <= held)
        if len(chosen) > 1:
            chosen.sort(key=_order)
        return chosen

    def _prefix_keys(self, doc: Document) -> set[str]:
        """The prefix keys ("sell*") that a term of ``doc`` starts with."""
        if self._automaton is None:
            automaton = ahocorasick.Automaton()
            for key in self._prefixes:
                # A separator before the prefix anchors it at the start of a term.
                automaton.add_word("\x1f" + key[:-1], key)
            automaton.make_automaton()
            self._automaton = automaton
        return set(map(_second, self._automaton.iter(doc.key_text())))

    def _use(self, group: Group) -> GroupId:
        """The id of ``group``, one more query using it."""
        gid = self._group_ids.get(group)
        if gid is None:
            if len(group) == 1:
                gid = next(iter(group))
            else:
                gid = self._next_number
                self._next_number += 1
                for key in group:
                    self._key_groups.setdefault(key, set()).add(gid)
            self._group_ids[group] = gid
            self._groups[gid] = (group, self._frequency(group))
            self._users[gid] = 0
            for key in group:
                if key.endswith("*"):
                    self._prefixes[key] = self._prefixes.get(key, 0) + 1
                    self._automaton = None
        self._users[gid] += 1
        return gid

    def _release(self, gid: GroupId) -> None:
        """One query fewer uses group ``gid``; forget it when none does."""
        self._users[gid] -= 1
        if self._users[gid]:
            return
        group, _ = self._groups.pop(gid)
        del self._users[gid], self._group_ids[group]
        for key in group:
            if isinstance(gid, int):
                self._key_groups[key].discard(gid)
                if not self._key_groups[key]:
                    del self._key_groups[key]
            if key.endswith("*"):
                self._prefixes[key] -= 1
                if not self._prefixes[key]:
                    del self._prefixes[key]
                    self._automaton = None

    def _frequency(self, group: frozenset[str]) -> float:
        """Share of sample articles holding a key of ``group`` (half an article
        if none does); without a sample, a guess from word length."""
        if not self._sampled:
            return estimated_frequency(group)
        terms = set()
        for key in group:
            if key.endswith("*"):
                lo = bisect.bisect_left(self._vocabulary, key[:-1])
                hi = bisect.bisect_left(self._vocabulary, key[:-1] + "\U0010ffff", lo)
                terms.update(self._vocabulary[lo:hi])
            else:
                terms.add(key)
        holding = set[int]().union(*(self._postings.get(term, ()) for term in terms))
        return (len(holding) or 0.5) / self._sampled
