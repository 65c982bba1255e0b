"""The status board: derived flags, the order of attention, and the two
statements that read it.

Pure: the statements are plain SQL text that SQLite and PostgreSQL both run,
and ``assemble`` turns the rows either driver gives (SQLite's text or
PostgreSQL's dates) into board rows. The Desk runs the statements through its
session; ``pledgewatch.quick`` runs the same text through the standard
library's sqlite3, so that ``pledgewatch status`` answers before SQLAlchemy
would have loaded. One text, two ways to run it: the board cannot differ.

May import: pledgewatch.states.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

from pledgewatch.states import FINAL_STATUSES, STATUS_VALUES

FLAG_ORDER = ("overdue", "needs_review", "due_soon", "stale")


@dataclass(frozen=True)
class PledgeFacts:
    """What the flags of one pledge depend on."""

    status: str
    deadline: date | None
    created_at: datetime
    pending: int
    last_evidence_at: datetime | None


def flags(
    facts: PledgeFacts, *, today: date, stale_after: timedelta, due_soon: timedelta
) -> list[str]:
    """Derived flags, never stored: needs_review, overdue, due_soon, stale."""
    return _flags(
        facts.status,
        facts.deadline,
        facts.pending,
        (facts.last_evidence_at or facts.created_at).date(),
        today,
        today - stale_after,
        today + due_soon,
    )


_FINAL = frozenset(s.value for s in FINAL_STATUSES)


def _flags(
    status: str,
    deadline: date | None,
    pending: int,
    latest: date,
    today: date,
    stale_before: date,
    due_by: date,
) -> list[str]:
    """The flags in FLAG_ORDER, from a pledge's facts and the day's edges."""
    final = status in _FINAL
    found: list[str] = []
    if deadline is not None and not final and deadline < today:
        found.append("overdue")
    if pending:
        found.append("needs_review")
    if deadline is not None and not final and today <= deadline <= due_by:
        found.append("due_soon")
    if not final and latest < stale_before:
        found.append("stale")
    return found


@dataclass(frozen=True)
class BoardRow:
    id: int
    actor: str
    text: str
    status: str
    flags: list[str]
    evidence: dict[str, int] = field(default_factory=dict)
    last_evidence_at: datetime | None = None
    deadline: date | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "actor": self.actor,
            "text": self.text,
            "status": self.status,
            "flags": self.flags,
            "evidence": self.evidence,
            "last_evidence_at": self.last_evidence_at.isoformat()
            if self.last_evidence_at
            else None,
            "deadline": self.deadline.isoformat() if self.deadline else None,
        }


_FLAG_RANK = {flag: rank for rank, flag in enumerate(FLAG_ORDER)}
_STATUS_RANK = {status: rank for rank, status in enumerate(STATUS_VALUES)}


def attention(row: BoardRow) -> tuple[int, int, str, int]:
    """The board's order: the most pressing flag, then status, deadline and id."""
    first = min((_FLAG_RANK[f] for f in row.flags), default=len(FLAG_ORDER))
    return (first, _STATUS_RANK[row.status], (row.deadline or date.max).isoformat(), row.id)


# Every pledge's evidence counts and latest find, kept per pledge as evidence is
# stored and reviewed (``evidence_counts``, by triggers): the board reads one row a
# pledge, however much evidence the store holds. ``pending`` awaits review; kept,
# broken and neutral count confirmed evidence by the stance the editor settled on.
COUNTS_SQL = "SELECT pledge_id, pending, kept, broken, neutral, last_found_at FROM evidence_counts"
PLEDGES_SQL = (
    "SELECT id, actor, text, status, deadline, created_at FROM pledges WHERE archived_at IS NULL"
)


def moment(value: datetime | str) -> datetime:
    """A stored time as aware UTC: SQLite's naive text or PostgreSQL's timestamptz."""
    if isinstance(value, str):
        try:
            return datetime.fromisoformat(value + "+00:00")  # naive UTC, in one step
        except ValueError:
            value = datetime.fromisoformat(value)
    if value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value.astimezone(UTC)


def day(value: date | str | None) -> date | None:
    """A stored date: SQLite's text or PostgreSQL's date."""
    if value is None or isinstance(value, date):
        return value
    return date.fromisoformat(value)


def assemble(
    counts: Iterable[Sequence[Any]],
    pledges: Iterable[Sequence[Any]],
    *,
    today: date,
    stale_after: timedelta,
    due_soon: timedelta,
) -> list[BoardRow]:
    """Board rows from the rows of COUNTS_SQL and PLEDGES_SQL, what needs attention first."""
    evidence_of: dict[int, dict[str, int]] = {}
    latest: dict[int, datetime] = {}
    for pledge_id, pending, kept, broken, neutral, last in counts:
        evidence_of[pledge_id] = {
            "pending": int(pending or 0),
            "kept": int(kept or 0),
            "broken": int(broken or 0),
            "neutral": int(neutral or 0),
        }
        if last is not None:
            latest[pledge_id] = moment(last)
    rows = []
    stale_before, due_by = today - stale_after, today + due_soon
    nothing = {"pending": 0, "kept": 0, "broken": 0, "neutral": 0}
    for pledge_id, actor, text, status, deadline, created_at in pledges:
        evidence = evidence_of.get(pledge_id) or dict(nothing)
        last_found = latest.get(pledge_id)
        due = day(deadline)
        seen = (last_found or moment(created_at)).date()
        rows.append(
            BoardRow(
                id=pledge_id,
                actor=actor,
                text=text,
                status=status,
                flags=_flags(status, due, evidence["pending"], seen, today, stale_before, due_by),
                evidence=evidence,
                last_evidence_at=last_found,
                deadline=due,
            )
        )
    rows.sort(key=attention)
    return rows
