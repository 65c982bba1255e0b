"""Read what a report needs from the database into plain records.

May import: pledgewatch.models, pledgewatch.review, pledgewatch.report.data.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from pledgewatch.models import (
    FINAL_STATUSES,
    Article,
    ArticleFeed,
    Evidence,
    Feed,
    Pledge,
    StatusChange,
    SweepRun,
)
from pledgewatch.report.claimreview import Verdict
from pledgewatch.report.data import (
    ChangeRecord,
    EvidenceRecord,
    FeedRecord,
    PledgeRecord,
    ReportInput,
)
from pledgewatch.review import cited_evidence, status_board


def collect(
    session: Session,
    *,
    since: datetime,
    until: datetime,
    today: date,
    stale_after: timedelta,
    due_soon: timedelta,
) -> ReportInput:
    board = {
        row.id: row
        for row in status_board(session, today=today, stale_after=stale_after, due_soon=due_soon)
    }
    pledges = [
        PledgeRecord(
            id=p.id,
            actor=p.actor,
            text=p.text,
            status=p.status,
            made_on=p.made_on,
            deadline=p.deadline,
            created_at=p.created_at,
            source_url=p.source_url,
            flags=tuple(board[p.id].flags),
            evidence=dict(board[p.id].evidence),
            last_evidence_at=board[p.id].last_evidence_at,
        )
        for p in session.execute(
            select(
                Pledge.id,
                Pledge.actor,
                Pledge.text,
                Pledge.status,
                Pledge.made_on,
                Pledge.deadline,
                Pledge.created_at,
                Pledge.source_url,
            ).order_by(Pledge.id)
        )
    ]
    changes_rows = list(session.scalars(select(StatusChange).order_by(StatusChange.id)))
    cited = cited_evidence(session, [c.id for c in changes_rows if since < c.at <= until])
    cited_ids = {i for ids in cited.values() for i in ids}
    articles = (
        {
            evidence_id: (url, title)
            for evidence_id, url, title in session.execute(
                select(Evidence.id, Article.url, Article.title)
                .join(Article, Article.id == Evidence.article_id)
                .where(Evidence.id.in_(cited_ids))
            )
        }
        if cited_ids
        else {}
    )
    changes = [
        ChangeRecord(
            pledge_id=c.pledge_id,
            from_status=c.from_status,
            to_status=c.to_status,
            at=c.at,
            by=c.by,
            note=c.note,
            source_url=c.source_url,
            evidence=tuple(articles[i] for i in cited.get(c.id, []) if i in articles),
        )
        for c in changes_rows
    ]
    # Columns, not objects: an evidence object loads its article's whole body.
    evidence = [
        EvidenceRecord(
            id=e.id,
            pledge_id=e.pledge_id,
            title=e.title,
            url=e.url,
            published_at=e.published_at,
            found_at=e.found_at,
            stance=e.stance,
            stance_reason=e.stance_reason,
            snippet=e.snippet,
            review=e.review,
            score=e.score,
        )
        for e in session.execute(
            select(
                Evidence.id,
                Evidence.pledge_id,
                Article.title,
                Article.url,
                Article.published_at,
                Evidence.found_at,
                Evidence.stance,
                Evidence.stance_reason,
                Evidence.snippet,
                Evidence.review,
                Evidence.score,
            )
            .join(Article, Article.id == Evidence.article_id)
            .where(Evidence.found_at > since, Evidence.found_at <= until)
        )
    ]
    counts = {
        feed_id: n
        for feed_id, n in session.execute(
            select(ArticleFeed.feed_id, func.count()).group_by(ArticleFeed.feed_id)
        )
    }
    feeds = [
        FeedRecord(
            name=f.name,
            url=f.url,
            consecutive_errors=f.consecutive_errors,
            last_error=f.last_error,
            gone=f.gone_at is not None,
            articles=counts.get(f.id, 0),
        )
        for f in session.scalars(select(Feed).where(Feed.removed_at.is_(None)).order_by(Feed.name))
    ]
    return ReportInput(
        since=since,
        until=until,
        pledges=pledges,
        changes=changes,
        evidence=evidence,
        feeds=feeds,
        articles_total=session.scalar(select(func.count()).select_from(Article)) or 0,
        articles_new=session.scalar(
            select(func.count())
            .select_from(Article)
            .where(Article.fetched_at > since, Article.fetched_at <= until)
        )
        or 0,
        sweeps=session.scalar(
            select(func.count())
            .select_from(SweepRun)
            .where(SweepRun.started_at > since, SweepRun.started_at <= until)
        )
        or 0,
    )


def final_verdicts(session: Session) -> list[Verdict]:
    """The latest verdict of every pledge whose status is final, in one query."""
    latest = (
        select(StatusChange.pledge_id, func.max(StatusChange.id).label("change_id"))
        .group_by(StatusChange.pledge_id)
        .subquery()
    )
    rows = session.execute(
        select(Pledge, StatusChange)
        .join(latest, latest.c.pledge_id == Pledge.id)
        .join(StatusChange, StatusChange.id == latest.c.change_id)
        .where(Pledge.status.in_([s.value for s in FINAL_STATUSES]))
        .order_by(Pledge.id)
    )
    return [
        Verdict(
            pledge_id=pledge.id,
            text=pledge.text,
            actor=pledge.actor,
            made_on=pledge.made_on,
            source_url=pledge.source_url,
            source_name=pledge.source_name,
            status=pledge.status,
            note=change.note,
            at=change.at,
        )
        for pledge, change in rows
    ]
