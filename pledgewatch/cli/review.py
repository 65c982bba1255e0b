"""`pledgewatch verdict` and `pledgewatch status`."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.table import Table

from pledgewatch import review
from pledgewatch.cli.context import current_user, now, options, state, today
from pledgewatch.cli.output import cell, print_json, say, shorten, stdout

VERDICT_OPTIONS = {"note": "--note", "source_url": "--source-url", "by": "--by"}


STATUS_STYLES = {
    "not_yet_rated": "dim",
    "in_the_works": "cyan",
    "stalled": "yellow",
    "kept": "green",
    "compromise": "magenta",
    "broken": "red",
}


def verdict(
    ctx: typer.Context,
    pledge_id: Annotated[int, typer.Argument(help="The pledge's id.")],
    status: Annotated[
        str,
        typer.Argument(help="not_yet_rated, in_the_works, stalled, kept, compromise or broken."),
    ],
    note: Annotated[str | None, typer.Option("--note", help="Why: kept in the history.")] = None,
    evidence_ids: Annotated[
        list[int] | None, typer.Option("--evidence", help="An evidence id it rests on; repeat.")
    ] = None,
    source_url: Annotated[
        str | None, typer.Option("--source-url", help="A source it rests on, if not evidence.")
    ] = None,
    by: Annotated[
        str | None,
        typer.Option("--by", help="Who decides (default: $PLEDGEWATCH_USER, else the OS user)."),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON document.")] = False,
) -> None:
    """Record a verdict: a new status for a pledge, with a note and the evidence it rests on.

    A final status (kept, compromise, broken) needs a confirmed evidence item or
    --source-url. The history is append-only: a correction is a new verdict.

    Example: pledgewatch verdict 1 broken --evidence 12 --note "Chinese parts in Russian drones"
    """
    editor = current_user(by, "--by")
    with state(ctx).database().session() as session, options(VERDICT_OPTIONS):
        change = review.record_verdict(
            session,
            pledge_id,
            status,
            note=note or "",
            by=editor,
            now=now(),
            evidence_ids=evidence_ids or (),
            source_url=source_url,
        )
        cited = review.cited_evidence(session, [change.id])[change.id]
        document = {
            "id": change.id,
            "pledge_id": change.pledge_id,
            "from": change.from_status,
            "to": change.to_status,
            "at": change.at.isoformat(),
            "by": change.by,
            "note": change.note,
            "evidence": cited,
            "source_url": change.source_url,
        }
    if as_json:
        print_json(document)
    else:
        say(f"pledge #{pledge_id}: {document['from']} -> {document['to']} ({document['by']})")


def status(
    ctx: typer.Context,
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON document.")] = False,
) -> None:
    """The status board: one row a pledge, what needs attention first.

    Flags: overdue (deadline passed, no final verdict), needs_review (pending
    evidence), due_soon (deadline within [review].due_soon), stale (no new
    evidence for [review].stale_after).

    Example: pledgewatch status
    """
    st = state(ctx)
    settings = st.config().review
    with st.database().session(write=False) as session:
        rows = review.status_board(
            session, today=today(), stale_after=settings.stale_after, due_soon=settings.due_soon
        )
    if as_json:
        print_json([row.to_json() for row in rows])
        return
    if not rows:
        say('no pledges yet; log one with "pledgewatch pledge add"')
        return
    table = Table(header_style="bold")
    for column in (
        "id",
        "actor",
        "pledge",
        "status",
        "flags",
        "pending",
        "kept",
        "broken",
        "last evidence",
        "deadline",
    ):
        table.add_column(column, overflow="fold", no_wrap=column not in ("actor", "pledge"))
    for row in rows:
        style = STATUS_STYLES.get(row.status, "")
        table.add_row(
            cell(str(row.id)),
            cell(shorten(row.actor, 24)),
            cell(shorten(row.text, 60)),
            f"[{style}]{row.status}[/]" if style else row.status,
            cell(", ".join(row.flags)),
            cell(str(row.evidence["pending"])),
            cell(str(row.evidence["kept"])),
            cell(str(row.evidence["broken"])),
            cell(row.last_evidence_at.strftime("%Y-%m-%d") if row.last_evidence_at else ""),
            cell(row.deadline.isoformat() if row.deadline else ""),
        )
    stdout.print(table)
