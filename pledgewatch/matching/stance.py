"""Stance cues: does one evidence item suggest its pledge is being kept or broken?

The sweep has matched an article to a pledge; ``suggest_stance`` reads the
title and the sentences that matched and suggests ``kept``, ``broken`` or
``neutral``, with one short reason naming the words it went by, so an editor
can check it at a glance. It only suggests: the editor confirms or overrides.

How, over lower-cased text and word lists:

1. The pledge: ``pledge_polarity`` is "negative" when it rules an act out
   ("will not sell weapons", "stop the boats", "halt forest loss"), else
   "positive"; it "wants less" of what it names when it is negative or asks
   for a cut ("cut emissions", "peak", "net zero").
2. Cues, by group (``_GROUPS``, in order; a cue hides its words from later
   groups): denials, refusals, failures (missed, fell short, scrapped), stops
   (paused, halted, restricted, repealed), transfers (delivered, supplied,
   sold, arrived), traces of a ruled-out act (found in, components,
   sanctions), progress (signed, approved, reached), permissions (permitted,
   green-lit) and shortfalls ("only five of 28", "below the 2% guideline");
   meetings count only for a pledge to meet. Each group votes kept or broken
   depending on the pledge's polarity: "halted" is bad news for a pledge to
   supply and good news for a pledge not to.
3. Trends (rose, fell, record) vote by what moves, the nearest word from
   ``_BAD`` or ``_GOOD`` (emissions falling is good news, aid falling bad
   news) or else from the pledge's own words.
4. Modifiers: a negation before a cue ("did not deliver", "no longer
   supplies", "lifts the pause"; "without" only for the word after it) turns
   its vote round; a hedge before it ("may have supplied", "plans to sign",
   "Trump to meet"), a restatement in its sentence ("reaffirmed"), a
   commitment as its object ("signed a pact",
   "approved a plan") or background ("despite the ban") cancels it; a cue
   right after a stop in its clause, or the subject of a passive stop, is
   what was stopped ("halts aid deliveries", "shipments were paused"), and a
   trace after a restriction is what it restricts ("export rules on drone
   engines"); a trend word that names a goal ("the emissions-cut goal") is
   not a trend; a step that a bad thing takes ("crossings reach 13,400",
   "approved 106 GW of coal") is news against the pledge; a refusal in the
   pledge's own words ("will not spend") is a refusal to act, and "will not
   sell" for a pledge not to sell restates it; a stop or
   failure word that is the pledge's own verb is the promised act ("cancels
   student debt").
5. Headlines state the finding, so title cues count twice. More kept votes:
   kept; more broken: broken; a tie or no vote: neutral.

May import pledgewatch.matching.analysis (for its reading of punctuation), nothing else.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from pledgewatch.matching.analysis import plain

KEPT, BROKEN, NEUTRAL = "kept", "broken", "neutral"
POSITIVE, NEGATIVE = "positive", "negative"


@dataclass(frozen=True)
class Stance:
    """A suggested stance and the one-line reason shown to the editor."""

    label: str  # "kept" | "broken" | "neutral"
    reason: str  # e.g. 'reports the act the pledge ruled out ("supplied", "components")'


# --- pledge polarity ------------------------------------------------------------

# "end" only as a verb: "end deforestation", not "by the end of the year".
_NEGATIVE_PLEDGE = re.compile(
    r"\b(?:will not|won't|would not|shall not|must not|not to|never|no longer|no more"
    r"|refuses? to|rules? out|ruled out|stop|stops|stopping|halt|halts|halting"
    r"|(?<!the )end(?! of\b)|ending|ban|bans|banning|phase out|eliminate)\b"
)


def pledge_polarity(pledge_text: str) -> str:
    """ "negative" for a pledge that rules something out, else "positive"."""
    return NEGATIVE if _NEGATIVE_PLEDGE.search(plain(pledge_text)) else POSITIVE


# --- cue groups -----------------------------------------------------------------


@dataclass(frozen=True)
class _Group:
    name: str
    pattern: re.Pattern[str]
    # The vote of a plain (not negated) cue for a positive and a negative
    # pledge; None: the group says nothing about such pledges.
    positive: str | None
    negative: str | None


def _words(pattern: str) -> re.Pattern[str]:
    return re.compile(rf"\b(?:{pattern})\b")


_STOPPED = _words(
    r"paus(?:e|es|ed|ing)|suspend(?:s|ed|ing)?|suspension|halt(?:s|ed|ing)?"
    r"|stop(?:s|ped|ping)?|ban(?:s|ned|ning)?|restrict(?:s|ed|ing|ions?)?"
    r"|export controls?|curb(?:s|ed)?|block(?:s|ed|ing)?|held back|holds? back"
    r"|withh(?:o|e)ld(?:s|ing)?|withdr(?:aw|ew|awn|aws|awal)|pull(?:s|ed|ing)? out"
    r"|cut off|tighten(?:s|ed)?|shut(?:s|ting)? down|clos(?:e|es|ed|ing) down|closure"
    r"|phas(?:e|es|ed|ing) out|roll(?:s|ed|ing)? back|rollback|repeal(?:s|ed)?"
    r"|quit(?:s|ting)?|revok(?:e|es|ed|ing)|export rules?"
    r"|(?:freez(?:es|ing)|froze) (?:\w+ ){0,2}(?:aid|assistance|funding|payments?|deliveries"
    r"|weapons|arms|exports|shipments|spending)"
    r"|controls? (?:the )?exports?"
    r"|controls? on (?:\w+ ){0,3}(?:exports?|sales|parts|components|engines|drones|chips"
    r"|technology|goods|items|materials|equipment)"
)

# Order matters: a cue masks its words from the groups after it, so "fell
# short" is a failure and not a fall, and "export controls" a restriction and
# not an export.
_GROUPS = (
    _Group(
        "denial",
        _words(
            r"(?<!was )(?<!were )(?<!been )(?:denie[sd]|deny|denying)"
            r"|(?:rejected|dismissed|called) (?:the |these |such )?"
            r"(?:claims?|accusations?|allegations?|reports?)(?: as)?(?: groundless| baseless)?"
            r"|groundless|baseless|no evidence"
            r"|(?:has|have|had) never (?:\w+ )?"
            r"(?:provided|supplied|sold|sent|given|delivered|armed)"
        ),
        KEPT,
        KEPT,
    ),
    _Group(
        "refusal",
        _words(
            r"turn(?:s|ed|ing)? down|reject(?:s|ed|ing)?|refus(?:e|es|ed|ing)|refusal"
            r"|rule(?:s|d)? out|ruling out|declin(?:e|es|ed) to"
        ),
        BROKEN,
        KEPT,
    ),
    _Group(
        "failure",
        _words(
            r"fail(?:s|ed|ing)? to|failure|miss(?:es|ed|ing)?(?! out)|fell short|falls? short"
            r"|short of|off[ -]track|off (?:the )?pace|out of reach|behind schedule"
            r"|far off (?:the |its |their )?(?:[\w.%-]+ ){0,2}(?:goal|target|pace|track)"
            r"|delay(?:s|ed)?|postpone[sd]?"
            r"|cancel(?:s|led|ed)?|scrap(?:s|ped)?|abandon(?:s|ed|ing)?|u-turn|row(?:s|ed) back"
            r"|(?:well|far|still|way) short|deadline (?:has )?pass(?:es|ed)"
            r"|watered down|backtrack(?:s|ed)?|renege[sd]?|stall(?:s|ed|ing)?|held up|holds? up"
            r"|unspent|sarcastic|(?:not|n't) (?:meant|mean) (?:it )?literally"
            r"|(?:goal|target|deadline|timetable)s? (?:slips?|slipped|slipping)"
            r"|lag(?:s|ging)? behind (?:the |its |their )?(?:[\w.%-]+ )?"
            r"(?:target|goal|schedule|pace|plan)"
            r"|(?:\d+|one|two|three|four|five|six|seven|eight|nine|ten) (?:years?|months?)"
            r" (?:after|past|beyond) the (?:\w+ )?(?:deadline|target date)|years late"
            r"|veto|unlawful|struck down|strik(?:e|es|ing) down|setback|(?:a|another) blow to"
            r"|too (?:slow|slowly|little|late)|lapsed"
            r"|(?:broke|breaking|breaks) (?:a |an |its |his |her |their )?(?:\w+ )?"
            r"(?:promise|pledge|commitment)"
            r"|(?:without|no) (?:an? )?(?:\w+ )?(?:deal|agreement|ceasefire|breakthrough)"
            r"|rages on|gone unused|went unused|unrealistic|unachievable|unfair|inappropriate"
            r"|(?:little|no|slow) progress"
        ),
        BROKEN,
        BROKEN,
    ),
    _Group("stopped", _STOPPED, BROKEN, KEPT),
    _Group(
        "shortfall",
        re.compile(
            r"(?<!from )\b(?:only|just) (?:about |around )?"
            r"(?:\d[\d,.]*(?:%|(?!st\b|nd\b|rd\b|th\b)[a-z]{1,3})?"
            r"|a handful|a few|one|two"
            r"|three|four|five|six|seven|eight|nine|ten|eleven|twelve)\b"
            r"|\bbelow (?:the |its )?(?:[\w.%'’-]+ ){0,2}"
            r"(?:target|guideline|goal|benchmark|threshold)\b"
            r"|\bbelow (?:the |its )?[\d.]+%"
            r"|\b(?:less|fewer) than (?:half|a third|a quarter)\b|\bfar from\b"
            r"|\bnot a (?:single )?(?:cent|euro|penny|dollar|pound)\b|\bno improvement\b"
        ),
        BROKEN,
        BROKEN,
    ),
    _Group(
        "transfer",
        _words(
            r"deliver(?:s|ed|ing|y|ies)?|suppl(?:y|ies|ied|ying)|suppliers?"
            r"|provid(?:e|es|ed|ing)|sen[dt]|sending|sold|sell(?:s|ing)?"
            r"|ship(?:s|ped|ping|ments?)?|export(?:s|ed|ing)?|transferr?(?:ed|ing|s)?"
            r"|handed(?: over)?|disburs(?:e|es|ed|ing|ement)|paid(?: out)?|pays"
            r"|rush(?:es|ed)? out"
            r"|allocat(?:e|es|ed|ing)|produc(?:e|es|ed|ing)|manufactur(?:e|es|ed|ing)|built"
            r"|develop(?:s|ed)|help(?:s|ed)?(?: from)?|with (?:the )?help of|carried out|conducted"
            r"|deploy(?:s|ed|ing)"
            r"|arriv(?:e|es|ed|ing)|enter(?:s|ed)|resum(?:e|es|ed|ption)|reintroduc(?:e|es|ed)"
        ),
        KEPT,
        BROKEN,
    ),
    _Group(
        # Traces of an act a pledge ruled out; about a positive pledge they
        # say nothing.
        "traces",
        _words(
            r"found (?:[\w-]+ ){0,3}?in|traced to|made (?:by|in)|components?|parts|engines?"
            r"|microelectronics"
            r"|sanction(?:s|ed)?|blacklist(?:s|ed)?"
        ),
        None,
        BROKEN,
    ),
    _Group(
        "progress",
        _words(
            r"sign(?:s|ed)|approv(?:e|es|ed|al)|pass(?:es|ed)|becomes? law|became law|into law"
            r"|fast-?track(?:s|ed)"
            r"|royal assent|enact(?:s|ed)|met|meets?|achiev(?:e|es|ed)|reach(?:es|ed)?"
            r"|hit(?:s|ting)? (?:its |the |a )?(?:[\w.%-]+ ){0,3}(?:target|goal|benchmark)"
            r"|milestone"
            r"|exceed(?:s|ed)"
            r"|surpass(?:es|ed)|tops|topped|complet(?:e|es|ed)|finali[sz](?:e|es|ed)"
            r"|launch(?:es|ed)|restor(?:e|es|ed)|on track"
            r"|ahead of (?:schedule|time|the deadline|(?:its |the )?(?:target|goal)"
            r"|the \d{4} (?:deadline|date|target|goal))"
            r"|unveil(?:s|ed|ing)? (?:(?:an?|the|its|new|fresh|another|nearly|almost|about|over"
            r"|some|[$€£]?[\d.,]+(?:bn|m)?|billion|million|in|of|worth|military|security|loan"
            r"|financial|emergency|humanitarian) ){0,5}"
            r"(?:package|tranche|aid|funding|arms|weapons)"
            r"|(?:\d+|one|two|three|four|five|six|seven|eight|nine|ten|several) (?:years?|months?)"
            r" early|(?:first|second|third) (?:\w+ )?tranche"
            r"|fulfil(?:s|led)?|honou?r(?:s|ed)|return(?:s|ed) to"
            r"|install(?:s|ed|ing)? (?:a )?(?:record |more |close to |nearly |about |over )?\d"
        ),
        KEPT,
        KEPT,
    ),
    _Group(
        # Allowing an act: the promised one, or the one a pledge ruled out.
        "permission",
        _words(r"permit(?:s|ted)|green-?lit|green-?light(?:s|ed)|authori[sz](?:e|es|ed)"),
        KEPT,
        BROKEN,
    ),
    _Group(
        # Meetings keep a pledge to meet; they say nothing about one not to act.
        "meeting",
        _words(
            r"(?:held|holds?|hold) (?:\w+ )?(?:talks|consultations|meetings?|call)|convened"
            r"|(?:spoke|spoken|talked) (?:by (?:tele)?phone )?with"
            r"|confer(?:s|red|ring)?(?! (?:an?|the|his|her|its|their|on|upon)\b)"
            r"|(?:talks|consultations?|meetings?)(?: (?!not\b|never\b|yet\b)[\w-]+){0,4}"
            r" (?:held|convened|took place)"
        ),
        KEPT,
        None,
    ),
)

# Trends vote by what is rising or falling (see _GOOD and _BAD).
_UP = _words(
    r"r[oi]se|rises|rising|risen|increas(?:e|es|ed|ing)|jump(?:s|ed)?|surg(?:e|es|ed|ing)"
    r"|soar(?:s|ed|ing)?|climb(?:s|ed)?|gr[eo]w(?:s|n)?|rais(?:e|es|ed|ing)"
    r"|(?:second |third )?highest(?: on record)?|record(?! set\b)|most (?:since|ever)"
    r"|the most|doubl(?:e|es|ed)(?! down)|tripl(?:e|es|ed)|(?:three|four|five) times|twice as much"
    r"|up (?:by )?\d[\d.]*%?|up from|widen(?:s|ed|ing)?"
)
_DOWN = _words(
    r"f[ae]ll|falls|falling|fallen|drop(?:s|ped|ping)?|declin(?:e|es|ed|ing)(?! to)"
    r"|decreas(?:e|es|ed|ing)|cut(?:s|ting)?|slash(?:es|ed)?|reduc(?:e|es|ed|ing|tion)"
    r"|halv(?:e|es|ed)|lowest|least since|down (?:by )?(?:about )?[\w.-]*\d[\w.%-]*"
    r"|down (?:by )?(?:about )?\w+-tenths|shr[iau]nk|shrinks?|plung(?:e|es|ed)|tumbl(?:e|es|ed)"
    r"|narrow(?:s|ed|ing)?|trim(?:s|med|ming)?"
)
# What pledges want less of, and more of. The nearest one to a trend word is
# taken to be what the trend is about.
_BAD = _words(
    r"emissions?|carbon(?! neutral\w*)|co2|greenhouse|coal(?:-fired)?|(?<!non-)fossil|pollution"
    r"|deforestation|forest loss|tree cover loss|clearing of|forest clearing|fires?|crossings?"
    r"|crossed|arrivals?"
    r"|migrants?|deaths?|casualties|attacks?|strikes?|barrages?|shelling|bombardment|deficit"
    r"|debt|inflation|waiting lists?"
)
_GOOD = _words(
    r"renewables?|solar|wind|clean (?:power|energy)|non-fossil|aid|development|assistance"
    r"|funding|funds?|spending|spend|spent|spenders?|budgets?|investment|outlays|defen[cs]e|military"
    r"|allies|members|homes?|housing|jobs"
)
_ACHIEVED = _words(
    r"met|meets?|achiev(?:e|es|ed)|fulfil(?:s|led)?|honou?r(?:s|ed)|hit(?:s|ting)?"
    r"|exceed(?:s|ed)|surpass(?:es|ed)|reach(?:es|ed)?|tops|topped"
)
# What is met or reached when a promise is kept, unlike an agreement or a plan.
_ACHIEVABLE = _words(
    r"pledges?|targets?|goals?|commitments?|promises?|benchmarks?|guidelines?|thresholds?"
)
_COMMITMENT = _words(
    r"pact|agreement|accord|declaration|memorandum|pledge|treaty|plans?|targets?|goals?"
    r"|contribution|strategy|framework|statement|(?:executive )?orders?"
)
# Things that rise and fall in the news without being what a pledge is about:
# "as the economy shrank" says nothing of the aid that was "0.7% of GNI".
_OTHER = _words(
    r"economy|(?<!of )gdp|(?<!of )gni|demand|prices|shares|markets?|population|turnout|polls?"
)
_MEETING_PLEDGE = _words(r"meet|meets|meeting|consult\w*|talks|summit|visit|call")
# A figure reached: "hits 2%", counted when it is the pledge's own figure.
_HIT_FIGURE = re.compile(
    r"\bhit(?:s|ting)? (?:about |around |over |just over )?(\d[\d.]*)(?=%| percent| per cent)"
)
_ORDER_TO = re.compile(r"\border(?:s|ed)? to$")
_PLEDGE_FIGURE = re.compile(r"(\d[\d.]*)\s*(?:%|percent|per cent)")
# What a pledge rules out: the verb after its negation ("will not sell").
_FORBIDDEN = re.compile(r"\b(?:not|never|no longer)\s+(?:\w+ly\s+)?([a-z]+)")
_DISMISSAL = re.compile(r"groundless|baseless|claims?|accusations?|allegations?|reports?")
# A refusal, in the words of the pledge's own act: "will not spend", "won't send".
_WILL_NOT = re.compile(r"\b(?:will not|won't|would not|cannot|can't|refus(?:es|ed)? to) (\w+)")
# Steps that say a bad thing grew or was allowed ("crossings reach 13,400", "approved
# 106 GW of coal"), and words of measures against it, which make them no such news.
_GROWTH = _words(r"reach(?:es|ed)?|hit(?:s|ting)?|tops|topped|exceed(?:s|ed)|surpass(?:es|ed)")
_COUNTER = _words(
    r"crack\s?down|end(?:s|ed|ing)?|stop(?:s|ped|ping)?|deter\w*|return(?:s|ed)?|remov\w*"
    r"|curb\w*|tackl\w*|halt\w*|ban(?:s|ned)?|cut(?:s|ting)?|reduc\w*|fight\w*|combat\w*"
)
# Right after a trend word, a goal: the word names the goal ("emissions-cut target").
_GOAL_NAME = re.compile(r"\s+(?:goals?|targets?)\b")
# "fell only 0.2%", "barely rose": too little of a trend is news against it.
_MINIMISER = re.compile(r"\b(?:barely|only|just|slightly|marginally|little)\b")

_NEGATOR = re.compile(
    r"\b(?:not|never|no|no longer|none|yet to|without|nor|hardly|cannot|(?<!a )little"
    r"|refus(?:e|es|ed) to|failed to)\b|n't\b"
)
# Undoing a stop is a negation of the stop: "lifts pause", "ended the ban".
_UNDOING = re.compile(
    r"\b(?:lift(?:s|ed|ing)?|end(?:s|ed|ing)?|eas(?:e|es|ed|ing)|overturn(?:s|ed)?)\b"
)
# A hedge in the words before a cue, or "to" right before it: "plans to sign",
# "Trump to meet Putin" (a headline's future), "expected to deliver".
_HEDGE = re.compile(
    r"\b(?:may|might|could|would|reportedly|allegedly|possibly|potentially|plans? to"
    r"|planned to|planning to|intends? to|aims? to|aimed to|expected|set to|seeks?|wants?"
    r"|hopes?|promis(?:e|es|ed)"
    r"|pledg(?:e|es|ed)|vow(?:s|ed)?|commit(?:s|ted)?|agree(?:s|d)? to|propos(?:e|es|ed|al)"
    r"|if|whether|unless|consider(?:s|ing|ed)?|discuss(?:es|ed)?|urg(?:e|es|ed)|asks?|asked"
    r"|request(?:s|ed)?|needs? to|until|accus(?:e|es|ed|ing)|claims?|alleg(?:e|es|ed|ing)"
    r"|(?:target|goal) of)\b|\bto$"
)
_RESTATEMENT = re.compile(
    r"\b(?:reaffirm\w*|reiterat\w*|restat\w*|recommit\w*|repeat(?:s|ed)?|pledged again"
    r"|renew(?:s|ed)? (?:its|his|her|their) (?:pledge|commitment|promise)|stands? by)\b"
)

# Pledge verbs that ask for less of something: "cut emissions", "halve waiting lists".
_REDUCTION = _words(
    r"cut|cuts|reduc\w*|halve|lower|curb|tackle|shrink|bring down|phase out|peak"
    r"|net zero|carbon neutral\w*|climate neutral\w*"
)
# Words of a pledge that say nothing of what it is about.
_FUNCTION_WORDS = frozenset(
    "will would shall must should could from with into onto over under than that this these"
    " those their there which while when where what have been being make making made sure also"
    " more most less least very every each year years month months decade time times percent"
    " within above below about around before after until currently towards toward annually"
    " levels level billion million thousand aims work come going take".split()
)
# Things a sentence may put between a stop and what is stopped: "halts aid deliveries".
_OBJECT_WINDOW = 4
_WINDOW = 4  # words before a cue searched for a negation or a hedge
_SUBJECT_WINDOW = 15  # words between what was stopped and a passive stop: "shipments ... paused"
# Right before a stop, the mark of the passive: "have been paused", "was halted", "put on hold".
_PASSIVE = re.compile(r"\b(?:be|been|being|is|are|was|were|put|remains?|remained|get|got)$")
_VALENCE_WINDOW = 6  # words either side of a trend searched for what it is about
# Where a clause ends, for what a step is about; a subject may hold commas, so
# only the words and semicolons end it there ("shipments, including arms, were paused").
_CLAUSE_WORD = re.compile(r";|\b(?:after|before|despite|as|while|when|since|following|but)\b")
_CLAUSE = re.compile(rf",|{_CLAUSE_WORD.pattern}")
_BACKGROUND = re.compile(r"\b(?:despite|after|since|following|in spite of)\b")

# Groups whose cue governs the cue right after it: "denies sending weapons",
# "halts aid deliveries", "only five allies meet the guideline".
_GOVERNING = frozenset({"denial", "refusal", "failure", "stopped", "shortfall"})

_SAYS = {
    ("denial", KEPT): "reports a denial",
    ("refusal", KEPT): "reports a refusal of the ruled-out act",
    ("refusal", BROKEN): "reports a refusal to act",
    ("failure", BROKEN): "reports a failure or setback",
    ("failure", KEPT): "rules out a failure",
    ("stopped", BROKEN): "reports the promised act stopped or withheld",
    ("stopped", KEPT): "reports the ruled-out act stopped or restricted",
    ("transfer", KEPT): "reports the promised act happening",
    ("transfer", BROKEN): "reports the act the pledge ruled out",
    ("traces", BROKEN): "reports traces of the act the pledge ruled out",
    ("traces", KEPT): "reports no trace of the act the pledge ruled out",
    ("progress", KEPT): "reports the promised step taken",
    ("progress", BROKEN): "reports the promised step not taken",
    ("meeting", KEPT): "reports the promised meeting held",
    ("meeting", BROKEN): "reports the promised meeting not held",
    ("own verb", KEPT): "reports the pledge's own act",
    ("own verb", BROKEN): "reports the pledge's own act not done",
    ("shortfall", BROKEN): "reports a shortfall against the target",
    ("shortfall", KEPT): "rules out a shortfall",
    ("permission", KEPT): "reports the promised act allowed",
    ("permission", BROKEN): "reports the ruled-out act allowed",
    ("unwanted", BROKEN): "reports more of what the pledge wants less of",
    ("unwanted", KEPT): "reports less of what the pledge wants less of",
    ("trend", KEPT): "reports a trend the pledge wants",
    ("trend", BROKEN): "reports a trend against the pledge",
}


@dataclass(frozen=True)
class _Pledge:
    polarity: str
    wants_less: bool  # of what it names: "cut emissions", "stop the boats"
    topic: re.Pattern[str] | None  # the pledge's own content words, as prefixes
    verbs: frozenset[str]  # its words, to tell its own act from a failure: "cancel debt"
    meets: bool  # a pledge to meet or consult, which meeting cues are about
    forbidden: frozenset[str]  # what it rules out, as 5-letter prefixes: "sell" of "will not sell"
    figures: frozenset[str]  # its percentages: "2" of "2% of GDP"


@dataclass(frozen=True)
class _Cue:
    group: str
    text: str  # what the editor sees: the cue with its negator, "has not met"
    vote: str | None  # KEPT, BROKEN, or None when hedged
    weight: int


def _read_pledge(pledge_text: str) -> _Pledge:
    text = plain(pledge_text)
    polarity = pledge_polarity(text)
    # Lower-case words only: names of actors and places ("China", "NATO") are
    # not what a pledge wants more or less of.
    words = re.findall(r"\b[a-z][a-z-]{3,}", pledge_text)
    prefixes = sorted({w[:5] for w in words if w not in _FUNCTION_WORDS and not _is_cue(w)})
    topic = re.compile(rf"\b(?:{'|'.join(prefixes)})\w*") if prefixes else None
    wants_less = polarity == NEGATIVE or _REDUCTION.search(text) is not None
    meets = _MEETING_PLEDGE.search(text) is not None
    forbidden = frozenset(m.group(1)[:5] for m in _FORBIDDEN.finditer(text))
    figures = frozenset(m.group(1) for m in _PLEDGE_FIGURE.finditer(text))
    return _Pledge(polarity, wants_less, topic, frozenset(words), meets, forbidden, figures)


def _is_cue(word: str) -> bool:
    patterns = [group.pattern for group in _GROUPS] + [_UP, _DOWN]
    return any(pattern.fullmatch(word) for pattern in patterns)


def _flip(vote: str) -> str:
    return BROKEN if vote == KEPT else KEPT


def _before(sentence: str, start: int, words: int) -> list[str]:
    return sentence[:start].split()[-words:]


def _negator(sentence: str, start: int, group: str) -> str | None:
    """The negation in the few words before a cue, if any ("has not", "no longer")."""
    window = " ".join(_before(sentence, start, _WINDOW))
    found = list(_NEGATOR.finditer(window))
    if found and found[-1].group() == "without" and len(window[found[-1].end() :].split()) > 1:
        # "Without" negates the words right after it, not a later verb:
        # "arriving without permission, received royal assent".
        found.pop()
    if not found and group == "stopped":
        found = list(_UNDOING.finditer(window))
    # The last one is the one that governs the cue: "not only ... but no longer".
    return window[found[-1].start() :] if found else None


def _hedged(sentence: str, start: int) -> bool:
    # "Signs an order to quit": the order is to act now, no hedge.
    window = _ORDER_TO.sub("", " ".join(_before(sentence, start, _WINDOW)))
    return _HEDGE.search(window) is not None


def _valence(sentence: str, span: tuple[int, int], pledge: _Pledge) -> str | None:
    """What the nearest thing a cue is about means for the pledge: wanted ("good"),
    not wanted ("bad"), beside the point ("other"), or None if nothing is named.
    The pledge's own words count as what it wants more of, or less of."""
    before = " ".join(sentence[: span[0]].split()[-_VALENCE_WINDOW:])
    after = " ".join(sentence[span[1] :].split()[:_VALENCE_WINDOW])
    known = _nearest(before, after, [("bad", _BAD), ("good", _GOOD), ("other", _OTHER)])
    if known is not None or pledge.topic is None:
        return known
    return _nearest(before, after, [("bad" if pledge.wants_less else "good", pledge.topic)])


def _nearest(before: str, after: str, kinds: list[tuple[str, re.Pattern[str]]]) -> str | None:
    best: tuple[int, str] | None = None
    for text, near_end in ((before, True), (after, False)):
        for kind, pattern in kinds:
            for m in pattern.finditer(text):
                distance = len(text) - m.end() if near_end else m.start()
                if best is None or distance < best[0]:
                    best = (distance, kind)
    return best[1] if best else None


def _bad_object(sentence: str, span: tuple[int, int]) -> bool:
    """Whether a step's subject or object, in its own clause, is something pledges
    want less of, and not being reduced: "approved 106 GW of coal plants", but
    not "signed a law cutting emissions" nor "held a call after a strike"."""
    before = _CLAUSE.split(sentence[: span[0]])[-1].split()[-3:]
    after = _CLAUSE.split(sentence[span[1] :])[0].split()[:5]
    text = " ".join(before + after)
    return _BAD.search(text) is not None and not (_DOWN.search(text) or _REDUCTION.search(text))


def _clause_around(sentence: str, span: tuple[int, int]) -> str:
    before = _CLAUSE.split(sentence[: span[0]])[-1]
    after = _CLAUSE.split(sentence[span[1] :])[0]
    return f"{before} {after}"


def _commitment(sentence: str, start: int, end: int) -> bool:
    """Whether a step is about a promise rather than the promised act: signing a
    pact or approving a plan commits to acting, it is not yet the act."""
    before = " ".join(sentence[:start].split()[-2:])
    after = " ".join(sentence[end:].split()[:5])
    return _COMMITMENT.search(f"{before} {after}") is not None


def _achievement(sentence: str, end: int) -> bool:
    """Whether what follows "met" or "reached" is a target, not an agreement."""
    return _ACHIEVABLE.search(" ".join(sentence[end:].split()[:5])) is not None


def _cues(sentence: str, pledge: _Pledge, weight: int) -> list[_Cue]:
    cues: list[_Cue] = []
    restated = _RESTATEMENT.search(sentence) is not None or any(
        # "China will not sell weapons": the pledge said again, for one that rules it out.
        m.group(1)[:5] in pledge.forbidden and m.group().startswith(("will", "won", "would"))
        for m in _WILL_NOT.finditer(sentence)
    )
    masked = sentence
    # Each governing cue (_GOVERNING): a cue right after it is its object, and so
    # is a cue before a passive one in its clause ("shipments ... were paused").
    stops: list[tuple[int, int, bool]] = []  # (start, end, passive)
    restricted: list[int] = []  # where each "stopped" cue ends
    for group in _GROUPS:
        for m in group.pattern.finditer(masked):
            # Mask with spaces so later groups do not see these words again.
            masked = masked[: m.start()] + " " * (m.end() - m.start()) + masked[m.end() :]
            name, vote = _group_vote(group, m.group(), pledge)
            if group.name in _GOVERNING:
                passive = _PASSIVE.search(" ".join(_before(sentence, m.start(), 2))) is not None
                stops.append((m.start(), m.end(), passive or m.group() == "on hold"))
                if group.name == "stopped":
                    restricted.append(m.end())
            elif any(
                _governs(sentence, start, end, passive, m.span()) for start, end, passive in stops
            ):
                continue  # the object of a stop in its clause: "halts aid deliveries"
            elif group.name == "traces" and any(
                end <= m.start() and not _CLAUSE.search(sentence[end : m.start()])
                for end in restricted
            ):
                # "Tightens export rules on drone engines and components": what is restricted.
                continue
            if vote is not None:
                cues.append(_vote(sentence, m.span(), name, vote, pledge, restated, weight))
    for m in _WILL_NOT.finditer(masked):
        # "Spain will not spend 5%": a refusal of the pledge's own act, or of the
        # act it rules out ("refused to sell"); "will not sell" restates that.
        word = m.group(1)[:5]
        if word in pledge.forbidden:
            if not m.group().startswith(("will", "won", "would")):
                cues.append(_vote(sentence, m.span(), "refusal", KEPT, pledge, restated, weight))
        elif word in {verb[:5] for verb in pledge.verbs}:
            cues.append(_vote(sentence, m.span(), "refusal", BROKEN, pledge, restated, weight))
    for m in _HIT_FIGURE.finditer(masked):
        if m.group(1) in pledge.figures:  # "hits 2%" for a pledge of 2%
            cues.append(_vote(sentence, m.span(), "progress", KEPT, pledge, restated, weight))
    for pattern, direction in ((_UP, "up"), (_DOWN, "down")):
        for m in pattern.finditer(masked):
            if _GOAL_NAME.match(sentence, m.end()):
                continue  # "the pollution-cut goal", "a reduction target": a name, not a trend
            valence = _valence(sentence, m.span(), pledge)
            if valence is None:  # nothing named: the pledge's own act is what moves
                valence = "bad" if pledge.wants_less else "good"
            if valence == "other":
                continue
            vote = KEPT if (direction == "up") == (valence == "good") else BROKEN
            around = sentence[max(0, m.start() - 12) : m.end() + 12]
            if _MINIMISER.search(around):
                vote = _flip(vote)
            cues.append(_vote(sentence, m.span(), "trend", vote, pledge, restated, weight))
    return cues


def _governs(sentence: str, start: int, end: int, passive: bool, cue: tuple[int, int]) -> bool:
    """Whether a governing cue at (start, end) governs the cue at ``cue``: it
    comes right after it, or it is passive and the cue is its subject, in the
    same clause either way."""
    if end <= cue[0]:
        between = sentence[end : cue[0]]
        return len(between.split()) <= _OBJECT_WINDOW and not _CLAUSE.search(between)
    if passive and cue[1] <= start:
        between = sentence[cue[1] : start]
        return len(between.split()) <= _SUBJECT_WINDOW and not _CLAUSE_WORD.search(between)
    return False


def _group_vote(group: _Group, text: str, pledge: _Pledge) -> tuple[str, str | None]:
    """The group a cue counts in and its vote. A stop or failure word that is the
    pledge's own verb is the promised act: "cancels student debt" for a pledge
    to cancel it, "ban comes into force" for a pledge to ban."""
    verb = text.split()[0]  # "freezes" of "freezes military aid"
    own = len(verb) > 3 and verb[:5] in {v[:5] for v in pledge.verbs}
    if group.name in ("stopped", "failure") and own:
        return "own verb", KEPT
    if group.name == "meeting" and not pledge.meets:
        return group.name, None  # "spoke with reporters" says nothing of a pledge to deliver
    return group.name, group.positive if pledge.polarity == POSITIVE else group.negative


def _vote(
    sentence: str,
    span: tuple[int, int],
    group: str,
    vote: str,
    pledge: _Pledge,
    restated: bool,
    weight: int,
) -> _Cue:
    start, end = span
    text = sentence[start:end]
    # Progress with something pledges want less of ("approved 106 GW of coal
    # plants", "coal output tops 1bn tonnes", "crossings reach 13,400") is news
    # against the pledge, whichever way it is worded.
    step = group == "progress"
    if group in ("progress", "transfer", "permission") and _bad_object(sentence, span):
        if pledge.polarity == POSITIVE:
            vote, group = _flip(vote), "unwanted"
        elif _GROWTH.fullmatch(text) and not _COUNTER.search(_clause_around(sentence, span)):
            # "Crossings reach 13,400", not "launches crackdown on smuggling gangs".
            vote, group = BROKEN, "unwanted"
    negator = _negator(sentence, start, group) if group != "denial" else None
    if negator:
        vote = _flip(vote)
        text = f"{negator} {text}"
    background = _BACKGROUND.search(" ".join(_before(sentence, start, 2))) is not None
    # Signing a pact or reaching an agreement commits to an act; meeting a target is the act.
    achieved = _ACHIEVED.fullmatch(sentence[start:end]) is not None and _achievement(sentence, end)
    commitment = step and not achieved and _commitment(sentence, start, end)
    # "Dismisses the claim as groundless" is not hedged by the claim it dismisses.
    hedged = _hedged(sentence, start) and not (group == "denial" and _DISMISSAL.search(text))
    if restated or commitment or background or hedged:
        return _Cue(group, text, None, weight)
    return _Cue(group, text, vote, weight)


def _quoted(cues: Sequence[_Cue], limit: int = 3) -> str:
    seen: list[str] = []
    for cue in cues:
        text = " ".join(cue.text.split())
        if text not in seen:
            seen.append(text)
    return ", ".join(f'"{text}"' for text in seen[:limit])


def suggest_stance(pledge_text: str, title: str, sentences: Sequence[str]) -> Stance:
    """Suggest whether an evidence item points to its pledge being kept or broken.

    ``sentences`` are the article sentences that matched the pledge's query;
    the title may be among them and is then counted once, as the title."""
    pledge = _read_pledge(pledge_text)
    title_key = plain(title.strip())
    bodies = [plain(s.strip()) for s in sentences]
    texts = [(title_key, 2)] + [(s, 1) for s in bodies if s != title_key]
    cues = [cue for text, weight in texts if text for cue in _cues(text, pledge, weight)]

    score = {KEPT: 0, BROKEN: 0}
    for cue in cues:
        if cue.vote is not None:
            score[cue.vote] += cue.weight
    if score[KEPT] == score[BROKEN]:
        return Stance(NEUTRAL, _neutral_reason(cues))
    label = KEPT if score[KEPT] > score[BROKEN] else BROKEN
    winners = [cue for cue in cues if cue.vote == label]
    weight_by_group: dict[str, int] = {}
    for cue in winners:
        weight_by_group[cue.group] = weight_by_group.get(cue.group, 0) + cue.weight
    group = max(weight_by_group, key=lambda name: weight_by_group[name])
    says = _SAYS.get((group, label), f"{label} cues")
    if group == "transfer" and (label == BROKEN) == (pledge.polarity == POSITIVE):
        # A transfer that did not happen: "has not delivered", "did not sell".
        says = "reports the promised act not done" if label == BROKEN else "reports no such act"
    return Stance(label, f"{says} ({_quoted(winners)})")


def _neutral_reason(cues: Sequence[_Cue]) -> str:
    kept = [cue for cue in cues if cue.vote == KEPT]
    broken = [cue for cue in cues if cue.vote == BROKEN]
    if kept and broken:
        return f"mixed cues: kept ({_quoted(kept, 2)}) vs broken ({_quoted(broken, 2)})"
    hedged = [cue for cue in cues if cue.vote is None]
    if hedged:
        return f"hedged or restated, no finding ({_quoted(hedged)})"
    return "no cue of progress or failure"
