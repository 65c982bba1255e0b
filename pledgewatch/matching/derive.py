"""Derive a search query from a pledge's text and actor, for pledges logged without one.

A journalist's own query is best; most pledges are logged without one. The
derived query asks for what coverage of a pledge must mention:

    (the actor, named as news names it) AND (each other party it names)
        AND (what is pledged: its topic, its object, its named things, its figures)
        [AND NOT (other senses)] [AND NOT (the reverse direction)]

The pledge is parsed once (``parse_pledge``): the actor's kind (person,
government, party, company, international body, local government) and
names, the parties and topic sets its words name, and, from
``reading.read_pledge``, its act, object, figures and deadline. The query is
then built by ``RULES``, ordered named rules, each with a docstring and an
example (``pledge show`` prints the result so a journalist can copy and
refine it). The vocabulary they go by (words that make an actor a company or
a council, leaders and their countries, generic words, related topics, other
senses, bodies' member words) is data, in ``data/derive.toml``; alias sets
are in ``data/aliases.toml``.

Three things always hold: the actor is never dropped (a company is its own
name, a government its country's alias set, a person their name and their
country's), an object with a figure keeps its figure among what is pledged,
and a topic alone is never the whole query.

Pure: plain strings in, a string out; a ValidationError when neither the
text nor the actor has a word.

May import pledgewatch.errors, pledgewatch.matching.analysis, .aliases,
.reading and .inflect (lemminflect, imported on first use).
"""

from __future__ import annotations

import functools
import re
import tomllib
from dataclasses import dataclass, field
from importlib import resources
from typing import Any

from pledgewatch.errors import ValidationError
from pledgewatch.matching import aliases
from pledgewatch.matching.analysis import analyse, phrase_variants, plain
from pledgewatch.matching.inflect import all_inflections, all_lemmas
from pledgewatch.matching.reading import Reading, read_pledge

# Words of a pledge that mark where its subject ends.
_VERB_MARKERS = frozenset(
    "will would shall to aims aim pledged pledges promised promises vowed vows intends plans "
    "is are has have must should can could commit commits".split()
)
# A duration names a pledge only beside one of these: "the '24 hours' pledge".
_PROMISE_WORDS = "(pledge* OR promis* OR vow* OR boast* OR claim* OR deadline*)"
# "Within 24 hours" as news reports it.
_SAME_DAY = ['"a day"', '"one day"', '"same day"', '"day after"', '"hours after"', '"within hours"']
# A pledge not to supply something: restricting its export keeps it.
_REFUSAL = re.compile(r"\b(?:not|never)\s+(?:\w+\s+)?(?:sell|supply|send|export|provide)\b", re.I)
_EXPORT_CURBS = (
    "export* NEAR/2 (control* OR rule* OR restrict* OR curb* OR ban OR bans OR licen*) "
    "OR licen* NEAR/2 (require* OR need*)"
)
# A goal named after the summit that set it: "the Wales goal", "the Hague target".
_GOAL_WORDS = "(goal OR target OR benchmark OR guideline OR pledge OR commitment OR deadline)"
# Rarer names of a goal; "goal" and "target" are in too much news to stand for one.
_GOAL_NOUN = re.compile(r"\b(?:guideline|benchmark)\b", re.IGNORECASE)
_OPERATOR_WORD = re.compile(r"(?:AND|OR|NOT|O?NEAR(?:/.*)?)$")
# A bracket holds up to its first ")"; the innermost bracket, "(The Hague summit)".
_BRACKET = re.compile(r"\(([^)]*)\)")
_INNERMOST_BRACKET = re.compile(r"\(([^()]*)\)")
_WAR_ENDING = "(end* OR settl* OR stop*) NEAR/3 (war OR fighting)"
# A pledge to legislate ("pass new laws to stop the boats"), and how coverage
# reports the legislation: the bill, its passage, its royal assent.
_LEGISLATION_PLEDGE = re.compile(
    r"\b(?:pass|introduce|bring\s+in|enact)\s+(?:\w+\s+){0,2}(?:laws?|legislation|bills?)\b"
    r"|\blegislate\b",
    re.IGNORECASE,
)
_LEGISLATION_NEWS = '(bill OR legislation OR "royal assent" OR "becomes law" OR "new law")'
# A pledge of money for the armed forces: spending "on defence", a fund "for the
# Bundeswehr". The defence word ends the phrase, so money "for military veterans"
# or "next to the defence academy" is not it. Coverage is then found however it
# words the money ("core military spending", "defence outlays").
_DEFENCE_MONEY = re.compile(
    r"\b(?:spend|spending|invest|investing|investment|fund|budget)\b(?:\s+\S+){0,6}?"
    r"\s+(?:on|in|for|into|to)\s+(?:the\s+|its\s+|core\s+)*"
    r"(?:defen[cs]e|military|armed forces|Bundeswehr)"
    r"(?=\s*(?:[,.;]|$)|\s+(?:every|each|annually|by|and|from|this|next|over|until|within)\b)"
    r"|\b(?:defen[cs]e|military)\s+(?:spending|budget|investment)\b",
    re.IGNORECASE,
)
_DEFENCE = ["defence", "defense", "military", '"armed forces"']
_SPENDING_WORDS = (
    "(spend* OR budget* OR outlay* OR expenditure* OR invest* OR fund OR funds OR GDP)"
)
# "security agreement" is also reported as a pact, a deal or an accord.
_AGREEMENT = re.compile(
    r"\b(?!(?:the|a|an|this|that|its|their|his|her|our|new|any|such)\b)(\w+)\s+"
    r"(?:agreement|pact|deal|accord|treaty)\b",
    re.IGNORECASE,
)
_PERCENT = re.compile(r"(?<![\w.])(\d+(?:\.\d+)?(?:-\d+(?:\.\d+)?)?)\s*%")
# Not from inside a number: a match there would also be one from its start, and
# trying every digit of a long number would take time quadratic in its length.
_AMOUNT = re.compile(
    r"(?:[$€£]\s*)?(?<!\d)(\d+(?:\.\d+)?)\s*(billion|bn|million|trillion)\b"
    r"(?:\s+(?:euros?|dollars?|pounds?))?",
    re.I,
)
_DURATION = re.compile(r"\b(?:within|in)\s+(24\s+hours|a\s+day|one\s+day|\d+\s+days)\b", re.I)
_TARGET_YEAR = re.compile(r"\b(?:by|before|until)\s+((?:19|20)\d\d)\b")
_GNI = re.compile(r"\bgross national income\b|\bnational income\b|\bGNI\b", re.I)
_US = re.compile(r"\bU\.?S\.?A?\b")
# "meet 50% of its needs", "meet the target": meeting a goal, not a meeting.
_MEET_GOAL = re.compile(
    r"\bmeet(?:s|ing)?\s+(?:\S+\s+){0,3}?"
    r"(?:\d+(?:\.\d+)?\s*%|target|goal|requirement|need|demand|obligation)",
    re.IGNORECASE,
)
_NUMBER_WORDS = (
    "zero one two three four five six seven eight nine ten eleven twelve thirteen fourteen "
    "fifteen sixteen seventeen eighteen nineteen twenty"
).split()
_SHORT_SCALE = {"billion": "bn", "bn": "bn", "million": "m", "trillion": "tn"}


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
    """Words as one query term or phrase: characters that mean something in a
    query are dropped, and a lone operator word ("NEAR") is quoted."""
    words = " ".join(re.sub(r'["()*:@]', " ", words).split())
    # Searchable as the query language reads it: word characters alone are not
    # enough (a modifier letter such as U+037A folds to nothing).
    if not re.search(r"[^\W_]", words) or not phrase_variants(words):
        return ""
    return f'"{words}"' if " " in words or _OPERATOR_WORD.match(words) else words


def _brackets(actor: str) -> tuple[str, list[str]]:
    """The actor outside brackets, and what each bracket holds:
    "United States (Joe Biden)" -> ("United States  ", ["Joe Biden"])."""
    # Searched only up to the last ")": from each "(" after it, a search would
    # scan to the end, in time quadratic in a run of "(".
    end = actor.rfind(")") + 1
    head, tail = actor[:end], actor[end:]
    return _BRACKET.sub(" ", head) + tail, _BRACKET.findall(head)


def _summit_places(actor: str) -> list[str]:
    """ "NATO allies (The Hague summit)" -> ["Hague"]: a proper name, as a query term."""
    places = []
    for m in _INNERMOST_BRACKET.finditer(actor):
        # The words between an optional "the" and a last word "summit".
        inside = m.group(1).split()
        if len(inside) < 2 or inside[-1].casefold() != "summit":
            continue
        if inside[0].casefold() == "the":
            inside = inside[1:]
        place = " ".join(inside[:-1])
        words = [w for w in re.findall(r"[^\W\d_][\w'’-]*", place) if w[:1].isupper()]
        if words and not any(is_generic(w.lower()) for w in words):
            places.append(_quote(" ".join(words)))
    return places


def _distinctive(terms: list[str], skip: set[int], limit: int) -> list[str]:
    """The longest words that are not generic: what a pledge is about when no topic set fits."""
    words = [
        t
        for i, t in enumerate(terms)
        if i not in skip and not is_generic(t) and t.isalpha() and len(t) >= 4
    ]
    ranked = sorted(dict.fromkeys(words), key=lambda w: -len(w))[:limit]
    # A light stem, so "agreement" finds "agreements" and "security" "securities".
    return [(w[:-1] if w[-1] in "yes" else w) + "*" if len(w) >= 5 else w for w in ranked]


def actor_sets(actor: str) -> list[str]:
    """The country and body alias sets the actor names ("UK government": ``uk``)."""
    return _actor_sets(plain(actor, lower=False))


def is_generic(term: str) -> bool:
    """Whether an analysed term says nothing of who or what ("the", "government")."""
    return term in _words("subject", "generic")


def _actor_sets(actor: str) -> list[str]:
    """Country and body sets of the actor; a bracketed place only when nothing else names one."""
    outer, _ = _brackets(actor)
    for part in (outer, actor):
        found = _find_sets(_terms(part), us_is_country=bool(_US.search(part)))
        names = [name for _, _, name, kind in found if kind != "topics"]
        if names:
            return list(dict.fromkeys(names))
    return []


def _figures(text: str) -> tuple[list[str], list[str], list[str]]:
    """(sizes: percentages, amounts, durations and measure; the amounts and
    durations, which name a pledge even when not required; target years)."""
    amounts: list[str] = []
    for m in _AMOUNT.finditer(text):
        number, scale = m.group(1), m.group(2).lower()
        amounts += [f'"{number}{_SHORT_SCALE[scale]}"', f'"{number} {scale}"']
    sizes: list[str] = []
    for m in _PERCENT.finditer(text):
        sizes.append(f'"{m.group(1)}%"')
        # Never int() of thousands of digits: Python refuses it.
        small = m.group(1).isdigit() and len(m.group(1).lstrip("0")) <= 2
        if small and int(m.group(1)) < len(_NUMBER_WORDS):
            sizes.append(f'"{_NUMBER_WORDS[int(m.group(1))]} percent"')  # "two per cent" too
    sizes += amounts
    named = list(amounts)
    for m in _DURATION.finditer(text):
        span = " ".join(m.group(1).lower().split())
        # The duration names the pledge as its promise ("the '24 hours' pledge"),
        # not wherever the words occur ("24 orders within 24 hours").
        named.append(f'"{span}" NEAR/3 {_PROMISE_WORDS}')
        within_a_day = span in ("24 hours", "a day", "one day")
        sizes += [f'"{span}"'] + (['"24-hour"', *_SAME_DAY] if within_a_day else [])
    if sizes and _GNI.search(text):
        sizes += ["GNI", '"national income"']
    years = [m.group(1) for m in _TARGET_YEAR.finditer(text)]
    return _unique(sizes), _unique(named), _unique(years)


def _unique(items: list[str]) -> list[str]:
    return list(dict.fromkeys(items))


# --- vocabulary -----------------------------------------------------------------------


@functools.cache
def _data() -> dict[str, Any]:
    text = resources.files("pledgewatch").joinpath("data/derive.toml").read_text("utf-8")
    return tomllib.loads(text)


@functools.cache
def _words(section: str, name: str) -> frozenset[str]:
    """A word list of derive.toml, as analysed terms."""
    return frozenset(t for item in _data()[section][name] for t in _terms(item))


@functools.cache
def _leaders() -> dict[tuple[str, ...], dict[str, Any]]:
    """A leader's analysed full name -> their entry (country, other names)."""
    return {tuple(_terms(name)): entry for name, entry in _data()["leaders"].items()}


def _forms(word: str, upos: str) -> list[str]:
    """``word`` and its inflections as lemminflect has them for one part of speech."""
    forms = [word]
    for found in all_inflections(word, upos=upos).values():
        forms.extend(found)
    return _unique(forms)


def _noun(word: str, head: bool = False) -> str | None:
    """The noun lemma of ``word``, or None when it is not (only) a noun: an
    adjective or adverb ("negative", "net", "publicly") names no object on its
    own, nor does a verb's "-ing" form ("handling")."""
    noun_lemmas = all_lemmas(word, upos="NOUN").get("NOUN")
    if all_lemmas(word, upos="ADV") or (
        all_lemmas(word, upos="ADJ") and not (noun_lemmas and head)
    ):
        return None  # an adjective is a noun only as the head of the object: "its capital"
    if word.endswith("ing") and all_lemmas(word, upos="VERB"):
        return None
    if noun_lemmas:
        return str(noun_lemmas[0])
    return None if all_lemmas(word, upos="VERB") else word


# --- the parse ----------------------------------------------------------------------

PERSON, GOVERNMENT, PARTY, COMPANY, BODY, LOCAL = (
    "person",
    "government",
    "party",
    "company",
    "international body",
    "local government",
)
Found = tuple[int, int, str, str]  # (start, end, set name, kind) in the text's terms


@dataclass(frozen=True)
class PledgeParse:
    """A pledge, parsed for derivation."""

    text: str  # plain form, case kept
    actor: str
    kind: str  # PERSON, GOVERNMENT, PARTY, COMPANY, BODY or LOCAL
    names: tuple[str, ...]  # query terms naming the actor: '"Joe Biden"', "Biden"
    side: tuple[str, ...]  # alias sets of the actor's side: ("us",)
    others: tuple[str, ...]  # other countries and bodies the text names, in order
    topics: tuple[str, ...]  # topic sets the text touches
    things: tuple[str, ...]  # proper names of what is pledged: '"Chagos Islands"'
    objects: tuple[str, ...]  # query terms of the act's object and a distinctive act
    reading: Reading
    terms: tuple[str, ...]  # the text's analysed terms
    found: tuple[Found, ...] = field(default=())


def _actor_kind(outer: str, actor_sets_found: list[str]) -> str:
    terms = _terms(outer)
    words = set(terms)
    if any(name in aliases.alias_names("bodies") for name in actor_sets_found) and not any(
        name in aliases.alias_names("countries") for name in actor_sets_found
    ):
        return BODY
    if words & _words("actors", "local") and not any(
        name in aliases.alias_names("bodies") for name in actor_sets_found
    ):
        return LOCAL
    if words & _words("actors", "party") and not words & {"government", "ministry"}:
        return PARTY
    if actor_sets_found or words & _words("actors", "organisation"):
        return GOVERNMENT if actor_sets_found else BODY
    capitals = [w for w in re.findall(r"[^\W\d_][\w'’.-]*", outer) if w[:1].isupper()]
    if tuple(terms) in _leaders():
        return PERSON
    last = terms[-1] if terms else ""
    if words & _words("actors", "company_suffixes") or len(capitals) <= 1:
        return COMPANY
    if last in _words("actors", "company_words"):
        return COMPANY
    return PERSON


def _person_names(name: str) -> list[str]:
    """A person's name as news writes it: in full, the surname (with its
    particles: "von der Leyen", "da Silva"), a double surname ("López
    Obrador"), a family name first when short ("Xi"), and what the leaders'
    data adds ("Lula")."""
    words = [w for w in name.split() if re.search(r"[^\W\d_]", w)]
    if not words:
        return []
    particles = _words("actors", "particles")
    names = [" ".join(words)]
    last = len(words) - 1
    start = last
    while start > 0 and _terms(words[start - 1]) and _terms(words[start - 1])[0] in particles:
        start -= 1
    if len(words) > 1 and len(words[0]) <= 2:
        names.append(words[0])  # "Xi Jinping", "Li Qiang": the family name comes first
    elif len(words) > 1:
        names.append(" ".join(words[start:]))
        if start == last and len(words) >= 3 and words[last - 1][:1].isupper():
            names.append(" ".join(words[last - 1 :]))  # "López Obrador"
    entry = _leaders().get(tuple(_terms(name)))
    if entry:
        names += entry.get("names", [])
    return [q for n in _unique(names) if len(n) >= 2 and (q := _quote(n))]


def _organisation_names(outer: str, kind: str) -> list[str]:
    """An organisation's names: in full, without its company suffix or local
    words ("Barcelona City Council": Barcelona), and its initials ("BJP")."""
    words = [w for w in re.findall(r"[^\W_][\w'’&.+-]*", outer)]
    if not words:
        return []
    names = [" ".join(words)]
    drop: frozenset[str] = frozenset()
    if kind == COMPANY:
        drop = _words("actors", "company_suffixes") | _words("actors", "company_words")
    elif kind == LOCAL:
        drop = _words("actors", "local") | {"of", "the", "government"}
    elif kind == PARTY:
        drop = frozenset({"party", "the"})
    kept = [w for w in words if not (_terms(w) and _terms(w)[0] in drop)]
    if kept and kept != words:
        names.append(" ".join(kept))
    if kind == PARTY:
        proper = [w for w in kept if w[:1].isupper() and not _find_sets(_terms(w))]
        if proper and proper != kept:
            names.append(" ".join(proper))  # "Australian Labor": Labor
        initials = "".join(w[0] for w in words if w[:1].isupper())
        if len(initials) >= 3:
            names.append(initials)  # "Bharatiya Janata Party": BJP
        known = {tuple(_terms(k)): v for k, v in _data()["parties"].items()}
        names += known.get(tuple(_terms(" ".join(words))), [])
        for word in kept:
            if word[:1].isupper() and word.lower() in _words("actors", "party"):
                names += [f for f in _forms(word.lower(), "NOUN")[1:2] if f != word.lower()]
    return [q for n in _unique(names) if (q := _quote(n))]


def _things(text: str, actor_words: set[str]) -> list[str]:
    """Proper names in the pledge's text, beyond the actor and plain country
    names: what coverage names the pledged thing by ("Chagos Islands", "Jal
    Jeevan", "Taurus", "National Insurance")."""
    found: list[list[str]] = []
    sentence_starts: dict[int, bool] = {}
    connectors = {"of", "for", "de", "da", "do", "del", "la", "le", "and", "the"}
    for sentence in re.split(r"(?<=[.!?:;])\s+", text):
        tokens = re.findall(r"[^\W_][\w'’.-]*", sentence)
        run: list[str] = []
        for i, word in enumerate([*tokens, ""]):
            capital = word[:1].isupper() or (word[:1].isdigit() and bool(run))
            if capital and len(word) == 1 and not run:
                continue  # "R$ 5": a currency's letter
            if capital and not (i == 0 and _terms(word) and is_generic(_terms(word)[0])):
                run.append(word)
                continue
            if word.lower() in connectors and run:
                run.append(word)
                continue
            while run and run[-1].lower() in connectors:
                run.pop()
            if run:
                found.append(run)
                sentence_starts[id(run)] = i - len(run) == 0
            run = []
    things = []
    months = {
        "january",
        "february",
        "march",
        "april",
        "may",
        "june",
        "july",
        "august",
        "september",
        "october",
        "november",
        "december",
    }
    for run in found:
        if run[0] == "@first" or (len(run) == 1 and sentence_starts.get(id(run))):
            continue  # one capitalised word opening a sentence may be any word
        terms = _terms(" ".join(run))
        content = [t for t in terms if not is_generic(t) and t not in months and not t.isdigit()]
        if not content or set(terms) <= actor_words | months:
            continue
        sets = _find_sets(terms, us_is_country=True)
        covered = {i for start, end, _, kind in sets if kind != "topics" for i in range(start, end)}
        if all(i in covered or t in connectors for i, t in enumerate(terms)):
            continue  # countries or bodies, which the party rules name
        covered_terms = {terms[i] for i in covered}
        if len(terms) == 1 and (len(terms[0]) < 3 or terms[0] in _words("subject", "generic")):
            continue
        run = [re.sub(r"['’]s$", "", w) for w in run]
        things.append(_quote(" ".join(run).strip(".'’")))
        heads = _words("subject", "name_heads")
        short = [w for w in run if not (_terms(w) and _terms(w)[-1] in heads)]
        short_terms = [t for w in short for t in _terms(w)]
        if (
            short
            and short != run
            and not all(i in covered or t in connectors for i, t in enumerate(short_terms))
        ):
            things.append(_quote(" ".join(short)))  # "Chagos Islands": Chagos
        capitals = [w for w in run if w[:1].isupper()]
        last = _terms(run[-1])
        rest = [w for i, w in enumerate(run) if not (_terms(w) and set(_terms(w)) <= covered_terms)]
        if rest and rest != run and len(rest) == 1 and len(rest[0]) >= 4:
            word = _terms(rest[0])
            if word and word[-1] not in heads and not is_generic(word[-1]):
                things.append(_quote(rest[0]))  # "EU–Mercosur": Mercosur
        model = len(run) == 2 and any(c.isdigit() for c in run[0])
        if model and last and len(last[-1]) >= 5 and not is_generic(last[-1]):
            things.append(_quote(run[-1]))  # "M1 Abrams": Abrams
        if len(capitals) >= 3:
            things.append("".join(w[0] for w in capitals).upper())  # ULEZ
    return [t for t in _unique(things) if t]


_MAX_NOUNS = 6
# Words that only an English pledge has: nouns are read from English text only.
_ENGLISH = re.compile(r"\b(?:will|shall|would|the|to|of|and|by|our)\b", re.IGNORECASE)


def _object_terms(
    reading: Reading, words: list[str], skip: set[str], names: set[str], compounds: list[str]
) -> list[str]:
    """Query terms of what is pledged: the nouns of the pledge (singular and
    plural), its object first, then the rest of its words ("the income of
    India's farmers will be doubled": income, farmers), and the act itself when
    it is distinctive ("withdraw*", "recruit*")."""
    generic = _words("subject", "generic")
    acts = _words("subject", "generic_acts") | {reading.act or ""}
    out: list[str] = []
    nouns = 0
    heads = {reading.object[-1]} if reading.object else set()
    for number, word in enumerate([*reading.object, *words]):
        terms = _terms(word)
        if len(terms) != 1 or nouns >= _MAX_NOUNS:
            continue
        term = terms[0]
        if term in skip or term in generic or is_generic(term) or not term.isalpha():
            continue
        noun = (
            _noun(term, head=number < len(reading.object) and word in heads)
            if len(term) >= 3
            else None
        )
        if noun in acts or noun in generic or term in names:
            continue
        if noun and noun not in out:
            out += _forms(noun, "NOUN")
            nouns += 1
    out += [_quote(w) for w in compounds]  # "first-past-the-post"
    content = [w for w in reading.object if w.isalpha() and w not in generic]
    if len(content) >= 2 and not all(_noun(w) for w in content[:2]):
        out.append(_quote(" ".join(content[:2])))  # "carbon negative", "net migration"
    act = reading.act
    if act and act.isalpha() and act not in _words("subject", "generic_acts"):
        out += [f"{act}*"] if len(act) >= 6 else _forms(act, "VERB")
    return _unique(out)


def parse_pledge(text: str, actor: str) -> PledgeParse:
    """Parse a pledge for derivation."""
    text, actor = plain(text, lower=False), plain(actor, lower=False)
    clause_starts: list[int] = []
    terms: list[str] = []
    for piece in text.split(","):
        clause_starts.append(len(terms))
        terms += _terms(piece)
    found = _find_sets(terms, us_is_country=bool(_US.search(text)))
    # "un sistema", "eu" in another language: a short name counts only in capitals.
    lower_short = {w for w in re.findall(r"\b[^\W\d_]{2,3}\b", text) if w.islower()}
    found = [
        f
        for f in found
        if not (f[1] - f[0] == 1 and terms[f[0]] in lower_short and f[3] != "topics")
    ]
    parties = [f for f in found if f[3] != "topics"]
    outer, inner = _brackets(actor)
    outer = outer.split(",")[0]  # "Conservative Party (Boris Johnson), 2019 manifesto"
    if "/" in outer:
        # "OECD/G20 Inclusive Framework": each part names the actor.
        inner = [*inner, *outer.split("/")[:-1]]
        outer = outer.split("/")[-1] if len(outer.split("/")[-1].split()) > 1 else outer
    side = _actor_sets(actor)
    kind = _actor_kind(outer, side)
    if kind == LOCAL:
        side = []  # a city is named as itself, not as its country
    names: list[str] = []
    if kind == PERSON:
        names += _person_names(outer)
    else:
        names += _organisation_names(outer, kind)
    person_named = False
    for part in inner:
        part_sets = _find_sets(_terms(part))
        if part_sets:
            side += [name for _, _, name, k in part_sets if k != "topics"]
        elif _actor_kind(part, []) == PERSON:
            person_named = True
            names += _person_names(part)
            entry = _leaders().get(tuple(_terms(part)))
            if entry:
                side.append(entry["country"])
        else:
            names += [_quote(part)]
    if kind == BODY and not side:
        # A body no alias set knows ("COP26 leaders (Glasgow declaration
        # signatories)"): its distinctive words name it ("COP26", "Glasgow").
        names += [
            q
            for part in [outer, *inner]
            for w in re.findall(r"[^\W_][\w-]*", part)
            if (w[:1].isupper() or any(c.isdigit() for c in w))
            and _terms(w)
            and not is_generic(_terms(w)[0])
            and _terms(w)[0] not in _words("actors", "organisation")
            and len(_terms(w)[0]) >= 3
            and (q := _quote(w))
        ]
    if kind == PERSON:
        entry = _leaders().get(tuple(_terms(outer)))
        if entry:
            side.append(entry["country"])
    # The pledge's subject, read after any opening clause: "The United States
    # will ..." by Joe Biden is the actor's side.
    verb_at = next((i for i, t in enumerate(terms) if t in _VERB_MARKERS), len(terms))
    subject_from = max((s for s in clause_starts if s <= verb_at), default=0)
    subjects = [name for start, _, name, _ in parties if subject_from <= start < verb_at]
    if subjects and not set(subjects) & set(side) and kind != LOCAL:
        side.append(subjects[0])
    if kind == GOVERNMENT and not person_named and len(side) == 1:
        # A government's pledge is reported through its leaders: "Suga", "Kishida".
        for leader, entry in _data()["leaders"].items():
            if entry["country"] in side:
                full, *rest = _person_names(leader)
                names += [full] + [n for n in rest[:1] if len(n.strip('"')) >= 5]
    office = _words("actors", "office")
    subject_terms = set(terms[subject_from:verb_at])
    own_words = {t for n in [outer, *inner] for t in _terms(n)}
    if (
        kind in (PERSON, GOVERNMENT)
        and subject_terms & office
        and not subjects
        and not subject_terms & own_words - office
        and not any(t in _words("actors", "party") for t in subject_terms)
    ):
        # "The government will build 40 new hospitals": reported as the government's.
        names += [_quote(w) for w in _data()["actors"]["office"]]

    if kind in (PARTY, PERSON) and not side:
        # "A Labor government will cut Australia's emissions": whose, if not the actor's.
        possessive = re.search(r"\b([A-Z][\w-]+(?: [A-Z][\w-]+)*)['’]s\b", text)
        if possessive:
            sets = _find_sets(_terms(possessive.group(1)))
            side += [name for _, _, name, k in sets if k == "countries"]
    side = _unique(side)
    actor_words = {t for n in [outer, *inner] for t in _terms(n)}
    others = _unique(
        [
            name
            for start, end, name, _ in parties
            if name not in side and not set(terms[start:end]) <= actor_words
        ]
    )
    things = _things(text, actor_words)
    reading = read_pledge(text)
    skip = actor_words | {t for s in side for seq in aliases.expand(s) for t in seq}
    skip |= {t for start, end, _, k in found if k != "topics" for t in terms[start:end]}
    words_in_text = re.findall(r"[^\W\d_][\w'’-]*", text)
    # The subject's words ("the income of India's farmers will be doubled"), and
    # what follows "with" when the object is a party ("provide Ukraine with ...").
    modal = re.search(r"\b(?:will|shall|would|won't|must)\b", text)
    before = re.findall(r"[^\W\d_][\w'’-]*", text[: modal.start()]) if modal else []
    with_part = re.search(r"\bwith\s+(.*)", text[modal.end() :] if modal else "")
    after_with = re.findall(r"[^\W\d_][\w'’-]*", with_part.group(1))[:8] if with_part else []
    lowered = [w for w in [*before, *after_with] if not w[:1].isupper()]
    compounds = [w for w in words_in_text if w.count("-") >= 2]
    capitalised = {t for w in words_in_text if w[:1].isupper() for t in _terms(w)}
    english = bool(_ENGLISH.search(text))
    return PledgeParse(
        text=text,
        actor=actor,
        kind=kind,
        names=tuple(_unique([n for n in names if n])),
        side=tuple(side),
        others=tuple(others),
        topics=tuple(_topics(text, terms, found)),
        things=tuple(things),
        # Only what the query language can search: the reading splits raw words,
        # and one may hold no letter the analyser keeps (U+037A folds to nothing).
        objects=tuple(
            term
            for term in (
                _object_terms(reading, lowered, skip, capitalised, compounds) if english else ()
            )
            if term.endswith("*") or phrase_variants(term.replace('"', " "))
        ),
        reading=reading,
        terms=tuple(terms),
        found=tuple(found),
    )


def _topics(text: str, terms: list[str], found: list[Found]) -> list[str]:
    """Topic sets of the pledge: those its words name, then the phrases of
    derive.toml that make a pledge about a topic whatever its words."""
    topics = [name for _, _, name, kind in found if kind == "topics"]
    if _MEET_GOAL.search(text):
        topics = [t for t in topics if t not in ("meeting", "summit")]
    joined = f" {' '.join(terms)} "
    for name, phrases in _data()["subject"]["phrases"].items():
        if any(f" {' '.join(_terms(p))} " in joined for p in phrases):
            topics.append(name)
    if "weapons" in topics:
        # "military assistance" is weapons; "assistance" alone would make it aid too.
        topics = [t for t in topics if t != "aid"]
    return _unique(topics)


# --- the rules ----------------------------------------------------------------------


@dataclass
class Draft:
    """The query being built: clauses ANDed, each a list of alternatives ORed."""

    actor: list[str] = field(default_factory=list)
    parties: list[list[str]] = field(default_factory=list)
    subject: list[str] = field(default_factory=list)
    bypass: list[str] = field(default_factory=list)  # names that stand for parties and subject
    required: list[list[str]] = field(default_factory=list)
    exclude: list[str] = field(default_factory=list)


class Rule:
    """One step of derivation. ``example`` is a pledge, its actor and what the rule adds."""

    name = ""
    example = ""

    def apply(self, pledge: PledgeParse, draft: Draft) -> None:  # pragma: no cover
        raise NotImplementedError


class ActorNamed(Rule):
    """The actor, named as coverage names it, is always required: a person by
    name, surname and their country's alias set; a government by its
    country's set; a party, company, council or body by its names (a body
    also by the words for its members together)."""

    name = "actor named"
    example = "Microsoft will be carbon negative by 2030 | Microsoft -> Microsoft AND ..."

    def apply(self, pledge: PledgeParse, draft: Draft) -> None:
        draft.actor += [f"@{name}" for name in pledge.side] + list(pledge.names)
        for name in pledge.side:
            draft.actor += _data()["bodies"].get(name, [])


class OtherPartyRequired(Rule):
    """The first other country or body the pledge names is required; arms for
    a party at war are reported as arms for its war ("Russia" or "Ukraine")."""

    name = "other party required"
    example = "China will not sell weapons to Russia | Xi Jinping -> ... AND (@russia OR @ukraine)"

    def apply(self, pledge: PledgeParse, draft: Draft) -> None:
        for name in pledge.others[:1]:
            clause = [f"@{name}"]
            war = _data()["at_war"].get(name)
            if war and "weapons" in pledge.topics:
                clause.append(f"@{war}")
            if _REFUSAL.search(pledge.text):
                # "Will not sell weapons to Russia": curbs on such exports are news of it too.
                clause.append(f"({_EXPORT_CURBS})")
            draft.parties.append(clause)


class TopicsNamed(Rule):
    """The topic sets the pledge touches, and the topics coverage of them also
    reports through (emissions: climate, coal, renewables)."""

    name = "topics named"
    example = "We will cut net migration | David Cameron -> ... AND (@migration OR ...)"

    def apply(self, pledge: PledgeParse, draft: Draft) -> None:
        related = _data()["subject"]["related"]
        nouns = {o for o in pledge.objects if o.isalpha()}
        for topic in pledge.topics:
            entries = {seq[0] for seq in aliases.expand(topic) if len(seq) == 1}
            if len({_noun(n) or n for n in nouns & entries}) >= 2:
                continue  # "artillery shells" say more than @weapons
            draft.subject.append(f"@{topic}")
            draft.subject += related.get(topic, [])
        if "ceasefire" in pledge.topics:
            draft.subject.append(_WAR_ENDING)


class ObjectNamed(Rule):
    """What the act is done to, in its singular and plural, and a distinctive
    act itself: "recruit 6,500 new teachers" is also found as "teachers"."""

    name = "object named"
    example = (
        "We will recruit 6,500 new teachers | Keir Starmer -> (teacher OR teachers OR recruit*)"
    )

    def apply(self, pledge: PledgeParse, draft: Draft) -> None:
        draft.subject += list(pledge.objects)


class ThingsNamed(Rule):
    """Proper names of what is pledged ("Chagos Islands", "Jal Jeevan") are
    what is pledged, and stand for the other party too. A name of two or more
    words, none of them generic ("Snowy 2.0", "Jal Jeevan Mission"), is the
    actor's own project: coverage that names it is about the actor."""

    name = "things named"
    example = (
        'The UK will hand the Chagos Islands to Mauritius | UK government -> ... "Chagos Islands"'
    )

    def apply(self, pledge: PledgeParse, draft: Draft) -> None:
        draft.subject += list(pledge.things)
        draft.bypass += list(pledge.things)
        generic = _words("subject", "generic") | _words("actors", "organisation")
        for thing in pledge.things:
            terms = _terms(thing)
            countries = {t for _, _, n, k in _find_sets(terms) if k != "topics" for t in [n]}
            if countries or any(is_generic(t) or t in generic for t in terms):
                continue
            # A short form of such a name ("Chagos" of "Chagos Islands", "Abrams"
            # of "M1 Abrams"), of a word no dictionary has, stands for it too.
            derived = any(thing in longer and thing != longer for longer in pledge.things)
            rare = len(terms) == 1 and len(terms[0]) >= 5 and not all_lemmas(terms[0])
            if len(terms) >= 2 or (rare and derived):
                draft.actor.append(thing)


class FiguresKept(Rule):
    """The pledge's figures are among what is pledged ("43%", "$50 billion":
    "50bn" too); when every topic is broad and nothing else names the pledge,
    a figure or the target year is required, or, for a body, the goal named
    after its summit ("the Wales goal")."""

    name = "figures kept"
    example = 'We will spend 0.7% of national income on aid | UK government -> ("0.7%" OR GNI ...)'

    def apply(self, pledge: PledgeParse, draft: Draft) -> None:
        sizes, named, years = _figures(pledge.text)
        broad = _data()["subject"]["broad_topics"]
        only_broad = all(t in broad for t in pledge.topics) and not pledge.objects
        if (sizes or years) and only_broad and not pledge.things and not _defence(pledge):
            goals = [f"{place} NEAR/3 {_GOAL_WORDS}" for place in _summit_places(pledge.actor)[:1]]
            if pledge.kind == BODY:
                goals += [m.group(0).lower() for m in _GOAL_NOUN.finditer(pledge.text)][:1]
            draft.required.append(sizes + years + goals)
            draft.subject = [s for s in draft.subject if s != "@funding"]
        else:
            # Amounts and durations name the pledge; a bare percentage is in too
            # much news, so it counts beside the pledge's object; a count keeps
            # its noun ("6,500 teachers").
            draft.subject += named
            percents = [s for s in sizes if s not in named and "%" in s]
            nouns = [o for o in pledge.objects if not o.endswith("*") and '"' not in o]
            if percents and nouns:
                draft.subject.append(f"({_group(percents)} AND {_group(nouns)})")
            draft.subject += [
                q for f in pledge.reading.figures if " " in f and "%" not in f and (q := _quote(f))
            ]
            # A count in thousands is distinctive on its own: "820,000".
            draft.subject += [
                f'"{m.group()}"'
                for m in re.finditer(r"(?<![\w.,])\d{1,3}(?:,\d{3})+(?![\d,])", pledge.text)
            ]


class DefenceSpending(Rule):
    """Money for the armed forces is found however coverage words it ("core
    military outlays"), its figures only beside defence words."""

    name = "defence spending"
    example = (
        "Germany will spend 2% of GDP on defence | Olaf Scholz -> ... (defence ... NEAR/4 spend*)"
    )

    def apply(self, pledge: PledgeParse, draft: Draft) -> None:
        if not _defence(pledge):
            return
        draft.subject = [s for s in draft.subject if s != "@funding"]
        # The country's own forces by name ("Bundeswehr" for Germany), from the data.
        forces = [f for name in pledge.side for f in _data()["armed_forces"].get(name, [])]
        words = _group(_DEFENCE + forces)
        draft.subject.append(f"{words} NEAR/4 {_SPENDING_WORDS}")
        sizes, _, _ = _figures(pledge.text)
        if sizes:
            draft.subject.append(f"({_group(sizes)} AND {words})")


class AgreementNames(Rule):
    """A named agreement is also reported as a pact, a deal or an accord."""

    name = "agreement names"
    example = '... under a ten-year security agreement -> "security pact" OR "security deal"'

    def apply(self, pledge: PledgeParse, draft: Draft) -> None:
        for m in _AGREEMENT.finditer(pledge.text):
            draft.subject += [
                f'"{m.group(1)} {alt}"' for alt in ("agreement", "pact", "deal", "accord")
            ]


class LegislationNews(Rule):
    """A pledge to legislate is also found through the bill on its subject."""

    name = "legislation news"
    example = (
        "We will pass new laws to stop small boats | Rishi Sunak -> ... (@migration AND bill ...)"
    )

    def apply(self, pledge: PledgeParse, draft: Draft) -> None:
        if not _LEGISLATION_PLEDGE.search(pledge.text):
            return
        wider = [f"@{b}" for t in pledge.topics for b in aliases.broader(t)] or [
            f"@{t}" for t in pledge.topics
        ]
        if wider:
            draft.subject.append(f"({_group(wider)} AND {_LEGISLATION_NEWS})")


class WordsWhenNothingElse(Rule):
    """With no topic, object, name or figure: the pledge's longest distinctive
    words (a pledge in another language, a rare subject)."""

    name = "distinctive words"
    example = "Vamos isentar do Imposto de Renda ... | Lula -> ... AND (isentar* OR ...)"

    def apply(self, pledge: PledgeParse, draft: Draft) -> None:
        english = bool(_ENGLISH.search(pledge.text))
        if (draft.subject and english) or draft.required:
            return
        used = {i for start, end, _, _ in pledge.found for i in range(start, end)}
        draft.subject += _distinctive(list(pledge.terms), used, 3)


class OtherSensesExcluded(Rule):
    """Well-known other senses of the pledge's topics and of the actor's words
    are left out (a drone light show, a regatta's small boats, the Amazon
    rainforest)."""

    name = "other senses excluded"
    example = (
        "Amazon will power its operations with renewable energy | Amazon -> ... AND NOT rainforest"
    )

    def apply(self, pledge: PledgeParse, draft: Draft) -> None:
        senses = _data()["senses"]
        related = _data()["subject"]["related"]
        keys = [
            *pledge.topics,
            *(r[1:] for t in pledge.topics for r in related.get(t, []) if r[:1] == "@"),
        ]
        keys += [s for s in pledge.side if pledge.kind == BODY]
        keys += [t for n in pledge.names for t in _terms(n)]
        draft.exclude += [s for key in keys for s in senses.get(key, [])]


class ReverseExcluded(Rule):
    """Something given "to" another party: the same thing given to the actor's
    side is the reverse (arms sold to China, for China's pledge not to sell)."""

    name = "reverse excluded"
    example = (
        'China will not sell weapons to Russia | Xi Jinping -> NOT (@weapons ONEAR/4 "to china")'
    )

    def apply(self, pledge: PledgeParse, draft: Draft) -> None:
        if not (
            pledge.side and pledge.topics and re.search(r"\bto\s+(?:the\s+)?[A-Z]", pledge.text)
        ):
            return
        if pledge.side[0] not in aliases.alias_names():
            return
        to_side = [
            f'"to {" ".join(seq)}"' for seq in aliases.expand(pledge.side[0]) if len(seq) <= 2
        ]
        topics = _group([f"@{t}" for t in pledge.topics])
        draft.exclude.append(f"({topics} ONEAR/4 {_group(to_side)})")


RULES: tuple[Rule, ...] = (
    ActorNamed(),
    OtherPartyRequired(),
    TopicsNamed(),
    ObjectNamed(),
    ThingsNamed(),
    DefenceSpending(),
    FiguresKept(),
    AgreementNames(),
    LegislationNews(),
    WordsWhenNothingElse(),
    OtherSensesExcluded(),
    ReverseExcluded(),
)


def _defence(pledge: PledgeParse) -> bool:
    return bool(_DEFENCE_MONEY.search(pledge.text)) and pledge.kind != BODY


def derive_query(text: str, actor: str, rules: tuple[Rule, ...] = RULES) -> str:
    """A query for evidence about the pledge ``text`` made by ``actor``."""
    pledge = parse_pledge(text, actor)
    draft = Draft()
    for rule in rules:
        rule.apply(pledge, draft)
    actor_clause = _unique([a for a in draft.actor if a])
    subject = _unique([s for s in draft.subject if s])
    core = [_group(c) for c in draft.parties if c]
    if subject:
        core.append(_group(subject))
    clauses: list[str] = []
    if actor_clause:
        clauses.append(_group(actor_clause))
    if core:
        together = " AND ".join(core)
        bypass = [b for b in _unique(draft.bypass) if b]
        if bypass and draft.parties:
            together = (
                f"(({together}) OR {_group(bypass)})"
                if len(core) > 1
                else (f"({together} OR {_group(bypass)})")
            )
        clauses.append(together)
    clauses += [_group(r) for r in draft.required if r]
    if not clauses:
        fallback = _quote(" ".join(pledge.terms[:12]) or " ".join(_terms(actor)[:12]))
        if not fallback:
            raise ValidationError("text", "has no words to derive a query from; give it a query")
        return fallback
    if len(clauses) == 1 and not actor_clause:
        # A topic alone is never the whole query: the text's own words must stand with it.
        words = _distinctive(list(pledge.terms), set(), 2)
        if words:
            clauses.append(_group(words))
    query = " AND ".join(clauses)
    exclude = _unique(draft.exclude)
    senses = [e for e in exclude if not e.startswith("(")]
    if senses:
        query += f" AND NOT {_group(senses)}"
    for reverse in (e for e in exclude if e.startswith("(")):
        query += f" AND NOT {reverse}"
    return query


def actor_side(text: str, actor: str) -> list[str]:
    """The alias sets of the pledge's own side: the actor's country or body, and
    the pledge's subject when it is a country ("China will not ..." by Xi Jinping)."""
    return list(parse_pledge(text, actor).side)


def _group(items: list[str]) -> str:
    items = list(dict.fromkeys(items))
    return items[0] if len(items) == 1 else "(" + " OR ".join(items) + ")"
