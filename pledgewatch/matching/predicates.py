"""Queries compiled into predicates: a function a query becomes, run against
many documents, that says whether each matches.

May import pledgewatch.matching.analysis and .syntax.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterator
from typing import NamedTuple, cast

from pledgewatch.matching.analysis import FIELDS, Document, FieldIndex
from pledgewatch.matching.places import _by_first, _occurrences, _places
from pledgewatch.matching.syntax import (
    _LEAVES,
    Alias,
    And,
    Field,
    Near,
    Node,
    Not,
    Or,
    Phrase,
    Prefix,
    Term,
)

Predicate = Callable[[Document], bool]


def predicate(node: Node) -> Predicate:
    """``node`` compiled into a function that says whether a document matches
    it, exactly when ``match`` finds a Match. Build it once for a query that is
    run against many documents, as the monitor does for its stored queries:
    each leaf's terms and each NEAR's sides are worked out here, once.

    Whether a word occurs is a set lookup; phrases are substring searches in
    the field's terms; NEAR looks for one side within reach of the other
    (see ``_near_predicate``). Places found are kept in ``doc.memo``, so queries
    that share them (every "@china") share the work."""
    return _predicate(node, FIELDS)


@functools.lru_cache(maxsize=65536)
def _predicate(node: Node, fields: tuple[str, ...]) -> Predicate:
    """``node`` in ``fields`` as a function of the document: exactly when
    ``_evaluate`` finds it (a NOT: finds nothing)."""
    if isinstance(node, Field):
        return _predicate(node.child, (node.name,))
    if isinstance(node, Not):
        inner = _predicate(node.child, fields)
        return lambda doc: not inner(doc)
    if isinstance(node, And | Or):
        # The result does not depend on the order: set lookups first, NEAR last.
        children = sorted(node.children, key=_cost)
        parts = tuple(_predicate(child, fields) for child in children)
        if isinstance(node, Or):
            return lambda doc: any(part(doc) for part in parts)
        if len(parts) == 2:
            first, second = parts
            return lambda doc: first(doc) and second(doc)
        return lambda doc: all(part(doc) for part in parts)
    if isinstance(node, Near):
        return _near_predicate(node, fields)
    if isinstance(node, Prefix):
        prefix = node.prefix
        return lambda doc: any(doc.fields[name].has_prefix(prefix) for name in fields)
    return _leaf_predicate(node, fields)


def _cost(node: Node) -> int:
    """A rough order of what a node costs to decide."""
    if isinstance(node, Field | Not):
        return _cost(node.child)
    if isinstance(node, Near):
        return 100
    if isinstance(node, And | Or):
        return sum(map(_cost, node.children))
    if isinstance(node, Prefix):
        return 3
    return 1 if all(len(seq) == 1 for seq in node.variants) else 2


def _leaf_predicate(leaf: Term | Phrase | Alias, fields: tuple[str, ...]) -> Predicate:
    """A term, phrase or alias: one of its one-word variants among the terms
    (one set operation), or one of its longer ones found in a field."""
    words = frozenset(seq[0] for seq in leaf.variants if len(seq) == 1)
    longer: dict[str, list[tuple[str, ...]]] = {}
    for seq in leaf.variants:
        if len(seq) > 1:
            longer.setdefault(seq[0], []).append(seq)
    firsts = frozenset(longer)

    def in_field(doc: Document) -> bool:
        for name in fields:
            field = doc.fields[name]
            if not words.isdisjoint(field.terms):
                return True
            for first in firsts & field.terms:
                if any(field.has_phrase(seq) for seq in longer[first]):
                    return True
        return False

    if fields != FIELDS:
        return in_field
    if not firsts:  # the usual case: every variant is one word
        if len(words) == 1:
            (word,) = words
            return lambda doc: word in doc.terms
        return lambda doc: not words.isdisjoint(doc.terms)
    # A document's terms are those of its fields: rule out most documents at once.
    return lambda doc: (
        not words.isdisjoint(doc.terms) or (not firsts.isdisjoint(doc.terms) and in_field(doc))
    )


@functools.lru_cache(maxsize=65536)
def _plain_leaves(node: Node) -> tuple[Node, ...] | None:
    """The leaves of a NEAR side made only of leaves and ORs of them; None
    for anything else (title:, a NEAR inside a NEAR), which ``_near`` handles."""
    if isinstance(node, _LEAVES):
        return (node,)
    if isinstance(node, Or):
        leaves: list[Node] = []
        for child in node.children:
            more = _plain_leaves(child)
            if more is None:
                return None
            leaves.extend(more)
        return tuple(leaves)
    return None


class _Leaf(NamedTuple):
    """One leaf of a NEAR side, for finding its place at a given position."""

    node: Node
    by_first: dict[str, list[tuple[str, ...]]]  # its term sequences by first term
    firsts: frozenset[str]
    prefix: str | None  # for a prefix leaf ("sell*" -> "sell")

    def end_at(self, field: FieldIndex, at: int, words: list[str]) -> int | None:
        """The last position of its place that starts at ``at``, or None. As in
        ``_leaf``, a place is its longest sequence there ("f 16", not "f")."""
        if self.prefix is not None:
            return at if any(word.startswith(self.prefix) for word in words) else None
        sequences = [seq for word in words for seq in self.by_first.get(word, ())]
        sequences.sort(key=len, reverse=True)
        for seq in sequences:
            if field.phrase_at(seq, at):
                return at + len(seq) - 1
        return None


class _Side(NamedTuple):
    """A NEAR side made of plain leaves, ready for window lookups."""

    leaves: tuple[_Leaf, ...]
    firsts: frozenset[str]  # the first terms of all their sequences
    prefixes: tuple[str, ...]
    longest: int  # terms in its longest sequence (1 for a prefix)

    def cost(self) -> int:
        """How much looking up its places is likely to cost: a prefix stands for many terms."""
        return len(self.firsts) + 8 * len(self.prefixes)

    def places(self, field: FieldIndex) -> Iterator[tuple[int, int]]:
        """(first, last) position of each of its places in one field: the
        places ``_near`` works with (see ``_places``), so the two decide alike."""
        for leaf in self.leaves:
            if leaf.prefix is None and leaf.firsts.isdisjoint(field.terms):
                continue
            for start, seq in _places(leaf.node, field).items():
                yield start, start + len(seq) - 1

    def absent_from(self, terms: frozenset[str]) -> bool:
        """Whether no place of it can be among ``terms`` (a side with a prefix
        is not ruled out here: that would cost a look at every term)."""
        return not self.prefixes and self.firsts.isdisjoint(terms)

    def may_start_in(self, words: list[str]) -> bool:
        return not self.firsts.isdisjoint(words) or bool(
            self.prefixes and any(word.startswith(self.prefixes) for word in words)
        )


@functools.lru_cache(maxsize=65536)
def _side(node: Node) -> _Side | None:
    leaves = _plain_leaves(node)
    if leaves is None:
        return None
    found: list[_Leaf] = []
    for leaf in leaves:
        if isinstance(leaf, Prefix):
            found.append(_Leaf(leaf, {}, frozenset(), leaf.prefix))
        else:
            firsts, by_first = _by_first(cast(Term | Phrase | Alias, leaf))
            found.append(_Leaf(leaf, by_first, firsts, None))
    firsts = frozenset[str]().union(*(leaf.by_first for leaf in found))
    prefixes = tuple(leaf.prefix for leaf in found if leaf.prefix is not None)
    lengths = [len(seq) for leaf in found for seqs in leaf.by_first.values() for seq in seqs]
    return _Side(tuple(found), firsts, prefixes, max([1, *lengths]))


def _near_predicate(node: Near, fields: tuple[str, ...]) -> Predicate:
    """NEAR from the places of the side likely to have fewer, then the other
    side's places that start in the window around each: as ``bool(_near(...))``
    decides, without finding every place of both sides. A side that is not
    plain leaves (see ``_plain_leaves``) falls back to ``_near``."""
    left, right = _side(node.left), _side(node.right)
    if left is None or right is None:
        return lambda doc: bool(_occurrences(node, doc, fields))
    few_is_left = left.cost() <= right.cost()
    few, other = (left, right) if few_is_left else (right, left)
    distance, ordered = node.distance, node.ordered
    whole = fields == FIELDS

    def holds(doc: Document) -> bool:
        if whole and (few.absent_from(doc.terms) or other.absent_from(doc.terms)):
            return False
        for name in fields:
            field = doc.fields[name]
            if other.absent_from(field.terms):
                continue  # both sides must be in one field
            for start, end in few.places(field):
                # Where the other side may start: ending within reach before
                # this place, or starting within reach after it.
                lowest = max(0, start - distance - other.longest + 1)
                highest = min(len(field) - 1, end + distance)
                if ordered and few_is_left:
                    lowest = end + 1
                elif ordered:
                    highest = start - 1
                if not other.may_start_in(field.words_between(lowest, highest)):
                    continue
                for at in range(lowest, highest + 1):
                    words = field.words_at(at)
                    if not other.may_start_in(words):
                        continue
                    for leaf in other.leaves:
                        b_end = leaf.end_at(field, at, words)
                        if b_end is None:
                            continue
                        # (first, last) of the left side's place, then of the right one's.
                        if few_is_left:
                            l_start, l_end, r_start, r_end = start, end, at, b_end
                        else:
                            l_start, l_end, r_start, r_end = at, b_end, start, end
                        if 0 < r_start - l_end <= distance:
                            return True
                        if not ordered and 0 < l_start - r_end <= distance:
                            return True
        return False

    return holds
