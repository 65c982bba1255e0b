"""Editorial review: evidence reviews, verdicts, status history and derived flags.

A status changes only when a person records a verdict. Every review and every
verdict is appended with who, when and why; nothing in the history can be
edited or deleted through pledgewatch: a correction is a new verdict that
says so. A final status (kept, compromise, broken) must cite at least one
confirmed evidence item of the pledge, or a source URL.

The board's flags and order are pure, in ``pledgewatch.board``.

May import: pledgewatch.board, pledgewatch.characters, pledgewatch.errors, pledgewatch.models,
pledgewatch.pledges.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import select, text
from sqlalchemy.orm import Session

from pledgewatch import board
from pledgewatch.board import BoardRow
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
    Evidence,
    EvidenceReview,
    Review,
    Status,
    StatusChange,
    StatusChangeEvidence,
)
from pledgewatch.pledges import check_person, check_status, check_url, get_pledge, in_id_range

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


def status_board(
    session: Session, *, today: date, stale_after: timedelta, due_soon: timedelta
) -> list[BoardRow]:
    """One row a pledge, what needs attention first (see ``pledgewatch.board``)."""
    return board.assemble(
        session.execute(text(board.COUNTS_SQL)).all(),
        session.execute(text(board.PLEDGES_SQL)).all(),
        today=today,
        stale_after=stale_after,
        due_soon=due_soon,
    )
