"""The pledge query language: its syntax tree, parser and printer.

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

import dataclasses
import difflib
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from pledgewatch.errors import QuerySyntaxError
from pledgewatch.matching import aliases
from pledgewatch.matching.analysis import FIELDS, fold, phrase_variants

Variants = tuple[tuple[str, ...], ...]


# --- syntax tree -----------------------------------------------------------


# A leaf's ``variants`` are the term sequences it matches (several terms: one
# after another). They follow from its text, so they are left out of equality
# and hashing: equal text, equal node, and a cheap hash for per-document memos.
_DERIVED = dataclasses.field(compare=False, repr=False)


def _by_fields(node: Any) -> tuple[Any, ...]:
    # Pickled as a call of the class with its fields: a frozen dataclass with slots
    # is otherwise restored field by field through dataclasses' own __setstate__, a
    # third of the time it takes a cron sweep to read its matcher file.
    return (type(node), tuple(getattr(node, name) for name in node.__slots__))


@dataclass(frozen=True, slots=True)
class Term:
    text: str  # as typed
    variants: Variants = _DERIVED

    __reduce__ = _by_fields


@dataclass(frozen=True, slots=True)
class Prefix:
    text: str  # as typed, without the "*"
    prefix: str  # folded

    __reduce__ = _by_fields


@dataclass(frozen=True, slots=True)
class Phrase:
    text: str  # between the quotes
    variants: Variants = _DERIVED

    __reduce__ = _by_fields


@dataclass(frozen=True, slots=True)
class Alias:
    name: str
    variants: Variants = _DERIVED

    __reduce__ = _by_fields


@dataclass(frozen=True, slots=True)
class Field:
    name: str  # only "title" for now
    child: Node

    __reduce__ = _by_fields


@dataclass(frozen=True, slots=True)
class Not:
    child: Node

    __reduce__ = _by_fields


@dataclass(frozen=True, slots=True)
class And:
    children: tuple[Node, ...]

    __reduce__ = _by_fields


@dataclass(frozen=True, slots=True)
class Or:
    children: tuple[Node, ...]

    __reduce__ = _by_fields


@dataclass(frozen=True, slots=True)
class Near:
    left: Node
    right: Node
    distance: int
    ordered: bool

    __reduce__ = _by_fields


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


def requires_a_term(node: Node) -> bool:
    """Whether every match of ``node`` must hold some term: a NOT holds none, an
    OR only when each of its branches does (``presearch.required_terms`` says which)."""
    if isinstance(node, Not):
        return False
    if isinstance(node, And):
        return any(requires_a_term(child) for child in node.children)
    if isinstance(node, Or):
        return all(requires_a_term(child) for child in node.children)
    if isinstance(node, Field):
        return requires_a_term(node.child)
    if isinstance(node, Near):
        return requires_a_term(node.left) or requires_a_term(node.right)
    return True


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
        if not requires_a_term(node):
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
