"""Text analysis: one analyser for queries, alias sets and articles.

Lives here: ``analyse`` (text -> tokens), ``phrase_variants`` (query or alias
text -> the term sequences it may appear as), ``fold`` (one word -> one term),
``plain`` (text -> the same text with typographic punctuation made plain, for
the rules that read whole sentences) and ``Document`` (an article's title,
summary and content, each analysed on its own, with term positions found on
demand for matching and snippets).

What the analyser does, in order:

- Unicode: text is put in NFC form; each word is then NFKD-decomposed, its
  combining marks dropped and case-folded ("Élysée" -> "elysee").
- Dotted abbreviations lose their dots: "U.S." -> "us", "U.K." -> "uk". Their
  final period never ends a sentence (nor does one after a title such as
  "Mr." or an initial such as "W."), so a sentence that ends in "the U.S."
  runs on into the next one: the cheaper mistake for "same sentence" scoring.
  "US" and "us" fold alike: a query for the country also finds the pronoun.
- Apostrophes (straight or curly): "Russia's" -> "russia"; other apostrophes
  are removed ("don't" -> "dont", "d'Ivoire" -> "divoire"). A plural
  possessive "Russias'" gives "russias" and, at the same position, "russia",
  because "States'" must still be "states" in "United States'".
- Hyphens: "F-16" gives the parts "f" and "16" at consecutive positions and
  the joined form "f16" stacked at the first part's position. So the phrase
  "chinese made" matches "Chinese-made", and the term "chinesemade" or
  "f16" matches "Chinese-made" or "F-16". The query side
  (``phrase_variants``) turns "F-16" into the alternatives ("f16",) and
  ("f", "16"), so it matches "F16", "F-16" and "F 16"; it also splits
  letter-digit runs ("F16" -> ("f", "16") too).
- A percent sign is the term "percent" at a position of its own: "2%" is
  "2 percent". On the query side "%", "percent" and "per cent" are
  alternatives, so the query "2%" matches "2%", "2 percent" and "2 per cent",
  and not a lone "2". Decimals are two numbers: "1.5%" is "1 5 percent".
- Positions count words (a hyphenated word counts its parts); stacked forms
  share a position. Sentences are numbered from 0 in each field; a sentence
  ends at ".", "!" or "?" followed by space, a quote or the end, or at a
  blank line. Positions do not jump at a sentence boundary.

May import only the standard library.
"""

from __future__ import annotations

import bisect
import functools
import itertools
import re
import unicodedata
from dataclasses import dataclass

FIELDS = ("title", "summary", "content")

# Typographic punctuation as the analyser reads it: curly apostrophes are
# apostrophes, curly and angled quotes are quotes, hyphen look-alikes are
# hyphens, no-break and thin spaces are spaces. Most feeds use the curly forms.
_PLAIN = str.maketrans(
    {
        "’": "'",
        "‘": "'",
        "ʼ": "'",
        "′": "'",
        "“": '"',
        "”": '"',
        "„": '"',
        "«": '"',
        "»": '"',
        "‐": "-",
        "‑": "-",
        "\u00a0": " ",
        "\u2009": " ",
        "\u202f": " ",
    }
)


def plain(text: str, *, lower: bool = True) -> str:
    """``text`` in NFC with typographic punctuation made plain (and lower-cased):
    what stance and derivation rules read, so "won’t" is "won't" to them as it
    is to matching."""
    text = unicodedata.normalize("NFC", text).translate(_PLAIN)
    return text.lower() if lower else text


_LETTER = r"[^\W\d_]"
_WORDCHAR = r"[^\W_]"
_APOSTROPHES = "'’ʼ‘"
_HYPHENS = "-‐‑"  # hyphen-minus, hyphen, non-breaking hyphen; not dashes
# Groups: 1 abbreviation, 2 word, 3 sentence end, 4 percent sign. Alternation
# order matters: "U.S." must be tried as an abbreviation before "U" is a word.
_TOKEN = re.compile(
    rf"(?<![\w.])({_LETTER}(?:\.{_LETTER})+\.?)(?![\w])"
    rf"|({_WORDCHAR}+(?:[{_HYPHENS}{_APOSTROPHES}]{_WORDCHAR}+)*[{_APOSTROPHES}]?)"
    r"|([.!?]+(?=[\s\"'”’»)\]]|$)|\n[ \t\r\f\v]*\n)"
    r"|([%％])"
)
_ABBR, _WORD, _PERCENT = 1, 2, 4
PERCENT = "percent"  # the term of "%": "2%" is "2 percent", as news also writes it
_BLANK_LINE = re.compile(r"\n[ \t\r\f\v]*\n")
_STOPS = ".!?"
_PLAIN_ENDS = ",;:" + _STOPS  # a plain word followed by one of these: the word, then the mark
_SPLIT = re.compile(rf"[{_HYPHENS}]")
_APOSTROPHE_RE = re.compile(rf"[{_APOSTROPHES}]")
_NOT_ALNUM = re.compile(r"[\W_]+")
_LETTER_DIGIT = re.compile(r"(?<=[^\W\d_])(?=\d)|(?<=\d)(?=[^\W\d_])")
# A period after one of these does not end the sentence ("Mr. Xi said").
_TITLE_WORDS = (
    "mr mrs ms dr prof gen lt col maj capt sgt adm cmdr sen rep gov pres st mt ft vs "
    "jan feb apr jun jul aug sep sept oct nov dec inc ltd corp jr sr"
)
_TITLES = frozenset(_TITLE_WORDS.split())


@dataclass(frozen=True, slots=True)
class Token:
    """One analysed word: its term, position and sentence, and where it stands."""

    term: str
    position: int
    sentence: int
    start: int  # character offsets into the NFC form of the text
    end: int


@functools.lru_cache(maxsize=65536)
def fold(word: str) -> str:
    """Fold one word to a term: diacritics and case folded, non-word characters dropped."""
    if word.isascii():
        return _NOT_ALNUM.sub("", word.lower()) if not word.isalnum() else word.lower()
    decomposed = unicodedata.normalize("NFKD", word)
    stripped = "".join(c for c in decomposed if not unicodedata.combining(c))
    return _NOT_ALNUM.sub("", stripped.casefold())


def _abbreviation(abbr: str) -> str:
    """The term of a dotted abbreviation; empty, and so no word, for the few
    letters that fold to nothing (U+037A "ͺ"), as ``_compound`` drops such parts."""
    return fold(abbr.replace(".", ""))


def _compound(word: str) -> tuple[list[tuple[str, int, int]], list[str]]:
    """Split a word with hyphens or apostrophes: (parts with offsets, stacked forms)."""
    parts: list[tuple[str, int, int]] = []
    stacked: list[str] = []
    offset = 0
    for piece in _SPLIT.split(word):
        start, offset = offset, offset + len(piece) + 1
        plural_possessive = False
        if piece[-2:-1] in _APOSTROPHES and piece[-1:] in "sS" and len(piece) > 2:
            piece = piece[:-2]
        elif piece[-1:] in _APOSTROPHES:
            piece = piece[:-1]
            plural_possessive = piece[-1:] in "sS" and len(piece) > 3
        term = fold(_APOSTROPHE_RE.sub("", piece))
        if term:
            parts.append((term, start, start + len(piece)))
            if plural_possessive:
                stacked.append(term[:-1])
    if len(parts) > 1:
        stacked.insert(0, "".join(term for term, _, _ in parts))
    return parts, stacked


class _Scan:
    """The analysed words of one text: ``terms[p]`` is the term at position p,
    ``stacked`` the extra (position, term) pairs, ``sentence_starts`` the first
    position of each sentence. Character offsets are computed only on request.

    The text is cut at whitespace first: a plain word ("minister", "said,",
    "talks.") is handled with string methods, and only the rest goes through
    ``_TOKEN``. Whitespace never belongs to a token, and ``_TOKEN`` looks at
    most one character around a match, which is whitespace at a cut, so the
    result is the same as running ``_TOKEN`` over the whole text (a test
    checks it); blank lines, the one break made of whitespace, are found first.
    """

    __slots__ = ("sentence_starts", "stacked", "terms", "units")

    def __init__(self, text: str, *, units: bool = False) -> None:
        self.terms: list[str] = []
        self.stacked: list[tuple[int, str]] = []
        self.sentence_starts = [0]
        # Each word's alternative term sequences; only the query side asks.
        self.units: list[tuple[tuple[str, ...], ...]] | None = [] if units else None
        paragraphs = _BLANK_LINE.split(text) if "\n" in text else (text,)
        for number, paragraph in enumerate(paragraphs):
            if number:
                self._stop("\n\n")
            self._paragraph(paragraph)

    def _paragraph(self, text: str) -> None:
        # This loop is most of the cost of analysing an article: the common
        # plain word, with or without a comma or full stop, does nothing else.
        append = self.terms.append
        plain = self.units is None
        for chunk in text.split():
            if chunk.isascii() and chunk.isalnum():
                # _TOKEN finds one word in such a chunk, the chunk itself (a test checks it).
                if plain:
                    append(chunk.lower())
                else:
                    self._word(chunk)
                continue
            if plain and chunk.isascii():
                word, last = chunk[:-1], chunk[-1]
                if word.isalnum() and last in _PLAIN_ENDS:
                    append(word.lower())
                    if last in _STOPS:
                        self._stop(last)
                    continue
            for abbr, word, stop, percent in _TOKEN.findall(chunk):
                if word:
                    self._word(word)
                elif abbr or percent:
                    term = _abbreviation(abbr) if abbr else PERCENT
                    if not term:
                        continue
                    append(term)
                    if self.units is not None:
                        self.units.append(((term,),))
                else:
                    self._stop(stop)

    def _word(self, word: str) -> None:
        terms, units = self.terms, self.units
        if word.isascii() and word.isalnum():
            terms.append(word.lower())
            if units is not None:
                units.append(((terms[-1],),))
            return
        parts, stacked = _compound(word)
        self.stacked.extend((len(terms), extra) for extra in stacked)
        terms.extend(term for term, _, _ in parts)
        if units is not None and parts:
            units.append((tuple(p[0] for p in parts), *((s,) for s in stacked)))

    def _stop(self, stop: str) -> None:
        terms = self.terms
        if len(terms) > self.sentence_starts[-1] and not (
            stop == "." and (terms[-1] in _TITLES or len(terms[-1]) == 1)
        ):
            # A lone "." after a title or an initial ("Mr.", "W.") goes on.
            self.sentence_starts.append(len(terms))

    def sentence_of(self, position: int) -> int:
        return bisect.bisect_right(self.sentence_starts, position) - 1


def _spans(text: str) -> list[tuple[int, int]]:
    """Character offsets of each position; the same matches as ``_Scan``, so they line up."""
    spans: list[tuple[int, int]] = []
    for m in _TOKEN.finditer(text):
        if m.lastindex == _WORD:
            word = m.group(_WORD)
            if word.isascii() and word.isalnum():
                spans.append(m.span())
            else:
                base = m.start()
                spans.extend((base + start, base + end) for _, start, end in _compound(word)[0])
        elif m.lastindex == _PERCENT or (m.lastindex == _ABBR and _abbreviation(m.group(_ABBR))):
            spans.append(m.span())
    return spans


def _nfc(text: str) -> str:
    if text.isascii() or unicodedata.is_normalized("NFC", text):
        return text
    return unicodedata.normalize("NFC", text)


def analyse(text: str) -> list[Token]:
    """Analyse text into tokens in position order (a stacked form follows the
    word at its position); offsets index ``unicodedata.normalize("NFC", text)``,
    which is ``text`` itself for the usual, already composed, feed text."""
    text = _nfc(text)
    scan, spans = _Scan(text), _spans(text)
    extra: dict[int, list[str]] = {}
    for position, term in scan.stacked:
        extra.setdefault(position, []).append(term)
    tokens = []
    for position, term in enumerate(scan.terms):
        sentence, (start, end) = scan.sentence_of(position), spans[position]
        tokens.append(Token(term, position, sentence, start, end))
        for stacked in extra.get(position, ()):
            # A joined form spans the parts it is made of.
            last, joined = position, term
            while len(joined) < len(stacked) and last + 1 < len(scan.terms):
                last += 1
                joined += scan.terms[last]
            tokens.append(Token(stacked, position, sentence, start, spans[last][1]))
    return tokens


_MAX_VARIANTS = 64


@functools.lru_cache(maxsize=65536)
def phrase_variants(text: str) -> tuple[tuple[str, ...], ...]:
    """The term sequences that ``text`` (a query word, phrase or alias entry) may
    appear as in an analysed article; empty if it holds no word.

    >>> phrase_variants("F-16 jets")
    (('f16', 'jets'), ('f', '16', 'jets'))
    """
    units = _Scan(_nfc(text), units=True).units or []
    choices = [_with_letter_digit_splits(unit) for unit in units]
    variants: dict[tuple[str, ...], None] = {}
    for combo in itertools.islice(itertools.product(*choices), _MAX_VARIANTS):
        seq = tuple(term for seq in combo for term in seq)
        variants[seq] = None
        if PERCENT in seq or "cent" in seq:  # "2%", "2 percent" and "2 per cent" alike
            spaced = f" {' '.join(seq)} "
            for form in (
                spaced.replace(" per cent ", " percent "),
                spaced.replace(" percent ", " per cent "),
            ):
                variants[tuple(form.split())] = None
    if not units:
        return ()
    # Shortest first: the joined form reads best in hits and presearch groups.
    return tuple(sorted(variants, key=len))


def _with_letter_digit_splits(unit: tuple[tuple[str, ...], ...]) -> list[tuple[str, ...]]:
    alternatives = dict.fromkeys(unit)
    for seq in unit:
        if len(seq) == 1 and not seq[0].isdigit() and not seq[0].isalpha():
            pieces = tuple(_LETTER_DIGIT.split(seq[0]))
            if len(pieces) > 1:
                alternatives[pieces] = None
    return list(alternatives)


_SCANS_BEFORE_INDEXING = 6  # one scan costs about a sixth of indexing a long field


class FieldIndex:
    """One analysed field of a document. Positions and offsets are worked out on
    first use: the presearcher needs only ``terms``, and most documents stop there."""

    __slots__ = (
        "_positions",
        "_scan",
        "_scans",
        "_spans",
        "_text_of_terms",
        "name",
        "terms",
        "text",
    )

    def __init__(self, name: str, text: str) -> None:
        self.name = name
        self.text = _nfc(text)
        self._scan = _Scan(self.text)
        self.terms = frozenset(self._scan.terms).union(t for _, t in self._scan.stacked)
        self._positions: dict[str, list[int]] = {}
        self._scans = 0
        self._text_of_terms: str | None = None
        self._spans: list[tuple[int, int]] | None = None

    def __len__(self) -> int:
        """The number of positions."""
        return len(self._scan.terms)

    def positions(self, term: str) -> list[int]:
        """Sorted positions of ``term``. The first few terms asked for are found
        with C-level substring searches; a field asked for more gets all its
        postings built in one pass. Most articles are asked about a few terms,
        if any, and building every article's postings would cost more than the
        rest of matching."""
        found = self._positions.get(term)
        if found is not None:
            return found
        if term not in self.terms:
            return []
        self._scans += 1
        if self._scans > _SCANS_BEFORE_INDEXING:
            self._index_all()
            return self._positions[term]
        # Substring searches over the terms joined by spaces: a term's position
        # is the number of spaces before it. Faster than comparing every term.
        joined, needle, found = self._joined(), f" {term} ", []
        at = joined.find(needle)
        while at >= 0:
            found.append(joined.count(" ", 0, at))
            at = joined.find(needle, at + len(needle) - 1)
        for position, stacked in self._scan.stacked:
            if stacked == term:
                bisect.insort(found, position)
        self._positions[term] = found
        return found

    def _index_all(self) -> None:
        postings: dict[str, list[int]] = {}
        for position, term in enumerate(self._scan.terms):
            postings.setdefault(term, []).append(position)
        for position, term in self._scan.stacked:
            bisect.insort(postings.setdefault(term, []), position)
        self._positions = postings

    def phrase_starts(self, terms: tuple[str, ...]) -> list[int]:
        """Positions where ``terms`` occur one after another."""
        if len(terms) > len(self._scan.terms):
            return []  # a phrase longer than the field, as a long query's may be
        first = self.positions(terms[0])
        if not first or len(terms) == 1:
            return first
        sets: dict[str, set[int]] = {}  # a long phrase repeats its words
        rest = []
        for term in terms[1:]:
            found = sets.get(term)
            if found is None:
                positions = self.positions(term)
                if not positions:
                    return []
                found = sets[term] = set(positions)
            rest.append(found)
        return [p for p in first if all(p + i in s for i, s in enumerate(rest, 1))]

    def phrase_at(self, terms: tuple[str, ...], position: int) -> bool:
        """Whether ``terms`` occur one after another from ``position``:
        ``position in phrase_starts(terms)``, without finding every place."""
        words = self._scan.terms
        if position + len(terms) > len(words):
            return False
        for offset, term in enumerate(terms):
            if words[position + offset] != term and term not in self._stacked_at(position + offset):
                return False
        return True

    def words_between(self, first: int, last: int) -> list[str]:
        """The terms at positions ``first`` to ``last``, stacked forms included."""
        first = max(first, 0)
        words = self._scan.terms[first : last + 1]
        if self._scan.stacked:
            words.extend(term for at, term in self._scan.stacked if first <= at <= last)
        return words

    def words_at(self, position: int) -> list[str]:
        """The term at ``position`` and any stacked forms there."""
        if not self._scan.stacked:
            return [self._scan.terms[position]]
        return [self._scan.terms[position], *self._stacked_at(position)]

    def _stacked_at(self, position: int) -> tuple[str, ...]:
        if not self._scan.stacked:
            return ()
        return tuple(term for at, term in self._scan.stacked if at == position)

    def has_phrase(self, terms: tuple[str, ...]) -> bool:
        """Whether ``terms`` occur one after another: ``bool(phrase_starts(terms))``,
        found with one substring search where the field has no stacked forms."""
        if self._scan.stacked:
            return bool(self.phrase_starts(terms))
        return f" {' '.join(terms)} " in self._joined()

    def has_prefix(self, prefix: str) -> bool:
        """Whether a term starts with ``prefix``: ``bool(prefixed(prefix))``."""
        return f" {prefix}" in self._joined() or any(
            term.startswith(prefix) for _, term in self._scan.stacked
        )

    def _joined(self) -> str:
        """The terms in order between spaces (terms hold no space)."""
        if self._text_of_terms is None:
            self._text_of_terms = f" {' '.join(self._scan.terms)} "
        return self._text_of_terms

    def prefixed(self, prefix: str) -> list[str]:
        """Terms of this field that start with ``prefix``, sorted. Found with
        substring searches in the joined terms: cheaper than sorting the field's
        vocabulary, which only pays off for many prefixes on one document."""
        found = {term for _, term in self._scan.stacked if term.startswith(prefix)}
        joined, needle = self._joined(), f" {prefix}"
        at = joined.find(needle)
        while at >= 0:
            end = joined.index(" ", at + 1)
            found.add(joined[at + 1 : end])
            at = joined.find(needle, end)
        return sorted(found)

    def sentence_of(self, position: int) -> int:
        return self._scan.sentence_of(position)

    def char_span(self, first: int, last: int) -> tuple[int, int]:
        """Character offsets in ``text`` covering positions ``first`` to ``last``."""
        if self._spans is None:
            self._spans = _spans(self.text)
        return self._spans[first][0], self._spans[last][1]

    def sentence_span(self, sentence: int) -> tuple[int, int]:
        """Character offsets in ``text`` of one sentence, from its first word to its last."""
        starts = self._scan.sentence_starts
        end = starts[sentence + 1] if sentence + 1 < len(starts) else len(self)
        return self.char_span(starts[sentence], end - 1)


class Document:
    """An article's fields, each analysed with its own positions and sentences."""

    __slots__ = ("fields", "memo", "terms")

    def __init__(self, fields: dict[str, FieldIndex]) -> None:
        self.fields = fields
        # Scratch space for matching: where each query term occurs, worked out
        # once per document and shared by every query that uses the term.
        self.memo: dict[object, object] = {}
        self.terms: frozenset[str] = frozenset[str]().union(*(f.terms for f in fields.values()))

    @classmethod
    def from_fields(cls, *, title: str = "", summary: str = "", content: str = "") -> Document:
        texts = {"title": title, "summary": summary, "content": content}
        return cls({name: FieldIndex(name, text) for name, text in texts.items()})

    def key_text(self) -> str:
        """Every distinct term between unit separators: for searching many
        prefixes at once, as the presearcher does."""
        return "\x1f" + "\x1f".join(self.terms) + "\x1f"
