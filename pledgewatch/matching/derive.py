"""Derive a search query from a pledge's text and actor, for pledges without one.

A journalist's own query is best; most pledges are logged without one. The
derived query asks for what evidence about a pledge must mention:

    (actor's side) AND (each other party named) AND (what is pledged)

- the actor's side: the alias sets of the countries and bodies in the actor
  (or, failing that, before the pledge's verb: "China will ..."), the actor's
  name and surname ("Xi Jinping", Xi);
- other parties: the other countries and bodies the pledge names ("to
  Russia", "Ukraine's security"), at most two;
- what is pledged: the topic alias sets the text touches (weapons, emissions,
  loans, small boats, ...), or, when it touches none, its distinctive words.

The result is ordinary query text: ``pledge show`` prints it so a journalist
can copy and refine it. Pure: plain strings in, a string out.

May import pledgewatch.matching.analysis, .aliases and .query.
"""

from __future__ import annotations

import functools
import re

from pledgewatch.matching import aliases
from pledgewatch.matching.analysis import analyse

# Words that say nothing about what was pledged.
_GENERIC = frozenset(
    """
    a about above after again against all also am an and any are as at be been before being
    below between both but by can could did do does doing down during each few for from further
    had has have having he her here hers herself him himself his how i if in into is it its itself
    just me more most my myself no nor not now of off on once only or other our ours ourselves out
    over own same she should so some such than that the their theirs them themselves then there
    these they this those through to too under until up very was we were what when where which
    while who whom why will with would you your yours shall may might must
    aim aims aimed achieve achieving ensure make makes made take takes keep continue new next
    pledge pledges pledged promise promised promises vow vowed commit committed commitment
    plan plans intend intends seek seeks goal target targets year years month months week weeks
    day days within per cent percent level levels future time times ten two three four five
    first second last least start begin end by every around about nearly almost
    leader leaders official officials senior government governments country countries nation
    nations state states allies ally people signatories declaration president prime minister
    """.split()
)
# Words of a pledge that mark where its subject ends.
_VERB_MARKERS = frozenset(
    "will would shall to aims aim pledged pledges promised promises vowed vows intends plans "
    "is are has have must should can could".split()
)
# Person-name words that are not surnames.
_NAME_STOP = frozenset({"de", "da", "van", "von", "der", "bin", "al", "la", "le", "jr", "sr"})


@functools.cache
def _lookup() -> dict[str, list[tuple[tuple[str, ...], str, str, int]]]:
    """First term -> [(term sequence, set name, kind, set size)], longest sequence first."""
    table: dict[str, list[tuple[tuple[str, ...], str, str, int]]] = {}
    for kind in aliases.KINDS:
        for name in aliases.alias_names(kind):
            variants = aliases.expand(name)
            for seq in variants:
                table.setdefault(seq[0], []).append((seq, name, kind, len(variants)))
    for entries in table.values():
        # Longest phrase first; among equal phrases the smallest (most specific) set.
        entries.sort(key=lambda e: (-len(e[0]), e[3]))
    return table


def _terms(text: str) -> list[str]:
    """The analysed terms of ``text``, one per position (no stacked forms)."""
    terms: list[str] = []
    last = -1
    for token in analyse(text):
        if token.position != last:
            terms.append(token.term)
            last = token.position
    return terms


def _find_sets(terms: list[str], *, us_is_country: bool = False) -> list[tuple[int, int, str, str]]:
    """(start, end, set name, kind) of every alias entry found, left to right, no overlaps."""
    found: list[tuple[int, int, str, str]] = []
    table = _lookup()
    i = 0
    while i < len(terms):
        for seq, name, kind, _size in table.get(terms[i], ()):
            if tuple(terms[i : i + len(seq)]) == seq:
                # "us" is also a pronoun: only the capitalised forms count, which
                # analysis cannot see, so a lone "us" is left out of derived queries.
                if seq == ("us",) and not us_is_country:
                    continue
                found.append((i, i + len(seq), name, kind))
                i += len(seq) - 1
                break
        i += 1
    return found


def _quote(words: str) -> str:
    words = " ".join(re.sub(r'["()]', " ", words).split())
    return f'"{words}"' if " " in words else words


def _person_words(actor: str) -> list[str]:
    """The actor's name as written and its surname: "United States (Joe Biden)" -> Biden."""
    inner = re.findall(r"\(([^)]*)\)", actor)
    outer = re.sub(r"\([^)]*\)", " ", actor)
    names: list[str] = []
    for part in [outer, *inner]:
        words = [w for w in re.findall(r"[^\W\d_][\w'’.-]*", part) if w[:1].isupper()]
        terms = _terms(part)
        if not words or any(t in _GENERIC for t in terms) or _find_sets(terms):
            continue
        names.append(" ".join(words))
        if len(words) > 1 and not any(w.lower() in _ORGANISATION for w in words):
            surname = next((w for w in reversed(words) if w.lower() not in _NAME_STOP), "")
            if len(surname) >= 3:
                names.append(surname)
            # Family name first (Xi Jinping, Li Qiang): a short first word is the family name.
            if len(words[0]) <= 2:
                names.append(words[0])
    return list(dict.fromkeys(names))


def _distinctive(terms: list[str], skip: set[int], limit: int) -> list[str]:
    """The longest words that are not generic: what a pledge is about when no topic set fits."""
    words = [
        t
        for i, t in enumerate(terms)
        if i not in skip and t not in _GENERIC and t.isalpha() and len(t) >= 4
    ]
    ranked = sorted(dict.fromkeys(words), key=lambda w: -len(w))[:limit]
    # A light stem, so "agreement" finds "agreements" and "security" "securities".
    return [(w[:-1] if w[-1] in "yes" else w) + "*" if len(w) >= 5 else w for w in ranked]


_US = re.compile(r"\bU\.?S\.?A?\b")
# "meet 50% of its needs", "meet the target": meeting a goal, not a meeting.
_MEET_GOAL = re.compile(
    r"\bmeet(?:s|ing)?\s+(?:\S+\s+){0,3}?"
    r"(?:\d+(?:\.\d+)?\s*%|target|goal|requirement|need|demand|obligation)",
    re.IGNORECASE,
)
# Topics too broad to stand for a pledge on their own.
_BROAD_TOPICS = frozenset(
    "funding aid loan debt meeting summit trade tariffs jobs wages election health education "
    "taxes police housing".split()
)
# Words that make a name an organisation, not a person with a surname.
_ORGANISATION = frozenset(
    "party ministry government council committee union bank agency department office "
    "commission parliament assembly court leaders allies signatories".split()
)


def derive_query(text: str, actor: str) -> str:
    """A query for evidence about the pledge ``text`` made by ``actor``."""
    terms = _terms(text)
    in_text = _find_sets(terms, us_is_country=bool(_US.search(text)))
    if _MEET_GOAL.search(text):
        in_text = [f for f in in_text if f[2] not in ("meeting", "summit")]
    actor_terms = _terms(actor)
    in_actor = [
        f
        for f in _find_sets(actor_terms, us_is_country=bool(_US.search(actor)))
        if f[3] != "topics"
    ]

    verb_at = next((i for i, t in enumerate(terms) if t in _VERB_MARKERS), len(terms))
    parties = [f for f in in_text if f[3] != "topics"]
    # The actor's side: the countries and bodies of the actor, and those the pledge
    # names as its subject ("The United States will ..." by Joe Biden).
    side = [name for _, _, name, _ in in_actor]
    subjects = [name for start, _, name, _ in parties if start < verb_at]
    if subjects and not (set(subjects) & set(side)):
        # The pledge's first subject is the actor's side ("The United States" for
        # Joe Biden); a second one is another party ("US and Ukrainian officials").
        side.append(subjects[0])
    side = list(dict.fromkeys(side))

    side_clause = [f"@{name}" for name in side] + [_quote(w) for w in _person_words(actor)]
    if not side_clause:
        # A body with no alias set ("COP26 leaders"): its distinctive words stand for it.
        side_clause = _distinctive(actor_terms, set(), 2)

    others = [name for _, _, name, _ in parties if name not in side]
    others = list(dict.fromkeys(others))[:1]

    topics = list(dict.fromkeys(name for _, _, name, kind in in_text if kind == "topics"))
    if topics:
        object_clause = [f"@{name}" for name in topics]
    else:
        used = {i for start, end, _, _ in in_text for i in range(start, end)}
        object_clause = _distinctive(terms, used, 3)

    if side and not any(f"@{name}" in side_clause for name in side):
        side_clause = [f"@{name}" for name in side]
    if not side and topics and not set(topics) & _BROAD_TOPICS:
        # A person whose country the pledge does not name ("We will stop the
        # boats", Rishi Sunak): coverage names the topic, rarely the person.
        side_clause = []
    clauses = [side_clause, *[[f"@{name}"] for name in others], object_clause]
    parts = [_group(c) for c in clauses if c]
    if not parts:
        return _quote(text[:200])
    return " AND ".join(parts)


def _group(items: list[str]) -> str:
    items = list(dict.fromkeys(items))
    return items[0] if len(items) == 1 else "(" + " OR ".join(items) + ")"
