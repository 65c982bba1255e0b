"""The pledge query language, as one name: its syntax, both evaluators and the
presearch terms, each in a module of its own.

- ``syntax``: the tree, the parser (``parse``) and the printer (``format_query``);
  the language itself is described there.
- ``predicates``: a query compiled into a function saying whether a document
  matches (``predicate``): what the monitor runs against every article.
- ``hits``: whether and where a query matches one document (``match``, with
  the ``Hit`` list worked out on first use), for snippets and stance.
- ``places``: where leaves and NEARs occur, which both evaluators build on.
- ``presearch``: the terms every match must hold, for the monitor's index.

May import pledgewatch.matching.syntax, .predicates, .hits and .presearch.
"""

from __future__ import annotations

from pledgewatch.matching.hits import Hit, Match, match
from pledgewatch.matching.predicates import Predicate, predicate
from pledgewatch.matching.presearch import estimated_frequency, required_terms
from pledgewatch.matching.syntax import (
    MAX_DEPTH,
    MAX_DISTANCE,
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
    Variants,
    format_query,
    parse,
)

__all__ = [
    "MAX_DEPTH",
    "MAX_DISTANCE",
    "Alias",
    "And",
    "Field",
    "Hit",
    "Match",
    "Near",
    "Node",
    "Not",
    "Or",
    "Phrase",
    "Predicate",
    "Prefix",
    "Term",
    "Variants",
    "estimated_frequency",
    "format_query",
    "match",
    "parse",
    "predicate",
    "required_terms",
]
