"""Derive a search query from a pledge's text and actor, for pledges without one.

A journalist's own query is best; most pledges are logged without one. The
derived query asks for what evidence about a pledge must mention:

    (actor's side) AND (each other party named) AND (what is pledged) [AND (its figure)]
        [AND NOT (well-known other senses)] [AND NOT (the reverse direction)]

- The actor's side: the alias sets of the countries and bodies in the actor
  (a place in brackets, "NATO allies (The Hague summit)", is where, not who),
  or else the subject of the pledge's verb, read after any opening clause
  ("In the event of an attack on Ukraine, US and Ukrainian officials will");
  and the actor's name and surname ("Xi Jinping", Xi). A body is also named
  the way coverage names its members together ("the alliance", "allies" for
  NATO).
- A person or party pledging for a country the text does not name ("We will
  stop the boats") is left out when the pledge has a topic or a figure of its
  own: coverage names the policy, rarely the politician; the person with the
  policy's wider subject also counts ("Sunak" and deportations, for "stop the
  boats"). A pledge in the first person singular ("I will ...") keeps the
  person: it is that person's boast. Such a pledge to legislate ("pass new
  laws to stop small boats") is also found through a bill on the wider
  subject ("Illegal Migration Bill becomes law").
- Other parties: the first other country or body the pledge names is
  required. When the actor is a body (G7, NATO), coverage often names its
  members instead, so a second party counts in place of the body ("loans to
  Ukraine ... from Russian assets": G7 or Russia). Arms for a party at war are
  reported as arms for its war: Russia or Ukraine, for weapons to Russia. A
  pledge not to sell or supply something also counts curbs on its export
  ("export controls on drone parts") in place of the other party.
- What is pledged: the topic alias sets the text touches, with news-language
  rules: "military (and security) assistance" is weapons, not aid; spending
  "on development" is aid; ending or settling a war is a ceasefire; climate
  pledges are tracked through emissions, coal and clean power alike; a
  "security agreement" is also reported as a pact, deal or accord; loans are
  reported through disbursements and repayments; "meet to consult" also
  finds consultations, calls and conferring. A country's spending on defence
  is found however coverage words it ("core military spending", "defence
  outlays"), its figures only beside defence words (not another fund's "100
  billion"). Money verbs ("spend", "invest") give the funding set, which a
  figure replaces. With no topic: distinctive words.
- Its figure: percentages, amounts ("$50 billion": "50bn" too), durations
  ("24 hours": "a day", "the same day", "hours after" too), the measure
  unless it is GDP (too common), and the target year. When every topic is
  broad (funding, aid, meetings) the figure is what identifies the pledge and
  is required (or, for a body, the goal named after its summit: "the Wales
  goal"); otherwise it is one more way to name what is pledged (years
  excepted: too common; a duration only as the promise, "the '24 hours'
  pledge").
- A promise to supply something ("will provide Ukraine with ...") is tracked
  through deliveries, payments, packages, announcements and pauses: one of
  those is required within ten words of the actor's side, so another
  country's shipments to the same war do not count; or the agreement the
  supplies are promised under, as the pledge names it ("security pact").
- Well-known other senses of a topic are excluded (a drone light show, a
  regatta's small boats, a footballer on loan, an airline alliance), and so
  is the reverse of a pledge about giving something "to" another party (arms
  sold *to* China for a pledge by China not to sell arms to Russia).

The result is ordinary query text: ``pledge show`` prints it so a journalist
can copy and refine it. Pure: plain strings in, a string out; a
ValidationError when neither the text nor the actor has a word.

May import pledgewatch.errors, pledgewatch.matching.analysis, .aliases and .query.
"""

from __future__ import annotations

import functools
import re

from pledgewatch.errors import ValidationError
from pledgewatch.matching import aliases
from pledgewatch.matching.analysis import analyse, plain

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
    "is are has have must should can could commit commits".split()
)
# Person-name words that are not surnames.
_NAME_STOP = frozenset({"de", "da", "van", "von", "der", "bin", "al", "la", "le", "jr", "sr"})
# Topics too broad to stand for a pledge on their own.
_BROAD_TOPICS = frozenset(
    "funding aid debt meeting summit trade tariffs jobs wages election health education "
    "taxes police housing".split()
)
# Words that make a name an organisation, not a person with a surname.
_ORGANISATION = frozenset(
    "party ministry government council committee union bank agency department office "
    "commission parliament assembly court leaders allies signatories".split()
)
# Topics that coverage of a pledge about one of them also reports through.
_RELATED = {
    "emissions": ["climate", "@coal", "@renewables"],
    "net_zero": ["@emissions", "climate"],
    "renewables": ['"non-fossil"', "@coal"],
    "coal": ["@renewables"],
    "meeting": [
        "consult*",
        "confer*",
        "convene*",
        "convening",
        "spoke",
        "spoken",
        "talked",
        "call",
        "calls",
        "phone*",
    ],
    "loan": ["disburs*", "repaid", "repay*", "tranche*"],
}
# How coverage names a body's members together, besides the body's own names.
_BODY_WORDS = {"nato": ["alliance", "allies"], "eu": ["bloc"]}
# A party at war: arms for it are reported as arms for its war.
_AT_WAR = {"russia": "ukraine"}
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
# Well-known other senses of a topic's words.
_OTHER_SENSES = {
    "weapons": ['"light show"', '"drone show"', '"open arms"'],
    "small_boats": ["regatta", "racing", "yacht*", "dinghy"],
    "loan": ['"on loan"', "footballer", "striker", "winger", "club"],
    "deforestation": ['"Nottingham Forest"'],
    "net_zero": ['"neutral on"', '"neutral in"'],
    # For "alliance", one of its _BODY_WORDS.
    "nato": ['"airline alliance"', '"Star Alliance"', "Oneworld", "SkyTeam"],
    "renewables": ['"solar eclipse"', '"solar system"', '"solar flare"', '"solar storm"'],
}
# Words of supply news: what a promise to provide something is tracked through.
_SUPPLY_NEWS = (
    "(deliver* OR package* OR ship* OR provid* OR send* OR sent OR sell* OR sold OR suppl* "
    "OR paid OR pay* OR disburs* OR tranche* OR transfer* OR unveil* OR announc* OR approv* "
    "OR drawdown* "
    'OR sign* OR paus* OR halt* OR resum* OR "held back" OR "holds back")'
)
_SUPPLY_PLEDGE = re.compile(
    r"\b(?:will|to)\s+(?:\w+\s+)?(?:provide|supply|send|deliver|give)\b", re.IGNORECASE
)
_TOPIC_RULES: list[tuple[re.Pattern[str], str]] = [
    (
        re.compile(
            r"\b(?:military|security|defen[cs]e)\s+(?:and\s+\w+\s+)?(?:assistance|aid|support)\b",
            re.I,
        ),
        "weapons",
    ),
    (re.compile(r"\b(?:on|for)\s+(?:overseas\s+|international\s+)?development\b", re.I), "aid"),
    (re.compile(r"\bnon-fossil\b|\bclean\s+(?:power|energy)\b", re.I), "renewables"),
    (re.compile(r"\b(?:spend|spending|invest|investing|fund)\b", re.I), "funding"),
    (
        re.compile(
            r"\b(?:end|settle|settled|stop|halt)\w*\s+(?:\w+\s+){0,2}?(?:war|conflict|fighting)\b"
            r"|\b(?:war|conflict|fighting)\s+(?:\w+\s+){0,2}?(?:ended|settled|stopped)\b",
            re.I,
        ),
        "ceasefire",
    ),
]
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
_DEFENCE_WORDS = '(defence OR defense OR military OR "armed forces" OR Bundeswehr)'
_DEFENCE_SPENDING = (
    f"{_DEFENCE_WORDS} NEAR/4 "
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
_FIRST_PERSON = re.compile(r"^\s*I\b")
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
    if not re.search(r"[^\W_]", words):
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
        if words and not any(w.lower() in _GENERIC for w in words):
            places.append(_quote(" ".join(words)))
    return places


def _person_words(actor: str) -> list[str]:
    """The actor's name as written and its surname: "United States (Joe Biden)" -> Biden."""
    outer, inner = _brackets(actor)
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


def actor_sets(actor: str) -> list[str]:
    """The country and body alias sets the actor names ("UK government": ``uk``)."""
    return _actor_sets(plain(actor, lower=False))


def is_generic(term: str) -> bool:
    """Whether an analysed term says nothing of who or what ("the", "government")."""
    return term in _GENERIC


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


def _topics(text: str, in_text: list[tuple[int, int, str, str]]) -> list[str]:
    """Topic sets of the pledge: those its words name, then the news-language rules."""
    topics = [name for _, _, name, kind in in_text if kind == "topics"]
    if _MEET_GOAL.search(text):
        topics = [t for t in topics if t not in ("meeting", "summit")]
    for pattern, name in _TOPIC_RULES:
        if pattern.search(text):
            topics.append(name)
    if "weapons" in topics:
        # "military assistance" is weapons; "assistance" alone would make it aid too.
        topics = [t for t in topics if t != "aid"]
    return list(dict.fromkeys(topics))


def actor_side(text: str, actor: str) -> list[str]:
    """The alias sets of the pledge's own side: the actor's country or body, and
    the pledge's subject when it is a country ("China will not ..." by Xi Jinping)."""
    return _sides(plain(text, lower=False), plain(actor, lower=False))[2]


def _sides(
    text: str, actor: str
) -> tuple[list[str], list[tuple[int, int, str, str]], list[str], bool]:
    """(the text's terms, the sets found in them, the actor's side, whether the
    actor is a body)."""
    # Terms clause by clause, so the subject can be read after an opening clause.
    clause_starts: list[int] = []
    terms: list[str] = []
    for piece in text.split(","):
        clause_starts.append(len(terms))
        terms += _terms(piece)
    in_text = _find_sets(terms, us_is_country=bool(_US.search(text)))
    parties = [f for f in in_text if f[3] != "topics"]
    verb_at = next((i for i, t in enumerate(terms) if t in _VERB_MARKERS), len(terms))
    subject_from = max((s for s in clause_starts if s <= verb_at), default=0)
    side = _actor_sets(actor)
    actor_is_body = any(name in aliases.alias_names("bodies") for name in side)
    subjects = [name for start, _, name, _ in parties if subject_from <= start < verb_at]
    if subjects and not (set(subjects) & set(side)):
        # The pledge's first subject is the actor's side ("The United States" for
        # Joe Biden); a second one is another party ("US and Ukrainian officials").
        side.append(subjects[0])
    return terms, in_text, list(dict.fromkeys(side)), actor_is_body


def derive_query(text: str, actor: str) -> str:
    """A query for evidence about the pledge ``text`` made by ``actor``."""
    text, actor = plain(text, lower=False), plain(actor, lower=False)
    terms, in_text, side, actor_is_body = _sides(text, actor)
    parties = [f for f in in_text if f[3] != "topics"]
    others = list(dict.fromkeys(name for _, _, name, _ in parties if name not in side))

    topics = _topics(text, in_text)
    sizes, named, years = _figures(text)
    if sizes:
        # A figure says how much money; "spend" and "invest" add nothing to it.
        topics = [t for t in topics if t != "funding"]
    # Spending on defence is a subject of its own: coverage of a country's
    # defence budget is evidence whatever its figures.
    defence = bool(_DEFENCE_MONEY.search(text)) and not actor_is_body
    broad_topics = all(t in _BROAD_TOPICS for t in topics)
    all_broad = not defence and broad_topics
    figure_required = bool(sizes or years) and all_broad

    people = [quoted for w in _person_words(actor) if (quoted := _quote(w))]
    side_clause = [f"@{name}" for name in side] + people
    if not side:
        # Defence spending is no subject without whose it is: it never drops the side.
        specific = (topics and not broad_topics) or figure_required
        if specific and not _FIRST_PERSON.search(text):
            # Someone pledging for a country the text does not name ("We will stop
            # the boats"): coverage names the policy, rarely the politician.
            side_clause = []
        elif not people:
            # A body with no alias set ("COP26 leaders"): its distinctive words stand for it.
            side_clause = _distinctive(_terms(actor), set(), 2)
    if actor_is_body:
        side_clause += [word for name in side for word in _BODY_WORDS.get(name, [])]
        if len(others) > 1:
            side_clause += [f"@{name}" for name in others[1:2]]

    agreements = [
        f'"{m.group(1)} {alt}"'
        for m in _AGREEMENT.finditer(text)
        for alt in ("agreement", "pact", "deal", "accord")
    ]
    if topics or defence:
        object_clause = [f"@{name}" for name in topics]
        if defence:
            object_clause.append(_DEFENCE_SPENDING)
        object_clause += [rel for name in topics for rel in _RELATED.get(name, [])]
        if "ceasefire" in topics:
            object_clause.append(_WAR_ENDING)
        object_clause += agreements
        if defence and sizes:
            # The pledge's figures, in coverage of the armed forces (not another fund's).
            object_clause.append(f"({_group(sizes)} AND {_DEFENCE_WORDS})")
        elif not figure_required:
            object_clause += named
    elif sizes or years:
        object_clause = []  # the figure stands for what is pledged
    else:
        used = {i for start, end, _, _ in in_text for i in range(start, end)}
        object_clause = _distinctive(terms, used, 3)

    if not side_clause and people and topics:
        # The person pledging for a policy is reported under the policy's wider
        # subject too ("Sunak" and deportations, for "stop the boats").
        wider = [
            f"@{name}"
            for topic in topics
            for name in aliases.broader(topic)
            if name not in _BROAD_TOPICS
        ]
        if wider:
            object_clause = [*object_clause, f"({_group(people)} AND {_group(wider)})"]
            if _LEGISLATION_PLEDGE.search(text):
                # The law pledged, passing: reported as a bill on the wider subject.
                object_clause.append(f"({_group(wider)} AND {_LEGISLATION_NEWS})")
    party_clauses = [
        [f"@{name}"] + ([f"@{_AT_WAR[name]}"] if name in _AT_WAR and "weapons" in topics else [])
        for name in others[:1]
    ]
    if party_clauses and _REFUSAL.search(text):
        # "Will not sell weapons to Russia": curbs on such exports are news about it too.
        party_clauses[0].append(f"({_EXPORT_CURBS})")
    clauses = [side_clause, *party_clauses, object_clause]
    if figure_required:
        goals = [f"{place} NEAR/3 {_GOAL_WORDS}" for place in _summit_places(actor)[:1]]
        if actor_is_body:
            # What the pledge calls its goal ("below the guideline") names it too.
            goals += [m.group(0).lower() for m in _GOAL_NOUN.finditer(text)][:1]
        clauses.append(sizes + years + goals)
    if _SUPPLY_PLEDGE.search(text) and not re.search(r"\bnot\b|\bnever\b", text, re.I):
        if side_clause:
            # The actor's side as the one supplying: near the news of it, not merely
            # in an article about another country's shipments; or the agreement
            # that the supplies are promised under, named as the pledge names it.
            near = f"{_group(side_clause)} NEAR/10 {_SUPPLY_NEWS}"
            under = [f"({_group(side_clause)} AND {_group(agreements)})"] if agreements else []
            clauses[0] = [near, *under]
        else:
            clauses.append([_SUPPLY_NEWS])
    parts = [_group(c) for c in clauses if c]
    if not parts:
        fallback = _quote(" ".join(terms[:12]) or " ".join(_terms(actor)[:12]))
        if not fallback:
            raise ValidationError("text", "has no words to derive a query from; give it a query")
        return fallback
    query = " AND ".join(parts)
    related = [rel[1:] for name in topics for rel in _RELATED.get(name, []) if rel[:1] == "@"]
    senses_of = [*topics, *related, *(side if actor_is_body else [])]
    senses = [s for name in senses_of for s in _OTHER_SENSES.get(name, [])]
    if senses:
        query += f" AND NOT {_group(senses)}"
    if side and topics and re.search(r"\bto\s+(?:the\s+)?[A-Z]", text):
        # Giving something "to" another party: the same thing given to the actor's
        # side is the reverse ("Russian arms sold to China").
        to_side = [f'"to {" ".join(seq)}"' for seq in aliases.expand(side[0]) if len(seq) <= 2]
        query += f" AND NOT ({_group([f'@{t}' for t in topics])} ONEAR/4 {_group(to_side)})"
    return query


def _group(items: list[str]) -> str:
    items = list(dict.fromkeys(items))
    return items[0] if len(items) == 1 else "(" + " OR ".join(items) + ")"
