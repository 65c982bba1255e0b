"""What a query is likely to get wrong, said before anyone trusts it.

``names_actor`` tells whether a query asks for anything of the pledge's actor:
its own words ("Microsoft", "Starmer") or the alias sets of the country or
body it names ("UK government" is ``@uk``). A query without the actor finds
every story on the topic, whoever acts in it.

Pure: a parsed query and plain text in, a value out. May import
pledgewatch.matching.analysis, .aliases, .derive and .query.
"""

from __future__ import annotations

from collections.abc import Iterator

from pledgewatch.matching import aliases
from pledgewatch.matching.analysis import analyse
from pledgewatch.matching.derive import actor_sets, actor_side, is_generic
from pledgewatch.matching.query import (
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

# Words of an actor's name that name no one in particular.
_KIND_WORDS = frozenset(
    "party parties company companies group ministry department council city county "
    "administration cabinet office inc ltd plc corp corporation co".split()
)
# More than this share of the stored articles is a topic, not a pledge's coverage.
BROAD_SHARE = 0.2
BROAD_MINIMUM = 10  # articles stored before the share says anything


def names_actor(node: Node, actor: str, text: str | None = None) -> bool:
    """Whether some term of the query (outside NOT) is the actor's: its words, its
    country or body, or, given the pledge's ``text``, the side it speaks for."""
    words = {t.term for t in analyse(actor) if not is_generic(t.term) and t.term not in _KIND_WORDS}
    sets = set(actor_side(text, actor) if text is not None else actor_sets(actor))
    for leaf in _leaves(node):
        if isinstance(leaf, Alias):
            if leaf.name in sets:
                return True
            variants = aliases.expand(leaf.name)
        elif isinstance(leaf, Prefix):
            if any(word.startswith(leaf.prefix) for word in words):
                return True
            continue
        else:
            variants = leaf.variants
        if any(words & set(variant) for variant in variants):
            return True
    return False


def _leaves(node: Node) -> Iterator[Term | Prefix | Phrase | Alias]:
    """The query's leaves that must or may match: those under NOT are left out."""
    if isinstance(node, Term | Prefix | Phrase | Alias):
        yield node
    elif isinstance(node, Field):
        yield from _leaves(node.child)
    elif isinstance(node, And | Or):
        for child in node.children:
            yield from _leaves(child)
    elif isinstance(node, Near):
        yield from _leaves(node.left)
        yield from _leaves(node.right)
    elif isinstance(node, Not):
        return
