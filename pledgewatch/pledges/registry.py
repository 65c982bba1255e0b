"""The pledge registry: get, find, list, add and edit pledges in a session.

May import: pledgewatch.db, pledgewatch.errors, pledgewatch.models,
pledgewatch.pledges.validation, pledgewatch.matching.derive.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import asdict, fields
from datetime import date, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from pledgewatch.db import lock_pledges
from pledgewatch.errors import (
    DuplicatePledgeError,
    NotFoundError,
    NothingToChange,
)
from pledgewatch.models import (
    Pledge,
    PledgeRevision,
    PledgeTag,
    Status,
    StatusChange,
)
from pledgewatch.pledges.validation import (
    PledgeData,
    check_person,
    dedupe_key,
    export_row_of,
    in_id_range,
    normalise_key,
    validate,
)


def data_of(pledge: Pledge) -> PledgeData:
    return PledgeData(
        text=pledge.text,
        actor=pledge.actor,
        made_on=pledge.made_on,
        source_url=pledge.source_url,
        source_name=pledge.source_name,
        quote=pledge.quote,
        reported_by=pledge.reported_by,
        deadline=pledge.deadline,
        tags=tuple(pledge.tags),
        # A derived query is the pledge's, recorded; it is not what the journalist wrote.
        query=None if pledge.query_derived else pledge.query,
        notes=pledge.notes,
    )


def _field_text(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, tuple | list):
        return ";".join(value) if value else None
    return str(value)


# -- reading ---------------------------------------------------------------------------------


def get_pledge(session: Session, pledge_id: int, *, for_update: bool = False) -> Pledge:
    """One pledge; with ``for_update`` its row stays locked until the transaction
    ends, so changes to it (verdicts, edits) form one chain however many run at once."""
    pledge = None
    if in_id_range(pledge_id):
        # FOR NO KEY UPDATE: evidence rows may still be inserted for it meanwhile.
        lock = {"key_share": True} if for_update else None
        # populate_existing: the row as it is once the lock is ours, not as first read.
        pledge = session.get(Pledge, pledge_id, with_for_update=lock, populate_existing=for_update)
    if pledge is None:
        raise NotFoundError("pledge", f"#{pledge_id}")
    return pledge


def find_duplicate(session: Session, data: PledgeData, *, exclude: int | None = None) -> int | None:
    query = select(Pledge.id).where(
        Pledge.dedupe_key == dedupe_key(data.actor, data.text),
        Pledge.actor_key == normalise_key(data.actor),
        Pledge.text_key == normalise_key(data.text),
    )
    if exclude is not None:
        query = query.where(Pledge.id != exclude)
    return session.scalars(query.order_by(Pledge.id).limit(1)).first()


def history(session: Session, pledge_id: int) -> tuple[list[StatusChange], list[PledgeRevision]]:
    changes = session.scalars(
        select(StatusChange).where(StatusChange.pledge_id == pledge_id).order_by(StatusChange.id)
    )
    revisions = session.scalars(
        select(PledgeRevision)
        .where(PledgeRevision.pledge_id == pledge_id)
        .order_by(PledgeRevision.id)
    )
    return list(changes), list(revisions)


# -- writing ---------------------------------------------------------------------------------


# Who a derived query is recorded by, in a pledge's history.
DERIVER = "pledgewatch"


def new_pledge(data: PledgeData, *, by: str, now: datetime) -> Pledge:
    pledge = Pledge(
        text=data.text,
        actor=data.actor,
        reported_by=data.reported_by,
        made_on=data.made_on,
        source_url=data.source_url,
        source_name=data.source_name,
        quote=data.quote,
        deadline=data.deadline,
        query=data.query,
        query_derived=False,
        notes=data.notes,
        status=Status.NOT_YET_RATED.value,
        actor_key=normalise_key(data.actor),
        text_key=normalise_key(data.text),
        dedupe_key=dedupe_key(data.actor, data.text),
        created_at=now,
        created_by=by,
        updated_at=now,
        updated_by=by,
    )
    pledge.tag_rows = [PledgeTag(tag=tag) for tag in data.tags]
    pledge.status_changes = [
        StatusChange(
            from_status=None,
            to_status=Status.NOT_YET_RATED.value,
            at=now,
            by=by,
            note="pledge logged",
        )
    ]
    pledge.revisions = []
    if data.query is None:
        _record_derived(pledge, _derived_query(data.text, data.actor), now=now)
    return pledge


def _record_derived(pledge: Pledge, query: str, *, now: datetime, by: str = DERIVER) -> None:
    """Store a derived query on the pledge, as a revision: a later derivation rule
    never changes silently which evidence the pledge collects."""
    pledge.revisions.append(
        PledgeRevision(at=now, by=by, field="query", old_value=pledge.query, new_value=query)
    )
    pledge.query = query
    pledge.query_derived = True


def store_derived_query(
    session: Session, pledge: Pledge, query: str, *, by: str, now: datetime
) -> None:
    """Replace a pledge's derived query with a new derivation (``pledge rederive``)."""
    by = check_person("by", by)
    session.add(
        PledgeRevision(
            pledge_id=pledge.id,
            at=now,
            by=by,
            field="query",
            old_value=pledge.query,
            new_value=query,
        )
    )
    pledge.query = query
    pledge.query_derived = True
    pledge.updated_at = now
    pledge.updated_by = by
    session.flush()


def add_pledge(
    session: Session, data: PledgeData, *, by: str, now: datetime, force: bool = False
) -> Pledge:
    """Log one pledge; refuse one that repeats an existing pledge unless ``force``.

    Holds the pledges lock, so identical pledges logged at once are one pledge
    and a sweep running meanwhile matches it (see ``evidence``).
    """
    by = check_person("by", by)
    lock_pledges(session, exclusive=True)
    if not force:
        existing = find_duplicate(session, data)
        if existing is not None:
            raise DuplicatePledgeError(existing, data.actor)
    pledge = new_pledge(data, by=by, now=now)
    session.add(pledge)
    session.flush()
    return pledge


def preview_edit(
    session: Session,
    pledge: Pledge,
    changes: Mapping[str, Any],
    *,
    today: date,
    force: bool = False,
) -> tuple[PledgeData, list[str]]:
    """The pledge as ``changes`` would make it, and the fields that would change;
    the same checks as an edit, nothing written."""
    if not changes:
        raise NothingToChange
    before = data_of(pledge)
    merged: dict[str, Any] = {
        key: value for key, value in asdict(before).items() if value not in (None, ())
    }
    merged.update(changes)
    after = validate(merged, today=today)
    changed = [
        f.name for f in fields(PledgeData) if getattr(before, f.name) != getattr(after, f.name)
    ]
    if changed and ("text" in changed or "actor" in changed) and not force:
        existing = find_duplicate(session, after, exclude=pledge.id)
        if existing is not None:
            raise DuplicatePledgeError(existing, after.actor)
    return after, changed


def edit_pledge(
    session: Session,
    pledge_id: int,
    changes: Mapping[str, Any],
    *,
    by: str,
    now: datetime,
    today: date,
    force: bool = False,
) -> tuple[Pledge, list[str]]:
    """Change some fields; every changed field's old value is kept as a revision.

    An empty string clears an optional field. Returns the pledge and the names of
    the fields that changed (empty when the values were already so).
    """
    by = check_person("by", by)
    lock_pledges(session, exclusive=True)
    pledge = get_pledge(session, pledge_id, for_update=True)
    before = data_of(pledge)
    after, changed = preview_edit(session, pledge, changes, today=today, force=force)
    if not changed:
        return pledge, []
    stored_query = pledge.query
    for name in changed:
        old = stored_query if name == "query" else _field_text(getattr(before, name))
        session.add(
            PledgeRevision(
                pledge_id=pledge.id,
                at=now,
                by=by,
                field=name,
                old_value=old,
                new_value=_field_text(getattr(after, name)),
            )
        )
        if name == "tags":
            pledge.tag_rows = [PledgeTag(tag=tag) for tag in after.tags]
        else:
            setattr(pledge, name, getattr(after, name))
    if after.query is not None:
        pledge.query_derived = False
    elif {"text", "actor", "query"} & set(changed):
        # Derived from the new wording (or instead of the query the journalist
        # cleared), and recorded as the pledge's.
        derived = _derived_query(after.text, after.actor)
        if derived != pledge.query or not pledge.query_derived:
            session.add(
                PledgeRevision(
                    pledge_id=pledge.id,
                    at=now,
                    by=DERIVER,
                    field="query",
                    old_value=pledge.query,
                    new_value=derived,
                )
            )
            pledge.query = derived
            pledge.query_derived = True
    pledge.actor_key = normalise_key(after.actor)
    pledge.text_key = normalise_key(after.text)
    pledge.dedupe_key = dedupe_key(after.actor, after.text)
    pledge.updated_at = now
    pledge.updated_by = by
    session.flush()
    return pledge, changed


def export_row(pledge: Pledge) -> dict[str, Any]:
    """One pledge as the import/export columns (tags as a list)."""
    return export_row_of(data_of(pledge))


def all_pledges(session: Session) -> Sequence[Pledge]:
    return list(session.scalars(select(Pledge).order_by(Pledge.id)))


def _derived_query(text: str, actor: str) -> str:
    # Imported here: listing and showing pledges never derives, and derivation
    # loads the whole matching stack.
    from pledgewatch.matching.derive import derive_query

    return derive_query(text, actor)
