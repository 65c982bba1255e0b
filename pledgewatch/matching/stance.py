"""Stance cues: does one evidence item suggest its pledge is being kept or broken?

The sweep has matched an article to a pledge; ``suggest_stance`` reads the
title and the sentences that matched and suggests ``kept``, ``broken`` or
``neutral``, with one short reason naming the words it went by, so an editor
can check it at a glance. It only suggests: the editor confirms or overrides.

The vocabulary is data (``pledgewatch/data/stance.toml``, read by
``lexicon()``); this module is the mechanism, over the analyser's tokens, so
"won’t", "didn't" and "DIDN'T" read alike:

1. The pledge is read once (``reading.read_pledge``): its act ("sell",
   "build"), whether it rules the act out, what the act is done to, and
   whether it wants less of that ("cut the deficit").
2. Each clause of each sentence is matched against the cue groups; the
   longest cue wins a word, and the pledge's own act is a cue of its own
   ("recruited" for a pledge to recruit). A group votes kept or broken
   depending on the pledge's polarity: "halted" is bad news for a pledge
   to supply and good news for a pledge not to.
3. Scopes, as NegEx has them, change a cue's vote: a negation before it in
   its clause turns it round ("did not deliver"), and so does a cue of a
   negating group ("failed to deliver"); an undoing before a stop makes it
   a resumption ("lifts the pause"); a hedge ("may", "plans to"), a
   restatement ("vowed to", "reaffirmed") or background ("despite the
   ban") cancels it; the actor's own claim ("insists it is on track")
   cancels a kept vote only.
4. Objects: a cue right after a governing cue is what it governs ("halts
   aid deliveries"); a step whose object is a commitment is a promise, not
   the act ("approves a plan"); a step of something pledges want less of is
   news against ("approves new coal plants"), and a stop of it news for.
5. Trends vote by what moves, the nearest wanted or unwanted word, or else
   the pledge's own object: emissions falling is good news for a pledge to
   cut them, aid falling bad news for a pledge to give it.
6. Title cues count ``title_weight`` times. More kept votes: kept; more
   broken: broken; a tie or none: neutral.

``Lexicon`` can be built without an entry, a group or a scope, which is how
``bench/stance_ablation.py`` measures what each carries.

May import pledgewatch.matching.analysis, .reading and .inflect.
"""

from __future__ import annotations

import functools
import itertools
import re
import tomllib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from importlib import resources
from typing import Any

from pledgewatch.matching.analysis import analyse, plain
from pledgewatch.matching.inflect import all_inflections, all_lemmas
from pledgewatch.matching.reading import Reading, read_pledge

KEPT, BROKEN, NEUTRAL = "kept", "broken", "neutral"
POSITIVE, NEGATIVE = "positive", "negative"
GAP, NUMBER = "...", "#"
_GAP_WORDS = 3
_NUMBER_WORDS = frozenset(
    "one two three four five six seven eight nine ten eleven twelve fifteen twenty thirty forty "
    "fifty hundred thousand million billion half third quarter".split()
)
_BE = frozenset("is are was were be been being remain remains remained stay stays".split())
# Clause breaks that the analyser does not keep.
_CLAUSE = re.compile(r"(?<!\d),|,(?!\d)|[;:()\[\]\u2014\u2013]|\s-\s|\s--\s")


@dataclass(frozen=True)
class Stance:
    """A suggested stance and the one-line reason shown to the editor."""

    label: str  # "kept" | "broken" | "neutral"
    reason: str  # e.g. 'reports the ruled-out act ("supplied", "components")'


# --- the lexicon ----------------------------------------------------------------

Pattern = tuple[str, ...]  # analysed terms, GAP and NUMBER


@dataclass(frozen=True)
class Cue:
    group: str
    text: str  # as written in the lexicon
    example: str
    patterns: tuple[Pattern, ...]


@dataclass(frozen=True)
class Group:
    name: str
    positive: str | None  # the vote of a plain cue for a positive pledge, None for none
    negative: str | None
    cues: tuple[Cue, ...]
    says: dict[str, str]
    pledge: dict[str, str]  # an example pledge of each polarity, for the tests
    trend: str | None = None  # "up" or "down"
    hedged: bool = True
    negates: bool = False
    governs: bool = False
    commitment: bool = False
    objects: bool = False
    meeting: bool = False
    qualifies: bool = False
    goal_named: bool = False


@dataclass(frozen=True)
class Scope:
    name: str
    triggers: tuple[Pattern, ...]
    pseudo: tuple[Pattern, ...]
    terminators: frozenset[str]
    window: int
    cancels: tuple[str, ...] = (KEPT, BROKEN)


@dataclass(frozen=True, eq=False)  # hashed by identity: caches key on it
class Lexicon:
    groups: tuple[Group, ...]
    scopes: dict[str, Scope]
    words: dict[str, frozenset[str]]
    settings: dict[str, int]
    # Mechanisms that are code, not entries, named so they can be ablated.
    off: frozenset[str] = field(default_factory=frozenset)

    def without_cue(self, group: str, text: str) -> Lexicon:
        groups = tuple(
            replace(g, cues=tuple(c for c in g.cues if c.text != text)) if g.name == group else g
            for g in self.groups
        )
        return replace(self, groups=groups)

    def without_group(self, name: str) -> Lexicon:
        return replace(self, groups=tuple(g for g in self.groups if g.name != name))

    def without(self, mechanism: str) -> Lexicon:
        """Without a scope ("negation") or a mechanism: "own act", "objects",
        "commitment", "governs", "title weight", "pledge object"."""
        if mechanism in self.scopes:
            return replace(self, scopes={k: v for k, v in self.scopes.items() if k != mechanism})
        return replace(self, off=self.off | {mechanism})

    def cue_count(self) -> int:
        return sum(len(g.cues) for g in self.groups)


MECHANISMS = (
    "own act",
    "objects",
    "commitment",
    "governs",
    "qualifies",
    "questions",
    "restated headline",
    "title weight",
    "pledge object",
)


def _terms(text: str) -> Pattern:
    """The analysed terms of a phrase, keeping GAP and NUMBER markers."""
    out: list[str] = []
    for word in text.split():
        if word in (GAP, NUMBER):
            out.append(word)
        else:
            out.extend(_primary(analyse(word)))
    return tuple(out)


def _primary(tokens: Iterable[Any]) -> list[str]:
    """One term per position: a stacked form ("uturn" of "u-turn") is left out."""
    seen: set[int] = set()
    terms = []
    for token in tokens:
        if token.position not in seen:
            seen.add(token.position)
            terms.append(token.term)
    return terms


def inflections(word: str) -> tuple[str, ...]:
    """``word`` and its inflections as lemminflect has them (verbs and nouns)."""
    forms = {word}
    for found in all_inflections(word).values():
        forms.update(found)
    return tuple(sorted(forms))


_NOT_INFLECTED = frozenset("a an the of to in on for by up down out off back over with".split())


def _cue_patterns(text: str, exact: bool) -> tuple[Pattern, ...]:
    """A cue's term sequences: every inflection of each of its words (but
    function words and markers), unless it is exact."""
    choices = [
        (word,) if exact or word in (GAP, NUMBER) or word in _NOT_INFLECTED else inflections(word)
        for word in text.split()
    ]
    patterns = {_terms(" ".join(words)) for words in itertools.product(*choices)}
    return tuple(sorted(p for p in patterns if p))


def _phrases(items: Iterable[str]) -> tuple[Pattern, ...]:
    return tuple(p for p in (_terms(item) for item in items) if p)


def _inflected(items: Iterable[str]) -> tuple[Pattern, ...]:
    return tuple(p for item in items for p in _cue_patterns(plain(item), exact=False))


def _vote(value: str | None) -> str | None:
    return value if value in (KEPT, BROKEN) else None


@functools.cache
def lexicon() -> Lexicon:
    """The lexicon shipped in the package."""
    text = resources.files("pledgewatch").joinpath("data/stance.toml").read_text("utf-8")
    return parse_lexicon(tomllib.loads(text))


def parse_lexicon(data: dict[str, Any]) -> Lexicon:
    groups = []
    for g in data["groups"]:
        cues = tuple(
            Cue(
                g["name"],
                c["cue"],
                c["example"],
                _cue_patterns(plain(c["cue"]), c.get("exact", False)),
            )
            for c in g["cues"]
        )
        groups.append(
            Group(
                name=g["name"],
                positive=_vote(g.get("positive")),
                negative=_vote(g.get("negative")),
                cues=cues,
                says=g["says"],
                pledge=g["pledge"],
                trend=g.get("trend"),
                hedged=g.get("hedged", True),
                negates=g.get("negates", False),
                governs=g.get("governs", False),
                commitment=g.get("commitment", False),
                objects=g.get("objects", False),
                meeting=g.get("meeting", False),
                qualifies=g.get("qualifies", False),
                goal_named=g.get("goal_named", False),
            )
        )
    scopes = {
        name: Scope(
            name,
            _inflected(s["triggers"]) if s.get("inflect") else _phrases(s["triggers"]),
            _phrases(s.get("pseudo", ())),
            frozenset(s.get("terminators", ())),
            s["window"],
            tuple(s.get("cancels", (KEPT, BROKEN))),
        )
        for name, s in data["scopes"].items()
    }
    words = {
        name: frozenset(t for item in items for t in _terms(plain(item)))
        for name, items in data["words"].items()
    }
    return Lexicon(tuple(groups), scopes, words, dict(data["settings"]))


# --- pledge polarity ------------------------------------------------------------


def pledge_polarity(pledge_text: str) -> str:
    """ "negative" for a pledge that rules its act out ("will not sell", "never
    raise"), else "positive"; a pledge to stop or ban something is a positive
    pledge of that act."""
    return NEGATIVE if read_pledge(pledge_text).negative else POSITIVE


# --- matching -------------------------------------------------------------------


@dataclass
class _Hit:
    group: Group | None  # None: the pledge's own act
    cue: str
    start: int
    end: int  # exclusive
    vote: str | None = None
    negator: str = ""
    said: str = ""  # the words as the text has them: "missed its target"
    applies: bool = True  # False: the cue says nothing about such a pledge


def _match_at(terms: Sequence[str], i: int, pattern: Pattern) -> int | None:
    """The end of ``pattern`` matched at ``terms[i]``, or None."""
    j = i
    for k, part in enumerate(pattern):
        if part == GAP:
            nxt = pattern[k + 1] if k + 1 < len(pattern) else None
            for skip in range(_GAP_WORDS + 1):
                if nxt is not None and j + skip < len(terms) and _part(terms[j + skip], nxt):
                    j += skip
                    break
            else:
                return None
            continue
        if j >= len(terms) or not _part(terms[j], part):
            return None
        j += 1
    return j


def _part(term: str, part: str) -> bool:
    if part == NUMBER:
        if term[:1].isdigit():
            return not term.endswith(("st", "nd", "rd", "th"))  # "3rd" is a rank
        return term in _NUMBER_WORDS
    return term == part


@functools.cache
def _index(lex: Lexicon) -> dict[str, list[tuple[Pattern, int, Cue]]]:
    table: dict[str, list[tuple[Pattern, int, Cue]]] = {}
    for order, group in enumerate(lex.groups):
        for cue in group.cues:
            for pattern in cue.patterns:
                table.setdefault(pattern[0], []).append((pattern, order, cue))
    return table


@functools.cache
def _by_first(patterns: tuple[Pattern, ...]) -> dict[str, tuple[Pattern, ...]]:
    """Patterns by their first term, so a clause is scanned once per word."""
    table: dict[str, list[Pattern]] = {}
    for pattern in patterns:
        table.setdefault(pattern[0], []).append(pattern)
    return {first: tuple(found) for first, found in table.items()}


def _find(terms: Sequence[str], patterns: tuple[Pattern, ...]) -> list[tuple[int, int]]:
    """Every (start, end) where one of ``patterns`` matches in ``terms``."""
    table = _by_first(patterns)
    spans = []
    for i, term in enumerate(terms):
        for pattern in table.get(term, ()):
            end = _match_at(terms, i, pattern)
            if end is not None:
                spans.append((i, end))
    return spans


@dataclass(frozen=True)
class _Pledge:
    reading: Reading
    polarity: str
    act_patterns: tuple[Pattern, ...]
    object_terms: frozenset[str]
    meets: bool


@functools.cache
def _pledge(text: str, lex: Lexicon) -> _Pledge:
    reading = read_pledge(text)
    act = reading.act
    act_patterns: tuple[Pattern, ...] = ()
    if act and act not in lex.words.get("light_acts", frozenset()) and "own act" not in lex.off:
        # Not the "-ing" form: "aid spending", "housebuilding" name a thing, not the act done.
        forms = {
            act,
            *(
                f
                for tag, found in all_inflections(act, upos="VERB").items()
                if tag != "VBG"
                for f in found
            ),
        }
        # A form with no term the analyser keeps (a modifier letter) is no pattern.
        act_patterns = tuple(sorted({_terms(form) for form in forms} - {()}))
    objects = frozenset(
        t
        for word in reading.object
        for form in (word, *all_inflections(word, upos="NOUN").get("NNS", ()))
        for t in _terms(form)
        if len(t) > 2
    ) | frozenset(
        lemma
        for word in reading.object
        for lemma in all_lemmas(word, upos="NOUN").get("NOUN", ())
        if len(lemma) > 2
    )
    meets = act in lex.words.get("meeting_acts", frozenset())
    return _Pledge(
        reading, NEGATIVE if reading.negative else POSITIVE, act_patterns, objects, meets
    )


_ASIDE_STARTS = frozenset("including such notably especially so".split())


def _clauses(text: str) -> list[list[str]]:
    """The clauses of a sentence as term lists. An aside between commas
    ("has not, so far, delivered"; "shipments, including those in transit,
    were paused") is left out and the clause around it joined again."""
    pieces = [terms for piece in _CLAUSE.split(text) if (terms := _primary(analyse(piece)))]
    clauses: list[list[str]] = []
    i = 0
    while i < len(pieces):
        piece = pieces[i]
        aside = i + 1 < len(pieces) and clauses and (len(piece) <= 2 or piece[0] in _ASIDE_STARTS)
        if aside and len(pieces[i + 1]) > 1:
            clauses[-1] = clauses[-1] + pieces[i + 1]
            i += 2
            continue
        clauses.append(piece)
        i += 1
    return clauses


def _hits(terms: Sequence[str], pledge: _Pledge, lex: Lexicon) -> list[_Hit]:
    """The cues of one clause: longest first, then in group order; the pledge's
    own act before any group."""
    index = _index(lex)
    candidates: list[tuple[int, int, int, _Hit]] = []
    for i, term in enumerate(terms):
        for pattern in pledge.act_patterns:
            end = _match_at(terms, i, pattern)
            if end is not None:
                candidates.append((-(end - i), -1, i, _Hit(None, pattern[0], i, end)))
        for pattern, order, cue in index.get(term, ()):
            end = _match_at(terms, i, pattern)
            if end is not None:
                group = lex.groups[order]
                candidates.append((-(end - i), order, i, _Hit(group, cue.text, i, end)))
    taken = [False] * len(terms)
    chosen: list[_Hit] = []
    for _, _, _, hit in sorted(candidates, key=lambda c: (c[0], c[1], c[2])):
        if not any(taken[hit.start : hit.end]):
            for k in range(hit.start, hit.end):
                taken[k] = True
            chosen.append(hit)
    for hit in chosen:
        hit.said = " ".join(terms[hit.start : hit.end])
    return sorted(chosen, key=lambda h: h.start)


def _triggers(
    terms: Sequence[str], scope: Scope | None, taken: Sequence[bool]
) -> list[tuple[int, int]]:
    """Where ``scope``'s triggers stand in a clause (not inside a cue or a pseudo-trigger)."""
    if scope is None:
        return []
    pseudo = [span for span in _find(terms, scope.pseudo)]
    found = []
    for start, end in _find(terms, scope.triggers):
        if any(taken[start:end]):
            continue
        if any(p0 <= start and end <= p1 for p0, p1 in pseudo):
            continue
        found.append((start, end))
    return found


def _in_scope(
    terms: Sequence[str], triggers: list[tuple[int, int]], scope: Scope | None, at: int
) -> tuple[int, int] | None:
    """The trigger whose scope reaches position ``at``, if any."""
    if scope is None:
        return None
    best = None
    for start, end in triggers:
        if end <= at and at - end < scope.window:
            between = terms[end:at]
            if not any(word in scope.terminators for word in between):
                best = (start, end)
    return best


def _near(terms: Sequence[str], start: int, end: int, before: int, after: int) -> list[str]:
    return list(terms[max(0, start - before) : start]) + list(terms[end : end + after])


def _clause_votes(
    terms: Sequence[str], pledge: _Pledge, lex: Lexicon, restated: bool, claimed: bool
) -> tuple[list[_Hit], bool, bool]:
    """The cues of one clause with their votes; and whether a restatement or a
    claim begins in it and so reaches the clauses after it."""
    hits = _hits(terms, pledge, lex)
    taken = [False] * len(terms)
    for hit in hits:
        for k in range(hit.start, hit.end):
            taken[k] = True
    scopes = lex.scopes
    found = {name: _triggers(terms, scope, taken) for name, scope in scopes.items()}
    words = lex.words
    bad = set(words.get("bad", ()))
    good = set(words.get("good", ()))
    other = set(words.get("other", ()))
    reducing = words.get("reducing", frozenset())
    if "pledge object" not in lex.off:
        (bad if pledge.reading.wants_less else good).update(pledge.object_terms)
        (good if pledge.reading.wants_less else bad).difference_update(pledge.object_terms)
    # Something reduced or stopped in the clause: "law to end deforestation".
    down_here = any(
        (h.group is not None and (h.group.trend == "down" or h.group.name == "stopped"))
        or (h.group is None and pledge.reading.wants_less)
        for h in hits
    )

    def unwanted(span_words: Sequence[str]) -> bool:
        return any(w in bad for w in span_words) and not any(w in reducing for w in span_words)

    governed: set[int] = set()
    if "governs" not in lex.off:
        for hit in hits:
            if hit.group is None or not hit.group.governs:
                continue
            for other_hit in hits:
                if other_hit is hit:
                    continue
                gap = other_hit.start - hit.end
                if 0 <= gap < lex.settings["governed_window"]:
                    governed.add(id(other_hit))  # "halts aid deliveries"
                back = hit.start - other_hit.end
                between = terms[other_hit.end : hit.start]
                step = other_hit.group is None or other_hit.group.objects
                if 0 <= back < lex.settings["object_window"] and step:
                    governed.add(
                        id(other_hit)
                    )  # "announces export controls", "signs order to quit"
                elif 0 <= back <= 5 and any(w in _BE for w in between):
                    governed.add(id(other_hit))  # "deliveries are on hold"
    negating = [(h.start, h.end) for h in hits if h.group is not None and h.group.negates]
    restate_here = claim_here = False
    for hit in hits:
        group = hit.group
        if id(hit) in governed:
            continue
        if group is None:  # the pledge's own act
            vote: str | None = KEPT if pledge.polarity == POSITIVE else BROKEN
            # A pledge to cut something is kept by cutting it: its object is no step.
            hedged, commitment, objects = True, True, not pledge.reading.wants_less
        elif group.trend:
            if any(w in words.get("goal", ()) for w in terms[hit.end : hit.end + 2]):
                continue  # "the emissions-cut goal": a name, not a trend
            valence = _valence(terms, hit, bad, good, other, lex.settings["valence_window"])
            if valence is None:
                valence = "bad" if pledge.reading.wants_less else "good"
            if valence == "other":
                continue
            vote = KEPT if (group.trend == "up") == (valence == "good") else BROKEN
            minimiser = scopes.get("minimiser")
            if _in_scope(terms, found.get("minimiser", []), minimiser, hit.start):
                vote = BROKEN if vote == KEPT else KEPT  # "barely fell": too little of it
            hedged, commitment, objects = group.hedged, False, False
        else:
            if group.meeting and not pledge.meets:
                hit.applies = False
                continue
            vote = group.positive if pledge.polarity == POSITIVE else group.negative
            hedged, commitment, objects = group.hedged, group.commitment, group.objects
            after = terms[hit.end : hit.end + lex.settings["object_window"]]
            if group.name == "stopped" and "objects" not in lex.off and unwanted(after):
                vote = KEPT  # a stop of something pledges want less of is the promised act
        if vote is None:
            hit.applies = False
            continue
        if (
            group is not None
            and not group.trend
            and any(w in other for w in terms[max(0, hit.start - 2) : hit.start])
        ):
            hit.applies = False  # "the economy froze": not what the pledge is about
            continue
        if group is None and _refused(terms, hit.start):
            # "Will not eliminate child poverty": the pledged act refused; for a
            # pledge that rules its act out, the pledge said again.
            if pledge.polarity == POSITIVE:
                hit.vote, hit.negator = BROKEN, " ".join(terms[max(0, hit.start - 2) : hit.start])
            continue
        around = _near(terms, hit.start, hit.end, 3, lex.settings["object_window"])
        if objects and "objects" not in lex.off and unwanted(around) and not down_here:
            vote = BROKEN  # "approves new coal plants", "crossings reach 13,400"
        if commitment and "commitment" not in lex.off:
            commitments = words.get("commitment", frozenset()) - pledge.object_terms
            reach = lex.settings["object_window"]
            near = [
                *terms[max(0, hit.start - reach) : hit.start],
                *terms[hit.end : hit.end + reach],
            ]
            if any(w in commitments for w in near):
                continue  # "approves a plan", "talks begin": a promise, not the act
        negator = _in_scope(terms, found.get("negation", []), scopes.get("negation"), hit.start)
        negated_by = [
            (s, e)
            for s, e in negating
            if e <= hit.start
            and hit.start - e < 4
            and not (group and (group.negates or group.qualifies))
        ]
        if negator is not None or negated_by:
            start, end = negator or negated_by[-1]
            hit.negator = " ".join(terms[start:end])
            vote = BROKEN if vote == KEPT else KEPT
        if group is not None and group.name == "stopped":
            undo = _in_scope(terms, found.get("undoing", []), scopes.get("undoing"), hit.start)
            if undo is not None:
                hit.negator = " ".join(terms[undo[0] : undo[1]])
                vote = BROKEN if vote == KEPT else KEPT
        if _in_scope(terms, found.get("background", []), scopes.get("background"), hit.start):
            continue
        hedge = _in_scope(terms, found.get("hedge", []), scopes.get("hedge"), hit.start)
        # "Will not be reached": a kept cue negated and forecast is a failure.
        forecast = hedge is not None and terms[hedge[0] : hedge[1]] in (["will"], ["would"])
        if hedged and hedge is not None and not (forecast and hit.negator and vote == BROKEN):
            continue
        infinitive = scopes.get("infinitive")
        if hedged and _in_scope(terms, found.get("infinitive", []), infinitive, hit.start):
            continue
        goal = scopes.get("goal")
        if (group is None or group.trend or group.goal_named) and goal is not None:
            named = _in_scope(terms, found.get("goal", []), goal, hit.start)
            behind = any(s == hit.end for s, _ in found.get("goal", []))
            if named or behind:
                continue  # "targets 400,000 homes", "a 46% cut goal": the goal named
        restatement = scopes.get("restatement")
        # A failure after a restatement is still a finding: "its promise falls short".
        finding = group is not None and not group.hedged and vote == BROKEN
        if (
            restatement
            and vote in restatement.cancels
            and not finding
            and (restated or _in_scope(terms, found.get("restatement", []), restatement, hit.start))
        ):
            continue
        claim = scopes.get("claim")
        if (
            claim
            and vote in claim.cancels
            and (claimed or _in_scope(terms, found.get("claim", []), claim, hit.start))
        ):
            continue
        hit.vote = vote
    if pledge.polarity == NEGATIVE and "objects" not in lex.off:
        # "Drops plan to raise income tax", "MPs vote to drop the bill": the ruled-out
        # act failing or stopped is the pledge kept.
        own = [h for h in hits if h.group is None] + [
            h for h in hits if h.group is not None and not h.group.trend
        ]
        for hit in hits:
            if hit.group is None or hit.group.name not in ("failure", "stopped"):
                continue
            after = terms[hit.end : hit.end + 6]
            promised = any(w in words.get("promise", ()) for w in after)  # "violates the pledge"
            acted = any(h.group is None and 0 <= h.start - hit.end < 6 for h in own)
            if acted or (not promised and any(w in pledge.object_terms for w in after)):
                hit.vote = KEPT
    for name in ("restatement", "claim"):
        scope = scopes.get(name)
        if scope is None:
            continue
        for _start, end in found.get(name, []):
            # A restatement or a claim reaches the next clauses of its sentence,
            # up to a terminator.
            rest = terms[end:]
            if not any(word in scope.terminators for word in rest):
                if name == "restatement":
                    restate_here = True
                else:
                    claim_here = True
    return hits, restate_here, claim_here


_REFUSED = (("will", "not"), ("wont",), ("would", "not"), ("wouldnt",), ("shall", "not"))


def _refused(terms: Sequence[str], at: int) -> bool:
    before = tuple(terms[max(0, at - 2) : at])
    return any(before[-len(r) :] == r for r in _REFUSED)


def _valence(
    terms: Sequence[str],
    hit: _Hit,
    bad: set[str],
    good: set[str],
    other: set[str],
    window: int,
) -> str | None:
    """What the nearest thing a trend is about means: "good", "bad", "other" or None."""
    best: tuple[int, str] | None = None
    for k in range(max(0, hit.start - window), min(len(terms), hit.end + window)):
        if hit.start <= k < hit.end:
            continue
        word = terms[k]
        kind = (
            "bad" if word in bad else "good" if word in good else "other" if word in other else None
        )
        if kind is None:
            continue
        distance = hit.start - k if k < hit.start else k - hit.end + 1
        if best is None or distance < best[0]:
            best = (distance, kind)
    return best[1] if best else None


def _sentence_votes(text: str, pledge: _Pledge, lex: Lexicon) -> list[_Hit]:
    hits = _clause_hits(text, pledge, lex)
    if "qualifies" not in lex.off:
        qualified = {h.vote for h in hits if h.group is not None and h.group.qualifies and h.vote}
        if len(qualified) == 1:
            # "Only 180,000 homes were completed", "on course for 40%, short of the
            # goal": the shortfall is the sentence's finding.
            (kept_or_broken,) = qualified
            for hit in hits:
                if hit.vote is not None and hit.vote != kept_or_broken:
                    hit.vote = None
    return hits


def _clause_hits(text: str, pledge: _Pledge, lex: Lexicon) -> list[_Hit]:
    hits: list[_Hit] = []
    restated = claimed = False
    asks = text.rstrip().endswith("?") and "questions" not in lex.off
    for terms in _clauses(text):
        found, restate_here, claim_here = _clause_votes(terms, pledge, lex, restated, claimed)
        if asks:  # "Will the homes be built?": a question finds nothing
            for hit in found:
                hit.vote = None
        hits.extend(found)
        restated = restated or restate_here
        claimed = claimed or claim_here
    return hits


def _quoted(hits: Sequence[_Hit], limit: int = 3) -> str:
    seen: list[str] = []
    for hit in hits:
        said = hit.said or hit.cue
        text = f"{hit.negator} {said}".strip() if hit.negator else said
        if text not in seen:
            seen.append(text)
    return ", ".join(f'"{text}"' for text in seen[:limit])


def cues_in(
    pledge_text: str, text: str, lex: Lexicon | None = None
) -> list[tuple[str, str, str | None]]:
    """(group, cue, vote) for each cue found in ``text`` for a pledge; "act" is
    the pledge's own act. For tests and for explaining a suggestion."""
    lex = lex or lexicon()
    pledge = _pledge(plain(pledge_text, lower=False), lex)
    return [
        (hit.group.name if hit.group else "act", hit.cue, hit.vote)
        for hit in _sentence_votes(plain(text), pledge, lex)
    ]


def suggest_stance(
    pledge_text: str, title: str, sentences: Sequence[str], lex: Lexicon | None = None
) -> Stance:
    """Suggest whether an evidence item points to its pledge being kept or broken.

    ``sentences`` are the article sentences that matched the pledge's query;
    the title may be among them and is then counted once, as the title."""
    lex = lex or lexicon()
    pledge = _pledge(plain(pledge_text, lower=False), lex)
    title_key = plain(title.strip())
    bodies = [plain(s.strip()) for s in sentences]
    weight = 1 if "title weight" in lex.off else lex.settings["title_weight"]
    texts = [(title_key, weight)] + [(s, 1) for s in bodies if s and s != title_key]
    score = {KEPT: 0, BROKEN: 0}
    voted: list[tuple[_Hit, int]] = []
    every: list[_Hit] = []
    for number, (text, w) in enumerate(texts):
        if not text:
            continue
        if (
            number == 1
            and not voted
            and "restated headline" not in lex.off
            and _silent(title_key, lex)
        ):
            # "Johnson promises 40 new hospitals": a headline that says the pledge again,
            # hedges it or asks, with no finding of its own, is what the item is.
            break
        for hit in _sentence_votes(text, pledge, lex):
            every.append(hit)
            if hit.vote is not None:
                score[hit.vote] += w
                voted.append((hit, w))
    if score[KEPT] == score[BROKEN]:
        return Stance(NEUTRAL, _neutral_reason(voted, every))
    label = KEPT if score[KEPT] > score[BROKEN] else BROKEN
    winners = [(hit, w) for hit, w in voted if hit.vote == label]
    weight_by_group: dict[str, int] = {}
    for hit, w in winners:
        name = hit.group.name if hit.group else "act"
        weight_by_group[name] = weight_by_group.get(name, 0) + w
    top = max(weight_by_group, key=lambda name: weight_by_group[name])
    says = _says(top, label, lex, pledge)
    return Stance(label, f"{says} ({_quoted([hit for hit, _ in winners])})")


def _silent(title: str, lex: Lexicon) -> bool:
    """Whether a headline restates the pledge, hedges or asks."""
    return title.endswith("?") or _restates(title, lex, ("restatement", "hedge"))


def _restates(title: str, lex: Lexicon, names: tuple[str, ...]) -> bool:
    """Whether a headline holds a trigger of one of the scopes ``names``."""
    scopes = [lex.scopes[name] for name in names if name in lex.scopes]
    return any(_find(terms, scope.triggers) for terms in _clauses(title) for scope in scopes)


def _says(group_name: str, label: str, lex: Lexicon, pledge: _Pledge) -> str:
    if group_name == "act":
        if pledge.polarity == POSITIVE:
            return (
                "reports the promised act" if label == KEPT else "reports the promised act not done"
            )
        return (
            "reports the ruled-out act" if label == BROKEN else "reports the ruled-out act not done"
        )
    for group in lex.groups:
        if group.name == group_name:
            return group.says.get(label, f"{label} cues")
    return f"{label} cues"


def _neutral_reason(voted: Sequence[tuple[_Hit, int]], every: Sequence[_Hit]) -> str:
    kept = [hit for hit, _ in voted if hit.vote == KEPT]
    broken = [hit for hit, _ in voted if hit.vote == BROKEN]
    if kept and broken:
        return f"mixed cues: kept ({_quoted(kept, 2)}) vs broken ({_quoted(broken, 2)})"
    silent = [hit for hit in every if hit.vote is None and hit.applies]
    if silent:
        return f"hedged or restated, no finding ({_quoted(silent)})"
    return "no cue of progress or failure"
