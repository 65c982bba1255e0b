"""Report data: plain records in, one plain dict out. No session, no clock.

May import: pledgewatch.models (for the status vocabulary) only.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from pledgewatch.models import STATUS_VALUES

STATUS_LABELS = {
    "not_yet_rated": "Not yet rated",
    "in_the_works": "In the works",
    "stalled": "Stalled",
    "kept": "Promise kept",
    "compromise": "Compromise",
    "broken": "Promise broken",
}
REVIEW_ORDER = {"pending": 0, "confirmed": 1, "rejected": 2}


@dataclass(frozen=True)
class PledgeRecord:
    id: int
    actor: str
    text: str
    status: str
    made_on: date
    deadline: date | None
    created_at: datetime
    source_url: str
    flags: tuple[str, ...]
    evidence: dict[str, int]
    last_evidence_at: datetime | None


@dataclass(frozen=True)
class ChangeRecord:
    pledge_id: int
    from_status: str | None
    to_status: str
    at: datetime
    by: str
    note: str
    source_url: str | None
    evidence: tuple[tuple[str, str], ...]  # (url, title) of the cited articles


@dataclass(frozen=True)
class EvidenceRecord:
    id: int
    pledge_id: int
    title: str
    url: str
    published_at: datetime
    found_at: datetime
    stance: str
    stance_reason: str
    snippet: str
    review: str
    score: float


@dataclass(frozen=True)
class FeedRecord:
    name: str
    url: str
    consecutive_errors: int
    last_error: str | None
    gone: bool
    articles: int


@dataclass
class ReportInput:
    since: datetime
    until: datetime
    pledges: list[PledgeRecord]
    changes: list[ChangeRecord]  # every status change, any time (for the counts then)
    evidence: list[EvidenceRecord]  # evidence found in the period
    feeds: list[FeedRecord]
    articles_total: int
    articles_new: int
    sweeps: int
    title: str | None = None  # else named after the period: weekly, monthly, ...
    extra: dict[str, Any] = field(default_factory=dict)


def period_title(since: datetime, until: datetime) -> str:
    """The report's title, named for the period it covers."""
    days = (until - since).total_seconds() / 86400
    if 0.9 <= days <= 1.1:
        name = "daily report"
    elif 6.5 <= days <= 7.5:
        name = "weekly report"
    elif 13.5 <= days <= 14.5:
        name = "fortnightly report"
    elif 27.5 <= days <= 31.5:
        name = "monthly report"
    elif 89 <= days <= 93:
        name = "quarterly report"
    elif 364 <= days <= 366.5:
        name = "yearly report"
    elif days < 1:
        hours = max(1, round(days * 24))
        name = f"report on the last {hours} hour{'s' if hours != 1 else ''}"
    else:
        name = f"report on {round(days)} days"
    return f"Pledge tracker: {name}"


def _status_at(
    pledge: PledgeRecord, history: Sequence[ChangeRecord], moment: datetime
) -> str | None:
    """A pledge's status at ``moment`` from its own changes in time order; None if it
    was not logged yet."""
    if pledge.created_at > moment:
        return None
    status = "not_yet_rated"
    for change in history:
        if change.at > moment:
            break
        status = change.to_status
    return status


def build_report(data: ReportInput) -> dict[str, Any]:
    """Everything the weekly report says, in plain values, in display order."""
    changes = sorted(data.changes, key=lambda c: (c.at, c.pledge_id))
    pledges = sorted(data.pledges, key=lambda p: p.id)
    by_id = {p.id: p for p in pledges}
    now_counts = Counter(p.status for p in pledges)
    # Each pledge's history once, so the status at the period's start is one pass
    # over the changes, not one per pledge.
    histories: dict[int, list[ChangeRecord]] = defaultdict(list)
    for change in changes:
        histories[change.pledge_id].append(change)
    then_counts = Counter(
        s
        for s in (_status_at(p, histories.get(p.id, ()), data.since) for p in pledges)
        if s is not None
    )
    counts = [
        {
            "status": status,
            "label": STATUS_LABELS[status],
            "count": now_counts.get(status, 0),
            "change": now_counts.get(status, 0) - then_counts.get(status, 0),
        }
        for status in STATUS_VALUES
    ]
    in_period = [
        c for c in changes if data.since < c.at <= data.until and c.from_status is not None
    ]
    status_changes = [
        {
            "pledge_id": c.pledge_id,
            "actor": by_id[c.pledge_id].actor if c.pledge_id in by_id else "",
            "text": by_id[c.pledge_id].text if c.pledge_id in by_id else "",
            "from": c.from_status,
            "from_label": STATUS_LABELS[c.from_status] if c.from_status else None,
            "to": c.to_status,
            "to_label": STATUS_LABELS[c.to_status],
            "at": c.at.isoformat(),
            "by": c.by,
            "note": c.note,
            "source_url": c.source_url,
            "evidence": [{"url": url, "title": title} for url, title in c.evidence],
        }
        for c in in_period
    ]
    grouped: dict[int, list[EvidenceRecord]] = {}
    for item in data.evidence:
        grouped.setdefault(item.pledge_id, []).append(item)
    new_evidence = []
    for pledge_id in sorted(grouped):
        items = sorted(
            grouped[pledge_id],
            key=lambda e: (REVIEW_ORDER.get(e.review, 9), -e.published_at.timestamp()),
        )
        pledge = by_id.get(pledge_id)
        new_evidence.append(
            {
                "pledge_id": pledge_id,
                "actor": pledge.actor if pledge else "",
                "text": pledge.text if pledge else "",
                "status": pledge.status if pledge else "",
                "items": [
                    {
                        "id": e.id,
                        "title": e.title,
                        "url": e.url,
                        "published_at": e.published_at.isoformat(),
                        "stance": e.stance,
                        "stance_reason": e.stance_reason,
                        "snippet": e.snippet,
                        "review": e.review,
                        "score": e.score,
                    }
                    for e in items
                ],
            }
        )

    def brief(p: PledgeRecord) -> dict[str, Any]:
        return {
            "id": p.id,
            "actor": p.actor,
            "text": p.text,
            "status": p.status,
            "status_label": STATUS_LABELS[p.status],
            "made_on": p.made_on.isoformat(),
            "deadline": p.deadline.isoformat() if p.deadline else None,
            "flags": list(p.flags),
            "evidence": dict(p.evidence),
            "last_evidence_at": p.last_evidence_at.isoformat() if p.last_evidence_at else None,
            "source_url": p.source_url,
        }

    changed_ids = {c["pledge_id"] for c in status_changes}
    evidence_counts = Counter(e.pledge_id for e in data.evidence)
    return {
        "title": data.title or period_title(data.since, data.until),
        "since": data.since.isoformat(),
        "until": data.until.isoformat(),
        "counts": counts,
        "total": len(pledges),
        "status_changes": status_changes,
        "new_evidence": new_evidence,
        "new_pledges": [brief(p) for p in pledges if data.since < p.created_at <= data.until],
        "overdue": [brief(p) for p in pledges if "overdue" in p.flags],
        "due_soon": [brief(p) for p in pledges if "due_soon" in p.flags],
        "feeds": {
            "failing": [
                {
                    "name": f.name,
                    "url": f.url,
                    "consecutive_errors": f.consecutive_errors,
                    "last_error": f.last_error,
                    "gone": f.gone,
                }
                for f in data.feeds
                if f.consecutive_errors or f.gone
            ],
            "count": len(data.feeds),
            "articles_total": data.articles_total,
            "articles_new": data.articles_new,
            "sweeps": data.sweeps,
        },
        "pledges": [
            {
                **brief(p),
                "status_changed": p.id in changed_ids,
                "new_evidence": evidence_counts.get(p.id, 0),
            }
            for p in pledges
        ],
    }
