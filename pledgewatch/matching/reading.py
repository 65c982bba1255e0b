"""How a pledge reads: its act, what the act is done to, its figures and deadline.

One reading of a pledge serves both derivation (what coverage of it must
mention) and stance (what news of it happening, or not, looks like):

    "Japan will raise defence spending to 2% of GDP by 2027."
    act "raise", object ("defence", "spending"), figures ("2%",), deadline 2027

- The act is the first verb after the pledge's modal ("will", "shall",
  "would", "to" after a pledging verb, "'ll"), skipping adverbs and the
  negation; its lemma comes from lemminflect, so "recruits", "recruited"
  and "recruiting" are the same act. "Will be carbon negative": the act is
  "be" and the object its complement.
- ``negative``: the pledge rules its act out ("will not sell", "never",
  "rules out"). A pledge to stop, ban or end something is a positive pledge
  of that act, which ``wants_less`` of its object.
- The object: the content words after the act, up to where the
  counterparty, the deadline or the figure's measure starts.
- Figures: percentages, amounts, counts and the target year, as written.

Pure and cheap: plain strings in, a frozen value out; English pledges are
read, others get only their figures and deadline.

May import pledgewatch.matching.analysis and .inflect.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass

from pledgewatch.matching.analysis import plain
from pledgewatch.matching.inflect import all_lemmas
from pledgewatch.matching.inflect import lemma as verb_lemma

# Where the act starts: after one of these.
_MODAL = re.compile(
    r"\b(?:will|shall|would|must|won't|wouldn't|shan't|mustn't|'ll|going to|is to|are to"
    r"|(?:pledg|promis|vow|commit|aim|plan|intend|seek|want|hop|agre|decid|undertak|resolv)\w*"
    r"(?: itself| themselves)? to)\s+",
)
_NEGATION = re.compile(
    r"\b(?:not|never|no longer|no more)\b|n't\b|\brule[sd]? out\b|\bruling out\b|\brefuse[sd]? to\b"
)
_SKIP = frozenset(
    "also all both further then still now soon finally together jointly continue not never "
    "help seek aim try work ensure to".split()
)
# The act's object ends where one of these begins.
_OBJECT_END = frozenset(
    "by before until within in to from for on at with against over under per than "
    "but which that who so as after during through across into while whilst towards toward "
    "under".split()
)
# Acts whose object says little without what follows it: "make changes to ...".
_LIGHT_ACTS = frozenset("make take have give do put".split())
# What a pledge that wants less of its object does.
REDUCING = frozenset(
    "cut reduce halve lower end eliminate stop ban phase curb limit cap abolish scrap "
    "remove tackle slash decrease shrink close".split()
)
_FUNCTION = frozenset(
    "a an the its their his her our my your this that these those all any every each some "
    "new more most least only own such about some first one two three four five six seven "
    "eight nine ten hundred thousand million billion trillion them it they and or both any "
    "of".split()
)
_PERCENT = re.compile(r"(?<![\w.])\d+(?:\.\d+)?(?:\s*-\s*\d+(?:\.\d+)?)?\s*(?:%|per ?cent\b)")
_AMOUNT = re.compile(
    r"(?<![\w.,])((?:[$€£¥₹]|r\$)\s*)?(\d{1,3}(?:,\d{3})+(?:\.\d+)?|\d+(?:\.\d+)?)(?![\d,]\d)"
    r"(?:\s*(trillion|billion|million|crore|lakh|bn|tn|m|mil)\b)?"
    r"(?:\s+(?:new|more|additional|extra|of)\b)*(?:\s+([a-z][\w-]*))?"
)
_MONTHS = frozenset(
    "january february march april may june july august september october november december".split()
)
_YEAR = re.compile(
    r"\b(?:by|before|until)\s+(?:the end of |fiscal |spring |summer |autumn |winter )?"
    r"((?:19|20)\d\d)\b"
)
_IN_YEAR = re.compile(r"\b(?:in|from)\s+((?:19|20)\d\d)\b(?! levels)")
_BARE_YEAR = re.compile(r"^(?:19|20)\d\d$")


@dataclass(frozen=True)
class Reading:
    """A pledge, read. Words are lower-case, as ``plain`` gives them."""

    text: str  # the pledge in plain form, lower-cased
    act: str | None  # lemma of the pledged verb: "raise", "sell", "be"
    negative: bool  # the act is ruled out: "will not sell"
    object: tuple[str, ...]  # content words of what the act is done to
    figures: tuple[str, ...]  # "2%", "$50 billion", "6,500 teachers"
    percents: tuple[float, ...]  # the percentages among them, as numbers
    deadline: int | None  # the target year

    @property
    def wants_less(self) -> bool:
        """Whether the pledge asks for less of what it names: "cut the deficit",
        "stop the boats", and every pledge that rules its act out."""
        return self.negative or (self.act in REDUCING)


def lemma(word: str) -> str:
    """The verb lemma of ``word`` (itself when lemminflect does not know it)."""
    return _lemma(word.lower())


@functools.lru_cache(maxsize=8192)
def _lemma(word: str) -> str:
    found = verb_lemma(word, "VERB")
    return found[0] if found else word


@functools.lru_cache(maxsize=4096)
def read_pledge(text: str) -> Reading:
    """Read one pledge's text."""
    lowered = plain(text)
    act, negative, obj = _act(lowered)
    percents = tuple(
        float(re.match(r"\d+(?:\.\d+)?", m.group()).group())  # type: ignore[union-attr]
        for m in _PERCENT.finditer(lowered)
    )
    figures = [m.group().strip() for m in _PERCENT.finditer(lowered)]
    for m in _AMOUNT.finditer(lowered):
        currency, number, scale, unit = m.groups()
        before = lowered[: m.start()].split()[-1:]
        if _BARE_YEAR.match(number) or (before and before[0] in _MONTHS) or unit in _MONTHS:
            continue  # a year or a date, not a figure
        if any(m.start() >= p.start() and m.start() < p.end() for p in _PERCENT.finditer(lowered)):
            continue
        if not (currency or scale) and float(number.replace(",", "") or 0) < 10:
            continue  # "two new", "2 crore" aside: too small to stand for the pledge
        if unit and (
            unit in ("percent", "per", "a", "an", "the", "each", "every")
            or unit in _OBJECT_END
            or any(c.isdigit() for c in unit)
        ):
            unit = None
        figure = " ".join(x for x in ((currency or "") + number, scale, unit) if x)
        figures.append(figure.replace("$ ", "$"))
    year = _YEAR.search(lowered) or _IN_YEAR.search(lowered)
    return Reading(
        text=lowered,
        act=act,
        negative=negative or bool(re.match(r"\s*(?:no|never)\b", lowered)),
        object=obj,
        figures=tuple(dict.fromkeys(figures)),
        percents=percents,
        deadline=int(year.group(1)) if year else None,
    )


def _adverb(word: str) -> bool:
    return word.endswith("ly") and not all_lemmas(word, upos="VERB")


def _participle(word: str) -> bool:
    return word.endswith(("ed", "en", "wn")) and lemma(word) != word


def _act(lowered: str) -> tuple[str | None, bool, tuple[str, ...]]:
    m = _MODAL.search(lowered)
    if m is None:
        # A reported pledge with no modal: "Germany refuses to send Taurus missiles".
        refusal = re.search(r"\b(?:refuse[sd]?|rule[sd]?|ruling) (?:to|out)\s+", lowered)
        if refusal is None:
            return None, False, ()
        m = refusal
    head = lowered[max(0, m.start() - 40) : m.end()]
    tail = lowered[m.end() :].split()
    negative = bool(_NEGATION.search(head[-30:])) or "n't" in head[-6:]
    words = [re.sub(r"[^\w'-]", "", w) for w in tail]
    i = 0
    while i < len(words) and (words[i] in _SKIP or _adverb(words[i]) or words[i] == "no"):
        if words[i] in ("not", "never"):
            negative = True
        i += 1
    if i >= len(words) or not words[i].isalpha():
        return None, negative, ()
    if words[i] == "longer" and i + 1 < len(words):
        negative, i = True, i + 1
    act = lemma(words[i])
    if act in ("be", "get") and i + 1 < len(words) and _participle(words[i + 1]):
        i += 1  # "will be doubled", "will be given": the passive's verb is the act
        act = lemma(words[i])
    if act in ("phase", "roll", "pull", "bring", "carry", "set", "scale") and i + 1 < len(words):
        i += 1  # "phase out", "roll back": the particle is part of the act
    obj: list[str] = []
    light = act in _LIGHT_ACTS
    for word in words[i + 1 :]:
        if light and obj and word in ("to", "on", "of", "for"):
            continue  # "make changes to negative gearing": what is changed is the object
        if not word or word in _OBJECT_END or not word[0].isalpha():
            if obj:
                break
            continue
        if word not in _FUNCTION:
            obj.append(word)
        if len(obj) >= 4:
            break
    return act, negative, tuple(obj)
