"""Where a query's leaves and NEARs occur in a document: the positions both
evaluators (hits and predicates) build on, memoised on the document.

May import pledgewatch.matching.analysis and .syntax.
"""

from __future__ import annotations

import bisect
import functools
import operator
from typing import cast

from pledgewatch.matching.analysis import Document, FieldIndex
from pledgewatch.matching.syntax import (
    _VARIANT_LEAVES,
    Alias,
    Field,
    Near,
    Node,
    Or,
    Phrase,
    Prefix,
    Term,
)

# Where a leaf occurs, before it becomes a Hit: (leaf, field, first position,
# last position, the terms found). Plain tuples, built in bulk: only the
# queries whose hits are asked for pay for labels, sentences or Hit objects.
_Occurrence = tuple[Node, str, int, int, tuple[str, ...]]


_place = operator.itemgetter(1, 2)  # (field, start)


def _occurrences(node: Node, doc: Document, fields: tuple[str, ...]) -> list[_Occurrence]:
    """Every place a positional node (leaf, NEAR, OR of leaves, title: leaf) occurs.
    The list is shared through the memo: callers must not change it."""
    if isinstance(node, Or):
        return [hit for child in node.children for hit in _occurrences(child, doc, fields)]
    if isinstance(node, Field):
        return _occurrences(node.child, doc, (node.name,))
    key = (node, fields)
    found = doc.memo.get(key)
    if found is None:
        found = doc.memo[key] = (
            _near(node, doc, fields) if isinstance(node, Near) else _leaf(node, doc, fields)
        )
    return cast(list[_Occurrence], found)


def _leaf(node: Node, doc: Document, fields: tuple[str, ...]) -> list[_Occurrence]:
    found: list[_Occurrence] = []
    for name in fields:
        found.extend(
            (node, name, start, start + len(seq) - 1, seq)
            for start, seq in _places(node, doc.fields[name]).items()
        )
    return found


def _places(node: Node, field: FieldIndex) -> dict[int, tuple[str, ...]]:
    """Where a leaf occurs in one field: each first position, with the longest
    of its sequences found there ("F-16" is "f16" and "f 16" at one place, and
    "f 16" spans it all)."""
    if isinstance(node, Prefix):
        sequences: list[tuple[str, ...]] = [(t,) for t in field.prefixed(node.prefix)]
    elif isinstance(node, _VARIANT_LEAVES):
        firsts, by_first = _by_first(node)
        sequences = [seq for first in firsts & field.terms for seq in by_first[first]]
    else:
        raise TypeError(f"no positions for {node!r}")
    if len(sequences) == 1 and len(sequences[0]) == 1:  # the usual case: one word
        return dict.fromkeys(field.positions(sequences[0][0]), sequences[0])
    places: dict[int, tuple[str, ...]] = {}
    for seq in sorted(sequences, key=len, reverse=True):
        for start in field.phrase_starts(seq):
            places.setdefault(start, seq)
    return places


@functools.lru_cache(maxsize=65536)
def _by_first(
    leaf: Term | Phrase | Alias,
) -> tuple[frozenset[str], dict[str, list[tuple[str, ...]]]]:
    """A leaf's variants by their first term: an article holds few of an alias's
    many entries, and one set intersection finds them."""
    index: dict[str, list[tuple[str, ...]]] = {}
    for seq in leaf.variants:
        index.setdefault(seq[0], []).append(seq)
    return frozenset(index), index


def _near(node: Near, doc: Document, fields: tuple[str, ...]) -> list[_Occurrence]:
    """The occurrences of either side that have one of the other side close enough."""
    left = _occurrences(node.left, doc, fields)
    right = sorted(_occurrences(node.right, doc, fields) if left else (), key=_place)
    if not right:
        return []
    starts = [(b[1], b[2]) for b in right]
    longest = max(b[3] - b[2] for b in right)
    distance, used_left, used_right = node.distance, [], set()
    for a in left:
        _, a_field, a_start, a_end, _ = a
        # Only the right-hand occurrences whose start falls in the window.
        lowest = a_start - distance - longest if not node.ordered else a_end + 1
        lo = bisect.bisect_left(starts, (a_field, lowest))
        hi = bisect.bisect_right(starts, (a_field, a_end + distance))
        near = False
        for i in range(lo, hi):
            b = right[i]
            after = 0 < b[2] - a_end <= distance
            before = not node.ordered and 0 < a_start - b[3] <= distance
            if after or before:
                near = True
                used_right.add(i)
        if near:
            used_left.append(a)
    return [*used_left, *(right[i] for i in sorted(used_right))]
