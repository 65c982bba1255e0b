"""The pledge query language: parser, syntax tree, matching and presearch terms.

    query    := or ;  or := and ("OR" and)* ;  and := not (["AND"] not)*
    not      := "NOT" not | near ;  near := operand [("NEAR/n" | "ONEAR/n") operand]
    operand  := "(" or ")" | "title:" operand | word | word* | "phrase" | @alias

- Operators are written in capitals (AND, OR, NOT, NEAR/n, ONEAR/n); the same
  words in lower case are searched for, because pledges are full of "not"
  and "and". Everything else is case-insensitive and analysed like articles
  (see ``analysis``): "F-16" matches "F16", "F-16" and "F 16".
- Precedence: NEAR > NOT > AND > OR. Adjacent terms without an operator are
  ANDed ("china weapons" = "china AND weapons"): that is what people expect
  from a search box, and a phrase needs quotes.
- ``word*`` matches any term starting with the word (at least three letters).
- ``a NEAR/n b``: some ``a`` and some ``b`` in the same field at most ``n``
  positions apart (``NEAR/1``: next to each other), in either order;
  ``ONEAR/n``: ``a`` before ``b``. Sentence boundaries do not stop NEAR, as in
  Lucene or dtSearch; each hit carries its sentence so scoring can prefer
  the same sentence. Operands are terms, phrases, alias sets, or ORs of them.
- ``title:`` restricts a term, phrase, alias set or parenthesised group to
  the title; otherwise a query matches in any field (title, summary, content).
- A query must contain a term that every match contains: "NOT china" alone
  or "china OR NOT russia" would match nearly every article.
- Limits, so that any text either parses or is refused with a position:
  parentheses, NOT and title: nest at most ``MAX_DEPTH`` levels (every walk
  over the tree recurses, and no journalist's query comes near), and NEAR's
  distance is at most ``MAX_DISTANCE`` words.

May import pledgewatch.errors, pledgewatch.matching.analysis and .aliases.
"""

from __future__ import annotations

import bisect
import dataclasses
import difflib
import functools
import operator
import re
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import NamedTuple, cast

from pledgewatch.errors import QuerySyntaxError
from pledgewatch.matching import aliases
from pledgewatch.matching.analysis import FIELDS, Document, FieldIndex, fold, phrase_variants

Variants = tuple[tuple[str, ...], ...]


# --- syntax tree -----------------------------------------------------------


# A leaf's ``variants`` are the term sequences it matches (several terms: one
# after another). They follow from its text, so they are left out of equality
# and hashing: equal text, equal node, and a cheap hash for per-document memos.
_DERIVED = dataclasses.field(compare=False, repr=False)


@dataclass(frozen=True, slots=True)
class Term:
    text: str  # as typed
    variants: Variants = _DERIVED


@dataclass(frozen=True, slots=True)
class Prefix:
    text: str  # as typed, without the "*"
    prefix: str  # folded


@dataclass(frozen=True, slots=True)
class Phrase:
    text: str  # between the quotes
    variants: Variants = _DERIVED


@dataclass(frozen=True, slots=True)
class Alias:
    name: str
    variants: Variants = _DERIVED


@dataclass(frozen=True, slots=True)
class Field:
    name: str  # only "title" for now
    child: Node


@dataclass(frozen=True, slots=True)
class Not:
    child: Node


@dataclass(frozen=True, slots=True)
class And:
    children: tuple[Node, ...]


@dataclass(frozen=True, slots=True)
class Or:
    children: tuple[Node, ...]


@dataclass(frozen=True, slots=True)
class Near:
    left: Node
    right: Node
    distance: int
    ordered: bool


Leaf = Term | Prefix | Phrase | Alias
# For isinstance: a tuple is faster than building a union at every call.
_LEAVES = (Term, Prefix, Phrase, Alias)
_VARIANT_LEAVES = (Term, Phrase, Alias)
Node = Leaf | Field | Not | And | Or | Near


# --- lexer -----------------------------------------------------------------

_OPERATORS = {"AND", "OR", "NOT"}
MAX_DEPTH = 32
# Beyond a long article's length NEAR means no more than "in the same field".
MAX_DISTANCE = 1000
_MAX_DISTANCE_DIGITS = len(str(MAX_DISTANCE))
_NEAR = re.compile(r"(O?NEAR)(?:/(.*))?")
_FIELD = re.compile(r"([A-Za-z]+):")
_WORD_END = re.compile(r'[\s()"]')


@dataclass(frozen=True, slots=True)
class _Token:
    kind: str  # "(", ")", "phrase", "op", "near", "field", "word", "end"
    text: str
    position: int
    distance: int = 0


def _lex(query: str) -> list[_Token]:
    tokens: list[_Token] = []
    i = 0
    while i < len(query):
        char = query[i]
        if char.isspace():
            i += 1
        elif char in "()":
            tokens.append(_Token(char, char, i))
            i += 1
        elif char == '"':
            close = query.find('"', i + 1)
            if close < 0:
                raise QuerySyntaxError(query, len(query), "a closing '\"' to end the phrase")
            tokens.append(_Token("phrase", query[i + 1 : close], i))
            i = close + 1
        else:
            end = _WORD_END.search(query, i)
            word = query[i : end.start() if end else len(query)]
            field = _FIELD.match(word)
            if field and field.group(1).lower() in FIELDS:
                if field.group(1).lower() != "title":
                    raise QuerySyntaxError(
                        query, i, '"title:" or no field (a term is searched in every field)'
                    )
                tokens.append(_Token("field", "title", i))
                i += len(field.group())
                continue
            tokens.append(_word_token(query, word, i))
            i += len(word)
    tokens.append(_Token("end", "", len(query)))
    return tokens


def _word_token(query: str, word: str, position: int) -> _Token:
    if word in _OPERATORS:
        return _Token("op", word, position)
    near = _NEAR.fullmatch(word)
    if near:
        digits = (near.group(2) or "").lstrip("0")
        if not digits.isdecimal():  # none, zero, or not a number: isdigit() lets "²" through
            distance = 0
        elif len(digits) > _MAX_DISTANCE_DIGITS:  # int() refuses thousands of digits
            distance = MAX_DISTANCE + 1
        else:
            distance = int(digits)
        if distance < 1:
            raise QuerySyntaxError(
                query, position, f'a distance of 1 or more after "{near.group(1)}/", like NEAR/5'
            )
        if distance > MAX_DISTANCE:
            raise QuerySyntaxError(
                query,
                position,
                f'a distance of at most {MAX_DISTANCE} after "{near.group(1)}/" '
                "(for anywhere in the article, use AND)",
            )
        return _Token("near", word, position, distance)
    return _Token("word", word, position)


# --- parser ----------------------------------------------------------------


def parse(query: str) -> Node:
    """Parse a query; raises QuerySyntaxError pointing at what is wrong."""
    return _Parser(query).parse()


class _Parser:
    def __init__(self, query: str) -> None:
        self.query = query
        self.tokens = _lex(query)
        self.i = 0
        self.first_not: int | None = None
        self.depth = 0  # parentheses, NOT and title: open around the current token

    @property
    def token(self) -> _Token:
        return self.tokens[self.i]

    def error(self, expected: str, token: _Token | None = None) -> QuerySyntaxError:
        return QuerySyntaxError(self.query, (token or self.token).position, expected)

    def enter(self) -> None:
        """Open one more level of nesting at the current token."""
        self.depth += 1
        if self.depth > MAX_DEPTH:
            raise self.error(
                f"nested more than {MAX_DEPTH} levels deep "
                "(each parenthesis, NOT and title: is one level)"
            )

    def parse(self) -> Node:
        if self.token.kind == "end":
            raise self.error("a term to search for")
        node = self.parse_or()
        if self.token.kind != "end":
            raise self.error(f"AND, OR or the end of the query, not {_shown(self.token.text)}")
        if not required_terms(node):
            raise QuerySyntaxError(
                self.query,
                self.first_not or 0,
                "a term outside NOT that every match must contain (this query would "
                "match nearly every article)",
            )
        return node

    def parse_or(self) -> Node:
        children = [self.parse_and()]
        while self.token.kind == "op" and self.token.text == "OR":
            self.i += 1
            children.append(self.parse_and())
        return _join(Or, children)

    def parse_and(self) -> Node:
        children = [self.parse_not()]
        while True:
            if self.token.kind == "op" and self.token.text == "AND":
                self.i += 1
            elif self.token.kind not in ("word", "phrase", "field", "(") and not (
                self.token.kind == "op" and self.token.text == "NOT"
            ):
                break
            children.append(self.parse_not())
        return _join(And, children)

    def parse_not(self) -> Node:
        if self.token.kind == "op" and self.token.text == "NOT":
            if self.first_not is None:
                self.first_not = self.token.position
            self.enter()
            self.i += 1
            node = Not(self.parse_not())
            self.depth -= 1
            return node
        return self.parse_near()

    def parse_near(self) -> Node:
        left = self.parse_operand()
        if self.token.kind != "near":
            return left
        near = self.token
        self.i += 1
        what = f"a term, phrase or alias set, or an OR of them, on each side of {_shown(near.text)}"
        if not _positional(left):
            raise self.error(what, near)
        operand_token = self.token
        right = self.parse_operand()
        if not _positional(right):
            raise self.error(what, operand_token)
        if self.token.kind == "near":
            raise self.error(f"AND between two NEAR groups, not {_shown(self.token.text)}")
        return Near(left, right, near.distance, ordered=near.text.startswith("O"))

    def parse_operand(self) -> Node:
        token = self.token
        before = self.tokens[self.i - 1].text if self.i else ""
        after = f" after {_shown(before)}" if before else ""
        if token.kind == "(":
            self.enter()
            self.i += 1
            if self.token.kind == ")":
                raise self.error('a term after "("')
            node = self.parse_or()
            if self.token.kind != ")":
                raise self.error(
                    'a closing ")"'
                    if self.token.kind == "end"
                    else f'a closing ")", AND or OR, not {_shown(self.token.text)}'
                )
            self.i += 1
            self.depth -= 1
            return node
        if token.kind == "field":
            self.enter()
            self.i += 1
            if self.token.kind in ("end", ")", "op", "near"):
                raise self.error('a term, phrase, alias set or "(" after "title:"')
            field = Field("title", self.parse_operand())
            self.depth -= 1
            return field
        if token.kind == "phrase":
            self.i += 1
            return self.phrase(token)
        if token.kind == "word":
            self.i += 1
            return self.word(token)
        if token.kind == "end":
            raise self.error(f"a term{after}")
        raise self.error(f"a term{after}, not {_shown(token.text)}")

    def phrase(self, token: _Token) -> Phrase:
        if "*" in token.text:
            raise self.error('a phrase without "*" (wildcards work on single words)', token)
        variants = phrase_variants(token.text)
        if not variants:
            raise self.error("letters or digits between the quotes", token)
        return Phrase(token.text, variants)

    def word(self, token: _Token) -> Node:
        text = token.text
        if text.startswith("@"):
            return self.alias(token)
        if "*" in text[:-1]:
            raise self.error('a "*" only at the end of a word', token)
        if text.endswith("*"):
            prefix = fold(text[:-1])
            if len(prefix) < 3:
                raise self.error('at least three letters before "*"', token)
            return Prefix(text[:-1], prefix)
        variants = phrase_variants(text)
        if not variants:
            raise self.error(f"a term with letters or digits, not {_shown(text)}", token)
        return Term(text, variants)

    def alias(self, token: _Token) -> Alias:
        name = token.text[1:].lower()
        known = aliases.alias_names()
        if name not in known:
            close = difflib.get_close_matches(name, known, n=5) or sorted(known)[:8]
            listed = ", ".join("@" + n for n in close)
            raise self.error(
                f"an alias set name: unknown {_shown(token.text)}; known: {listed}, ..."
                if name
                else f'an alias set name after "@"; known: {listed}, ...',
                token,
            )
        return Alias(name, aliases.expand(name))


_SHOWN_CHARS = 40


def _shown(text: str) -> str:
    """A piece of the query, quoted in an error message: on one line, and short,
    since the message goes on to show the whole query."""
    text = " ".join(text.split())
    if len(text) > _SHOWN_CHARS:
        text = text[: _SHOWN_CHARS - 1] + "…"
    return f'"{text}"'


def _join(kind: type[And] | type[Or], children: Sequence[Node]) -> Node:
    """One child stands alone; nested groups of the same kind are flattened,
    so the tree (and the text it prints) has one shape for one meaning."""
    if len(children) == 1:
        return children[0]
    flat: list[Node] = []
    for child in children:
        flat.extend(child.children if isinstance(child, kind) else (child,))
    return kind(tuple(flat))


def _positional(node: Node) -> bool:
    """Whether a node has positions, so it can stand beside NEAR."""
    if isinstance(node, _LEAVES):
        return True
    if isinstance(node, Field):
        return _positional(node.child)
    if isinstance(node, Or):
        return all(_positional(child) for child in node.children)
    return False


# --- printing --------------------------------------------------------------

_LEVEL = {Or: 1, And: 2, Not: 3, Near: 4}


def format_query(node: Node) -> str:
    """The canonical text of a query: ``parse(format_query(t)) == t``."""
    match node:
        case Term(text=text):
            return text
        case Prefix(text=text):
            return text + "*"
        case Phrase(text=text):
            return f'"{text}"'
        case Alias(name=name):
            return "@" + name
        case Field(name=name, child=child):
            return f"{name}:{_wrapped(child, 5)}"
        case Not(child=child):
            return "NOT " + _wrapped(child, 3)
        case And(children=children):
            return " AND ".join(_wrapped(child, 2) for child in children)
        case Or(children=children):
            return " OR ".join(_wrapped(child, 1) for child in children)
        case Near(left=left, right=right, distance=distance, ordered=ordered):
            operator = f"{'ONEAR' if ordered else 'NEAR'}/{distance}"
            return f"{_wrapped(left, 5)} {operator} {_wrapped(right, 5)}"
    raise TypeError(f"not a query node: {node!r}")


def _wrapped(node: Node, level: int) -> str:
    text = format_query(node)
    return f"({text})" if _LEVEL.get(type(node), 5) < level else text


# --- matching --------------------------------------------------------------


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


# Where a leaf occurs, before it becomes a Hit: (leaf, field, first position,
# last position, the terms found). Plain tuples, built in bulk: only the
# queries whose hits are asked for pay for labels, sentences or Hit objects.
_Occurrence = tuple[Node, str, int, int, tuple[str, ...]]
_place = operator.itemgetter(1, 2)  # (field, start)


def match(node: Node, doc: Document) -> Match | None:
    """Match one query against one document: a Match (whose hits are found
    when asked for), or None. Decided by ``predicate(node)``."""
    return Match(node, doc) if _predicate(node, FIELDS)(doc) else None


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


# --- presearch -------------------------------------------------------------

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
        elif word.isdigit():
            frequency = 0.02
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
