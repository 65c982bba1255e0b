"""Editorial review: evidence reviews, verdicts, status history and derived flags.

A status changes only when a person records a verdict. Every review and every
verdict is appended with who, when and why; nothing in the history can be
edited or deleted through pledgewatch: a correction is a new verdict that
says so. A final status (kept, compromise, broken) must cite at least one
confirmed evidence item of the pledge, or a source URL.

``flags`` is pure: derived flags from plain facts and a given day.

May import: pledgewatch.characters, pledgewatch.errors, pledgewatch.models, pledgewatch.pledges.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy import and_, case, func, select
from sqlalchemy.orm import Session

from pledgewatch.characters import first_unsafe
from pledgewatch.errors import (
    FinalStatusNeedsSource,
    InputError,
    NotFoundError,
    UnchangedStatus,
    ValidationError,
)
from pledgewatch.models import (
    FINAL_STATUSES,
    STANCE_VALUES,
    STATUS_VALUES,
    Evidence,
    EvidenceReview,
    Pledge,
    Review,
    Status,
    StatusChange,
    StatusChangeEvidence,
)
from pledgewatch.pledges import check_person, check_status, check_url, get_pledge, in_id_range

FLAG_ORDER = ("overdue", "needs_review", "due_soon", "stale")
MAX_NOTE = 5000


def _note(note: str | None, *, required: bool) -> str | None:
    text = (note or "").strip()
    if not text:
        if required:
            raise ValidationError("note", "is required: say why, for the record")
        return None
    if len(text) > MAX_NOTE:
        raise ValidationError(
            "note", f"is {len(text):,} characters long; the limit is {MAX_NOTE:,}"
        )
    problem = first_unsafe(text)
    if problem is not None:
        raise ValidationError("note", problem)
    return text


def check_note(note: str | None) -> str | None:
    """An optional note for the record: stripped, one that a database can store."""
    return _note(note, required=False)


def check_stance(stance: str, field: str = "stance") -> str:
    """A stance as people type it ("Broken", " kept "), or the error naming the values."""
    value = stance.strip().lower()
    if value not in STANCE_VALUES:
        raise ValidationError(
            field, f'"{stance}" is not a stance; use one of {", ".join(STANCE_VALUES)}'
        )
    return value


def get_evidence(
    session: Session, evidence_id: int, *, for_update: bool = False, for_share: bool = False
) -> Evidence:
    """One evidence item; with ``for_update`` its row stays locked until the
    transaction ends, so reviews of it at once are appended one after another;
    with ``for_share`` no review can change it until then (a verdict citing it)."""
    item = None
    if in_id_range(evidence_id):
        lock: dict[str, Any] | None = None
        if for_update:
            lock = {"key_share": True, "of": Evidence}
        elif for_share:
            lock = {"read": True, "of": Evidence}
        item = session.get(
            Evidence, evidence_id, with_for_update=lock, populate_existing=lock is not None
        )
    if item is None:
        raise NotFoundError("evidence", f"#{evidence_id}")
    return item


def review_evidence(
    session: Session,
    evidence_id: int,
    decision: str,
    *,
    by: str,
    now: datetime,
    stance: str | None = None,
    note: str | None = None,
) -> Evidence:
    """Confirm or reject one evidence item; the review is appended to its history."""
    if decision not in (Review.CONFIRMED.value, Review.REJECTED.value):
        raise InputError(f'"{decision}" is not a review; use confirmed or rejected')
    if stance is not None:
        stance = check_stance(stance)
    text = _note(note, required=False)
    by = check_person("by", by)
    item = get_evidence(session, evidence_id, for_update=True)
    if stance is not None:
        item.stance = stance
    item.review = decision
    item.reviewed_by = by
    item.reviewed_at = now
    item.review_note = text
    session.add(
        EvidenceReview(
            evidence_id=item.id, at=now, by=by, review=decision, stance=item.stance, note=text
        )
    )
    session.flush()
    return item


def review_history(session: Session, evidence_id: int) -> list[EvidenceReview]:
    return list(
        session.scalars(
            select(EvidenceReview)
            .where(EvidenceReview.evidence_id == evidence_id)
            .order_by(EvidenceReview.id)
        )
    )


def record_verdict(
    session: Session,
    pledge_id: int,
    status: str,
    *,
    note: str,
    by: str,
    now: datetime,
    evidence_ids: Sequence[int] = (),
    source_url: str | None = None,
    same_status: bool = False,
) -> StatusChange:
    """Append a status change to a pledge and set its status.

    A verdict that leaves the status as it is (a second "broken", say) is refused
    unless ``same_status``: it adds nothing to the record but noise, and is most
    often a verdict meant for another pledge.
    """
    value = check_status(status)
    text = _note(note, required=True)
    assert text is not None
    by = check_person("by", by)
    # The pledge's row is locked first: the change's "from" is then the status
    # the previous verdict set, however many verdicts arrive at once.
    pledge = get_pledge(session, pledge_id, for_update=True)
    if value == pledge.status and not same_status:
        raise UnchangedStatus(pledge.id, value)
    if source_url is not None:
        source_url = check_url("source_url", source_url.strip())
    cited: list[Evidence] = []
    # In id order, each locked against a review until the verdict is stored: a
    # final status never rests on evidence rejected at the same moment.
    for evidence_id in sorted(set(evidence_ids)):
        item = get_evidence(session, evidence_id, for_share=True)
        if item.pledge_id != pledge.id:
            raise InputError(
                f"evidence #{evidence_id} is about pledge #{item.pledge_id}, not #{pledge.id}"
            )
        if item.review == Review.REJECTED.value:
            raise InputError(f"evidence #{evidence_id} was rejected; a verdict cannot cite it")
        cited.append(item)
    confirmed = any(item.review == Review.CONFIRMED.value for item in cited)
    if Status(value) in FINAL_STATUSES and source_url is None and not confirmed:
        raise FinalStatusNeedsSource(value)
    change = StatusChange(
        pledge_id=pledge.id,
        from_status=pledge.status,
        to_status=value,
        at=now,
        by=by,
        note=text,
        source_url=source_url,
    )
    session.add(change)
    session.flush()
    for item in cited:
        session.add(StatusChangeEvidence(status_change_id=change.id, evidence_id=item.id))
    pledge.status = value
    pledge.updated_at = now
    pledge.updated_by = by
    session.flush()
    return change


def cited_evidence(session: Session, change_ids: Sequence[int]) -> dict[int, list[int]]:
    found: dict[int, list[int]] = {i: [] for i in change_ids}
    if change_ids:
        rows = session.execute(
            select(StatusChangeEvidence.status_change_id, StatusChangeEvidence.evidence_id)
            .where(StatusChangeEvidence.status_change_id.in_(list(change_ids)))
            .order_by(StatusChangeEvidence.evidence_id)
        )
        for change_id, evidence_id in rows:
            found[change_id].append(evidence_id)
    return found


# -- flags and the status board ------------------------------------------------------------------


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
    found: list[str] = []
    final = Status(facts.status) in FINAL_STATUSES
    if facts.deadline is not None and not final:
        if facts.deadline < today:
            found.append("overdue")
        elif facts.deadline <= today + due_soon:
            found.append("due_soon")
    if facts.pending:
        found.append("needs_review")
    if not final:
        latest = facts.last_evidence_at or facts.created_at
        if latest.date() < today - stale_after:
            found.append("stale")
    return sorted(found, key=FLAG_ORDER.index)


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


def _attention(row: BoardRow) -> tuple[int, int, str, int]:
    first = min((FLAG_ORDER.index(f) for f in row.flags), default=len(FLAG_ORDER))
    return (first, STATUS_VALUES.index(row.status), (row.deadline or date.max).isoformat(), row.id)


def status_board(
    session: Session, *, today: date, stale_after: timedelta, due_soon: timedelta
) -> list[BoardRow]:
    """One row a pledge, what needs attention first.

    Evidence counts: ``pending`` awaits review; ``kept``, ``broken`` and ``neutral``
    count confirmed evidence by the stance the editor settled on.
    """

    # One pass over the evidence for every pledge's counts and latest find, and the
    # pledges' columns without objects: 10,000 pledges and 200,000 evidence rows.
    def confirmed(stance: str) -> Any:
        return func.sum(
            case(
                (and_(Evidence.review == Review.CONFIRMED.value, Evidence.stance == stance), 1),
                else_=0,
            )
        )

    counts: dict[int, dict[str, int]] = {}
    latest: dict[int, datetime] = {}
    for pledge_id, pending, kept, broken, neutral, last in session.execute(
        select(
            Evidence.pledge_id,
            func.sum(case((Evidence.review == Review.PENDING.value, 1), else_=0)),
            confirmed("kept"),
            confirmed("broken"),
            confirmed("neutral"),
            func.max(Evidence.found_at),
        ).group_by(Evidence.pledge_id)
    ):
        counts[pledge_id] = {
            "pending": int(pending or 0),
            "kept": int(kept or 0),
            "broken": int(broken or 0),
            "neutral": int(neutral or 0),
        }
        if last is not None:
            latest[pledge_id] = last
    rows = []
    pledges = session.execute(
        select(
            Pledge.id, Pledge.actor, Pledge.text, Pledge.status, Pledge.deadline, Pledge.created_at
        ).where(Pledge.archived_at.is_(None))
    )
    for pledge in pledges:
        evidence = counts.get(pledge.id, {"pending": 0, "kept": 0, "broken": 0, "neutral": 0})
        last = latest.get(pledge.id)
        if last is not None and last.tzinfo is None:
            last = last.replace(tzinfo=UTC)  # func.max bypasses the column type on SQLite
        created = pledge.created_at
        facts = PledgeFacts(pledge.status, pledge.deadline, created, evidence["pending"], last)
        rows.append(
            BoardRow(
                id=pledge.id,
                actor=pledge.actor,
                text=pledge.text,
                status=pledge.status,
                flags=flags(facts, today=today, stale_after=stale_after, due_soon=due_soon),
                evidence=evidence,
                last_evidence_at=last,
                deadline=pledge.deadline,
            )
        )
    return sorted(rows, key=_attention)
