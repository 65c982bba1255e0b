"""From a query match to evidence: score, snippet and suggested stance.

- Score (0 to 1) ranks a hit in the title above one in the body, and query
  terms together in one sentence above terms scattered over the article.
- The snippet is the body sentence holding the most distinct query terms (the
  title when the body has none), so an editor sees why the article matched.
- The stance comes from ``stance`` with the sentences that matched.

Pure: analysed documents and matches in, plain values out.

May import pledgewatch.matching.analysis, .query and .stance.
"""

from __future__ import annotations

from dataclasses import dataclass

from pledgewatch.matching.analysis import FIELDS, Document
from pledgewatch.matching.query import Match
from pledgewatch.matching.stance import suggest_stance

FIELD_WEIGHTS = {"title": 3.0, "summary": 2.0, "content": 1.0}
SENTENCE_BONUS = 2.0
SNIPPET_MAX_CHARS = 400


@dataclass(frozen=True)
class Finding:
    score: float
    snippet: str
    stance: str
    stance_reason: str
    terms: tuple[str, ...]  # the query's terms that matched, as written in the query


def sentence_text(doc: Document, field: str, sentence: int) -> str:
    index = doc.fields[field]
    start, end = index.sentence_span(sentence)
    return index.text[start:end]


def _shorten(text: str, limit: int) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def assess(pledge_text: str, match: Match, doc: Document) -> Finding:
    """Score, snippet and stance of one article that matched a pledge's query."""
    best_weight: dict[str, float] = {}
    by_sentence: dict[tuple[str, int], set[str]] = {}
    for hit in match.hits:
        weight = FIELD_WEIGHTS.get(hit.field, 1.0)
        best_weight[hit.leaf] = max(best_weight.get(hit.leaf, 0.0), weight)
        by_sentence.setdefault((hit.field, hit.sentence), set()).add(hit.leaf)
    leaves = len(best_weight)
    together = max((len(v) for v in by_sentence.values()), default=0)
    most = max(FIELD_WEIGHTS.values()) * leaves + SENTENCE_BONUS * max(leaves - 1, 0)
    raw = sum(best_weight.values()) + SENTENCE_BONUS * max(together - 1, 0)
    score = round(raw / most, 3) if most else 0.0

    order = {name: i for i, name in enumerate(FIELDS)}
    body = [key for key in by_sentence if key[0] != "title"]
    candidates = body or list(by_sentence)
    field, sentence = min(
        candidates, key=lambda k: (-len(by_sentence[k]), order.get(k[0], 99), k[1])
    )
    snippet = _shorten(sentence_text(doc, field, sentence), SNIPPET_MAX_CHARS)

    title = doc.fields["title"].text
    sentences = [
        sentence_text(doc, f, s)
        for f, s in sorted(by_sentence, key=lambda k: (order.get(k[0], 99), k[1]))
        if f != "title"
    ]
    stance = suggest_stance(pledge_text, title, sentences)
    return Finding(
        score=score,
        snippet=snippet,
        stance=stance.label,
        stance_reason=_shorten(stance.reason, 300),
        terms=tuple(sorted(best_weight)),
    )
