"""Build a report for a period, and write the weekly files `watch` produces.

May import: pledgewatch.config, pledgewatch.db, pledgewatch.report.*.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy.orm import Session

from pledgewatch.config import Config, ReviewConfig
from pledgewatch.db import Database
from pledgewatch.report.collect import collect
from pledgewatch.report.data import build_report
from pledgewatch.report.render import render


def report_data(
    session: Session, *, since: datetime, until: datetime, today: date, review: ReviewConfig
) -> dict[str, Any]:
    inputs = collect(
        session,
        since=since,
        until=until,
        today=today,
        stale_after=review.stale_after,
        due_soon=review.due_soon,
    )
    return build_report(inputs)


def weekly_name(until: datetime) -> str:
    """Files are named by ISO week: pledgewatch-2026-W48."""
    year, week, _ = until.isocalendar()
    return f"pledgewatch-{year}-W{week:02d}"


def write_weekly(database: Database, config: Config, *, now: datetime) -> list[Path]:
    """Write the week's report in every configured format; returns the files."""
    since = now - timedelta(days=7)
    with database.session(write=False) as session:
        data = report_data(session, since=since, until=now, today=now.date(), review=config.review)
    folder = config.report.output_dir
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for fmt in config.report.formats:
        path = folder / f"{weekly_name(now)}.{fmt}"
        temporary = path.with_suffix(path.suffix + ".tmp")
        temporary.write_text(render(data, fmt), encoding="utf-8")
        temporary.replace(path)  # readers never see half a report
        written.append(path)
    return written
