"""The values a Desk returns: frozen, plain, with ``to_json()``.

Nothing here holds a session or a database row: a view is read whole inside
the Desk's transaction and can be kept, compared, printed or sent as JSON
after it ends. ``to_json()`` gives the documents the command line prints with
``--json`` (dates as ISO 8601 text, tuples as arrays).

May import the standard library only.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field, fields
from datetime import date, datetime
from typing import Any, Generic, TypeVar


def plain(value: Any) -> Any:
    """A value as JSON takes it: dates as text, tuples as lists, views as objects."""
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, View):
        return value.to_json()
    if isinstance(value, tuple | list):
        return [plain(item) for item in value]
    if isinstance(value, dict):
        return {key: plain(item) for key, item in value.items()}
    return value


class View:
    """A frozen value; its JSON is its fields, in order."""

    def to_json(self) -> dict[str, Any]:
        return {f.name: plain(getattr(self, f.name)) for f in fields(self)}  # type: ignore[arg-type]


@dataclass(frozen=True)
class PledgeView(View):
    """One pledge as stored (``query`` is what the journalist wrote, if anything)."""

    id: int
    text: str
    actor: str
    made_on: date
    source_url: str
    source_name: str | None
    quote: str | None
    reported_by: str | None
    deadline: date | None
    tags: tuple[str, ...]
    query: str | None
    notes: str | None
    status: str
    created_at: datetime
    created_by: str
    updated_at: datetime
    updated_by: str
    archived_at: datetime | None = None
    archived_by: str | None = None
    archive_reason: str | None = None

    @property
    def archived(self) -> bool:
        return self.archived_at is not None


@dataclass(frozen=True)
class ArticleView(View):
    url: str
    title: str
    published_at: datetime
    feeds: tuple[str, ...]


@dataclass(frozen=True)
class ReviewView(View):
    """One review of an evidence item, as its history keeps it."""

    at: datetime
    by: str
    review: str
    stance: str
    note: str | None


@dataclass(frozen=True)
class EvidenceView(View):
    id: int
    pledge_id: int
    article: ArticleView
    score: float
    stance: str
    stance_reason: str | None
    snippet: str
    review: str
    found_at: datetime
    reviewed_by: str | None
    reviewed_at: datetime | None
    review_note: str | None
    query: str | None
    pledge_text: str = ""
    pledge_actor: str = ""
    cited_by: tuple[int, ...] = ()  # verdicts (status change ids) that cite it
    reviews: tuple[ReviewView, ...] = ()

    def to_json(self) -> dict[str, Any]:
        document = super().to_json()
        if not self.reviews:
            del document["reviews"]
        return document


@dataclass(frozen=True)
class VerdictView(View):
    """A status change: who moved a pledge from one status to another, why, on what."""

    id: int
    pledge_id: int
    from_status: str | None
    to_status: str
    at: datetime
    by: str
    note: str
    evidence: tuple[int, ...]
    source_url: str | None

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "pledge_id": self.pledge_id,
            "from": self.from_status,
            "to": self.to_status,
            "at": self.at.isoformat(),
            "by": self.by,
            "note": self.note,
            "evidence": list(self.evidence),
            "source_url": self.source_url,
        }


@dataclass(frozen=True)
class RevisionView(View):
    at: datetime
    by: str
    field: str
    old: str | None
    new: str | None


@dataclass(frozen=True)
class TimelineEntry(View):
    """One event in a pledge's story, in time order with the others.

    ``kind`` is logged, verdict, review, edit, archived or evidence (found by a
    sweep or added by hand); ``cites`` names what a verdict rests on (evidence
    ids) and ``source_url`` the source it or the pledge cites.
    """

    at: datetime
    kind: str
    by: str
    summary: str
    note: str | None = None
    evidence_id: int | None = None
    cites: tuple[int, ...] = ()
    source_url: str | None = None


def _matching(progress: tuple[int, int] | None) -> dict[str, int] | None:
    return None if progress is None else {"done": progress[0], "total": progress[1]}


@dataclass(frozen=True)
class PledgeDetail(View):
    """One pledge with its query, its evidence and its whole story."""

    pledge: PledgeView
    effective_query: str
    query_derived: bool
    evidence: tuple[EvidenceView, ...]
    verdicts: tuple[VerdictView, ...]
    revisions: tuple[RevisionView, ...]
    timeline: tuple[TimelineEntry, ...]
    # (matched, to match) while stored articles are still being matched in the background
    matching: tuple[int, int] | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            **self.pledge.to_json(),
            "effective_query": self.effective_query,
            "query_derived": self.query_derived,
            "matching": _matching(self.matching),
            "evidence": [item.to_json() for item in self.evidence],
            "history": [
                {
                    "at": v.at.isoformat(),
                    "by": v.by,
                    "from": v.from_status,
                    "to": v.to_status,
                    "note": v.note,
                    "evidence": list(v.evidence),
                    "source_url": v.source_url,
                }
                for v in self.verdicts
            ],
            "revisions": [r.to_json() for r in self.revisions],
            "timeline": [t.to_json() for t in self.timeline],
        }


T = TypeVar("T")


@dataclass(frozen=True)
class Page(Generic[T]):
    """One page of a listing: its items, how many match in all, and whether more follow.

    ``exact`` False: more match than ``total``, where counting stopped (a listing of
    a large table counts up to a cap, so its first page costs the same at any size).
    """

    items: tuple[T, ...]
    total: int
    offset: int = 0
    exact: bool = True

    @property
    def more(self) -> int:
        return max(0, self.total - self.offset - len(self.items))

    def __iter__(self) -> Iterator[T]:
        return iter(self.items)

    def __len__(self) -> int:
        return len(self.items)

    def __getitem__(self, index: int) -> T:
        return self.items[index]

    def to_json(self) -> list[Any]:
        return [plain(item) for item in self.items]


@dataclass(frozen=True)
class Added(View):
    """A pledge logged, and the evidence found for it among stored articles."""

    pledge: PledgeView
    evidence_new: int
    similar: tuple[PledgeView, ...] = ()  # pledges by a variant of the actor's name
    matching: tuple[int, int] | None = None  # the rest of the store, matched in the background

    def to_json(self) -> dict[str, Any]:
        return {
            **self.pledge.to_json(),
            "evidence_new": self.evidence_new,
            "similar": [p.id for p in self.similar],
            "matching": _matching(self.matching),
        }


@dataclass(frozen=True)
class Edited(View):
    pledge: PledgeView
    changed: tuple[str, ...]
    evidence_new: int
    pending_unmatched: tuple[int, ...]
    matching: tuple[int, int] | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            **self.pledge.to_json(),
            "changed": list(self.changed),
            "evidence_new": self.evidence_new,
            "pending_unmatched": list(self.pending_unmatched),
            "matching": _matching(self.matching),
        }


@dataclass(frozen=True)
class Imported(View):
    imported: tuple[int, ...]
    skipped: tuple[tuple[int, int], ...]  # (line, id of the pledge it repeats)
    evidence_new: int
    warnings: tuple[str, ...] = ()

    def to_json(self) -> dict[str, Any]:
        return {
            "imported": list(self.imported),
            "skipped": [{"line": line, "existing_id": pid} for line, pid in self.skipped],
            "evidence_new": self.evidence_new,
            "warnings": list(self.warnings),
        }


@dataclass(frozen=True)
class DryRun(View):
    """What adding or editing a pledge would do; nothing was written."""

    pledge: dict[str, Any]
    query: str
    query_derived: bool
    trial: Any  # evidence.QueryTrial

    def to_json(self) -> dict[str, Any]:
        return {
            "dry_run": True,
            "pledge": self.pledge,
            "query": self.query,
            "query_derived": self.query_derived,
            "trial": self.trial.to_json(),
        }


@dataclass(frozen=True)
class FeedView(View):
    """A feed as the config names it and as its polls left it."""

    name: str
    url: str
    enabled: bool
    last_polled_at: datetime | None
    last_status: int | None
    last_outcome: str | None
    consecutive_errors: int
    last_error: str | None
    last_warning: str | None
    next_poll_at: datetime | None
    redirect_url: str | None
    gone: bool
    articles: int
    result: str
    next: str
    removed: bool = False


@dataclass(frozen=True)
class FeedEntryView(View):
    url: str
    title: str
    published_at: datetime
    summary: str


@dataclass(frozen=True)
class FeedCheck(View):
    url: str
    http_status: int | None
    content_type: str | None
    bytes: int
    seconds: float
    title: str | None
    entries: tuple[FeedEntryView, ...]
    warnings: tuple[str, ...]
    permanent_redirect: str | None


@dataclass(frozen=True)
class Archived(View):
    pledge: PledgeView
    pending_left: int

    def to_json(self) -> dict[str, Any]:
        return {**self.pledge.to_json(), "pending_left": self.pending_left}


@dataclass(frozen=True)
class Reviewed(View):
    """Evidence items reviewed together, and verdicts that cite a rejected one."""

    items: tuple[EvidenceView, ...]
    cited_rejections: tuple[tuple[int, tuple[int, ...]], ...] = field(default=())

    def to_json(self) -> dict[str, Any]:
        return {"items": [item.to_json() for item in self.items]}


@dataclass(frozen=True)
class SweepView(View):
    """What one sweep did: the ``sweep --json`` document."""

    run_id: int | None
    feeds_due: int
    feeds_polled: int
    feeds_not_modified: int
    feeds_failed: int
    articles_new: int
    articles_updated: int
    evidence_new: int
    seconds: float
    errors: tuple[dict[str, str], ...]
    warnings: tuple[dict[str, str], ...]
    interrupted: bool

    def to_json(self) -> dict[str, Any]:
        document = super().to_json()
        document["seconds"] = round(self.seconds, 3)
        return document


def listed(items: Sequence[View]) -> list[dict[str, Any]]:
    return [item.to_json() for item in items]


@dataclass(frozen=True)
class ReportView(View):
    """A period's report: what ``report.render`` turns into HTML, Markdown, CSV or JSON.

    The report is kept as its JSON text, so the value cannot be changed after the
    fact; ``to_json()`` gives a fresh copy of the document each time."""

    title: str
    since: datetime
    until: datetime
    document: str = field(repr=False)

    def to_json(self) -> dict[str, Any]:
        document: dict[str, Any] = json.loads(self.document)
        return document


@dataclass(frozen=True)
class UserView(View):
    """A person of the web desk (never their password or its hash)."""

    name: str
    role: str
    disabled: bool
    created_at: datetime
    created_by: str
    last_login_at: datetime | None
    password_changed_at: datetime
    sessions_valid_after: datetime


@dataclass(frozen=True)
class AlertsDelivered(View):
    """What one delivery round did: messages sent, to be retried, given up."""

    sent: int
    retrying: int
    given_up: int
    errors: tuple[tuple[str, str], ...] = ()  # (alert, reason) of each failure


@dataclass(frozen=True)
class CitedArticle(View):
    evidence_id: int
    title: str
    url: str


@dataclass(frozen=True)
class PublicPledge(View):
    """What a published pledge page shows: the pledge, its rulings with what each
    cites, and its ClaimReview when its status is final (JSON safe to embed)."""

    pledge: PledgeView
    verdicts: tuple[VerdictView, ...]
    cited: tuple[CitedArticle, ...]
    claim_review: str | None


@dataclass(frozen=True)
class ChangeView(View):
    """A status change of a pledge, for the public feed."""

    verdict: VerdictView
    pledge_text: str
    pledge_actor: str


@dataclass(frozen=True)
class Pruned(View):
    """What ``prune`` dropped: articles fetched before ``before`` that no evidence cites."""

    before: datetime | None
    articles: int
    batches: int
