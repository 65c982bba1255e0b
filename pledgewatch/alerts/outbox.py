"""The alert outbox: messages queued in the transaction that caused them, then
claimed, sent and settled.

May import pledgewatch.models, config, alerts.messages and sqlalchemy.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import func, or_, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from pledgewatch.alerts import messages
from pledgewatch.config import AlertConfig, Config
from pledgewatch.models import (
    FINAL_STATUSES,
    AlertMark,
    AlertMessage,
    Article,
    Evidence,
    Feed,
    Pledge,
    PledgeTag,
    StatusChange,
)

NEWLY_OVERDUE = timedelta(days=7)  # a deadline passed longer ago is not news
MAX_ERROR = 1000


@dataclass(frozen=True)
class Claimed:
    id: int
    alert: str
    event: str
    payload: str
    attempts: int


def queue(
    session: Session, alert: str, event: str, key: str, payload: dict[str, Any], now: datetime
) -> bool:
    """Queue a message unless one with this key is queued already; whether it was."""
    values = {
        "alert": alert,
        "event": event,
        "key": key[:200],
        "payload": json.dumps(payload, ensure_ascii=False, sort_keys=True),
        "created_at": now,
        "attempts": 0,
        "next_attempt_at": now,
    }
    insert = (
        postgresql.insert(AlertMessage)
        if session.get_bind().dialect.name == "postgresql"
        else sqlite.insert(AlertMessage)
    )
    statement = insert.values(**values).on_conflict_do_nothing(index_elements=["alert", "key"])
    result = session.execute(statement)
    return bool(getattr(result, "rowcount", 0))


def _tags(session: Session, pledge_ids: Sequence[int]) -> dict[int, list[str]]:
    found: dict[int, list[str]] = {}
    if pledge_ids:
        for pledge_id, tag in session.execute(
            select(PledgeTag.pledge_id, PledgeTag.tag).where(PledgeTag.pledge_id.in_(pledge_ids))
        ):
            found.setdefault(pledge_id, []).append(tag)
    return found


def pledge_fields(pledge: Pledge) -> dict[str, Any]:
    return {
        "id": pledge.id,
        "text": pledge.text,
        "actor": pledge.actor,
        "status": pledge.status,
        "deadline": pledge.deadline.isoformat() if pledge.deadline else None,
    }


def after_sweep(
    session: Session,
    config: Config,
    *,
    run_id: int,
    started_at: datetime,
    now: datetime,
    today: date,
) -> int:
    """Queue what one sweep brings each alert; the number of messages queued."""
    queued = 0
    base = config.web.public_url
    for alert in config.alerts:
        if "evidence" in alert.events:
            queued += _evidence_digest(session, alert, base, run_id, started_at, now)
        if "due" in alert.events or "overdue" in alert.events:
            queued += _deadlines(session, alert, base, now, today)
        if "feed" in alert.events:
            queued += _failing_feeds(session, alert, base, now)
    return queued


def _evidence_digest(
    session: Session,
    alert: AlertConfig,
    base: str,
    run_id: int,
    started_at: datetime,
    now: datetime,
) -> int:
    mark = session.get(AlertMark, alert.name, with_for_update=True)
    if mark is None:
        # A new alert starts with what this sweep found, not the whole backlog.
        before = session.scalar(select(func.max(Evidence.id)).where(Evidence.found_at < started_at))
        mark = AlertMark(alert=alert.name, evidence_upto=int(before or 0))
        session.add(mark)
        session.flush()
    upto = session.scalar(select(func.max(Evidence.id))) or 0
    rows = session.execute(
        select(
            Evidence.id,
            Evidence.pledge_id,
            Evidence.stance,
            Evidence.stance_reason,
            Article.title,
            Article.url,
            Pledge.text,
            Pledge.actor,
        )
        .join(Article, Article.id == Evidence.article_id)
        .join(Pledge, Pledge.id == Evidence.pledge_id)
        .where(
            Evidence.id > mark.evidence_upto,
            Evidence.id <= upto,
            Evidence.review == "pending",
            Pledge.archived_at.is_(None),
        )
        .order_by(Article.published_at.desc(), Evidence.id.desc())
    ).all()
    mark.evidence_upto = max(mark.evidence_upto, int(upto))
    tags = _tags(session, sorted({row.pledge_id for row in rows}))
    items = [
        {
            "evidence_id": row.id,
            "pledge_id": row.pledge_id,
            "pledge": row.text,
            "actor": row.actor,
            "title": row.title,
            "url": row.url,
            "stance": row.stance,
            "stance_reason": row.stance_reason,
        }
        for row in rows
        if alert.wants(row.pledge_id, tags.get(row.pledge_id, ()))
    ]
    if not items:
        return 0
    payload = messages.evidence_digest(alert.name, base, run_id, items)
    return int(queue(session, alert.name, "evidence", f"evidence:{run_id}", payload, now))


def _deadlines(session: Session, alert: AlertConfig, base: str, now: datetime, today: date) -> int:
    queued = 0
    horizon = today + alert.due_within
    pledges = session.scalars(
        select(Pledge).where(
            Pledge.archived_at.is_(None),
            Pledge.deadline.is_not(None),
            Pledge.status.not_in([s.value for s in FINAL_STATUSES]),
            Pledge.deadline <= horizon,
            Pledge.deadline >= today - NEWLY_OVERDUE,
        )
    ).all()
    tags = _tags(session, [p.id for p in pledges])
    for pledge in pledges:
        assert pledge.deadline is not None
        if not alert.wants(pledge.id, tags.get(pledge.id, ())):
            continue
        event = "due" if pledge.deadline >= today else "overdue"
        if event not in alert.events:
            continue
        days = abs((pledge.deadline - today).days)
        payload = messages.deadline_payload(event, alert.name, base, pledge_fields(pledge), days)
        key = f"{event}:{pledge.id}:{pledge.deadline.isoformat()}"
        queued += int(queue(session, alert.name, event, key, payload, now))
    return queued


def _failing_feeds(session: Session, alert: AlertConfig, base: str, now: datetime) -> int:
    queued = 0
    feeds = session.scalars(
        select(Feed).where(
            Feed.removed_at.is_(None), Feed.consecutive_errors == alert.feed_failures
        )
    ).all()
    for feed in feeds:
        streak = feed.last_error_at.isoformat() if feed.last_error_at else "-"
        payload = messages.feed_payload(
            alert.name,
            base,
            {
                "name": feed.name,
                "url": feed.url,
                "failures": feed.consecutive_errors,
                "error": feed.last_error or "failed",
            },
        )
        queued += int(
            queue(session, alert.name, "feed", f"feed:{feed.name}:{streak}", payload, now)
        )
    return queued


def after_verdict(
    session: Session,
    config: Config,
    change: StatusChange,
    pledge: Pledge,
    cited: Sequence[int],
    now: datetime,
) -> int:
    """Queue a recorded verdict for the alerts that want verdicts on this pledge."""
    queued = 0
    tags = pledge.tags
    for alert in config.alerts:
        if "verdict" not in alert.events or not alert.wants(pledge.id, tags):
            continue
        payload = messages.verdict_payload(
            alert.name,
            config.web.public_url,
            pledge_fields(pledge),
            {
                "id": change.id,
                "from": change.from_status,
                "to": change.to_status,
                "by": change.by,
                "note": change.note,
                "evidence": list(cited),
                "source_url": change.source_url,
            },
        )
        queued += int(queue(session, alert.name, "verdict", f"verdict:{change.id}", payload, now))
    return queued


def claim(
    session: Session, names: Sequence[str], now: datetime, *, limit: int, lease: timedelta
) -> list[Claimed]:
    """Messages due for sending, held for ``lease`` (another sender skips them)."""
    rows = session.scalars(
        select(AlertMessage)
        .where(
            AlertMessage.alert.in_(names),
            AlertMessage.sent_at.is_(None),
            AlertMessage.given_up_at.is_(None),
            AlertMessage.next_attempt_at <= now,
            or_(AlertMessage.claimed_until.is_(None), AlertMessage.claimed_until < now),
        )
        .order_by(AlertMessage.id)
        .limit(limit)
        .with_for_update(skip_locked=True)
    ).all()
    for row in rows:
        row.claimed_until = now + lease
    return [Claimed(r.id, r.alert, r.event, r.payload, r.attempts) for r in rows]


def settle(session: Session, message_id: int, error: str | None, now: datetime) -> str:
    """Record a delivery: "sent", "retrying" or "given up"."""
    row = session.get(AlertMessage, message_id)
    if row is None:
        return "gone"
    row.claimed_until = None
    if error is None:
        row.sent_at = now
        row.last_error = None
        return "sent"
    row.attempts += 1
    row.last_error = error[:MAX_ERROR]
    if row.attempts >= messages.MAX_ATTEMPTS:
        row.given_up_at = now
        return "given up"
    row.next_attempt_at = now + messages.backoff(row.attempts)
    return "retrying"


def counts(session: Session) -> dict[str, dict[str, int]]:
    """Per alert: messages waiting, sent and given up."""
    found: dict[str, dict[str, int]] = {}
    for alert, sent, given_up, n in session.execute(
        select(
            AlertMessage.alert,
            AlertMessage.sent_at.is_not(None),
            AlertMessage.given_up_at.is_not(None),
            func.count(),
        ).group_by(
            AlertMessage.alert,
            AlertMessage.sent_at.is_not(None),
            AlertMessage.given_up_at.is_not(None),
        )
    ):
        bucket = found.setdefault(alert, {"waiting": 0, "sent": 0, "given_up": 0})
        bucket["sent" if sent else "given_up" if given_up else "waiting"] += n
    return found
