"""Presearch terms: the terms a query's every match must contain, and how common
each is, for the monitor's index.

May import pledgewatch.matching.analysis and .syntax.
"""

from __future__ import annotations

from pledgewatch.matching.syntax import (
    _VARIANT_LEAVES,
    And,
    Field,
    Near,
    Node,
    Not,
    Prefix,
    Variants,
)

# Words that most news articles contain: poor choices to index a query by.
_COMMON_WORDS = (
    "the of and to in a is that for on said with as was by it at from his her will not has "
    "have be are its their they but an after more would also who year years new government "
    "minister president people two could this which over been than had told were first state "
    "last one we i he she all about no up out there some other into country officials"
)


_COMMON = frozenset(_COMMON_WORDS.split())


def estimated_frequency(group: frozenset[str]) -> float:
    """A rough share of articles that hold any key of ``group`` ("word" or
    "prefix*"): short and common words are frequent, long ones rare."""
    total = 0.0
    for key in group:
        word = key.rstrip("*")
        if word in _COMMON:
            frequency = 0.9
        elif any(ch.isdigit() for ch in word):
            frequency = 0.02  # numbers, years, codes and names with figures ("g7")
        else:
            frequency = 0.3 / max(1, len(word) - 2)
        total += frequency * (3 if key.endswith("*") else 1)
    return min(total, 1.0)


def _variants_groups(variants: Variants) -> list[frozenset[str]]:
    if len(variants) == 1:
        return [frozenset((term,)) for term in dict.fromkeys(variants[0])]
    # Any one variant will do: the rarest term of each, taken together.
    terms = set[str]().union(*variants)  # a long phrase repeats its words
    frequency = {t: estimated_frequency(frozenset((t,))) for t in terms}
    return [frozenset(min(seq, key=frequency.__getitem__) for seq in variants)]


def required_terms(node: Node) -> tuple[frozenset[str], ...]:
    """Groups of keys ("term" or "prefix*") such that a matching document holds
    at least one key of every group; empty when nothing is required.

    AND and NEAR require all their children's groups; an OR requires one group
    made of the most selective group of each child; NOT requires nothing."""
    groups: list[frozenset[str]]
    if isinstance(node, _VARIANT_LEAVES):
        groups = _variants_groups(node.variants)
    elif isinstance(node, Prefix):
        groups = [frozenset((node.prefix + "*",))]
    elif isinstance(node, Field):
        groups = list(required_terms(node.child))
    elif isinstance(node, Not):
        groups = []
    elif isinstance(node, And):
        groups = [group for child in node.children for group in required_terms(child)]
    elif isinstance(node, Near):
        groups = [*required_terms(node.left), *required_terms(node.right)]
    else:
        union: set[str] = set()
        for child in node.children:
            child_groups = required_terms(child)
            if not child_groups:
                return ()
            rarest: frozenset[str] = min(child_groups, key=estimated_frequency)
            union.update(rarest)
        groups = [frozenset(union)]
    return tuple(dict.fromkeys(groups))
