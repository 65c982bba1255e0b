"""Matching with hits: whether a query matches a document, and where (the Hits,
worked out on first use).

May import pledgewatch.matching.analysis, .syntax and .predicates.
"""

from __future__ import annotations

import functools
from typing import NamedTuple

from pledgewatch.matching.analysis import FIELDS, Document
from pledgewatch.matching.places import _Occurrence, _occurrences
from pledgewatch.matching.predicates import _predicate
from pledgewatch.matching.syntax import And, Field, Node, Not, Or, format_query


class Hit(NamedTuple):
    """One place where a term, phrase, prefix or alias of the query matched."""

    leaf: str  # the query's own text for it: 'weapons', '"military aid"', '@china', 'sell*'
    matched: str  # the analysed terms found: 'beijing', 'military aid', 'selling'
    field: str
    start: int  # first position
    end: int  # last position
    sentence: int


class Match:
    """A document that a query matches, and why: ``hits``, every place where a
    term that is not negated matched.

    Deciding that a query matches needs positions only for NEAR and phrases;
    the hits are worked out on first use, as in Lucene's Monitor, where
    highlighting is a second pass over the matches. The presearcher's
    candidates that match are often not kept (an article older than the
    pledge, evidence already stored), and those never pay for hits.
    """

    __slots__ = ("_doc", "_hits", "_query")

    def __init__(self, query: Node, doc: Document) -> None:
        self._query = query
        self._doc = doc
        self._hits: tuple[Hit, ...] | None = None

    def __repr__(self) -> str:
        return f"Match({format_query(self._query)!r})"

    def __eq__(self, other: object) -> bool:
        """Matches are equal when their hits are."""
        return isinstance(other, Match) and self.hits == other.hits

    def __hash__(self) -> int:
        return hash(self.hits)

    @property
    def hits(self) -> tuple[Hit, ...]:
        if self._hits is None:
            found = _evaluate(self._query, self._doc, FIELDS)
            if found is None:  # match() said it matches: the two must agree
                raise AssertionError(f"no hits for a match of {format_query(self._query)}")
            fields = self._doc.fields
            self._hits = tuple(
                Hit(_label(leaf), " ".join(seq), name, start, end, fields[name].sentence_of(start))
                for leaf, name, start, end, seq in found
            )
        return self._hits


def match(node: Node, doc: Document) -> Match | None:
    """Match one query against one document: a Match (whose hits are found
    when asked for), or None. Decided by ``predicate(node)``."""
    return Match(node, doc) if _predicate(node, FIELDS)(doc) else None


@functools.lru_cache(maxsize=65536)
def _label(leaf: Node) -> str:
    return format_query(leaf)


def _evaluate(node: Node, doc: Document, fields: tuple[str, ...]) -> list[_Occurrence] | None:
    if isinstance(node, And):
        found: list[_Occurrence] = []
        for child in node.children:
            more = _evaluate(child, doc, fields)
            if more is None:
                return None
            found.extend(more)
        return found
    if isinstance(node, Or):
        found, matched = [], False
        for child in node.children:
            more = _evaluate(child, doc, fields)
            if more is not None:
                matched = True
                found.extend(more)
        return found if matched else None
    if isinstance(node, Not):
        return None if _predicate(node.child, fields)(doc) else []
    if isinstance(node, Field):
        return _evaluate(node.child, doc, (node.name,))
    return _occurrences(node, doc, fields) or None
