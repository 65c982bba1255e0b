"""schema.org ClaimReview JSON-LD for pledges with a final verdict.

Fact-check aggregators read ClaimReview. Each pledge with a final status
becomes one ClaimReview: the pledge is the claim reviewed, the actor its
author, the source its first appearance, and the latest verdict the rating.

Rating scale (documented here and in the README), best 3, worst 1:
3 "Promise Kept", 2 "Compromise", 1 "Promise Broken".

The JSON is written to be pasted into a ``<script type="application/ld+json">``
element: ``<``, ``>`` and ``&`` are JSON escapes, so no text in a pledge, a
publisher's name or a URL can close the element and run a script.

Pure: plain records in, plain dicts out. May import: nothing from pledgewatch
but the status vocabulary.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

RATINGS = {
    "kept": (3, "Promise Kept"),
    "compromise": (2, "Compromise"),
    "broken": (1, "Promise Broken"),
}
REQUIRED = ("@type", "claimReviewed", "itemReviewed", "reviewRating", "author", "datePublished")


@dataclass(frozen=True)
class Verdict:
    pledge_id: int
    text: str
    actor: str
    made_on: date
    source_url: str
    source_name: str | None
    status: str
    note: str
    at: datetime
    url: str | None = None  # where the newsroom published the verdict, if known


def claim_review(verdict: Verdict, *, publisher: str) -> dict[str, Any]:
    value, name = RATINGS[verdict.status]
    appearance: dict[str, Any] = {"@type": "CreativeWork", "url": verdict.source_url}
    if verdict.source_name:
        appearance["publisher"] = {"@type": "Organization", "name": verdict.source_name}
    review: dict[str, Any] = {
        "@context": "https://schema.org",
        "@type": "ClaimReview",
        "claimReviewed": verdict.text,
        "datePublished": verdict.at.date().isoformat(),
        "author": {"@type": "Organization", "name": publisher},
        "itemReviewed": {
            "@type": "Claim",
            "author": {"@type": "Thing", "name": verdict.actor},
            "datePublished": verdict.made_on.isoformat(),
            "appearance": appearance,
            "firstAppearance": appearance,
        },
        "reviewRating": {
            "@type": "Rating",
            "ratingValue": value,
            "bestRating": 3,
            "worstRating": 1,
            "alternateName": name,
            "ratingExplanation": verdict.note,
        },
    }
    if verdict.url:
        review["url"] = verdict.url
    return review


# Characters that could end or confuse the <script type="application/ld+json">
# element the output is pasted into ("</script>", "<!--"), or an HTML parser's
# idea of where it ends, written as JSON escapes: the JSON means the same.
_EMBED_ESCAPES = {
    "<": "\\u003c",
    ">": "\\u003e",
    "&": "\\u0026",
    "\u2028": "\\u2028",
    "\u2029": "\\u2029",
}


def to_json_ld(reviews: list[dict[str, Any]]) -> str:
    """The reviews as JSON that is safe to embed in an HTML <script> element as it is."""
    text = json.dumps(reviews, ensure_ascii=False, indent=2)
    for char, escape in _EMBED_ESCAPES.items():
        text = text.replace(char, escape)
    return text + "\n"


def missing_properties(review: dict[str, Any]) -> list[str]:
    """Required ClaimReview properties that are absent or empty (empty list: valid)."""
    missing = [key for key in REQUIRED if not review.get(key)]
    rating = review.get("reviewRating") or {}
    missing += [
        f"reviewRating.{key}"
        for key in ("ratingValue", "bestRating", "worstRating", "alternateName")
        if rating.get(key) in (None, "")
    ]
    item = review.get("itemReviewed") or {}
    missing += [f"itemReviewed.{key}" for key in ("@type", "author") if not item.get(key)]
    return missing
